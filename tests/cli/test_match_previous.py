"""`registry-link match --previous`: a new list arriving does not renumber the beneficiaries."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from registry_link.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def _match(out: Path, partners: list[str], previous: Path | None = None) -> pl.DataFrame:
    args = [
        "match",
        "--registry",
        str(ROOT / "sample_data/registry.csv"),
        "--registry-config",
        str(ROOT / "configs/registry.yaml"),
        "--model-config",
        str(ROOT / "configs/model.yaml"),
    ]
    for name in partners:
        data = next((ROOT / "sample_data").glob(f"{name}.*"))
        args += ["--partner", str(data), "--config", str(ROOT / f"configs/{name}.yaml")]
    if previous is not None:
        args += ["--previous", str(previous)]
    args += ["--out", str(out)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return pl.read_parquet(out / "households.parquet")


@pytest.mark.slow
def test_new_list_keeps_existing_beneficiary_keys(tmp_path: Path) -> None:
    first = _match(tmp_path / "november", ["partner_coop_ar"])
    second = _match(
        tmp_path / "december", ["partner_coop_ar", "partner_chambre_fr"], tmp_path / "november"
    )
    before = first.select("source", "record_id", before="beneficiary_key")
    after = second.select("source", "record_id", after="beneficiary_key")
    joined = before.join(after, on=["source", "record_id"])
    assert joined.height == first.height  # every earlier record is still there
    # a record may change key only when its cluster changed: it joined a registry person it was
    # not linked to before, or the new list merged two earlier clusters into one (one key goes)
    merged_keys = (
        joined.group_by("after").agg(pl.col("before").n_unique().alias("n")).filter(pl.col("n") > 1)
    )["after"]
    changed = joined.filter(pl.col("before") != pl.col("after"))
    unexplained = changed.filter(
        ~pl.col("after").str.starts_with("P") & ~pl.col("after").is_in(merged_keys.implode())
    )
    assert unexplained.height == 0, unexplained
    assert changed.height <= 0.01 * joined.height


def test_previous_folder_without_households_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    data = ROOT / "sample_data/partner_coop_ar.csv"
    result = CliRunner().invoke(
        cli,
        [
            "match",
            "--registry",
            str(ROOT / "sample_data/registry.csv"),
            "--registry-config",
            str(ROOT / "configs/registry.yaml"),
            "--partner",
            str(data),
            "--config",
            str(ROOT / "configs/partner_coop_ar.yaml"),
            "--previous",
            str(tmp_path / "empty"),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code != 0
    assert "households.parquet" in str(result.exception) or "households.parquet" in result.output
