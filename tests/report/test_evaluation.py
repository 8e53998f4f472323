"""Tests of registry_link.report.evaluation on tiny cases whose answers are computed by hand."""

from __future__ import annotations

import itertools

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.errors import UsageError
from registry_link.report.evaluation import (
    SLICES,
    evaluate,
    evaluate_households,
    evaluate_links,
    evaluate_slices,
    households_reproduced,
    pairwise_scores,
    slice_membership,
)

S = pl.Utf8

TRUTH = pl.DataFrame(
    {
        "source": ["a", "a", "a", "a", "b", "b"],
        "record_id": ["1", "2", "3", "4", "1", "2"],
        "true_person_uid": ["R1", "R2", "R4", "N1", "R1", "N2"],
        "person_id": ["P1", "P2", "P4", "", "P1", ""],
        "household_id": ["H1", "H1", "H2", "", "H1", ""],
    }
)

LINKS = pl.DataFrame(
    {
        "source": ["a", "a", "a", "a", "b", "b"],
        "record_id": ["1", "2", "3", "4", "1", "2"],
        "person_id": ["P1", "P3", "P4", None, "P1", "P9"],
        "decision": ["match", "match", "review", "non_match", "match", "match"],
    },
    schema_overrides={"person_id": S},
)


def test_links_per_source_and_all() -> None:
    out = evaluate_links(LINKS, TRUTH)
    rows = {r["source"]: r for r in out.to_dicts()}
    assert list(rows) == ["a", "b", "all"]
    a, b, total = rows["a"], rows["b"], rows["all"]
    assert (a["records"], a["in_registry"], a["matches"], a["correct"]) == (4, 3, 2, 1)
    assert a["precision"] == pytest.approx(0.5)
    assert a["recall"] == pytest.approx(1 / 3)
    assert a["f1"] == pytest.approx(0.4)
    assert a["review_share"] == pytest.approx(0.25)
    assert a["recall_with_review"] == pytest.approx(2 / 3)
    assert (b["precision"], b["recall"], b["review_share"]) == (0.5, 1.0, 0.0)
    assert b["f1"] == pytest.approx(2 / 3)
    assert (total["records"], total["matches"], total["correct"]) == (6, 4, 2)
    assert (total["precision"], total["recall"], total["f1"]) == (0.5, 0.5, 0.5)
    assert total["recall_with_review"] == pytest.approx(0.75)


def test_no_matches_gives_undefined_precision() -> None:
    out = evaluate_links(LINKS.with_columns(decision=pl.lit("non_match")), TRUTH)
    assert out.filter(pl.col("source") == "all")["precision"][0] is None
    assert out.filter(pl.col("source") == "all")["recall"][0] == 0.0


def test_pairwise_all_within_across() -> None:
    pred = pl.DataFrame(
        {
            "source": ["a", "a", "b", "a", "b"],
            "record_id": ["1", "2", "1", "3", "2"],
            "key": ["K1", "K1", "K1", "K2", "K2"],
        }
    )
    true = pl.DataFrame(
        {
            "source": ["a", "a", "b", "a", "b"],
            "record_id": ["1", "2", "1", "3", "2"],
            "uid": ["T1", "T1", "T2", "T2", None],
        },
        schema_overrides={"uid": S},
    )
    s = pairwise_scores(pred, true, "key", "uid")
    assert (s["all"]["predicted_pairs"], s["all"]["true_pairs"], s["all"]["true_positives"]) == (
        4,
        2,
        1,
    )
    assert s["all"]["precision"] == 0.25
    assert s["all"]["recall"] == 0.5
    assert s["all"]["f1"] == pytest.approx(1 / 3)
    assert (s["within_list"]["precision"], s["within_list"]["recall"]) == (1.0, 1.0)
    assert s["across_lists"] == {
        "predicted_pairs": 3,
        "true_pairs": 1,
        "true_positives": 0,
        "precision": 0.0,
        "recall": 0.0,
        "f1": None,
    }


def test_households_only_count_registry_persons() -> None:
    hh = LINKS.select("source", "record_id").with_columns(
        household_key=pl.Series(["X", "X", "Y", "X", "X", "Y"])
    )
    s = evaluate_households(hh, TRUTH)["all"]
    # registry persons a1,a2,a3,b1 (H1,H1,H2,H1); predicted X,X,Y,X
    assert (s["predicted_pairs"], s["true_pairs"], s["true_positives"]) == (3, 3, 3)


