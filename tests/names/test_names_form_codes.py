"""The name matcher on integer form codes gives the answers of a plain definition.

:mod:`registry_link.names.matcher` codes each form once (:class:`~registry_link.names.
form_codes.FormTable`, kept with the memo of :func:`~registry_link.names.matcher.
remembered_forms`) and decides the pairs by gathers over the codes. The reference here decides
each pair on its own, from its forms' keys, endings, vowel gaps and readings worked out for
that pair alone (no code, no memo, no prefilter of the retries or of the variant candidates).
The public functions must agree with it, with or without a memo, with a memo warmed by other
names, and over several calls that make the memo grow between them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.names import matcher
from registry_link.names.form_codes import NULL_CODE, FormTable
from registry_link.names.keys import (
    CAN_I,
    CAN_U,
    MUST_I,
    MUST_U,
    NONEMPTY,
    name_key_expr,
    vowel_codes_expr,
)
from registry_link.names.matcher import (
    LATIN_READINGS,
    ending_class_expr,
    forms_apart,
    matching_forms,
    pairwise_jaro_winkler,
    pairwise_name_similarity,
    pairwise_name_variant,
    pairwise_same_name,
    remembered_forms,
    without_prefix_expr,
)

# ------------------------------------------------------------------ the plain reference


def _one(expr: pl.Expr, form: str) -> object:
    return pl.DataFrame({"form": [form]}, schema={"form": pl.Utf8}).select(expr).item()


def _at_least(
    keys: tuple[pl.Series, pl.Series],
    forms: tuple[pl.Series, pl.Series],
    todo: np.ndarray,
    cutoff: float,
) -> np.ndarray:
    """The similarity below 1.0 where it can reach ``cutoff`` (as ``score_cutoff`` promises)."""
    low = 2.0 * cutoff - 1.0 - matcher._CUTOFF_MARGIN
    rows = pl.Series(np.flatnonzero(todo))
    sk = np.zeros(len(todo), dtype=np.float32)
    sk[todo] = pairwise_jaro_winkler(*(k.gather(rows) for k in keys), score_cutoff=low)
    reach = sk >= low
    rows = pl.Series(np.flatnonzero(reach))
    sf = np.zeros(len(todo), dtype=np.float32)
    sf[reach] = pairwise_jaro_winkler(*(f.gather(rows) for f in forms), score_cutoff=low)
    return np.where(reach, np.minimum((sk + sf) / 2.0, matcher.MAX_DIFFERENT), 0.0)


class _Reference:
    """Each pair decided alone, from its forms' features computed for it."""

    def __init__(self) -> None:
        self._features: dict[str, tuple[str, str | None, list[int]]] = {}

    def features(self, form: str) -> tuple[str, str | None, list[int]]:
        if form not in self._features:
            f = pl.col("form")
            row = (
                pl.DataFrame({"form": [form]}, schema={"form": pl.Utf8})
                .select(
                    key=name_key_expr(f), ending=ending_class_expr(f), codes=vowel_codes_expr(f)
                )
                .row(0)
            )
            self._features[form] = (row[0], row[1], list(row[2]))
        return self._features[form]

    @staticmethod
    def _vowels_conflict(va: list[int], vb: list[int]) -> bool:
        def has(code: int, bit: int) -> bool:
            return bool(code & bit)

        def lacks(x: int, must: int, y: int, can: int) -> bool:
            return has(x, must) and has(y, NONEMPTY) and not has(y, can)

        if len(va) != len(vb):
            return False
        u = sum(
            lacks(x, MUST_U, y, CAN_U) + lacks(y, MUST_U, x, CAN_U)
            for x, y in zip(va, vb, strict=True)
        )
        i = sum(
            lacks(x, MUST_I, y, CAN_I) + lacks(y, MUST_I, x, CAN_I)
            for x, y in zip(va[:-1], vb[:-1], strict=True)
        )
        return u + i > 0

    def strict(self, a: str, b: str) -> bool:
        ka, ea, va = self.features(a)
        kb, eb, vb = self.features(b)
        if ka != kb or {ea, eb} == {"A", "C"}:
            return False
        return not self._vowels_conflict(va, vb)

    @staticmethod
    def readings(form: str) -> list[str]:
        frame = pl.DataFrame({"form": [form]}, schema={"form": pl.Utf8})
        out = frame.select(
            pl.col("form").str.replace_all(pattern, replacement).alias(name)
            for name, pattern, replacement in LATIN_READINGS
        ).row(0)
        return [r for r in out if r != form]

    def same(self, a: str | None, b: str | None, glued: bool) -> bool | None:
        if a is None or b is None:
            return None
        if self.strict(a, b):
            return True
        if any(self.strict(r, b) for r in self.readings(a)):
            return True
        if any(self.strict(a, r) for r in self.readings(b)):
            return True
        if glued:
            la, lb = bool(re.match("l[aeiou]", a)), bool(re.match("l[aeiou]", b))
            if la != lb:
                return self.strict(a[1:] if la else a, b[1:] if lb else b)
        return False

    def similarity(
        self, a: Sequence[str | None], b: Sequence[str | None], glued: bool, cutoff: float | None
    ) -> list[float | None]:
        valid = np.array(
            [x is not None and y is not None for x, y in zip(a, b, strict=True)], dtype=bool
        )
        same = np.array(
            [bool(self.same(x, y, glued)) for x, y in zip(a, b, strict=True)], dtype=bool
        )
        ka = [self.features(x)[0] if x is not None else "" for x in a]
        kb = [self.features(y)[0] if y is not None else "" for y in b]
        key_equal = valid & (np.array(ka, dtype=object) == np.array(kb, dtype=object))
        keys = (pl.Series(ka, dtype=pl.Utf8), pl.Series(kb, dtype=pl.Utf8))
        forms = (
            pl.Series([x or "" for x in a], dtype=pl.Utf8),
            pl.Series([y or "" for y in b], dtype=pl.Utf8),
        )
        if cutoff is None:
            sk, sf = pairwise_jaro_winkler(*keys), pairwise_jaro_winkler(*forms)
            sim = np.minimum((sk + sf) / 2.0, matcher.MAX_DIFFERENT)
        else:
            sim = _at_least(keys, forms, ~same, cutoff)
        sim = np.where(key_equal, np.maximum(sim, matcher.KEY_EQUAL_FLOOR), sim)
        sim = np.where(same, 1.0, sim).astype(np.float64)
        if cutoff is not None:
            sim = np.where(sim >= cutoff, sim, 0.0)
        return [float(s) if v else None for s, v in zip(sim, valid, strict=True)]

    def variant(self, a: str | None, b: str | None) -> bool | None:
        if a is None or b is None:
            return None
        if self.same(a, b, False):
            return False
        for x, y in ((a, b), (b, a)):
            stripped = str(_one(without_prefix_expr(pl.col("form")), x))
            if stripped != x and self.same(stripped, y, False):
                return True
        return self._partial_compound(a, b)

    def _partial_compound(self, a: str, b: str) -> bool:
        ta, tb = a.split(" "), b.split(" ")
        if len(ta) == len(tb) or any(len(t) < 2 for t in ta + tb):
            return False
        short, long = (ta, tb) if len(ta) < len(tb) else (tb, ta)
        covered = all(any(self.same(s, t, False) for t in long) for s in short)
        matched = [any(self.same(s, t, False) for s in short) for t in long]
        nasab = [bool(re.search(matcher.NASAB_TOKEN, t)) for t in long]
        telling = any(m and j > 0 for j, m in enumerate(matched)) or all(
            m or n for m, n in zip(matched, nasab, strict=True)
        )
        return covered and telling


