"""Partner lists: ground truth, duplicates, dependants and noise rates."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from registry_link.synth import LIST_SPECS, PartnerRecords, make_partner_lists

SOURCES = [s.source for s in LIST_SPECS]
SPECS = {s.source: s for s in LIST_SPECS}


def test_deterministic(big_registry: pl.DataFrame, partners: PartnerRecords) -> None:
    again = make_partner_lists(big_registry, 20261122)
    for source in SOURCES:
        assert again.records[source].equals(partners.records[source])
    assert again.ground_truth.equals(partners.ground_truth)


@pytest.mark.parametrize("source", SOURCES)
def test_list_sizes(partners: PartnerRecords, source: str) -> None:
    recs = partners.records[source]
    assert 4_000 <= recs.height <= 8_000
    rel = recs["relationship"].value_counts()
    assert set(rel["relationship"]) == {"principal", "spouse", "child"}


def test_every_record_once_in_ground_truth(partners: PartnerRecords) -> None:
    truth = partners.ground_truth
    assert truth.select("source", "record_id").is_unique().all()
    for source in SOURCES:
        ids = set(partners.records[source]["record_id"])
        assert ids == set(truth.filter(pl.col("source") == source)["record_id"])
        assert len(ids) == partners.records[source].height


def test_ground_truth_matches_registry(
    partners: PartnerRecords, big_registry: pl.DataFrame
) -> None:
    truth = partners.ground_truth
    in_reg = truth.filter(pl.col("person_id").is_not_null())
    joined = in_reg.join(
        big_registry.select("person_id", reg_hh="household_id"), on="person_id", how="left"
    )
    assert joined["reg_hh"].null_count() == 0
    assert (joined["reg_hh"] == joined["household_id"]).all()
    assert (in_reg["true_person_uid"] == "R" + in_reg["person_id"]).all()
    off = truth.filter(pl.col("person_id").is_null())
    assert off["household_id"].null_count() == off.height
    assert off["true_person_uid"].str.starts_with("N").all()


@pytest.mark.parametrize("source", SOURCES)
def test_share_not_in_registry(partners: PartnerRecords, source: str) -> None:
    recs = partners.records[source]
    share = recs["person_id"].null_count() / recs.height
    assert 0.05 < share < 0.12


def test_principal_links(partners: PartnerRecords) -> None:
    for source in SOURCES:
        recs = partners.records[source]
        principals = set(recs.filter(pl.col("relationship") == "principal")["record_id"])
        deps = recs.filter(pl.col("relationship") != "principal")
        assert deps["principal_record_id"].null_count() == 0
        assert set(deps["principal_record_id"]) <= principals
        assert recs.filter(pl.col("relationship") == "principal")[
            "principal_record_id"
        ].null_count() == len(principals)


def test_within_and_cross_list_duplicates(partners: PartnerRecords) -> None:
    truth = partners.ground_truth
    for source in SOURCES:
        per_uid = truth.filter(pl.col("source") == source).group_by("true_person_uid").len()
        assert (per_uid["len"] >= 2).sum() >= 20  # couples declaring the same children etc.
    lists_per_uid = truth.group_by("true_person_uid").agg(pl.col("source").n_unique())
    assert (lists_per_uid["source"] >= 2).sum() >= 100
    for source in SOURCES:  # workers listed twice (another spelling)
        recs = partners.records[source]
        dups = recs.filter(pl.col("dup"))
        assert dups.height > 0
        assert (dups["relationship"] == "principal").all()


def test_children_declared_by_both_parents(partners: PartnerRecords) -> None:
    recs = partners.records["partner_chambre_fr"]
    children = recs.filter(pl.col("relationship") == "child")
    twice = children.group_by("true_person_uid").agg(pl.col("principal_record_id").n_unique())
    assert (twice["principal_record_id"] == 2).sum() > 0


def test_spouse_from_another_household(partners: PartnerRecords) -> None:
    for source in SOURCES:
        recs = partners.records[source]
        hh = recs.select(principal_record_id="record_id", principal_hh="household_id")
        elsewhere = recs.filter(pl.col("spouse_elsewhere")).join(hh, on="principal_record_id")
        assert elsewhere.height > 0
        assert (elsewhere["relationship"] == "spouse").all()
        assert (elsewhere["household_id"] != elsewhere["principal_hh"]).all()


def test_beneficiary_household_of_a_spouse_from_elsewhere(partners: PartnerRecords) -> None:
    """The truth's beneficiary household is the registry's, except for a declared spouse from
    another registry household: the declaring worker's."""
    truth = partners.ground_truth
    for source in SOURCES:
        recs = partners.records[source].join(
            truth.filter(pl.col("source") == source).select(
                "record_id", "beneficiary_household_id"
            ),
            on="record_id",
        )
        hh = recs.select(principal_record_id="record_id", principal_hh="household_id")
        elsewhere = recs.filter(pl.col("spouse_elsewhere")).join(hh, on="principal_record_id")
        assert (elsewhere["beneficiary_household_id"] == elsewhere["principal_hh"]).all()
        others = recs.filter(~pl.col("spouse_elsewhere"))
        assert others["beneficiary_household_id"].equals(others["household_id"], check_names=False)


def test_cin_and_age(partners: PartnerRecords) -> None:
    for source in SOURCES:
        recs = partners.records[source]
        minors = recs.filter(pl.col("t_age") < 18)
        assert minors["cin"].null_count() == minors.height