# (true household per record — None: person not in the registry —, output household per
#  record — None: none —, expected (true households of >= 2 records, reproduced, split, merged))
HOUSEHOLD_CASES = {
    "each given exactly": (
        {"a1": "H1", "a2": "H1", "a3": "H2", "b1": "H2"},
        {"a1": "X", "a2": "X", "a3": "Y", "b1": "Y"},
        (2, 2, 0, 0),
    ),
    "split in two": ({"a1": "H1", "a2": "H1"}, {"a1": "X", "a2": "Y"}, (1, 0, 1, 0)),
    "a record without a household splits it": (
        {"a1": "H1", "a2": "H1"},
        {"a1": "X", "a2": None},
        (1, 0, 1, 0),
    ),
    "two merged into one": (
        {"a1": "H1", "a2": "H1", "a3": "H2", "a4": "H2"},
        {"a1": "X", "a2": "X", "a3": "X", "a4": "X"},
        (2, 0, 0, 2),
    ),
    "split and merged": (
        {"a1": "H1", "a2": "H1", "a3": "H2", "a4": "H2"},
        {"a1": "X", "a2": "Y", "a3": "Y", "a4": "Y"},
        (2, 0, 1, 2),
    ),
    "a one-record household does not count, but merging it does": (
        {"a1": "H1", "a2": "H2", "a3": "H2"},
        {"a1": "Y", "a2": "Y", "a3": "Y"},
        (1, 0, 0, 1),
    ),
    "a one-record household apart": (
        {"a1": "H1", "a2": "H2", "a3": "H2"},
        {"a1": "X", "a2": "Y", "a3": "Y"},
        (1, 1, 0, 0),
    ),
    "a person absent from the registry beside them does not count": (
        {"a1": "H1", "a2": "H1", "a3": None},
        {"a1": "X", "a2": "X", "a3": "X"},
        (1, 1, 0, 0),
    ),
    "none of two records or more": ({"a1": "H1", "a2": "H2"}, {"a1": "X", "a2": "X"}, (0, 0, 0, 0)),
}


