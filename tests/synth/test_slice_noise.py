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

from registry_link.names import matching_form, pairwise_name_variant
from registry_link.standardise.gazetteer import town_aliases
from registry_link.standardise.places import alias_key
from registry_link.synth import (
    PartnerRecords,
    generate,
    make_partner_lists,
    make_registry,
    name_pool,
)
from registry_link.synth.noise import (
    LOOKALIKE_MAX_AGE_GAP,
    SliceNoiseRates,
    date_digit_typo,
    father_variant,
    name_variant,
)
from registry_link.synth.partners import (
    GROUND_TRUTH_COLUMNS,
    OFF_REGISTRY_OFFSET,
    off_registry_population,
)
from registry_link.synth.registry import RuralPlaces

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
    for label in ("cin_of_relative", "name_variant", "cin_of_lookalike", "place_spelling"):
        assert not truth[label].any(), label
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
        labels = ("birth_date_error", "cin_of_relative", "name_variant", "cin_of_lookalike")
        fathers = ("father_lat", "father_ar")  # their variants are in the noise log only
        keep = [c for c in before.columns if c not in labels + fathers]
        # people absent from the registry may live in, or be born in, a rural commune
        town = (pl.col("t_birth_rural") < 0) & (pl.col("t_residence_rural") < 0)
        same = same & after.select(town).to_series()
        assert after.filter(same).select(keep).equals(before.filter(same).select(keep))
        log = noisy.noise_log.filter(pl.col("source") == source)["father_variant"]
        kept = ~log & after["father_ar"].is_not_null()
        assert after.filter(kept).select(fathers).equals(before.filter(kept).select(fathers))
        assert (after.filter(relative)["cin"] != before.filter(relative)["cin"].fill_null("")).all()


def test_rates_are_low_and_realistic(noisy: PartnerRecords) -> None:
    truth = noisy.ground_truth
    relative = truth["cin_of_relative"].mean()
    typo = (truth["birth_date_error"] == "digit_typo").fill_null(False).mean()
    lookalike = truth["cin_of_lookalike"].mean()
    assert relative is not None and 0.005 < relative < 0.03
    assert lookalike is not None and 0.002 < lookalike < relative
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
    # the registry is the same but for the rural communes some people live in or were born in
    registries = [
        pl.read_csv(folder / "registry.csv", separator=";", infer_schema=False)
        for folder in (plain, noisy)
    ]
    places = ["lieu_naissance", "commune_residence"]
    assert registries[0].drop(places).equals(registries[1].drop(places))
    rural = {name for commune in name_pool.RURAL_COMMUNES for name in commune.latin}
    for column in places:
        before, after = registries[0][column], registries[1][column]
        assert set(after.filter(before != after)) <= rural
        assert (before != after).sum() > 0
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


