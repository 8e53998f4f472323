"""The rewrite chains (registry_link.names.rewrite): each rule table evaluated by polars and in
pure Python gives the same values, on odd input of both scripts, particles and diacritics."""

from __future__ import annotations

import re
import warnings

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry_link.names import arabic, keys, latin, translit
from registry_link.names.rewrite import (
    Chain,
    Many,
    NewerUnicode,
    Normalize,
    Sub,
    chain_expr,
    chain_text,
    python_pattern,
    python_replacement,
)
from registry_link.standardise import places, text
from registry_link.standardise.names import latin_form, latin_form_expr
from tests.standardise.test_std_properties import _TEXT

#: Every chain the rules are made of: name → (chain, the chain that makes its input in the
#: pipeline). A chain that runs after another is held equal on that one's output: the
#: patterns with ``\\b`` read a mark beside a letter differently in the two engines (a
#: word character in Rust, not in Python), and ``latin.CLEAN`` and ``arabic.NORMALISE``
#: remove every mark before them (see ``test_marks_never_reach_the_word_boundary_rules``).
CHAINS: dict[str, tuple[Chain, Chain]] = {
    "latin.CLEAN": (latin.CLEAN, ()),
    "latin.NAME_RULES": (latin.NAME_RULES, latin.CLEAN),
    "latin.CLEAN+NAME_RULES": (latin.CLEAN + latin.NAME_RULES, ()),
    "arabic.NORMALISE": (arabic.NORMALISE, ()),
    "translit.NAME_RULES": (translit.NAME_RULES, arabic.NORMALISE),
    "translit.NORMALISE+TO_LATIN": (arabic.NORMALISE + translit.TO_LATIN, ()),
    "keys.KEY of Latin forms": (keys.KEY, latin.CLEAN + latin.NAME_RULES),
    "keys.KEY of transliterations": (keys.KEY, arabic.NORMALISE + translit.TO_LATIN),
    "keys.REWRITTEN": (keys.REWRITTEN, latin.CLEAN + latin.NAME_RULES),
    "text.CODE_KEY": (text.CODE_KEY, ()),
    "places._ALIAS_KEY": (places._ALIAS_KEY, ()),
}

#: Name-like text: the rules' own words (particles, articles, honorifics, Abd compounds,
#: short forms) of both scripts, diacritics, doubled letters, joined by spaces or hyphens.
_WORDS = st.sampled_from(
    [
        *latin.PARTICLES, *latin.ARTICLES, *latin.HONORIFICS, *latin.SHORT_FORMS,
        "abd", "abdel", "abdou", "abderrahim", "abdeslam", "abdul", "med", "mohd", "fz", "larbi",
        "Aït", "Chérif", "Ettazi", "Elalaoui", "Lkbir", "echchaoui", "Mohammed", "Youssef",
        "Ouafae", "Rhimou", "Tchich", "ﻣﺤﻤﺪ", "ﷲ", "عبد", "القادر", "العلوي", "بن", "آيت",
        "مولاي", "الحاج", "فاطنة", "إلياس", "ممدوح", "التطواني", "طه", "عبدالله", "يوسف",
        "وفاء", "ـ", "ً", "ّ", "Ł", "œ", "ß", "İ", "ǅ", "x", "",
    ]
)  # fmt: skip
_NAMEISH = st.lists(_WORDS, max_size=6).flatmap(
    lambda words: st.sampled_from([" ", "-", "  ", "' "]).map(lambda sep: sep.join(words))
)
_VALUES = st.lists(st.one_of(_TEXT, _NAMEISH), min_size=1, max_size=12)
_SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _by_polars(chain: Chain, values: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"x": values}, schema={"x": pl.Utf8})
    return frame.select(chain_expr(chain, pl.col("x"))).to_series().to_list()


def _differences(chain: Chain, values: list[str | None]) -> list[tuple[str | None, ...]]:
    """The values on which polars and Python disagree (value, polars', Python's)."""
    python = [chain_text(chain, v) for v in values]
    return [
        (v, a, b)
        for v, a, b in zip(values, _by_polars(chain, values), python, strict=True)
        if a != b
    ]


@pytest.mark.parametrize("name", list(CHAINS))
@_SETTINGS
@given(values=_VALUES)
def test_a_chain_gives_in_python_what_polars_gives(name: str, values: list[str | None]) -> None:
    chain, before = CHAINS[name]
    assert _differences(chain, _by_polars(before, values)) == []


