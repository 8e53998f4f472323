"""The name matcher's pair decisions on a few pairs, in Python: the same rules, read per value.

:mod:`~registry_link.names.matcher` decides pairs of Latin matching forms by coding each form
(:class:`~registry_link.names.form_codes.FormTable`), working out its columns with polars
(keys, ending, vowel gaps, readings) and gathering them by code. That is the way for a
link's millions of pairs; for a search's few new pairs its fixed cost is the whole cost
(tens of polars calls a function, ~40 ms of a first search). Here the same decisions are
taken one pair at a time:

* each form's columns (:class:`FormRow`, :func:`form_row`) are read from the same tables —
  the key and the vowel gaps through the key module's rewrite chains in Python
  (:func:`~registry_link.names.keys.key_of_form`,
  :func:`~registry_link.names.keys.vowel_codes_of_form`), the endings, readings
  (:data:`~registry_link.names.matcher.LATIN_READINGS`), the glued ``l`` and the dropped
  prefixes through the matcher's own patterns (:func:`~registry_link.names.rewrite.
  python_pattern`);
* the decisions (:func:`same_name_of`, :func:`variant_of`) are the matcher's, step for step:
  strict sameness (keys, endings, vowel gaps), the readings, the glued article; the dropped
  prefix and the partial compound.

The matcher's public pair functions use this for calls of at most
:data:`~registry_link.names.matcher.FEW_PAIRS` pairs; ``tests/names/test_names_one.py`` holds the
two evaluations equal on drawn names in both scripts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from registry_link.names import matcher
from registry_link.names.keys import (
    CAN_I,
    CAN_U,
    MUST_I,
    MUST_U,
    NONEMPTY,
    key_of_form,
    vowel_codes_of_form,
)
from registry_link.names.rewrite import Sub, compiled_pattern, python_replacement

__all__ = ["FormRow", "form_row", "same_name_of", "variant_of"]

#: Per-form rows kept (names repeat from one search to the next).
FORM_ROWS_KEPT = 65536


@dataclass(frozen=True)
class FormRow:
    """The columns of one Latin matching form the pair decisions read (the matcher's
    ``_form_columns``, one row): its key, ending class (``matcher.ENDING_A``, ``ENDING_C`` or
    0), vowel-gap codes, per reading of ``readings`` the reading when it differs from the
    form (else ``None``) and its key, whether it starts with ``l`` + vowel and its key
    without that ``l``, its key without a Ben/Bel/Ibn/Ould prefix (``None`` without one)."""

    form: str
    key: str
    ending: int
    vowels: tuple[int, ...]
    readings: dict[str, tuple[str, str] | None]
    starts_l: bool
    unglued_key: str | None
    prefix_key: str | None
    tokens: int


def form_row(form: str) -> FormRow:
    """:class:`FormRow` of ``form`` under the matcher's current readings (kept per form)."""
    return _form_row(form, matcher.LATIN_READINGS)


@lru_cache(maxsize=FORM_ROWS_KEPT)
def _form_row(form: str, readings: tuple[tuple[str, str, str], ...]) -> FormRow:
    key = _key(form)
    if _search(matcher.ENDING_A_SOUND, form):
        ending = matcher.ENDING_A
    elif _search(matcher.ENDING_CONSONANT, form):
        ending = matcher.ENDING_C
    else:
        ending = 0
    read: dict[str, tuple[str, str] | None] = {}
    for name, pattern, replacement in readings:
        text = _reading(pattern, replacement).text(form)
        read[name] = (text, _key(text)) if text != form else None
    starts_l = _search(matcher.STARTS_L_VOWEL, form)
    stripped = without_prefix(form)
    vowels = vowel_codes_of_form(form)
    assert vowels is not None
    return FormRow(
        form=form,
        key=key,
        ending=ending,
        vowels=tuple(vowels),
        readings=read,
        starts_l=starts_l,
        unglued_key=_key(form[1:]) if starts_l else None,
        prefix_key=_key(stripped) if stripped != form else None,
        tokens=form.count(" ") + 1,
    )


def _key(form: str) -> str:
    key = key_of_form(form)
    assert key is not None  # (the key chain keeps a text a text)
    return key


@cache
def _reading(pattern: str, replacement: str) -> Sub:
    """A reading's rewrite step, made once per rule (its pattern translated and compiled
    once, not per form)."""
    return Sub(pattern, replacement)


def _compiled(pattern: str) -> re.Pattern[str]:
    return compiled_pattern(pattern)


def _search(pattern: str, text: str) -> bool:
    return _compiled(pattern).search(text) is not None