def _household_frames(
    truth: dict[str, str | None], output: dict[str, str | None]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    keys = list(truth)
    hh = pl.DataFrame(
        {
            "source": [k[0] for k in keys],
            "record_id": [k[1:] for k in keys],
            "household_key": [output[k] for k in keys],
        },
        schema={"source": S, "record_id": S, "household_key": S},
    )
    t = pl.DataFrame(
        {
            "source": [k[0] for k in keys],
            "record_id": [k[1:] for k in keys],
            "true_person_uid": [f"R{k}" for k in keys],
            "person_id": [None if truth[k] is None else f"P{k}" for k in keys],
            "household_id": [truth[k] for k in keys],
        },
        schema={
            c: S for c in ("source", "record_id", "true_person_uid", "person_id", "household_id")
        },
    )
    return hh, t


@pytest.mark.parametrize(
    ("truth", "output", "expected"), HOUSEHOLD_CASES.values(), ids=list(HOUSEHOLD_CASES)
)
def test_households_reproduced_exactly(
    truth: dict[str, str | None], output: dict[str, str | None], expected: tuple[int, ...]
) -> None:
    hh, t = _household_frames(truth, output)
    got = households_reproduced(hh, t)
    assert (got["true_households"], got["reproduced"], got["split"], got["merged"]) == expected
    n, k = expected[:2]
    assert got["share"] == (k / n if n else None)
    assert got["min_records"] == 2


def test_households_reproduced_from_a_larger_size() -> None:
    hh, t = _household_frames(
        {"a1": "H1", "a2": "H1", "a3": "H1", "a4": "H2", "a5": "H2"},
        {"a1": "X", "a2": "X", "a3": "X", "a4": "Y", "a5": "Z"},
    )
    assert households_reproduced(hh, t)["share"] == 0.5
    three = households_reproduced(hh, t, min_records=3)
    assert (three["true_households"], three["reproduced"], three["share"]) == (1, 1, 1.0)


def test_households_against_beneficiary_households() -> None:
    """A declared spouse the registry still places in her parents' household: the run puts her
    with the worker. Against beneficiary households that is exact; against the registry's,
    it merges the worker's household and splits her parents'."""
    hh, t = _household_frames(
        {"w1": "H1", "w2": "H1", "sp": "H2", "p1": "H2", "p2": "H2"},
        {"w1": "X", "w2": "X", "sp": "X", "p1": "Y", "p2": "Y"},
    )
    beneficiary = {"w1": "H1", "w2": "H1", "sp": "H1", "p1": "H2", "p2": "H2"}
    t = t.with_columns(
        beneficiary_household_id=pl.Series(
            [beneficiary[s + r] for s, r in t.select("source", "record_id").rows()]
        )
    )
    got = households_reproduced(hh, t)
    assert got["true_household"] == "beneficiary_household_id"
    assert (got["true_households"], got["reproduced"], got["split"], got["merged"]) == (2, 2, 0, 0)
    registry = households_reproduced(hh, t, registry_only=True)
    assert registry["true_household"] == "household_id"
    assert (registry["reproduced"], registry["split"], registry["merged"]) == (0, 1, 2)
    assert evaluate_households(hh, t)["all"]["precision"] == 1.0
    # without the column, the registry's households are the truth
    plain = households_reproduced(hh, t.drop("beneficiary_household_id"))
    assert plain == registry


def test_evaluate_bundles_everything() -> None:
    clusters = LINKS.select("source", "record_id").with_columns(
        beneficiary_key=pl.Series(["P1", "P3", "P4", "B1", "P1", "P9"])
    )
    hh = clusters.select("source", "record_id", household_key=pl.lit("H"))
    out = evaluate(LINKS, clusters, hh, TRUTH)
    assert out["same_person"]["all"]["precision"] == 1.0
    assert out["same_person"]["across_lists"]["true_positives"] == 1
    assert out["links"][-1]["source"] == "all"


def test_truth_problems_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="true_person_uid"):
        evaluate_links(LINKS, TRUTH.drop("true_person_uid"))
    with pytest.raises(UsageError, match="one row per partner record"):
        evaluate_links(LINKS, pl.concat([TRUTH, TRUTH.head(1)]))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b"]), st.integers(0, 3), st.integers(0, 3)),
        min_size=1,
        max_size=12,
    )
)
def test_property_closed_form_equals_brute_force(rows) -> None:
    frame = pl.DataFrame(
        {
            "source": [r[0] for r in rows],
            "record_id": [str(i) for i in range(len(rows))],
            "p": [str(r[1]) for r in rows],
            "t": [str(r[2]) for r in rows],
        }
    )
    s = pairwise_scores(frame, frame, "p", "t")
    recs = frame.to_dicts()
    for scope, keep in (("all", lambda x, y: True), ("within_list", lambda x, y: x == y)):
        pairs = [
            (x, y) for x, y in itertools.combinations(recs, 2) if keep(x["source"], y["source"])
        ]
        assert s[scope]["predicted_pairs"] == sum(x["p"] == y["p"] for x, y in pairs)
        assert s[scope]["true_pairs"] == sum(x["t"] == y["t"] for x, y in pairs)
        assert s[scope]["true_positives"] == sum(
            x["p"] == y["p"] and x["t"] == y["t"] for x, y in pairs
        )


