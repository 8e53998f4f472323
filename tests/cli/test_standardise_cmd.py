"""``registry-link standardise``: output file, summary, and clean errors (exit 2, no traceback)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from registry_link.cli import main
from registry_link.schema import STANDARDISED_SCHEMA

CONFIG = """\
version: 1
source: tiny
kind: partner
columns:
  record_id: id
  family_name: nom
  given_name: prenom
  birth_date: ddn
"""
DATA = "id;nom;prenom;ddn\n1;Alaoui;Mohamed;1980\n2;Bennani;Fatima;31/02/1980\n"


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    data, config = tmp_path / "tiny.csv", tmp_path / "tiny.yaml"
    data.write_text(DATA, encoding="utf-8")
    config.write_text(CONFIG, encoding="utf-8")
    return data, config


def run_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("error: ")
    return err


def test_writes_default_output_and_prints_summary(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    data, config = files
    main(["standardise", str(data), "--config", str(config)])
    out = capsys.readouterr().out
    target = data.with_name("tiny.standardised.parquet")
    frame = pl.read_parquet(target)
    assert frame.height == 2
    assert list(frame.schema) == list(STANDARDISED_SCHEMA)
    assert "birth_date_unparseable" in out and "tiny.standardised.parquet" in out


def test_out_option(files: tuple[Path, Path], tmp_path: Path) -> None:
    data, config = files
    target = tmp_path / "sub" / "x.parquet"
    main(["standardise", str(data), "--config", str(config), "--out", str(target)])
    assert pl.read_parquet(target).height == 2


def test_help_has_example(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        main(["standardise", "--help"])
    except SystemExit as exc:  # click may exit 0 after printing help
        assert exc.code in (0, None)
    out = capsys.readouterr().out
    assert "Example" in out and "--config" in out


def test_missing_column(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    data, config = files
    data.write_text("id;nom;ddn\n1;Alaoui;1980\n", encoding="utf-8")
    err = run_error(["standardise", str(data), "--config", str(config)], capsys)
    assert "'prenom'" in err and "given_name" in err and "tiny.csv" in err


def test_duplicate_ids(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    data, config = files
    data.write_text(DATA + "1;Idrissi;Ali;1990\n", encoding="utf-8")
    err = run_error(["standardise", str(data), "--config", str(config)], capsys)
    # the rows say where; the id itself is masked (issue 19: no personal data in messages)
    assert "record_id" in err and "at rows [1, 3]" in err and "tiny.csv" in err


def test_bad_config_key(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    data, config = files
    config.write_text(CONFIG.replace("birth_date:", "birth_dte:"), encoding="utf-8")
    err = run_error(["standardise", str(data), "--config", str(config)], capsys)
    assert "columns.birth_dte" in err and "tiny.yaml" in err and "valid fields" in err


def test_missing_input_file(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _, config = files
    err = run_error(["standardise", "nope.csv", "--config", str(config)], capsys)
    assert "nope.csv" in err