# ------------------------------------------------------------------ names near each other

# Pieces of names biased to what the readings and the article rules look at.
_LATIN_PIECES = st.sampled_from(
    [
        "ou",
        "w",
        "gh",
        "rh",
        "g",
        "gu",
        "j",
        "kh",
        "h",
        "ch",
        "sh",
        "l",
        "la",
        "le",
        "li",
        "el",
        "al",
        "ben",
        "bel",
        "ould",
        "a",
        "aa",
        "e",
        "i",
        "y",
        "ie",
        "ah",
        "m",
        "r",
        "s",
        "d",
        "t",
        "n",
        "b",
        "k",
        "q",
        "z",
        "f",
        "hm",
        "dr",
        "ss",
        "tt",
    ]
)
_ARABIC_PIECES = st.sampled_from([*"غجخحويةمرسعىان", "ال", "بن"])
_LATIN_NAME = st.lists(_LATIN_PIECES, min_size=1, max_size=6).map("".join)
_ARABIC_NAME = st.lists(_ARABIC_PIECES, min_size=1, max_size=6).map("".join)
_KNOWN = [
    "Oudghiri",
    "الودغيري",
    "Rharbi",
    "الغربي",
    "Guilali",
    "الجيلالي",
    "Hadija",
    "خديجة",
    "Lahcen",
    "Hassan",
    "Lamrani",
    "Amrani",
    "El Amrani",
    "العمراني",
    "Leila",
    "Ila",
    "Said",
    "Saida",
    "Ben Slimane",
    "Slimane",
    "Fatima Zahra",
    "Zahra",
    "Ahmed Ben Mohamed",
    "Ahmed",
]
_ANY_NAME = st.one_of(
    _LATIN_NAME,
    _ARABIC_NAME,
    st.sampled_from(_KNOWN),
    st.lists(_LATIN_NAME, min_size=2, max_size=3).map(" ".join),
    st.text(st.sampled_from(list("abdeghijklmnorstuwyz '")), max_size=12),
)
#: Rewrites that turn a name into a near miss the readings or the article may equate.
_NEAR = [
    ("gh", "rh"),
    ("w", "ou"),
    ("ou", "w"),
    ("j", "g"),
    ("j", "gu"),
    ("g", "j"),
    ("kh", "h"),
    ("h", "kh"),
    ("a", "e"),
    ("i", "y"),
    ("", "l"),
    ("", "el "),
    ("", "la"),
    ("", "ben "),
    ("", "fatima "),
    ("l", ""),
]


