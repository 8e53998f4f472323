"""The non-interactive `registry-link review` commands (list, decide, export, import)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from registry_link.cli import cli, main, review_cmd
from registry_link.db.engine import open_database
from registry_link.db.queue import ReviewQueue


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    if "review" not in cli.commands:
        cli.add_command(review_cmd.command)
    code = 0
    try:
        main(["review", *args])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())  # rich wraps stderr lines at the terminal width


def test_list_open_and_decided(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = _run(["list", "--db", db_url], capsys)
    assert code == 0 and "C1" in out and "1000000004" in out
    ReviewQueue(open_database(db_url)).decide(4, "said", "reject")
    code, out, _ = _run(["list", "--status", "decided", "--db", db_url], capsys)
    assert code == 0 and "reject" in out and "said" in out and "C1" not in out


def test_decide_accept_and_conflict(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        ["decide", "1", "--accept", "--reviewer", "amina", "--note", "same CIN", "--db", db_url],
        capsys,
    )
    assert code == 0 and "accepted by amina" in out
    item = ReviewQueue(open_database(db_url)).get(1)
    assert (item.decision, item.decided_by) == ("accept", "amina")
    code, _, err = _run(["decide", "1", "--reject", "--reviewer", "amina", "--db", db_url], capsys)
    assert code == 2
    assert err.startswith("error: review item 1") and "already decided" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["decide", "1", "--reviewer", "amina"], "say --accept or --reject"),
        (["decide", "77", "--accept", "--reviewer", "amina"], "no review item 77"),
        (["decide", "1", "--accept", "--reviewer", " "], "give the reviewer's name"),
        (["decide", "1", "--accept", "--reject", "--reviewer", "amina"], "not both"),
        (["decide", "1", "--reject", "--accept", "--reviewer", "amina"], "not both"),
    ],
)
def test_decide_usage_errors(
    db_url: str, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = _run([*args, "--db", db_url], capsys)
    assert code == 2 and err.startswith("error: ") and message in err


def test_export_then_import(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / ("a-long-folder-name-" * 4) / "queue.csv"
    code, out, _ = _run(["export", str(path), "--db", db_url], capsys)
    assert code == 0 and f"wrote 4 item(s) to {path}\n" in out  # one line, however long
    frame = pl.read_csv(path, infer_schema=False)
    frame = frame.with_columns(
        decision=pl.when(pl.col("item_id") == "3").then(pl.lit("accept")).otherwise(pl.lit(""))
    )
    frame.write_csv(path, include_bom=True)
    code, out, _ = _run(["import", str(path), "--reviewer", "amina", "--db", db_url], capsys)
    assert code == 0 and "1 accepted" in out
    assert ReviewQueue(open_database(db_url)).get(3).decision == "accept"


def test_import_bad_file_exit_2(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "item_id,record_id,person_id,decision\n1,C1,1000000001,yes\n2,C1,1000000002,accept\n",
        encoding="utf-8",
    )
    code, _, err = _run(["import", str(path), "--reviewer", "amina", "--db", db_url], capsys)
    assert code == 2 and "row 1, field 'decision'" in err and "nothing applied" in err
    assert ReviewQueue(open_database(db_url)).get(2).status == "open"


def test_interactive_needs_a_terminal_and_a_name(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(["--db", db_url], capsys)
    assert code == 2 and "--reviewer NAME" in err
    code, _, err = _run(["--reviewer", "amina", "--db", db_url], capsys)
    assert code == 2 and "needs a terminal" in err


@pytest.mark.parametrize("sub", [[], ["list"], ["decide"], ["release"], ["export"], ["import"]])
def test_every_command_has_an_example(sub: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run([*sub, "--help"], capsys)
    assert code == 0 and "Example:" in out and "registry-link review" in out


def test_decide_with_both_flags_decides_nothing(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = _run(
        ["decide", "1", "--accept", "--reject", "--reviewer", "amina", "--db", db_url], capsys
    )
    assert code == 2 and ReviewQueue(open_database(db_url)).get(1).status == "open"


def test_list_csv_and_wide_keep_whole_ids(
    empty_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from .conftest import build_queue_db

    url = build_queue_db(empty_url, extra_records=2)
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = _run(["list", "--format", "csv", "--db", url], capsys)
    frame = pl.read_csv(out.encode(), infer_schema=False)
    assert code == 0 and frame.height == 6
    assert frame.columns[:5] == ["item_id", "run_id", "source", "record_id", "person_id"]
    assert frame["person_id"].to_list()[-1] == "2000000001"
    code, out, _ = _run(["list", "--format", "wide", "--db", url], capsys)
    lines = [line for line in out.splitlines() if "X001" in line]
    assert code == 0 and len(lines) == 1  # one line per item, whatever the width
    assert "2000000001" in lines[0] and "claimed_until" in out and "…" not in out
    code, out, _ = _run(["list", "--db", url], capsys)  # at 80 columns ids wrap, never cut
    assert code == 0 and "…" not in out


def test_release_frees_claims_and_is_audited(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import select

    from registry_link.db.engine import transaction
    from registry_link.db.models import AuditEntry

    queue = ReviewQueue(open_database(db_url))
    queue.claim_next("amina")
    queue.claim_next("said")
    code, out, _ = _run(["release", "--reviewer", "amina", "--db", db_url], capsys)
    assert code == 0 and "released 2 claimed item(s) (amina's)" in out
    states = {i.id: (i.status, i.claimed_by) for i in queue.items()}
    assert states[1] == states[2] == ("open", None) and states[3] == ("claimed", "said")
    code, out, _ = _run(["release", "--db", db_url, "--operator", "lead"], capsys)
    assert code == 0 and "released 1 claimed item(s) (every reviewer's)" in out
    with transaction(open_database(db_url)) as s:
        log = s.scalars(select(AuditEntry).where(AuditEntry.action == "review.release"))
        assert [(a.details["reviewer"], a.details["items"]) for a in log] == [
            ("amina", 2),
            (None, 1),
        ]


def test_rtl_visual_without_bidi_claims_nothing(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "bidi", None)  # python-bidi not installed
    code, _, err = _run(["--reviewer", "amina", "--rtl-visual", "--db", db_url], capsys)
    assert code == 2 and "pip install 'registry-link[rtl]'" in err
    assert all(i.status == "open" for i in ReviewQueue(open_database(db_url)).items())
