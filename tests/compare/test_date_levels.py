"""The ``date`` kind's "one character differs" level (issue 16): table-driven levels, the
Damerau-Levenshtein definition checked against rapidfuzz, symmetry, and older models' levels."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import DamerauLevenshtein

from registry_link.compare import build_comparison
from registry_link.compare.library import _one_character_apart
from registry_link.model import load_model

D = dt.date
DATA = Path(__file__).resolve().parents[1] / "data"
SCHEMA = {"birth_date": pl.Date, "birth_year": pl.Int16, "birth_date_precision": pl.Utf8}
SPEC: dict[str, Any] = {"name": "dob", "kind": "date", "one_character": True}
OLD_SPEC: dict[str, Any] = {"name": "dob", "kind": "date"}


def day(d: D) -> tuple[D, int, str]:
    """A date known to the day."""
    return (d, d.year, "day")


# (left, right, level with one_character, level without it: the levels of older models)
CASES = [
    (day(D(1980, 3, 12)), day(D(1980, 3, 12)), "exact", "exact"),
    # one digit of the day, of the month, of the year
    (day(D(1980, 3, 12)), day(D(1980, 3, 13)), "one_character", "year_within_1"),
    (day(D(1980, 3, 12)), day(D(1980, 8, 12)), "one_character", "year_within_1"),
    (day(D(1986, 3, 12)), day(D(1983, 3, 12)), "one_character", "different"),
    (day(D(1986, 3, 12)), day(D(1956, 3, 12)), "one_character", "different"),
    (day(D(2018, 10, 22)), day(D(2013, 10, 22)), "one_character", "different"),
    # a year typed one off in the same decade is one digit; across a decade it is not
    (day(D(2002, 11, 25)), day(D(2001, 11, 25)), "one_character", "year_within_1"),
    (day(D(2009, 12, 8)), day(D(2010, 12, 8)), "year_within_1", "year_within_1"),
    # two neighbouring digits swapped, within the day, the month or the year
    (day(D(1980, 3, 12)), day(D(1980, 3, 21)), "one_character", "year_within_1"),
    (day(D(1987, 3, 12)), day(D(1978, 3, 12)), "one_character", "different"),
    (day(D(1980, 10, 5)), day(D(1980, 1, 5)), "one_character", "year_within_1"),
    # neighbours across a dash are not neighbours: 1980-11-12 / 1981-01-12 is two edits
    (day(D(1980, 11, 12)), day(D(1981, 1, 12)), "year_within_1", "year_within_1"),
    # two digits apart
    (day(D(1980, 3, 12)), day(D(1980, 4, 13)), "year_within_1", "year_within_1"),
    (day(D(1980, 3, 12)), day(D(1985, 7, 12)), "different", "different"),
    # the levels above are kept
    (day(D(1980, 5, 12)), day(D(1980, 12, 5)), "day_month_swapped", "day_month_swapped"),
    ((None, 1980, "year"), day(D(1980, 5, 12)), "year_compatible", "year_compatible"),
    # a date known to the year only (or maybe so: 01/01) has no day or digit to compare
    (
        (D(1980, 1, 1), 1980, "day_or_year"),
        day(D(1980, 1, 2)),
        "year_compatible",
        "year_compatible",
    ),
    ((D(1980, 1, 1), 1980, "day_or_year"), day(D(1981, 1, 1)), "year_within_1", "year_within_1"),
    ((None, 1983, "year"), day(D(1980, 5, 12)), "different", "different"),
    ((None, None, None), day(D(1980, 5, 12)), "missing", "missing"),
]


@pytest.mark.parametrize(("left", "right", "expected", "before"), CASES)
def test_date_levels_with_one_character(
    gammas: Any, left: tuple, right: tuple, expected: str, before: str
) -> None:
    for spec, label in ((SPEC, expected), (OLD_SPEC, before)):
        got = gammas(spec, [left, right], [right, left], schema=SCHEMA)
        comp = build_comparison(spec)
        assert [comp.level(g).label for g in got] == [label, label], spec


def test_the_level_comes_above_years_within_the_tolerance_and_describes_itself() -> None:
    comp = build_comparison(SPEC)
    assert [lv.label for lv in comp.levels] == [
        "different",
        "year_within_1",
        "one_character",
        "day_month_swapped",
        "year_compatible",
        "exact",
    ]
    assert comp.level(2).describe() == (
        "birth dates differ by one character: one digit mistyped, or two neighbouring digits "
        "swapped (Damerau-Levenshtein distance 1 between the YYYY-MM-DD dates; both known to "
        "the day)"
    )


def test_without_one_character_the_levels_of_older_models_stay() -> None:
    assert [lv.label for lv in build_comparison(OLD_SPEC).levels] == [
        "different",
        "year_within_1",
        "day_month_swapped",
        "year_compatible",
        "exact",
    ]


@pytest.mark.parametrize("name", ["model_before_issue14.json", "model_written_before_issue19.json"])
def test_a_model_written_before_keeps_its_birth_date_levels(gammas: Any, name: str) -> None:
    """A model.json written before the level exists (no ``one_character`` parameter) rebuilds
    its birth-date comparison with the levels, in the order, its m and u were trained on, and
    scores pairs as it did."""
    stored = next(
        entry["comparison"]
        for entry in json.loads((DATA / name).read_text(encoding="utf-8"))["comparisons"]
        if entry["comparison"]["kind"] == "date"
    )
    assert "one_character" not in stored
    comp = {c.name: c for c in load_model(DATA / name).comparisons}[stored["name"]]
    assert [lv.label for lv in comp.levels] == stored["levels"]
    spec = {k: v for k, v in stored.items() if k not in ("levels", "missing_level")}
    lefts, rights = [c[0] for c in CASES], [c[1] for c in CASES]
    got = gammas(spec, lefts, rights, schema=SCHEMA)
    assert [comp.level(g).label for g in got] == [c[3] for c in CASES]


DATES = st.dates(min_value=D(1900, 1, 1), max_value=D(2099, 12, 31))


def _near(d: D) -> st.SearchStrategy[D]:
    """Dates one or two characters away from ``d`` (and some unrelated ones)."""
    iso = d.strftime("%Y%m%d")

    def variants(i: int, digit: str, swap: bool) -> D | None:
        chars = list(iso)
        if swap and i < 7:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        else:
            chars[i] = digit
        try:
            return dt.datetime.strptime("".join(chars), "%Y%m%d").date()
        except ValueError:
            return None

    edited = st.builds(
        variants, st.integers(0, 7), st.sampled_from("0123456789"), st.booleans()
    ).filter(lambda v: v is not None)
    return st.one_of(edited, DATES)  # type: ignore[arg-type]


PAIRS = DATES.flatmap(lambda d: st.tuples(st.just(d), _near(d)))


@settings(max_examples=300, deadline=None)
@given(pairs=st.lists(PAIRS, min_size=1, max_size=20))
def test_one_character_is_damerau_levenshtein_1_on_iso_dates(pairs: list[tuple[D, D]]) -> None:
    frame = pl.DataFrame(
        {
            "l": [a.year * 10_000 + a.month * 100 + a.day for a, _ in pairs],
            "r": [b.year * 10_000 + b.month * 100 + b.day for _, b in pairs],
        },
        schema={"l": pl.Int32, "r": pl.Int32},
    )
    got = frame.select(_one_character_apart(pl.col("l"), pl.col("r"))).to_series().to_list()
    expected = [DamerauLevenshtein.distance(a.isoformat(), b.isoformat()) == 1 for a, b in pairs]
    assert got == expected


SIDES = st.one_of(
    DATES.map(day),
    st.tuples(st.none(), st.integers(1900, 2099), st.just("year")),
    st.integers(1900, 2099).map(lambda y: (D(y, 1, 1), y, "day_or_year")),
    st.just((None, None, None)),
)


#: Pairs of records' dates: any precision, or two full dates one or two characters apart.
RECORD_PAIRS = st.one_of(st.tuples(SIDES, SIDES), PAIRS.map(lambda p: (day(p[0]), day(p[1]))))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pairs=st.lists(RECORD_PAIRS, min_size=1, max_size=12))
def test_date_comparison_is_symmetric(gammas: Any, pairs: list[tuple[tuple, tuple]]) -> None:
    left, right = [a for a, _ in pairs], [b for _, b in pairs]
    assert gammas(SPEC, left, right, schema=SCHEMA) == gammas(SPEC, right, left, schema=SCHEMA)
