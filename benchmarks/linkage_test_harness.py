"""Tests of the benchmark harness itself (evaluation, measurement, report).

Run: ``.venv/bin/python -m pytest benchmarks/linkage_test_harness.py -q``
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from linkage_eval import accuracy, best_per_record
from linkage_measure import run_measured, tree_rss
from linkage_report import SystemRow, markdown_table, merge_section, render

TRUTH = pl.DataFrame(
    {"record_id": ["a", "b", "c", "d"], "person_id": ["1", "2", None, "4"]},
    schema={"record_id": pl.Utf8, "person_id": pl.Utf8},
)


@pytest.mark.parametrize(
    ("pred", "tp", "fp", "fn"),
    [
        ({"a": "1", "b": "2", "d": "4"}, 3, 0, 0),  # perfect
        ({"a": "1"}, 1, 0, 2),  # two misses
        ({"a": "1", "b": "9"}, 1, 1, 2),  # wrong person: one FP and one FN
        ({"a": "1", "c": "3"}, 1, 1, 2),  # record not in the registry linked: FP
        ({"a": "1", "zz": "7"}, 1, 1, 2),  # unknown record: FP
        ({}, 0, 0, 3),
    ],
)
def test_accuracy_counts(pred: dict[str, str], tp: int, fp: int, fn: int) -> None:
    frame = pl.DataFrame(
        {"record_id": list(pred), "person_id": list(pred.values())},
        schema={"record_id": pl.Utf8, "person_id": pl.Utf8},
    )
    acc = accuracy(frame, TRUTH)
    assert (acc.tp, acc.fp, acc.fn) == (tp, fp, fn)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn)
    assert acc.precision == pytest.approx(p)
    assert acc.recall == pytest.approx(r)
    assert acc.f1 == pytest.approx(2 * p * r / (p + r) if p + r else 0.0)


def test_best_per_record_keeps_highest_above_threshold() -> None:
    pairs = pl.DataFrame(
        {
            "record_id": ["a", "a", "b", "c", "c"],
            "person_id": ["1", "2", "3", "5", "4"],
            "match_probability": [0.6, 0.9, 0.4, 0.8, 0.8],
        }
    )
    out = best_per_record(pairs, 0.5).sort("record_id")
    assert out.rows() == [("a", "2"), ("c", "4")]  # b below threshold; c tie → smaller id


def test_run_measured_reports_child_memory_and_result(tmp_path: Path) -> None:
    result = tmp_path / "r.json"
    code = (
        "import json, time; x = b'\\x01' * (200 * 1024 * 1024); time.sleep(0.3); "
        f"json.dump({{'ok': len(x)}}, open({str(result)!r}, 'w'))"
    )
    run = run_measured([sys.executable, "-c", code], result)
    assert run.returncode == 0
    assert run.result == {"ok": 200 * 1024 * 1024}
    assert run.peak_rss_bytes >= 200 * 1024 * 1024
    assert run.wall_s > 0


def test_run_measured_failure_keeps_log(tmp_path: Path) -> None:
    result = tmp_path / "r.json"
    run = run_measured([sys.executable, "-c", "raise SystemExit('boom')"], result)
    assert run.returncode == 1
    assert "boom" in run.stderr_tail
    assert run.result == {}


def test_tree_rss_of_self_is_positive() -> None:
    import psutil

    assert tree_rss(psutil.Process()) > 0


def test_report_contains_rows_and_goals() -> None:
    rows = [
        SystemRow(
            "ours (best pair, p ≥ 0.5)",
            "10 × 100",
            1000,
            2.0,
            3.0,
            2 * 1024**3,
            3 * 1024**3,
            0.99,
            0.98,
            0.985,
            0.5,
        ),
        SystemRow(
            "splink (best pair, p ≥ 0.5)",
            "10 × 100",
            1200,
            8.0,
            9.0,
            5 * 1024**3,
            5 * 1024**3,
            0.98,
            0.97,
            0.975,
            0.5,
        ),
    ]
    table = markdown_table(rows)
    assert "| 1,000 | 2.0 | 3.0 | 500 | 2.00 | 3.00 |" in table
    text = render(
        command="x", date="d", versions={"splink": "5"}, data_note="n", rows=rows, notes=["a note"]
    )
    assert "4.00× Splink's end-to-end speed" in text
    assert "0.40× Splink's RSS" in text
    assert "a note" in text


def test_run_measured_kills_child_over_rss_limit(tmp_path: Path) -> None:
    result = tmp_path / "r.json"
    code = "import time; x = b'\\x01' * (300 * 1024 * 1024); time.sleep(30)"
    run = run_measured([sys.executable, "-c", code], result, rss_limit_bytes=100 * 1024 * 1024)
    assert run.killed_over_rss
    assert run.returncode != 0
    assert run.wall_s < 30


def test_merge_section_replaces_same_key_and_keeps_others() -> None:
    one = merge_section("", "r1", "## A\nold\n")
    two = merge_section(one, "r2", "## B\n")
    three = merge_section(two, "r1", "## A\nnew\n")
    assert "new" in three and "old" not in three
    assert three.index("## A") < three.index("## B")
    assert three.count("<!-- run: ") == 2


def test_round_ratios_pair_the_runs_of_each_round() -> None:
    from bench_linkage import _round_ratios
    from linkage_measure import ChildRun

    def run(seconds: float) -> ChildRun:
        return ChildRun(0, seconds, 0, {"end_to_end_s": seconds}, "", False, None)

    runs = {"ours": [run(10.0), run(8.0)], "splink": [run(30.0), run(28.0)]}
    (note,) = _round_ratios(runs, {})
    assert note.endswith("3.00×, 3.50×.")
    assert _round_ratios({"ours": runs["ours"]}, {}) == []
    assert _round_ratios(runs, {"splink": Exception()}) == []  # type: ignore[dict-item]
