"""A split name looked up in an unsplit full name (issue 16, OF-026): by name, not by key only,
as one token or two adjacent ones, or as a variant of one."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.names import matching_form, pairwise_name_variant, pairwise_same_name
from registry_link.names.matcher import remembered_forms
from registry_link.names.unsplit import (
    IN_UNSPLIT_NONE,
    IN_UNSPLIT_SAME,
    IN_UNSPLIT_VARIANT,
    pairwise_name_in_unsplit,
    unsplit_parts,
)

CASES = [
    # (split name, unsplit full name, how it is found)
    # one token, either script, either order
    ("Azizi", "فاطمة الزهراء العزيزي", IN_UNSPLIT_SAME),
    ("Alaoui", "Mohamed El Alaoui", IN_UNSPLIT_SAME),
    ("محمد", "ALAOUI Mohammed", IN_UNSPLIT_SAME),
    # two adjacent tokens: a compound given name
    ("Fatima Zahra", "فاطمة الزهراء العزيزي", IN_UNSPLIT_SAME),
    ("Fatima Zahra", "ALAOUI Fatima Zahra", IN_UNSPLIT_SAME),
    # a shared key is not the same name: Azzouzi / العزيزي (ou against i)
    ("Azzouzi", "فاطمة الزهراء العزيزي", IN_UNSPLIT_NONE),
    ("Ali", "Youssef Alaoui", IN_UNSPLIT_NONE),
    # a variant of a token: a dropped prefix, a partial compound
    ("Ben Moussa", "MOUSSA Abdellah", IN_UNSPLIT_VARIANT),
    ("Ali", "Fatima Zahra Ben Ali", IN_UNSPLIT_VARIANT),
    ("Fatim Zahra", "AZHARI Zahra", IN_UNSPLIT_VARIANT),
    ("Mohamed Amine", "IDRISSI Amine", IN_UNSPLIT_VARIANT),
    # the common first part of a compound alone is not a variant
    ("Fatima Zahra", "BENNANI Fatima", IN_UNSPLIT_NONE),
    ("Karim", "Fatima Zahra Ben Ali", IN_UNSPLIT_NONE),
]


def _found(name: str | None, full: str | None) -> int | None:
    names = pl.Series([matching_form(name)], dtype=pl.Utf8)
    fulls = pl.Series([matching_form(full)], dtype=pl.Utf8)
    return pairwise_name_in_unsplit(names, fulls).item()


@pytest.mark.parametrize(("name", "full", "expected"), CASES)
def test_name_in_unsplit(name: str, full: str, expected: int) -> None:
    assert _found(name, full) == expected


def test_many_rows_at_once_agree_with_one_by_one() -> None:
    names = pl.Series([matching_form(n) for n, _, _ in CASES] * 2, dtype=pl.Utf8)
    fulls = pl.Series([matching_form(f) for _, f, _ in CASES] * 2, dtype=pl.Utf8)
    got = pairwise_name_in_unsplit(names, fulls)
    assert got.dtype == pl.Int8
    assert got.to_list() == [e for _, _, e in CASES] * 2


def test_nulls_empty_and_lengths() -> None:
    assert _found(None, "Mohamed Alaoui") is None
    assert _found("Mohamed", None) is None
    empty = pl.Series([], dtype=pl.Utf8)
    assert pairwise_name_in_unsplit(empty, empty).len() == 0
    with pytest.raises(ValueError, match="lengths differ"):
        pairwise_name_in_unsplit(pl.Series(["a"]), pl.Series(["a", "b"]))


def test_unsplit_parts_are_tokens_and_adjacent_pairs() -> None:
    parts = unsplit_parts(pl.Series(["fatma zhra ezizi", None, "ali"]))
    assert parts.filter(pl.col("i") == 0)["part"].to_list() == [
        "fatma",
        "zhra",
        "ezizi",
        "fatma zhra",
        "zhra ezizi",
    ]
    assert parts.filter(pl.col("i") == 2)["part"].to_list() == ["ali"]
    assert 1 not in parts["i"].to_list()


# --- the per-value work and its prefilter give the unfiltered answer -------------------------

#: Matching forms around the rules: readings (Ou, rh, g, h, L-article), prefixes, compounds,
#: glued articles, vowel-only names, look-alike keys.
_POOL = [
    "mohamed",
    "mhamed",
    "fatima",
    "fatma",
    "zahra",
    "fatim zahra",
    "fatima zahra",
    "alaoui",
    "ali",
    "alia",
    "aya",
    "lamrani",
    "amrani",
    "benslimane",
    "slimane",
    "ben slimane",
    "moussa",
    "benmoussa",
    "abdellah",
    "oudghiri",
    "wdghiri",
    "rharbi",
    "gharbi",
    "berrhazi",
    "lahcen",
    "hassan",
    "said",
    "saida",
    "saad",
    "azzouzi",
    "ezizi",
    "ahmed",
    "ahmed benmohamed",
    "guilali",
    "jilali",
    "hadija",
    "khadija",
    "yahia",
    "bnihiei",
    "yhiei",
    "oukili",
    "idrissi",
    "mohamed amine",
    "amine",
]
_LETTERS = st.sampled_from(list("abdeghiklmnorstuyzw"))
_TOKEN = st.one_of(
    st.text(_LETTERS, min_size=1, max_size=8),
    st.sampled_from([t for name in _POOL for t in name.split(" ")]),
)


@st.composite
def _near(draw: st.DrawFn, base: str) -> str:
    """``base`` changed the ways names are written otherwise (or not at all)."""
    how = draw(st.integers(0, 7))
    if how == 1:
        return draw(st.sampled_from(["ben", "bel", "ould", "bn", "l", "la"])) + base
    if how == 2:
        return base.replace("ou", "i", 1) if "ou" in base else base.replace("i", "ou", 1)
    if how == 3 and len(base) > 1:
        at = draw(st.integers(0, len(base) - 1))
        return base[:at] + base[at + 1 :] if base[:at] + base[at + 1 :] else base
    if how == 4:
        at = draw(st.integers(0, len(base) - 1))
        return base[: at + 1] + base[at:]  # a doubled letter
    if how == 5:
        old, new = draw(st.sampled_from([("h", "kh"), ("g", "j"), ("gh", "rh"), ("kh", "h")]))
        return base.replace(old, new, 1)
    if how == 6:
        return base.replace(" ", "", 1)
    return base


@st.composite
def _pair(draw: st.DrawFn) -> tuple[str | None, str | None]:
    """A split name and a full name, often around the same names (near misses)."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([None, "ali"])), draw(st.sampled_from([None, "ali alaoui"]))
    if draw(st.booleans()):
        base = " ".join(draw(st.lists(_TOKEN, min_size=1, max_size=3)))
    else:
        base = draw(st.sampled_from(_POOL))
    name = draw(_near(base))
    tokens = draw(st.lists(st.one_of(_TOKEN, st.sampled_from(_POOL)), min_size=0, max_size=3))
    if draw(st.booleans()):  # the name, or another spelling of it, among the tokens
        at = draw(st.integers(0, len(tokens)))
        tokens.insert(at, draw(_near(base)))
    full = " ".join(t for t in tokens if t.strip()) or name
    return name, full