def test_a_lookalike_cin_is_that_of_a_resembling_relative(
    noisy: PartnerRecords, pool: pl.DataFrame, big_registry: pl.DataFrame
) -> None:
    """Same household, family name and sex, born at most 6 years apart: a brother, a sister."""
    records = _all(noisy).filter("cin_of_lookalike")
    assert records.height >= 20
    assert records["cin_of_relative"].all()
    truth_columns = ["t_person", "t_family", "t_female", "t_age"]
    off = off_registry_population(max(200, big_registry.height // 10), SEED)
    people = pool.join(
        pl.concat([big_registry.select(truth_columns), off.select(truth_columns)]), on="t_person"
    )
    person = people.select(
        "uid", own="t_person", hh="t_hh", fam="t_family", fem="t_female", age="t_age"
    )
    owner = people.select(
        "cin", o_person="t_person", o_hh="t_hh", o_fam="t_family", o_fem="t_female", o_age="t_age"
    )
    checked = records.join(person, left_on="true_person_uid", right_on="uid").join(owner, on="cin")
    assert checked.height == records.height
    assert (checked["o_person"] != checked["own"]).all()
    assert (checked["o_hh"] == checked["hh"]).all()
    assert (checked["o_fam"] == checked["fam"]).all()
    assert (checked["o_fem"] == checked["fem"]).all()
    gap = (checked["o_age"].cast(pl.Int32) - checked["age"].cast(pl.Int32)).abs()
    assert (gap <= LOOKALIKE_MAX_AGE_GAP).all()


@pytest.mark.parametrize(
    ("latin", "arabic"),
    [
        ("Ahmed", "أحمد"),
        ("Mohamed Amine", "محمد أمين"),
        ("Abdelaziz", "عبد العزيز"),
        ("Said", "سعيد"),
    ],
)
def test_a_father_variant_is_a_variant_the_matcher_knows(latin: str, arabic: str) -> None:
    """Every form (nasab, Ben/Ould, part of a compound) is what the father comparison's
    "variant" level recognises, in either script, against the father's name in both."""
    n = 60
    fathers = pl.DataFrame({"father_lat": [latin] * n, "father_ar": [arabic] * n})
    out, changed = father_variant(fathers, np.ones(n, bool), np.random.default_rng(5))
    assert changed.all()
    forms = set(out["father_lat"])
    if " " in latin:  # a compound: one part
        assert forms == {latin.split(" ")[1]} and set(out["father_ar"]) == {arabic.split(" ")[1]}
    else:
        assert any(f.startswith(f"{latin} Ben ") for f in forms)
        assert {f"Ben {latin}", f"Ould {latin}"} <= forms
    for written in (*out["father_lat"], *out["father_ar"]):
        for true in (latin, arabic):
            a = pl.Series([matching_form(written)])
            b = pl.Series([matching_form(true)])
            assert pairwise_name_variant(a, b).item(), (written, true)
    untouched, none = father_variant(fathers, np.zeros(n, bool), np.random.default_rng(5))
    assert untouched.equals(fathers) and not none.any()


def test_father_variants_at_their_rate(noisy: PartnerRecords) -> None:
    log = noisy.noise_log["father_variant"]
    assert 0.07 < log.mean() < 0.13  # type: ignore[operator]


def test_rural_communes_are_outside_the_gazetteer() -> None:
    known = {alias_key(name) for name in town_aliases()}
    towns = {c.latin for c in name_pool.COMMUNES}
    spellings = []
    for commune in name_pool.RURAL_COMMUNES:
        assert commune.town in towns
        for name in (commune.arabic, *commune.latin):
            assert alias_key(name) not in known, name
        assert len(set(commune.latin)) == len(commune.latin) >= 2
        spellings += commune.latin
    assert len(set(spellings)) == len(spellings)  # no spelling names two communes


@pytest.fixture(scope="module")
def rural_registry() -> pl.DataFrame:
    return make_registry(20_000, SEED, SliceNoiseRates().rural_places())[0]


def test_rural_places_change_only_the_places(rural_registry: pl.DataFrame) -> None:
    plain = make_registry(20_000, SEED)[0]
    places = ["birth_place", "residence", "t_birth_rural", "t_residence_rural"]
    assert rural_registry.drop(places).equals(plain.drop(places))
    lives = rural_registry["t_residence_rural"] >= 0
    born = rural_registry["t_birth_rural"] >= 0
    assert 0.04 < lives.mean() < 0.2 and 0.04 < born.mean() < 0.2  # type: ignore[operator]
    # a household lives in one place; where it is rural, that commune is near its town
    per_hh = rural_registry.group_by("t_hh").agg(pl.col("residence").n_unique())
    assert (per_hh["residence"] == 1).all()
    table = name_pool.rural_table()
    rural = rural_registry.filter(lives)
    town = rural["t_residence"].to_numpy()
    k = rural["t_residence_rural"].to_numpy()
    assert ((k >= table.first[town]) & (k < table.first[town] + table.count[town])).all()
    usual = table.names.variants.gather(table.names.offset[k])
    assert (rural["residence"] == usual).all()
    assert make_registry(20_000, SEED, RuralPlaces())[0].equals(plain)


def test_a_spelled_place_is_another_attested_spelling(rural_registry: pl.DataFrame) -> None:
    noisy = make_partner_lists(rural_registry, SEED, slice_noise=SliceNoiseRates())
    records = _all(noisy)
    table = name_pool.rural_table()
    spellings = {
        k: set(table.names.variants.slice(table.names.offset[k], table.names.n_variants[k]))
        for k in range(len(table.names))
    }
    rural = records.filter(pl.col("t_birth_rural") >= 0)
    assert rural.height > 100
    for k, written in zip(rural["t_birth_rural"], rural["birth_place_lat"], strict=True):
        assert written in spellings[k]
    usual = table.names.variants.gather(table.names.offset[rural["t_birth_rural"].to_numpy()])
    other = rural.filter(rural["birth_place_lat"] != usual)
    assert other.height > 0 and other["place_spelling"].all()
    plain = records.filter((pl.col("t_birth_rural") < 0) & (pl.col("t_residence_rural") < 0))
    assert not plain["place_spelling"].any()
    share = records["place_spelling"].mean()
    assert share is not None and 0.01 < share < 0.15
