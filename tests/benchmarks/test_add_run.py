"""The search and service benchmarks add their run to a results file kept as a journal of
dated runs: written if new, else appended (never overwritten)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from linkage_report import add_run


def test_a_run_is_written_then_appended_with_its_titles_one_level_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results" / "search.md"
    add_run(out, ["# Search (day 1)", "", "| a |", "## Goals", "met"])
    assert out.read_text(encoding="utf-8") == "# Search (day 1)\n\n| a |\n## Goals\nmet\n"
    add_run(out, ["# Search (day 2)", "", "#not a title", "### Detail"])
    assert out.read_text(encoding="utf-8") == (
        "# Search (day 1)\n\n| a |\n## Goals\nmet\n"
        "\n## Search (day 2)\n\n#not a title\n#### Detail\n"
    )
    assert "# Search (day 2)" in capsys.readouterr().out


def test_without_a_file_the_run_is_only_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_run(None, ["# Search", "x"])
    assert capsys.readouterr().out == "# Search\nx\n\n"
    assert list(tmp_path.iterdir()) == []