@st.composite
def _pair(draw: st.DrawFn) -> tuple[str | None, str | None]:
    a = draw(st.one_of(_ANY_NAME, _ANY_NAME, st.none()))
    if a is not None and draw(st.booleans()):
        old, new = draw(st.sampled_from(_NEAR))
        b: str | None = new + a if old == "" else a.replace(old, new, draw(st.integers(1, 2)))
    else:
        b = draw(st.one_of(_ANY_NAME, st.none()))
    return (b, a) if draw(st.booleans()) else (a, b)


def _forms(names: Sequence[str | None], as_written: bool) -> pl.Series:
    """Matching forms of the names (or the names as they are: any string is a form)."""
    values = pl.Series(list(names), dtype=pl.Utf8)
    return matching_forms(values) if not as_written else values.str.to_lowercase()


def _outputs(a: pl.Series, b: pl.Series, glued: bool) -> list[list[object]]:
    return [
        pairwise_same_name(a, b, glued_article=glued).to_list(),
        pairwise_name_similarity(a, b, glued_article=glued).to_list(),
        pairwise_name_similarity(a, b, glued_article=glued, score_cutoff=0.8).to_list(),
        pairwise_name_variant(a, b).to_list(),
    ]


def _expected(a: pl.Series, b: pl.Series, glued: bool) -> list[list[object]]:
    ref = _Reference()
    xs, ys = a.to_list(), b.to_list()
    return [
        [ref.same(x, y, glued) for x, y in zip(xs, ys, strict=True)],
        ref.similarity(xs, ys, glued, None),
        ref.similarity(xs, ys, glued, 0.8),
        [ref.variant(x, y) for x, y in zip(xs, ys, strict=True)],
    ]


_PAIRS = st.lists(_pair(), min_size=1, max_size=12)


@pytest.fixture(autouse=True)
def _on_form_codes() -> Iterator[None]:
    """Every call through the form codes, however few its pairs (a call of at most
    ``matcher.FEW_PAIRS`` pairs is otherwise decided in Python: ``test_names_one.py``)."""
    kept = matcher.FEW_PAIRS
    matcher.FEW_PAIRS = -1
    yield
    matcher.FEW_PAIRS = kept