# --- slices -------------------------------------------------------------------------------
# Six records, two lists. What puts each in which slice:
#   a1  CIN, day date, Latin names, principal, man            -> match P1 (right)
#   a2  no CIN, year only, unsplit Latin name, spouse, woman,  -> match P3 (wrong: P2)
#       date mistyped; its person P2 has Arabic names only in the registry: cross-script
#   a3  CIN of a relative, Arabic names, child, man           -> review P4 (its person)
#   a4  no CIN, 01/01 date, Latin, principal, woman, NOT in the registry -> match P9
#   b1  CIN, Arabic names, principal, sex unknown; P1 has Latin names only: cross-script
#                                                             -> match P1 (right)
#   b2  no CIN, Latin, child, woman, NOT in the registry      -> non_match
SLICE_PARTNERS = pl.DataFrame(
    {
        "source": ["a", "a", "a", "a", "b", "b"],
        "record_id": ["1", "2", "3", "4", "1", "2"],
        "cin": ["AB1", None, "CD2", None, "EF3", None],
        "birth_date_precision": ["day", "year", "day", "day_or_year", "day", "day"],
        "flags": [[], ["full_name_only"], [], [], [], []],
        "relationship": ["principal", "spouse", "child", "principal", "principal", "child"],
        "sex": ["M", "F", "M", "F", None, "F"],
        "family_name": ["Alaoui", None, None, "Idrissi", None, "Tazi"],
        "given_name": ["Ali", None, None, "Aicha", None, "Sara"],
        "family_name_ar": [None, None, "العلوي", None, "العلوي", None],
        "given_name_ar": [None, None, "محمد", None, "علي", None],
        "full_name": [None, "Fatima Zahra Bennani", None, None, None, None],
    },
    schema_overrides={c: S for c in ("cin", "sex", "family_name", "given_name", "full_name")}
    | {"family_name_ar": S, "given_name_ar": S},
)
SLICE_TRUTH = pl.DataFrame(
    {
        "source": ["a", "a", "a", "a", "b", "b"],
        "record_id": ["1", "2", "3", "4", "1", "2"],
        "true_person_uid": ["R1", "R2", "R4", "N1", "R1", "N2"],
        "person_id": ["P1", "P2", "P4", "", "P1", ""],
        "household_id": ["H1", "H1", "H2", "", "H1", ""],
        "birth_date_error": ["", "day_month_swap", "", "", "", ""],
        "cin_of_relative": ["false", "false", "true", "false", "false", "false"],
        "name_variant": ["false", "true", "false", "false", "true", "false"],
        "cin_of_lookalike": ["false", "false", "true", "false", "false", "false"],
        "place_spelling": ["true", "false", "false", "false", "false", "true"],
    }
)
SLICE_LINKS = pl.DataFrame(
    {
        "source": ["a", "a", "a", "a", "b", "b"],
        "record_id": ["1", "2", "3", "4", "1", "2"],
        "person_id": ["P1", "P3", "P4", "P9", "P1", None],
        "decision": ["match", "match", "review", "match", "match", "non_match"],
    },
    schema_overrides={"person_id": S},
)
SLICE_REGISTRY = pl.DataFrame(
    {
        "person_id": ["P1", "P2", "P3", "P4", "P9"],
        "family_name": ["Alaoui", None, "Bennani", "Alaoui", "Idrissi"],
        "given_name": ["Ali", None, "Fatima", "Mohamed", "Aicha"],
        "family_name_ar": [None, "بناني", "بناني", "العلوي", "الادريسي"],
        "given_name_ar": [None, "فاطمة", "فاطمة", "محمد", "عائشة"],
        "full_name": [None, None, None, None, None],
    },
    schema_overrides={c: S for c in ("family_name", "given_name", "full_name")}
    | {"family_name_ar": S, "given_name_ar": S},
)

# (slice, source): records, in_registry, matches, correct, reviews, not_in_registry,
# absent_matched
SLICE_CASES: dict[tuple[str, str], tuple[int, int, int, int, int, int, int]] = {
    ("no_cin", "a"): (2, 1, 2, 0, 0, 1, 1),
    ("no_cin", "b"): (1, 0, 0, 0, 0, 1, 0),
    ("no_cin", "all"): (3, 1, 2, 0, 0, 2, 1),
    ("birth_year_only", "a"): (1, 1, 1, 0, 0, 0, 0),
    ("birth_year_only", "b"): (0, 0, 0, 0, 0, 0, 0),
    ("mistyped_birth_date", "all"): (1, 1, 1, 0, 0, 0, 0),
    ("arabic_script", "a"): (1, 1, 0, 0, 1, 0, 0),
    ("arabic_script", "b"): (1, 1, 1, 1, 0, 0, 0),
    ("arabic_script", "all"): (2, 2, 1, 1, 1, 0, 0),
    ("cross_script", "a"): (1, 1, 1, 0, 0, 0, 0),
    ("cross_script", "b"): (1, 1, 1, 1, 0, 0, 0),
    ("unsplit_name", "all"): (1, 1, 1, 0, 0, 0, 0),
    ("dependants", "a"): (2, 2, 1, 0, 1, 0, 0),
    ("dependants", "all"): (3, 2, 1, 0, 1, 1, 0),
    ("women", "a"): (2, 1, 2, 0, 0, 1, 1),
    ("women", "all"): (3, 1, 2, 0, 0, 2, 1),
    ("relative_cin", "a"): (1, 1, 0, 0, 1, 0, 0),
    ("relative_cin", "b"): (0, 0, 0, 0, 0, 0, 0),
    ("lookalike_cin", "a"): (1, 1, 0, 0, 1, 0, 0),
    ("lookalike_cin", "b"): (0, 0, 0, 0, 0, 0, 0),
    ("place_spelling", "a"): (1, 1, 1, 1, 0, 0, 0),
    ("place_spelling", "b"): (1, 0, 0, 0, 0, 1, 0),
    ("place_spelling", "all"): (2, 1, 1, 1, 0, 1, 0),
    ("name_variant", "a"): (1, 1, 1, 0, 0, 0, 0),
    ("name_variant", "b"): (1, 1, 1, 1, 0, 0, 0),
    ("name_variant", "all"): (2, 2, 2, 1, 0, 0, 0),
    ("not_in_registry", "all"): (2, 0, 1, 0, 0, 2, 1),
    ("all", "a"): (4, 3, 3, 1, 1, 1, 1),
    ("all", "b"): (2, 1, 1, 1, 0, 1, 0),
    ("all", "all"): (6, 4, 4, 2, 1, 2, 1),
}