def _unfiltered(names: pl.Series, fulls: pl.Series, glued_article: bool) -> list[int | None]:
    """The definition, with no shortcut: every part of every full name checked, the best
    code kept (2 × the same name + a variant; none without a part; null if either null)."""
    rows = pl.DataFrame({"name": names, "full": fulls}).with_row_index("row")
    parts = unsplit_parts(rows["full"]).rename({"i": "row"})
    parts = parts.with_columns(pl.col("row").cast(pl.UInt32)).join(
        rows.select("row", "name"), on="row"
    )
    same = pairwise_same_name(parts["name"], parts["part"], glued_article=glued_article)
    variant = pairwise_name_variant(parts["name"], parts["part"])
    code = same.fill_null(False).cast(pl.Int8) * 2 + variant.fill_null(False).cast(pl.Int8)
    best = parts.with_columns(code=code).group_by("row").agg(pl.col("code").max())
    out = rows.join(best, on="row", how="left", maintain_order="left")
    valid = out["name"].is_not_null() & out["full"].is_not_null()
    return [c if ok else None for c, ok in zip(out["code"].fill_null(0), valid, strict=True)]


_MEMO: dict[str, pl.DataFrame] = {}  # one memo over the examples, as over a link's calls


@settings(max_examples=120, deadline=None)
@given(st.lists(_pair(), min_size=1, max_size=12), st.booleans(), st.booleans())
def test_per_value_work_gives_the_unfiltered_answer(
    pairs: list[tuple[str | None, str | None]], glued_article: bool, memo: bool
) -> None:
    names = pl.Series([n for n, _ in pairs], dtype=pl.Utf8)
    fulls = pl.Series([f for _, f in pairs], dtype=pl.Utf8)
    with remembered_forms(_MEMO if memo else None):
        got = pairwise_name_in_unsplit(names, fulls, glued_article=glued_article)
    assert got.to_list() == _unfiltered(names, fulls, glued_article)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([*_POOL, "فاطمة الزهراء العزيزي", "محمد العلوي"]), min_size=1))
def test_full_names_as_written_are_read_once_per_value(fulls: list[str]) -> None:
    names = pl.Series(["fatima zahra", "alaoui", "mohamed"] * len(fulls))
    written = pl.Series([f for f in fulls for _ in range(3)])
    forms = pl.Series([matching_form(f) for f in written])
    as_written = pairwise_name_in_unsplit(names, written, unsplit_as_written=True)
    assert as_written.to_list() == pairwise_name_in_unsplit(names, forms).to_list()


def test_a_memo_over_calls_looks_up_only_what_is_new() -> None:
    """A link's calls share a memo: a later call with new names and new full names (and ones
    seen before) gets the answers a call without the memo gets."""
    calls = [
        (["alaoui", "fatima zahra", "ali"], ["mohamed el alaoui", "fatma zhra ezizi", "ali"]),
        (["azzouzi", "alaoui", "ben moussa"], ["fatma zhra ezizi", "moussa abdellah", "ali"]),
        (["fatim zahra", "karim"], ["azhari zahra", "mohamed el alaoui"]),
    ]
    memo: dict[str, pl.DataFrame] = {}
    for names, fulls in calls:
        a, b = pl.Series(names), pl.Series(fulls)
        with remembered_forms(memo):
            shared = pairwise_name_in_unsplit(a, b, glued_article=True).to_list()
        assert shared == pairwise_name_in_unsplit(a, b, glued_article=True).to_list()
        assert shared == _unfiltered(a, b, glued_article=True)
    assert {"in_unsplit_found_glued=True", "unsplit:match_keys"} <= set(memo)
