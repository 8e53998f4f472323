"""The slice noises and their ground-truth labels: a relative's CIN, mistyped birth dates,
name variants (no Ben/Bel, one part of a compound given name).

Off by default (the partner files stay what they were before they existed); on (the shipped
sample is made so), every labelled record really carries what its label says, and nothing else
changes.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from registry_link.synth import PartnerRecords, generate, make_partner_lists
from registry_link.synth.noise import SliceNoiseRates, date_digit_typo, name_variant
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
    assert not truth["name_variant"].any()
    assert set(truth["birth_date_error"].drop_nulls()) == {"day_month_swap", "year_shift"}
    assert "cin_of_relative" not in partners.noise_log.columns  # the manifest is unchanged


def test_only_labelled_records_change(partners: PartnerRecords, noisy: PartnerRecords) -> None:
    for source, before in partners.records.items():
        after = noisy.records[source]
        relabelled = (after["birth_date_error"] == "digit_typo").fill_null(False)
        relative, variant = after["cin_of_relative"], after["name_variant"]
        assert relabelled.sum() > 0
        assert relative.sum() > 0
        assert variant.sum() > 0
        same = ~relabelled & ~relative & ~variant
        labels = ("birth_date_error", "cin_of_relative", "name_variant")
        keep = [c for c in before.columns if c not in labels]
        assert after.filter(same).select(keep).equals(before.filter(same).select(keep))
        assert (after.filter(relative)["cin"] != before.filter(relative)["cin"].fill_null("")).all()


def test_rates_are_low_and_realistic(noisy: PartnerRecords) -> None:
    truth = noisy.ground_truth
    relative = truth["cin_of_relative"].mean()
    typo = (truth["birth_date_error"] == "digit_typo").fill_null(False).mean()
    assert relative is not None and 0.002 < relative < 0.015
    assert typo is not None and 0.002 < typo < 0.015


NAMES = ["family_lat", "given_lat", "family_ar", "given_ar"]


def test_name_variant_rate(partners: PartnerRecords, noisy: PartnerRecords) -> None:
    """15% of the records whose names have a variant (a Ben/Bel family name, a compound given
    name) get it: 2-5% of all records."""
    plain = _all(partners)
    _, could = name_variant(plain.select(NAMES), np.ones(plain.height, bool))
    labelled = _all(noisy)["name_variant"]
    assert not (labelled & ~pl.Series(could)).any()
    share = labelled.sum() / int(could.sum())
    assert 0.10 < share < 0.17, share
    assert 0.01 < labelled.mean() < 0.06  # type: ignore[operator]


def test_a_name_variant_drops_ben_or_a_part_of_the_given_name(
    partners: PartnerRecords, noisy: PartnerRecords
) -> None:
    before = _all(partners).select("source", "record_id", *NAMES)
    after = _all(noisy).filter("name_variant").select("source", "record_id", *NAMES)
    pairs = after.join(before, on=["source", "record_id"], suffix="_true")
    assert pairs.height == after.height >= 50
    for row in pairs.iter_rows(named=True):
        changed = [c for c in NAMES if row[c] != row[f"{c}_true"]]
        assert changed, row
        for c in changed:
            was, now = row[f"{c}_true"], row[c]
            if c.startswith("family"):  # Ben Ali -> Ali, Benjelloun -> Jelloun, بنعلي -> علي
                assert was.lower().startswith(("ben", "bel", "بن", "بل")), row
                assert was.lower().endswith(now.lower()) and len(now) >= 3, row
            else:  # Fatima Zahra -> Zahra
                assert was.endswith(" " + now) or was.endswith("-" + now), row
        # the family and the given name are never both changed
        assert not (
            {"family_lat", "family_ar"} & set(changed) and {"given_lat", "given_ar"} & set(changed)
        )


@pytest.mark.parametrize(
    ("names", "expected", "changed"),
    [
        (
            ("Ben Slimane", "Ahmed", "بنسليمان", "أحمد"),
            ("Slimane", "Ahmed", "سليمان", "أحمد"),
            True,
        ),
        (("Benjelloun", "Ali", None, None), ("Jelloun", "Ali", None, None), True),
        (("Bel Haj", "Ali", "بلحاج", "علي"), ("Haj", "Ali", "حاج", "علي"), True),
        ((None, None, "بنعلي", "محمد"), (None, None, "علي", "محمد"), True),
        (
            ("Alaoui", "Fatima Zahra", "العلوي", "فاطمة الزهراء"),
            ("Alaoui", "Zahra", "العلوي", "الزهراء"),
            True,
        ),
        (("Alaoui", "Fatim-Zahra", None, None), ("Alaoui", "Zahra", None, None), True),
        # a doubled letter is no prefix (Bennani, Bellahcen); a plain name has no variant
        (("Bennani", "Ali", "بناني", "علي"), ("Bennani", "Ali", "بناني", "علي"), False),
        (("Alaoui", "Mohamed", "العلوي", "محمد"), ("Alaoui", "Mohamed", "العلوي", "محمد"), False),
    ],
)
def test_name_variant_table(names: tuple, expected: tuple, changed: bool) -> None:
    frame = pl.DataFrame([names], schema={c: pl.Utf8 for c in NAMES}, orient="row")
    out, applied = name_variant(frame, np.ones(1, bool))
    assert out.row(0) == expected
    assert bool(applied[0]) is changed
    unchanged, none = name_variant(frame, np.zeros(1, bool))
    assert unchanged.row(0) == names and not none.any()


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
def test_the_sample_command_gives_the_shipped_sample(tmp_path: Path) -> None:
    """`registry-link synth --persons 50000 --seed 20261122 --slice-noise` gives the shipped
    sample byte for byte (every file but its README)."""
    generate(50_000, SEED, tmp_path, slice_noise=SliceNoiseRates())
    for path in SAMPLE.iterdir():
        if path.name == "README.md":
            continue
        assert path.read_bytes() == (tmp_path / path.name).read_bytes(), path.name
    fresh = pl.read_csv(tmp_path / "ground_truth.csv", infer_schema=False)
    assert fresh.columns == list(GROUND_TRUTH_COLUMNS)
    for label in ("cin_of_relative", "name_variant"):
        assert (fresh[label] == "true").sum() > 50, label
    assert (fresh["birth_date_error"] == "digit_typo").sum() > 50


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