def _slices() -> dict[tuple[str, str], dict]:
    out = evaluate_slices(SLICE_LINKS, SLICE_PARTNERS, SLICE_TRUTH, SLICE_REGISTRY)
    return {(r["slice"], r["source"]): r for r in out.to_dicts()}


@pytest.mark.parametrize(("key", "expected"), SLICE_CASES.items(), ids=str)
def test_slice_counts(key: tuple[str, str], expected: tuple[int, ...]) -> None:
    row = _slices()[key]
    names = (
        "records",
        "in_registry",
        "matches",
        "correct",
        "reviews",
        "not_in_registry",
        "absent_matched",
    )
    assert row["measurable"] is True
    assert tuple(row[n] for n in names) == expected
    assert row["unlabelled"] == 0


def test_slice_ratios_are_those_of_evaluate_links() -> None:
    rows = _slices()
    assert list(dict.fromkeys(s for s, _ in rows)) == list(SLICES)
    assert [src for s, src in rows if s == "women"] == ["a", "b", "all"]
    whole = {r["source"]: r for r in evaluate_links(SLICE_LINKS, SLICE_TRUTH).to_dicts()}
    for source in ("a", "b", "all"):
        for name, value in whole[source].items():
            assert rows[("all", source)][name] == value, (source, name)
    women = rows[("women", "all")]
    assert women["precision"] == 0.0
    assert women["recall"] == 0.0
    assert women["absent_matched_share"] == 0.5
    assert rows[("arabic_script", "all")]["review_share"] == 0.5
    assert rows[("arabic_script", "all")]["recall_with_review"] == 1.0
    empty = rows[("birth_year_only", "b")]
    assert (empty["precision"], empty["recall"], empty["absent_matched_share"]) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("partners", "truth", "registry", "unmeasurable"),
    [
        (SLICE_PARTNERS, SLICE_TRUTH, SLICE_REGISTRY, set()),
        (SLICE_PARTNERS, SLICE_TRUTH, None, {"cross_script"}),
        (
            None,
            SLICE_TRUTH,
            SLICE_REGISTRY,
            {
                "no_cin",
                "birth_year_only",
                "arabic_script",
                "cross_script",
                "unsplit_name",
                "dependants",
                "women",
            },
        ),
        (
            SLICE_PARTNERS,
            SLICE_TRUTH.drop(
                "birth_date_error",
                "cin_of_relative",
                "name_variant",
                "cin_of_lookalike",
                "place_spelling",
            ),
            SLICE_REGISTRY,
            {
                "mistyped_birth_date",
                "relative_cin",
                "lookalike_cin",
                "name_variant",
                "place_spelling",
            },
        ),
        (SLICE_PARTNERS.drop("sex"), SLICE_TRUTH, SLICE_REGISTRY, {"women"}),
    ],
    ids=["everything", "no-registry", "no-partners", "truth-without-labels", "no-sex-column"],
)
def test_what_cannot_be_told_is_not_measurable_never_guessed(
    partners: pl.DataFrame | None,
    truth: pl.DataFrame,
    registry: pl.DataFrame | None,
    unmeasurable: set[str],
) -> None:
    out = evaluate_slices(SLICE_LINKS, partners, truth, registry)
    assert set(out.filter(~pl.col("measurable"))["slice"]) == unmeasurable
    missing = out.filter(~pl.col("measurable"))
    for column in ("records", "matches", "precision", "recall", "absent_matched_share"):
        assert missing[column].null_count() == missing.height
    assert out.height == len(SLICES) * 3