def _within(rate: float, hits: int, n: int) -> bool:
    """Binomial tolerance: 4.5 standard deviations plus a small absolute slack."""
    observed = hits / n
    return abs(observed - rate) <= 4.5 * math.sqrt(rate * (1 - rate) / n) + 0.003


RATE_CASES = [
    (source, kind)
    for source in SOURCES
    for kind in (
        "name_swap",
        "cin_missing",
        "cin_wrong_digit",
        "cin_transposition",
        "cin_format",
        "cin_na",
        "date_year_only",
        "date_placeholder",
        "date_day_month_swap",
        "date_year_shift",
        "date_unparseable",
        "moved_commune",
        "sex_missing",
    )
]


@pytest.mark.parametrize(("source", "kind"), RATE_CASES)
def test_noise_rates_within_tolerance(partners: PartnerRecords, source: str, kind: str) -> None:
    rate = getattr(SPECS[source].rates, kind)
    recs = partners.records[source]
    log = partners.noise_log.filter(pl.col("source") == source)
    assert log["record_id"].equals(recs["record_id"])
    applicable = np.ones(recs.height, bool)
    if kind.startswith("cin_"):
        applicable = recs["t_cin"].is_not_null().to_numpy()
    if kind == "date_day_month_swap":
        day, month = recs["t_birth"].dt.day(), recs["t_birth"].dt.month()
        applicable = ((day <= 12) & (day != month)).to_numpy()
    hits = int(log[kind].to_numpy()[applicable].sum())
    assert _within(rate, hits, int(applicable.sum())), (hits, int(applicable.sum()), rate)


@pytest.mark.parametrize("source", ["partner_chambre_fr", "partner_ordre_fullname"])
def test_alt_spelling_and_typo_rates(partners: PartnerRecords, source: str) -> None:
    rates = SPECS[source].rates
    log = partners.noise_log.filter(pl.col("source") == source)
    # some names have a single spelling (alt_spelling cannot apply), duplicates force one
    assert 0.6 * rates.alt_spelling < log["alt_spelling"].mean() < rates.alt_spelling + 0.02  # type: ignore[operator]
    assert _within(rates.typo, int(log["typo"].sum()), log.height) or (
        0.7 * rates.typo < log["typo"].mean() < rates.typo + 0.01  # type: ignore[operator]
    )


@pytest.mark.parametrize("source", SOURCES)
def test_noise_log_agrees_with_values(partners: PartnerRecords, source: str) -> None:
    recs = partners.records[source]
    log = partners.noise_log.filter(pl.col("source") == source)
    both = pl.concat(
        [recs, log.drop("source", "record_id").select(pl.all().name.prefix("n_"))], how="horizontal"
    )
    has = both.filter(pl.col("t_cin").is_not_null())
    assert has.filter(pl.col("n_cin_missing"))["cin"].null_count() == has["n_cin_missing"].sum()
    assert (has.filter(pl.col("n_cin_na"))["cin"] == "N/A").all()
    clean = has.filter(
        ~pl.col("n_cin_missing")
        & ~pl.col("n_cin_na")
        & ~pl.col("n_cin_wrong_digit")
        & ~pl.col("n_cin_transposition")
    )
    normalised = clean["cin"].str.to_uppercase().str.replace_all(r"[\s-]", "")
    assert (normalised == clean["t_cin"]).all()
    assert (
        clean.filter(~pl.col("n_cin_format"))["cin"]
        == clean.filter(~pl.col("n_cin_format"))["t_cin"]
    ).all()
    wrong = has.filter(pl.col("n_cin_wrong_digit"))
    for cin, truth in zip(wrong["cin"], wrong["t_cin"], strict=True):
        assert len(cin) == len(truth) and sum(a != b for a, b in zip(cin, truth, strict=True)) == 1
    swapped = has.filter(pl.col("n_cin_transposition"))
    for cin, truth in zip(swapped["cin"], swapped["t_cin"], strict=True):
        assert cin != truth and sorted(cin) == sorted(truth)
    assert (both.filter(pl.col("n_date_year_only"))["birth_style"] == "year").all()
    assert (both.filter(pl.col("n_date_unparseable"))["birth_style"] == "bad").all()
    assert both.filter(pl.col("n_sex_missing"))["sex"].null_count() == both["n_sex_missing"].sum()
    empty = both.filter(pl.col("n_empty_name"))
    assert empty.height == SPECS[source].rates.empty_name_rows
    names = ["family_lat", "given_lat", "family_ar", "given_ar"]
    assert all(empty[c].null_count() == empty.height for c in names)
    shifted = both.filter(pl.col("n_date_year_shift"))
    years = (shifted["birth"].dt.year() - shifted["t_birth"].dt.year()).abs()
    assert (years == 1).all()


def test_arabic_list_has_no_latin_names(partners: PartnerRecords) -> None:
    recs = partners.records["partner_coop_ar"]
    assert recs["family_lat"].null_count() == recs.height
    assert recs["family_ar"].null_count() <= 2


def test_off_registry_cins_never_in_registry(
    partners: PartnerRecords, big_registry: pl.DataFrame
) -> None:
    reg_cins = set(big_registry["cin"].drop_nulls())
    for source in SOURCES:
        recs = partners.records[source]
        off = recs.filter(pl.col("person_id").is_null())["t_cin"].drop_nulls()
        assert off.len() > 50
        assert not set(off) & reg_cins
