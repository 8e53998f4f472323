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
    code, _, err = _run(
        ["decide", "1", "--accept", "--reviewer", "amina", "--note", "same CIN", "--db", db_url],
        capsys,
    )
    assert code == 0 and "accepted by amina" in err
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
    path = tmp_path / "queue.csv"
    code, _, err = _run(["export", str(path), "--db", db_url], capsys)
    assert code == 0 and "wrote 4 item(s)" in err
    frame = pl.read_csv(path, infer_schema=False)
    frame = frame.with_columns(
        decision=pl.when(pl.col("item_id") == "3").then(pl.lit("accept")).otherwise(pl.lit(""))
    )
    frame.write_csv(path, include_bom=True)
    code, _, err = _run(["import", str(path), "--reviewer", "amina", "--db", db_url], capsys)
    assert code == 0 and "1 accepted" in err
    assert ReviewQueue(open_database(db_url)).get(3).decision == "accept"


def test_import_bad_file_exit_2(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("item_id,decision\n1,yes\n2,accept\n", encoding="utf-8")
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


@pytest.mark.parametrize("sub", [[], ["list"], ["decide"], ["export"], ["import"]])
def test_every_command_has_an_example(sub: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run([*sub, "--help"], capsys)
    assert code == 0 and "Example:" in out and "registry-link review" in out
