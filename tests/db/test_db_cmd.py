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
    err = capsys.readouterr().err
    assert "database ready" in err
    assert "registry loaded: 300 persons" in err
    assert "registry unchanged" in err
    assert "no runs recorded yet" in err


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
