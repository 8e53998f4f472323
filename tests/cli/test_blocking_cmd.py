"""``registry-link blocking``: block sizes and key shapes, not people's CINs or birth dates
(values only with ``--show-values``) — issue 19."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from registry_link.block.candidates import value_shape
from registry_link.cli import main

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from registry_link.synth import generate

    out = tmp_path_factory.mktemp("synth_blocking")
    generate(1500, 11, out)
    return out


def blocking_output(data_dir: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    capsys.readouterr()
    main(
        [
            "blocking",
            "--registry",
            str(data_dir / "registry.csv"),
            "--registry-config",
            str(CONFIGS / "registry.yaml"),
            "--model-config",
            str(CONFIGS / "model.yaml"),
            "--partner",
            str(data_dir / "partner_coop_ar.csv"),
            "--config",
            str(CONFIGS / "partner_coop_ar.yaml"),
            "--top",
            "3",
            *extra,
        ]
    )
    return capsys.readouterr().out


def test_value_shape() -> None:
    assert value_shape("BK123456") == "AA999999"
    assert value_shape("1980-05-12") == "9999-99-99"
    assert value_shape("mhmd") == "aaaa" and value_shape("محمد") == "aaaa"


def test_blocks_are_shown_by_shape_not_value(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shown = blocking_output(data_dir, capsys)
    registry = pl.read_csv(data_dir / "registry.csv", separator=";", infer_schema=False)
    cins = set(registry["cin"].drop_nulls().to_list())
    assert "largest blocks" in shown and re.search(r"cin=A{1,2}9+ ", shown)
    assert not any(c in shown for c in cins if len(c) >= 5)
    assert not re.search(r"(19|20)\d\d-\d\d-\d\d", shown)  # no birth date
    assert not re.search(r"birth_year=(19|20)\d\d", shown)


def test_show_values_shows_them(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shown = blocking_output(data_dir, capsys, "--show-values")
    registry = pl.read_csv(data_dir / "registry.csv", separator=";", infer_schema=False)
    cins = set(registry["cin"].drop_nulls().to_list())
    assert any(f"cin={c} " in shown for c in cins)