def without_prefix(form: str) -> str:
    """:func:`~registry_link.names.matcher.without_prefix_expr` of one form."""
    if _search(matcher.ARABIC_PREFIX_Y, form):
        return _first(matcher.ARABIC_PREFIX_Y, "y${1}", form)
    if _search(matcher.ARABIC_PREFIX_W, form):
        return _first(matcher.ARABIC_PREFIX_W, "w${1}", form)
    return _first(matcher.DROPPABLE_PREFIX, "${1}", form)


def _first(pattern: str, replacement: str, text: str) -> str:
    """The first match of ``pattern`` replaced (polars' ``str.replace``)."""
    return _compiled(pattern).sub(_python_replacement(replacement), text, count=1)


@cache
def _python_replacement(replacement: str) -> str:
    return python_replacement(replacement)


def _lacks(x: int, must: int, y: int, can: int) -> bool:
    """Gap ``x`` has a written vowel (``must``) that the non-empty gap ``y`` cannot be."""
    return bool(x & must) and bool(y & NONEMPTY) and not y & can


def _vowels_conflict(va: tuple[int, ...], vb: tuple[int, ...]) -> bool:
    """Whether two aligned gap lists contradict (lists of two lengths: no)."""
    if len(va) != len(vb):
        return False
    if any(
        _lacks(x, MUST_U, y, CAN_U) or _lacks(y, MUST_U, x, CAN_U)
        for x, y in zip(va, vb, strict=True)
    ):
        return True
    return any(
        _lacks(x, MUST_I, y, CAN_I) or _lacks(y, MUST_I, x, CAN_I)
        for x, y in zip(va[:-1], vb[:-1], strict=True)
    )


def _strict_same(a: FormRow, b: FormRow) -> bool:
    """Equal keys, no a-sound/consonant ending clash, no contradicting vowel gap."""
    if a.key != b.key:
        return False
    if {a.ending, b.ending} == {matcher.ENDING_A, matcher.ENDING_C}:
        return False
    return not _vowels_conflict(a.vowels, b.vowels)


def _same(a: FormRow, b: FormRow, glued_article: bool) -> bool:
    """The matcher's ``_same`` of one pair of present forms."""
    if _strict_same(a, b):
        return True
    for name, _, _ in matcher.LATIN_READINGS:
        for side, other in ((a, b), (b, a)):
            read = side.readings.get(name)
            if read is not None and read[1] == other.key and _strict_same(form_row(read[0]), other):
                return True
    if not glued_article or a.starts_l == b.starts_l:
        return False
    # exactly one form starts with l + vowel: that l dropped, under the same checks
    if (a.unglued_key == b.key) if a.starts_l else (b.unglued_key == a.key):
        ua = a.form[1:] if a.starts_l else a.form
        ub = b.form[1:] if b.starts_l else b.form
        return _strict_same(form_row(ua), form_row(ub))
    return False


def same_name_of(a: str | None, b: str | None, glued_article: bool) -> bool | None:
    """:func:`~registry_link.names.matcher.pairwise_same_name` of one pair of forms."""
    if a is None or b is None:
        return None
    return _same(form_row(a), form_row(b), glued_article)


def variant_of(a: str | None, b: str | None) -> bool | None:
    """:func:`~registry_link.names.matcher.pairwise_name_variant` of one pair of forms."""
    if a is None or b is None:
        return None
    ra, rb = form_row(a), form_row(b)
    prefix = (ra.prefix_key is not None and ra.prefix_key == rb.key) or (
        rb.prefix_key is not None and ra.key == rb.prefix_key
    )
    if not prefix:
        if ra.tokens == rb.tokens:
            return False
        short, long = (ra.key, rb.key) if ra.tokens < rb.tokens else (rb.key, ra.key)
        if short not in long:
            return False
    if _same(ra, rb, False):
        return False
    return _dropped_prefix(a, b) or _partial_compound(a, b)


def _dropped_prefix(a: str, b: str) -> bool:
    """One name is the other once a prefix is dropped."""
    for x, y in ((a, b), (b, a)):
        stripped = without_prefix(x)
        if stripped != x and _same(form_row(stripped), form_row(y), False):
            return True
    return False


def _partial_compound(a: str, b: str) -> bool:
    """The matcher's ``_partial_compound_rows`` of one pair."""
    ta, tb = a.split(" "), b.split(" ")
    if len(ta) == len(tb) or any(len(t) < 2 for t in (*ta, *tb)):
        return False
    short, long = (ta, tb) if len(ta) < len(tb) else (tb, ta)
    same = [[_same(form_row(s), form_row(t), False) for t in long] for s in short]
    if not all(any(row) for row in same):
        return False
    matched = [any(row[j] for row in same) for j in range(len(long))]
    if any(m and j > 0 for j, m in enumerate(matched)):
        return True
    return all(m or _search(matcher.NASAB_TOKEN, t) for m, t in zip(matched, long, strict=True))
