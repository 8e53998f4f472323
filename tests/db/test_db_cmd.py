"""The database commands through the CLI's ``main`` (registered here as the lead will)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from registry_link.cli import cli, main
from registry_link.cli.db_cmd import command, commands

ROOT = Path(__file__).resolve().parents[2]

for _c in commands:
    if _c.name not in cli.commands:
        cli.add_command(_c)


def test_exports() -> None:
    assert command is commands[0]
    assert [c.name for c in commands] == ["init", "registry", "runs", "households"]


def test_init_load_runs(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reg = tmp_path / "registry.csv"
    full = pl.read_csv(ROOT / "sample_data/registry.csv", separator=";", infer_schema=False)
    full.head(300).write_csv(reg, separator=";")
    main(["init", "--db", db_url])
    main(
        [
            "registry",
            "load",
            str(reg),
            "--config",
            str(ROOT / "configs/registry.yaml"),
            "--db",
            db_url,
            "--operator",
            "ops",
        ]
    )
    main(
        [
            "registry",
            "load",
            str(reg),
            "--config",
            str(ROOT / "configs/registry.yaml"),
            "--db",
            db_url,
        ]
    )
    main(["runs", "--db", db_url])
    out = capsys.readouterr().out  # results on standard output
    assert "database ready" in out
    assert "registry loaded: 300 persons" in out
    assert "registry unchanged" in out
    assert "no runs recorded yet" in out


def test_errors_are_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    with pytest.raises(SystemExit) as exc:
        main(["runs", "--db", url])
    assert exc.value.code == 2
    assert "registry-link init" in capsys.readouterr().err
    main(["init", "--db", url])
    with pytest.raises(SystemExit):
        main(["runs", "show", "4", "--db", url])
    assert "no run 4" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["match"], ["init"], ["runs"], ["review"], ["households"]])
def test_db_help_says_one_true_thing_about_the_default(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # issue 13 item 7: the help said both that SQLite is the default and that runs are
    # recorded only with --db
    from registry_link.cli import review_cmd

    if "review" not in cli.commands:
        cli.add_command(review_cmd.command)
    try:
        main([*command, "--help"])
    except SystemExit as done:
        assert done.code in (0, None)
    text = "".join(capsys.readouterr().out.split())  # click wraps (even inside words)
    for said in (
        "When --db is not given: $REGISTRY_LINK_DB, else sqlite:///registry-link.db",
        "except `match`, which records its run in a database only when --db or",
    ):
        assert "".join(said.split()) in text
    assert "default" not in text.split("--dbURL", 1)[1].split("given.", 1)[0]


def test_runs_show_on_an_empty_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    main(["init", "--db", url])
    with pytest.raises(SystemExit) as done:
        main(["runs", "show", "1", "--db", url])
    err = " ".join(capsys.readouterr().err.split())
    assert done.value.code == 2 and "this database has no runs yet" in err and "None" not in err