@settings(max_examples=60, deadline=None)
@given(_PAIRS, st.booleans(), st.sampled_from(["none", "fresh", "warm"]), st.booleans())
def test_the_coded_matcher_gives_the_plain_answers(
    pairs: list[tuple[str | None, str | None]], glued: bool, memo: str, as_written: bool
) -> None:
    a = _forms([x for x, _ in pairs], as_written)
    b = _forms([y for _, y in pairs], as_written)
    shared: dict[str, object] | None = None if memo == "none" else {}
    if shared is not None and memo == "warm":  # codes given to other forms first
        warm = _forms(_KNOWN, False)
        with remembered_forms(shared):
            _outputs(warm, warm.reverse(), True)
            _outputs(b, a, not glued)
    with remembered_forms(shared):
        got = _outputs(a, b, glued)
    assert got == _expected(a, b, glued)


@settings(max_examples=40, deadline=None)
@given(st.lists(_PAIRS, min_size=2, max_size=4), st.booleans())
def test_codes_stay_valid_while_the_memo_grows_over_calls(
    calls: list[list[tuple[str | None, str | None]]], glued: bool
) -> None:
    shared: dict[str, object] = {}
    for i, pairs in enumerate(calls):
        a = _forms([x for x, _ in pairs], False)
        b = _forms([y for _, y in pairs], False)
        with remembered_forms(shared):
            if i % 2:  # (a table of its own beside the main one)
                with forms_apart("apart:"):
                    got = _outputs(a, b, glued)
            else:
                got = _outputs(a, b, glued)
        assert got == _expected(a, b, glued)


def test_two_threads_on_one_memo_give_the_answers_of_one() -> None:
    names = _forms([*_KNOWN, *(f"{n} {m}" for n in _KNOWN[:8] for m in _KNOWN[8:16])], False)
    rng = np.random.default_rng(7)
    batches = [
        (
            names.sample(300, with_replacement=True, seed=s),
            names.sample(300, with_replacement=True, seed=s + 50),
        )
        for s in range(8)
    ]
    with remembered_forms(None):
        alone = [_outputs(a, b, True) for a, b in batches]
    shared: dict[str, object] = {}
    got: dict[int, list[list[object]]] = {}

    def run(indices: list[int]) -> None:
        with remembered_forms(shared):
            for i in indices:
                got[i] = _outputs(*batches[i], True)

    order = rng.permutation(len(batches)).tolist()
    threads = [threading.Thread(target=run, args=(order[k::2],)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [got[i] for i in range(len(batches))] == alone


def test_a_form_keeps_its_code_and_columns_as_the_table_grows() -> None:
    table = FormTable(lambda forms: forms.select(n=pl.col("form").str.len_chars()), ())
    first, columns = table.code(pl.Series(["b", None, "aa", "b"]))
    assert first[1] == NULL_CODE and first[0] == first[3] and first[0] != first[2]
    later, grown = table.code(pl.Series([f"x{i}" for i in range(3000)] + ["aa", "b"]))
    assert later[-1] == first[0] and later[-2] == first[2]
    assert grown.size == 3002
    # the first snapshot still reads what it read (the table wrote past it or elsewhere)
    assert columns.array("n")[first[[0, 2]]].tolist() == [1, 2]
    assert grown.array("n")[later[[-1, -2, 0]]].tolist() == [1, 2, 2]
    assert grown.gather("form", later[-2:]).to_list() == ["aa", "b"]


@pytest.mark.parametrize("glued", [False, True])
def test_known_pairs(glued: bool) -> None:
    a = matching_forms(pl.Series(["Rharbi", "Laaroussi", "Said", "Oudghiri", None, "Zahra"]))
    b = matching_forms(
        pl.Series(["الغربي", "Aaroussi", "Saida", "الودغيري", "Ali", "Fatima Zahra"])
    )
    with remembered_forms({}):
        same = pairwise_same_name(a, b, glued_article=glued).to_list()
        variant = pairwise_name_variant(a, b).to_list()
    assert same == [True, glued, False, True, None, False]
    assert variant == [False, False, False, False, None, True]
