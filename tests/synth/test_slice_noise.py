"""The slice noises and their ground-truth labels: a relative's CIN, mistyped birth dates.

Off by default (the partner files stay byte-identical to the shipped sample's); on, every
labelled record really carries what its label says, and nothing else changes.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from registry_link.synth import PartnerRecords, generate, make_partner_lists
from registry_link.synth.noise import SliceNoiseRates, date_digit_typo
from registry_link.synth.partners import (
    GROUND_TRUTH_COLUMNS,
    OFF_REGISTRY_OFFSET,
    off_registry_population,
)

SEED = 20261122  # as in conftest.py
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="module")
def noisy(big_registry: pl.DataFrame) -> PartnerRecords:
    """The conftest's partner lists again, with the slice noises on."""
    return make_partner_lists(big_registry, SEED, slice_noise=SliceNoiseRates())


@pytest.fixture(scope="module")
def pool(big_registry: pl.DataFrame) -> pl.DataFrame:
    """Every person a record can be (registry and off-registry), with uid, household, CIN."""
    off = off_registry_population(max(200, big_registry.height // 10), SEED)
    return pl.concat(
        [
            big_registry.select("t_person", "t_hh", "cin", uid="R" + pl.col("person_id")),
            off.select(
                "t_person",
                "t_hh",
                "cin",
                uid="N" + (pl.col("t_person") - OFF_REGISTRY_OFFSET).cast(pl.Utf8).str.zfill(9),
            ),
        ]
    )


def _all(partners: PartnerRecords) -> pl.DataFrame:
    return pl.concat(
        [f.with_columns(source=pl.lit(s)) for s, f in partners.records.items()],
        how="diagonal_relaxed",
    )


def test_truth_columns_old_ones_first(partners: PartnerRecords, noisy: PartnerRecords) -> None:
    assert GROUND_TRUTH_COLUMNS[:5] == (
        "source",
        "record_id",
        "true_person_uid",
        "person_id",
        "household_id",
    )
    for truth in (partners.ground_truth, noisy.ground_truth):
        assert tuple(truth.columns) == GROUND_TRUTH_COLUMNS
        assert (truth["in_registry"] == truth["person_id"].is_not_null()).all()


def test_off_by_default(partners: PartnerRecords) -> None:
    truth = partners.ground_truth
    assert not truth["cin_of_relative"].any()
    assert set(truth["birth_date_error"].drop_nulls()) == {"day_month_swap", "year_shift"}
    assert "cin_of_relative" not in partners.noise_log.columns  # the manifest is unchanged


def test_only_labelled_records_change(partners: PartnerRecords, noisy: PartnerRecords) -> None:
    for source, before in partners.records.items():
        after = noisy.records[source]
        relabelled = (after["birth_date_error"] == "digit_typo").fill_null(False)
        relative = after["cin_of_relative"]
        assert relabelled.sum() > 0
        assert relative.sum() > 0
        same = ~relabelled & ~relative
        keep = [c for c in before.columns if c not in ("birth_date_error", "cin_of_relative")]
        assert after.filter(same).select(keep).equals(before.filter(same).select(keep))
        assert (after.filter(relative)["cin"] != before.filter(relative)["cin"].fill_null("")).all()


def test_rates_are_low_and_realistic(noisy: PartnerRecords) -> None:
    truth = noisy.ground_truth
    relative = truth["cin_of_relative"].mean()
    typo = (truth["birth_date_error"] == "digit_typo").fill_null(False).mean()
    assert relative is not None and 0.002 < relative < 0.015
    assert typo is not None and 0.002 < typo < 0.015


def test_a_relative_cin_is_the_cin_of_another_member_of_the_household(
    noisy: PartnerRecords, pool: pl.DataFrame
) -> None:
    records = _all(noisy).filter("cin_of_relative")
    assert records.height >= 20
    person = pool.select("uid", own_hh="t_hh", own_person="t_person", own_cin="cin")
    owner = pool.select("cin", owner_hh="t_hh", owner="t_person")
    checked = records.join(person, left_on="true_person_uid", right_on="uid").join(
        owner, on="cin", how="left"
    )
    assert checked.height == records.height  # every CIN belongs to exactly one person
    assert (checked["owner_hh"] == checked["own_hh"]).all()
    assert (checked["owner"] != checked["own_person"]).all()
    assert (checked["cin"] != checked["own_cin"].fill_null("")).all()


def test_a_birth_date_error_is_a_date_that_is_not_the_persons(noisy: PartnerRecords) -> None:
    records = _all(noisy)
    wrong = records.filter(pl.col("birth_date_error").is_not_null())
    assert set(wrong["birth_date_error"]) == {"day_month_swap", "year_shift", "digit_typo"}
    assert (wrong["birth"] != wrong["t_birth"]).all()
    assert (wrong["birth_style"] == "day").all()
    right = records.filter(pl.col("birth_date_error").is_null() & (pl.col("birth_style") == "day"))
    assert (right["birth"] == right["t_birth"]).all()
    typo = wrong.filter(pl.col("birth_date_error") == "digit_typo")
    assert (typo["birth"].dt.month() == typo["t_birth"].dt.month()).all()
    assert (typo["birth"].dt.year() <= 2025).all()


def test_a_digit_typo_changes_exactly_one_digit() -> None:
    rng = np.random.default_rng(3)
    days = rng.integers(0, 365 * 90, 2_000)
    dates = [
        d
        for d in (dt.date(1935, 1, 1) + dt.timedelta(days=int(k)) for k in days)
        if (d.month, d.day) != (2, 29)
    ]
    birth = pl.Series(dates, dtype=pl.Date)
    mask = np.ones(len(birth), bool)
    mask[::3] = False
    typed, applied = date_digit_typo(birth, mask, np.random.default_rng(4))
    assert (applied == mask).all()
    for before, after, on in zip(birth.to_list(), typed.to_list(), mask, strict=True):
        a, b = before.strftime("%d%m%Y"), after.strftime("%d%m%Y")
        diff = sum(x != y for x, y in zip(a, b, strict=True))
        assert diff == (1 if on else 0), (before, after)


@pytest.mark.slow
@pytest.mark.skipif(not (SAMPLE / "ground_truth.csv").is_file(), reason="no sample_data/")
def test_the_sample_command_changes_only_the_truth_columns_it_adds(tmp_path: Path) -> None:
    """`registry-link synth --persons 50000 --seed 20261122` against the shipped sample: every
    file byte-identical but ground_truth.csv, whose first five columns are."""
    generate(50_000, SEED, tmp_path)
    for path in SAMPLE.iterdir():
        if path.name in ("README.md", "ground_truth.csv"):
            continue
        assert path.read_bytes() == (tmp_path / path.name).read_bytes(), path.name
    shipped = pl.read_csv(SAMPLE / "ground_truth.csv", infer_schema=False)
    fresh = pl.read_csv(tmp_path / "ground_truth.csv", infer_schema=False)
    assert fresh.columns == list(GROUND_TRUTH_COLUMNS)
    assert fresh.select(shipped.columns[:5]).equals(shipped.select(shipped.columns[:5]))


def test_synth_slice_noise_option(tmp_path: Path) -> None:
    from registry_link.cli import main

    for name, extra in (("plain", []), ("noisy", ["--slice-noise"])):
        main(["synth", "--persons", "6000", "--out", str(tmp_path / name), *extra])
    plain, noisy = tmp_path / "plain", tmp_path / "noisy"
    assert (plain / "registry.csv").read_bytes() == (noisy / "registry.csv").read_bytes()
    assert (plain / "partner_coop_ar.csv").read_bytes() != (
        noisy / "partner_coop_ar.csv"
    ).read_bytes()
    manifest = json.loads((noisy / "synth_manifest.json").read_text(encoding="utf-8"))
    assert manifest["slice_noise_settings"] == SliceNoiseRates().as_dict()
    assert "date_digit_typo" in manifest["noise_drawn"]["partner_coop_ar"]
    plain_manifest = json.loads((plain / "synth_manifest.json").read_text(encoding="utf-8"))
    assert "slice_noise_settings" not in plain_manifest
    truth = pl.read_csv(noisy / "ground_truth.csv", infer_schema=False)
    assert (truth["cin_of_relative"] == "true").sum() > 0
    assert (truth["birth_date_error"] == "digit_typo").sum() > 0
    for source, rates in manifest["noise_drawn"].items():  # among all records of the list
        labels = truth.filter(pl.col("source") == source)
        share = (labels["cin_of_relative"] == "true").mean()
        assert rates["cin_of_relative"] == round(share, 4)  # type: ignore[arg-type]
