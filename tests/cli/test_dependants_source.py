"""A workers file and a dependants file whose records carry a source name of their own.

The sample's chamber list (workers in one file, their dependants in a second one) is matched
twice: as shipped, and with ``dependants.source`` set. The dependants then carry their own
source in every output, and nothing else changes: the same person for every record, the same
decisions, the same households.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from registry_link.jobs import MatchJob, run_match

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
CONFIG = ROOT / "configs" / "partner_chambre_fr.yaml"
OWN_SOURCE = "chambre_fr_ayants_droit"


def match(tmp_path: Path, config: Path, name: str) -> Path:
    out = tmp_path / name
    run_match(
        MatchJob(
            registry=SAMPLE / "registry.csv",
            partners=(SAMPLE / "partner_chambre_fr.csv",),
            configs=(config,),
            out_dir=out,
        )
    )
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("dependants_source")
    own = tmp / "partner_chambre_fr_own_source.yaml"
    text = CONFIG.read_text(encoding="utf-8")
    own.write_text(
        text.replace("  mode: file\n", f"  mode: file\n  source: {OWN_SOURCE}\n"), encoding="utf-8"
    )
    return match(tmp, CONFIG, "shipped"), match(tmp, own, "own")


def test_dependants_carry_their_own_source_and_their_workers_role(runs: tuple[Path, Path]) -> None:
    _, own = runs
    links = pl.read_parquet(own / "links.parquet")
    by_source = dict(links.group_by("source").agg(pl.col("role").unique().sort()).iter_rows())
    assert set(by_source) == {"partner_chambre_fr", OWN_SOURCE}
    assert by_source["partner_chambre_fr"] == ["principal"]
    assert "principal" not in by_source[OWN_SOURCE]
    dependants = links.filter(pl.col("source") == OWN_SOURCE)
    assert dependants["principal_record_id"].null_count() == 0
    households = pl.read_parquet(own / "households.parquet")
    assert set(households["source"].unique()) == {"partner_chambre_fr", OWN_SOURCE}


def household_partition(households: pl.DataFrame) -> set[frozenset[str]]:
    """The households as sets of record ids (keys of households the registry does not know are
    hashes of a member's source and record id, so they change with a source name)."""
    groups = households.group_by("household_key").agg("record_id")["record_id"]
    return {frozenset(g) for g in groups.to_list()}


def test_nothing_else_changes(runs: tuple[Path, Path]) -> None:
    shipped, own = runs
    keys = ["record_id"]  # record ids are unique across the two files (the reader checks it)
    for name, columns in (
        ("links", ["record_id", "role", "principal_record_id", "person_id", "decision"]),
        ("households", ["record_id", "registry_household_id", "role", "flags"]),
    ):
        a = pl.read_parquet(shipped / f"{name}.parquet").select(columns).sort(keys)
        b = pl.read_parquet(own / f"{name}.parquet").select(columns).sort(keys)
        assert a.equals(b), name
    assert household_partition(pl.read_parquet(shipped / "households.parquet")) == (
        household_partition(pl.read_parquet(own / "households.parquet"))
    )
    # the dependants were not left without their workers
    flags = pl.read_parquet(own / "households.parquet")["flags"].explode().drop_nulls()
    assert "principal_missing" not in flags.to_list()
