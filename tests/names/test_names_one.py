"""The matcher's pair decisions in Python (:mod:`registry_link.names.one`) equal its polars path.

The public pair functions decide calls of at most ``matcher.FEW_PAIRS`` pairs in Python (and
the variant check its last ``matcher.FEW_VARIANT_CHECKS`` pairs; the form table works out up to
``matcher.FEW_FORMS`` new forms in Python); here the same pairs go through both paths
(``FEW_PAIRS`` set above and below the call's size; the polars path also with its last variant
checks and its forms' columns in Python) and every value must be equal: same name (with and
without the glued article), similarity (with and without a cutoff), variant. The forms are
drawn as the pipeline makes them (matching forms of names in Arabic and Latin scripts, with
particles, compounds and unsplit full names, missing values) and as any lowercase text; each
form's row is compared to the polars columns too.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from registry_link.names import matcher, one
from registry_link.names.matcher import (
    LATIN_READINGS,
    matching_forms,
    pairwise_name_similarity,
    pairwise_name_variant,
    pairwise_same_name,
)

_LATIN_PIECES = [
    *"abdefghijklmnoqrstuwyz",
    "ou",
    "gh",
    "rh",
    "gu",
    "kh",
    "ch",
    "sh",
    "dj",
    "la",
    "el",
    "al",
    "aa",
    "ie",
    "ah",
    "ae",
    "ss",
    "mm",
    "tch",
]
_PARTICLES = ["ben", "bel", "bin", "ibn", "ould", "oulad", "bent", "el", "al", "la", "fatima"]
_ARABIC_PIECES = [*"غجخحويةمرسعىانبلهدتفقكشصضطظذثزءأإآ", "ال", "بن", "ابن", "ولد"]
_KNOWN = [
    "Oudghiri",
    "الودغيري",
    "Rharbi",
    "الغربي",
    "Guilali",
    "Hadija",
    "خديجة",
    "Lahcen",
    "Hassan",
    "Lamrani",
    "El Amrani",
    "العمراني",
    "Leila",
    "Ila",
    "Said",
    "Saida",
    "Saad",
    "Ben Slimane",
    "Benslimane",
    "بنسليمان",
    "Slimane",
    "Fatima Zahra",
    "Fatim-Zahra",
    "Zahra",
    "Ahmed Ben Mohamed",
    "أحمد بن محمد",
    "Ahmed",
    "M'hamed",
    "Mohamed Amine",
    "Amine",
    "Alaoui",
    "Ali",
    "Moussa",
    "موسي",
    "بنيحيى",
    "يحيى",
]

_LATIN_WORD = st.lists(st.sampled_from(_LATIN_PIECES), min_size=1, max_size=5).map("".join)
_ARABIC_WORD = st.lists(st.sampled_from(_ARABIC_PIECES), min_size=1, max_size=5).map("".join)
_WORD = st.one_of(_LATIN_WORD, _ARABIC_WORD, st.sampled_from(_PARTICLES))
_NAME = st.one_of(
    st.sampled_from(_KNOWN),
    _WORD,
    # compounds, particles and unsplit full names
    st.lists(st.one_of(_WORD, st.sampled_from(_KNOWN)), min_size=2, max_size=4).map(" ".join),
    st.lists(_LATIN_WORD, min_size=1, max_size=3).map(lambda ws: "ben" + "".join(ws)),
    st.text(st.sampled_from(list("abdeghijklmnorstuwyz '-")), max_size=14),
)
#: Rewrites that bring two names near each other (the readings, the article, the prefixes).
_NEAR = [
    ("gh", "rh"),
    ("w", "ou"),
    ("ou", "w"),
    ("j", "g"),
    ("g", "gu"),
    ("kh", "h"),
    ("h", "kh"),
    ("a", "e"),
    ("i", "y"),
    ("ou", "i"),
    ("", "l"),
    ("", "el "),
    ("", "la"),
    ("", "ben "),
    ("", "ben"),
    ("", "fatima "),
    ("", "mohamed "),
    ("l", ""),
    (" ", ""),
]


@st.composite
def _pair(draw: st.DrawFn) -> tuple[str | None, str | None]:
    a = draw(st.one_of(_NAME, _NAME, _NAME, st.none()))
    if a is not None and draw(st.booleans()):
        old, new = draw(st.sampled_from(_NEAR))
        b: str | None = new + a if old == "" else a.replace(old, new, draw(st.integers(1, 2)))
    else:
        b = draw(st.one_of(_NAME, st.none()))
    return (b, a) if draw(st.booleans()) else (a, b)


_PAIRS = st.lists(_pair(), min_size=1, max_size=12)


def _forms(names: list[str | None], as_written: bool) -> pl.Series:
    values = pl.Series(names, dtype=pl.Utf8)
    return values.str.to_lowercase() if as_written else matching_forms(values)


@pytest.fixture
def few_pairs() -> Iterator[None]:
    """Leaves ``matcher.FEW_PAIRS``, ``FEW_VARIANT_CHECKS`` and ``FEW_FORMS`` as they were."""
    kept = matcher.FEW_PAIRS, matcher.FEW_VARIANT_CHECKS, matcher.FEW_FORMS
    yield
    matcher.FEW_PAIRS, matcher.FEW_VARIANT_CHECKS, matcher.FEW_FORMS = kept


def _outputs(
    a: pl.Series, b: pl.Series, few: int, few_checks: int = -1, few_forms: int = -1
) -> list[list[object]]:
    matcher.FEW_PAIRS = few
    matcher.FEW_VARIANT_CHECKS = few_checks
    matcher.FEW_FORMS = few_forms
    return [
        pairwise_same_name(a, b).to_list(),
        pairwise_same_name(a, b, glued_article=True).to_list(),
        pairwise_name_similarity(a, b).to_list(),
        pairwise_name_similarity(a, b, glued_article=True).to_list(),
        pairwise_name_similarity(a, b, score_cutoff=0.8).to_list(),
        pairwise_name_similarity(a, b, glued_article=True, score_cutoff=0.88).to_list(),
        pairwise_name_similarity(a, b, score_cutoff=0.5).to_list(),
        pairwise_name_variant(a, b).to_list(),
    ]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs=_PAIRS, as_written=st.booleans())
@pytest.mark.usefixtures("few_pairs")
def test_python_pairs_equal_polars_pairs(
    pairs: list[tuple[str | None, str | None]], as_written: bool
) -> None:
    a = _forms([x for x, _ in pairs], as_written)
    b = _forms([y for _, y in pairs], as_written)
    in_python = _outputs(a, b, len(pairs))
    in_polars = _outputs(a, b, -1)
    parts_in_python = _outputs(a, b, -1, len(pairs), 2 * len(pairs))
    assert in_python == in_polars
    assert parts_in_python == in_polars


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(_NAME, min_size=1, max_size=8), as_written=st.booleans())
def test_form_row_equals_polars_columns(names: list[str], as_written: bool) -> None:
    forms = [f for f in _forms(list(names), as_written).to_list() if f is not None]
    _assert_rows_equal_polars(forms)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(_NAME, min_size=1, max_size=8), as_written=st.booleans())
def test_new_forms_with_kept_reading_steps_equal_polars_columns(
    names: list[str], as_written: bool
) -> None:
    """Forms never seen before (the per-form rows emptied) are read with the readings' rewrite
    steps made once per rule and kept (their patterns compiled once): the rows equal the
    batch matcher's columns, and every reading's step is the one kept."""
    forms = [f for f in _forms(list(names), as_written).to_list() if f is not None]
    kept = {name: one._reading(pattern, sub) for name, pattern, sub in LATIN_READINGS}
    one._form_row.cache_clear()
    _assert_rows_equal_polars(forms)
    for name, pattern, sub in LATIN_READINGS:
        assert one._reading(pattern, sub) is kept[name]


def _assert_rows_equal_polars(forms: list[str]) -> None:
    """Each form's :func:`one.form_row` equals the matcher's polars columns of it."""
    columns = matcher._form_columns_in_polars(
        pl.DataFrame({"form": forms}, schema={"form": pl.Utf8})
    )
    for form, row in zip(forms, columns.iter_rows(named=True), strict=True):
        got = one.form_row(form)
        assert got.key == row["key"]
        assert got.ending == row["ending"]
        assert list(got.vowels) == list(row["vowels"])
        for name, _, _ in LATIN_READINGS:
            read = got.readings[name]
            assert (read[0] if read else None) == row[name]
            assert (read[1] if read else None) == row[f"{name}_key"]
        assert got.starts_l == row["starts_l"]
        assert got.unglued_key == row["unglued_key"]
        assert got.prefix_key == row["prefix_key"]
        assert got.tokens == row["tokens"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(st.one_of(_NAME, st.none()), min_size=1, max_size=8), as_written=st.booleans()
)
def test_few_form_columns_equal_polars_columns(names: list[str | None], as_written: bool) -> None:
    """The form table's columns of a few new forms, read in Python, are the polars columns
    (types and nulls too: a null form's row)."""
    forms = pl.DataFrame({"form": _forms(names, as_written)})
    assert len(names) <= matcher.FEW_FORMS
    assert_frame_equal(matcher._form_columns(forms), matcher._form_columns_in_polars(forms))


@pytest.mark.usefixtures("few_pairs")
def test_known_pairs_in_python() -> None:
    a = pl.Series(["fatima zahra", "slimane", "said", None, "lamrani"])
    b = pl.Series(["zahra", "benslimane", "saida", "ali", "amrani"])
    matcher.FEW_PAIRS = 128
    assert pairwise_same_name(a, b, glued_article=True).to_list() == [
        False,
        False,
        False,
        None,
        True,
    ]
    assert pairwise_name_variant(a, b).to_list() == [True, True, False, None, False]
    assert pairwise_name_similarity(a, b).to_list()[2] == pytest.approx(0.95, abs=0.05)


def test_empty_calls() -> None:
    empty = pl.Series([], dtype=pl.Utf8)
    assert pairwise_same_name(empty, empty).to_list() == []
    assert pairwise_name_variant(empty, empty).to_list() == []
    assert pairwise_name_similarity(empty, empty).dtype == pl.Float64