@_SETTINGS
@given(values=_VALUES)
def test_marks_never_reach_the_word_boundary_rules(values: list[str | None]) -> None:
    marks = re.compile(python_pattern(r"\p{M}"))
    for before in (latin.CLEAN, arabic.NORMALISE):
        assert not any(v and marks.search(v) for v in _by_polars(before, values))
    # (the one reading they would differ on: a mark beside a word boundary)
    assert _differences(latin.NAME_RULES, ["x\u0301abd el kader"]) != []


@_SETTINGS
@given(values=_VALUES)
def test_scalar_forms_are_their_expressions(values: list[str | None]) -> None:
    frame = pl.DataFrame({"x": values}, schema={"x": pl.Utf8})
    x = pl.col("x")
    lat = latin.normalise_latin_expr(x)
    got = frame.select(
        latin=lat,
        arabic=arabic.normalise_arabic_expr(x),
        translit=translit.arabic_to_latin_expr(x),
        key=keys.name_key_expr(lat),
        tokens=keys.token_keys_expr(lat),
    )
    for v, row in zip(values, got.iter_rows(named=True), strict=True):
        form = latin.normalise_latin(v)
        assert form == row["latin"]
        assert arabic.normalise_arabic(v) == row["arabic"]
        assert translit.arabic_to_latin(v) == row["translit"]
        assert keys.key_of_form(form) == row["key"]
        assert keys.token_keys_of_form(form) == row["tokens"]


@pytest.mark.parametrize(
    ("value", "form", "key"),
    [
        ("Abd El Kader EL ALAOUI", "abdelkader alaoui", "bdlkdrl"),
        ("عبد القادر العلوي", "abdelkadr elouy", "bdlkdrl"),
        ("Moulay Med Ben Jelloun", "mohamed benjelloun", "mhmdbnjln"),
        ("Fatna Aït Taleb", "fatma aittaleb", "ftmtlb"),
        ("فاطنة آيت طالب", "fatma eyttalb", "ftmtlb"),
    ],
)
def test_names_of_both_scripts_read_alike_in_python(value: str, form: str, key: str) -> None:
    frame = pl.DataFrame({"x": [value]}).select(lat=latin_form_expr(pl.col("x")))
    frame = frame.with_columns(key=keys.name_key_expr(pl.col("lat")))
    assert (latin_form(value), keys.key_of_form(latin_form(value))) == (form, key)
    assert frame.row(0) == (form, key)


def test_a_broken_table_entry_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rewrite whose pattern reads differently in the two engines (a POSIX class: Rust's
    ``[[:digit:]]`` is the digits, Python's a set of punctuation and letters) added to a rule
    table makes the two evaluations disagree, which the property above reports."""
    monkeypatch.setattr(keys, "_REWRITES", (*keys._REWRITES, (r"[[:digit:]]", "")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # (Python warns of a nested set)
        broken = tuple(Sub(p, r) for p, r in keys._REWRITES)
        assert _differences(broken, ["mohamed 2", "digit"]) != []
        assert _differences(keys.REWRITTEN, ["mohamed 2", "digit"]) == []


def test_python_patterns_take_polars_classes() -> None:
    letters = re.compile(python_pattern(r"^\p{L}+$"))
    assert letters.match("محمدé") and not letters.match("a1")
    assert (
        re.compile(python_pattern(r"h$")).sub("", "mohammedh\n") == "mohammedh\n"
    )  # (Rust: $ = end)
    assert re.compile(python_pattern(r"[\x{0640}]")).sub("", "مـحمد") == "محمد"
    assert re.compile(python_pattern(r"\s+")).sub("", "a\u00a0b\x1cc") == "ab\x1cc"  # Rust's \s
    assert python_replacement("abdel${1}") == r"abdel\g<1>"
    with pytest.raises(ValueError, match=r"\$\{1\}"):
        python_replacement("$1x")  # (Rust reads a group named "1x": refused)
    with pytest.raises(ValueError, match="negated"):
        python_pattern(r"[\S.]")


def test_replace_many_keys_have_one_length() -> None:
    with pytest.raises(ValueError, match="several lengths"):
        Many.of({"a": "b", "ab": "c"})


def test_a_character_newer_than_pythons_unicode_is_read_by_polars() -> None:
    """A character Python's Unicode database does not know (here one never assigned) sends
    the value to polars: the same result, whatever the two databases' versions."""
    unknown = "\u0378"  # (a Greek code point unassigned in every Unicode version so far)
    for chain in (latin.CLEAN + latin.NAME_RULES, arabic.NORMALISE, text.CODE_KEY):
        values = [f"محمد{unknown}", f"Bénani {unknown}x"]
        assert _differences(chain, values) == []
    with pytest.raises(NewerUnicode):
        Normalize("NFKC").text(f"a{unknown}")