def test_records_missing_from_the_partner_records_are_counted_not_guessed() -> None:
    partners = SLICE_PARTNERS.filter(pl.col("record_id") != "2")  # drops a2 and b2
    rows = {
        (r["slice"], r["source"]): r
        for r in evaluate_slices(SLICE_LINKS, partners, SLICE_TRUTH, SLICE_REGISTRY).to_dicts()
    }
    assert rows[("no_cin", "all")]["records"] == 1  # a4 only
    assert rows[("no_cin", "all")]["unlabelled"] == 2
    assert rows[("no_cin", "b")]["unlabelled"] == 1
    assert rows[("all", "all")]["records"] == 6  # the truth-derived slices still see everyone
    assert rows[("all", "all")]["unlabelled"] == 0
    assert rows[("relative_cin", "all")]["unlabelled"] == 0


def test_truth_labels_as_words_or_digits() -> None:
    truth = SLICE_TRUTH.with_columns(
        cin_of_relative=pl.Series(["0", "0", "1", "0", " ", "0"]),
        birth_date_error=pl.Series([None, "digit_typo", None, None, None, "year_shift"]),
    )
    rows = {
        (r["slice"], r["source"]): r
        for r in evaluate_slices(SLICE_LINKS, SLICE_PARTNERS, truth, SLICE_REGISTRY).to_dicts()
    }
    assert rows[("relative_cin", "all")]["records"] == 1
    assert rows[("relative_cin", "all")]["unlabelled"] == 1  # b1's empty label
    assert rows[("mistyped_birth_date", "all")]["records"] == 2


def test_slice_membership_per_record() -> None:
    member = slice_membership(SLICE_PARTNERS, SLICE_TRUTH, SLICE_REGISTRY).sort(
        "source", "record_id"
    )
    assert member.columns == ["source", "record_id", *SLICES]
    by_record = {f"{r['source']}{r['record_id']}": r for r in member.to_dicts()}
    assert [k for k, r in by_record.items() if r["cross_script"]] == ["a2", "b1"]
    assert [k for k, r in by_record.items() if r["arabic_script"]] == ["a3", "b1"]
    assert [k for k, r in by_record.items() if r["dependants"]] == ["a2", "a3", "b2"]
    assert [k for k, r in by_record.items() if r["not_in_registry"]] == ["a4", "b2"]


def test_evaluate_keeps_its_keys_and_adds_the_slices() -> None:
    clusters = SLICE_LINKS.select("source", "record_id").with_columns(
        beneficiary_key=pl.Series(["P1", "P3", "P4", "B1", "P1", "B2"])
    )
    hh = clusters.select("source", "record_id", household_key=pl.lit("H"))
    out = evaluate(SLICE_LINKS, clusters, hh, SLICE_TRUTH, SLICE_PARTNERS, SLICE_REGISTRY)
    assert list(out) == [
        "links",
        "same_person",
        "same_household",
        "households_reproduced",
        "registry_households_reproduced",
        "slices",
    ]
    assert out["households_reproduced"] == households_reproduced(hh, SLICE_TRUTH)
    assert out["registry_households_reproduced"] == households_reproduced(
        hh, SLICE_TRUTH, registry_only=True
    )
    assert len(out["slices"]) == len(SLICES) * 3
    assert all(r["measurable"] for r in out["slices"])
    bare = evaluate(SLICE_LINKS, clusters, hh, SLICE_TRUTH)  # as jobs.run_match calls it
    measurable = {r["slice"] for r in bare["slices"] if r["measurable"]}
    assert measurable == {
        "mistyped_birth_date",
        "relative_cin",
        "lookalike_cin",
        "name_variant",
        "place_spelling",
        "not_in_registry",
        "all",
    }
