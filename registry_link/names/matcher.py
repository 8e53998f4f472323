"""Either-script matching forms, and the same-name decision and similarity.

* :func:`matching_form_expr` routes a value to :func:`arabic_to_latin_expr` when it contains
  an Arabic letter, else to :func:`normalise_latin_expr`.
* Two matching forms are the **same name** when their keys are equal and their endings do
  not contradict: a form ending in an *a* sound (a, aa, ae, ah: Amina, Saida, Wafae) never
  matches one ending in a consonant or a consonant + mute e (Amine, Said) — the masculine /
  feminine pairs the consonant key cannot tell apart. Endings in i, ou, y, h or ie are
  neutral (an Arabic final ي may be a folded ى);
  and their written long vowels do not contradict, gap by gap between the key letters
  (:func:`registry_link.names.keys.vowel_codes_expr`): a written i/y facing a non-empty
  gap with no i, y or e, or a written ou/u/w facing one with no o, u, w or e, means two
  names (Alaoui ≠ Ali, Said ≠ Saad, Houssine ≠ Hassan, Amine ≠ Imane). After the last key
  letter only the u check applies (a final ي may stand for ى: Moussa = موسي).
* A Latin spelling may stand for another Arabic letter than the key reads (:data:`LATIN_READINGS`:
  an initial Ou before a consonant = و, rh = غ, g/gu = ج, h = خ, La + consonant = the article
  ال + a): a pair whose keys differ is also tried with one side so read, under the same checks.
* :func:`pairwise_name_similarity` is 1.0 for the same name, otherwise a string similarity
  in [0, 1) of the keys and forms (rapidfuzz, element-wise, multi-threaded).
* :func:`pairwise_name_variant`: weaker evidence than the same name — a dropped Ben/Bel/Ibn/Ould
  prefix (Slimane / Ben Slimane) or a partial compound name (Zahra / Fatim Zahra).

The pair functions decide a call of at most :data:`FEW_PAIRS` pairs (a search's new pairs)
in Python, one pair at a time, from the same tables (:mod:`~registry_link.names.one`), and
larger calls with polars over form codes; ``tests/names/test_names_one.py`` holds the two equal.
The scalar functions' matching forms and keys run the vectorised code on a one-row frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from registry_link.names import one  # (one reads this module's tables when called)
from registry_link.names.arabic import contains_arabic_expr
from registry_link.names.form_codes import NULL_CODE, FormColumns, FormTable
from registry_link.names.keys import (
    CAN_I,
    CAN_U,
    MUST_I,
    MUST_U,
    NONEMPTY,
    name_key_expr,
    vowel_codes_expr,
)
from registry_link.names.latin import normalise_latin_expr
from registry_link.names.translit import arabic_to_latin_expr
from registry_link.standardise.distinct import remembering, with_distinct

#: Similarity below 1.0 is capped here so that only the same name scores 1.0.
MAX_DIFFERENT = 0.99
#: Floor for names whose keys agree but whose vowels or endings do not (Said / Saad / Saida).
KEY_EQUAL_FLOOR = 0.95


def matching_form_expr(e: pl.Expr) -> pl.Expr:
    """Latin matching form of a name in either script (Arabic is transliterated).

    The name is first put in Unicode NFKC, so Arabic presentation forms and ligatures
    (ﻣﺤﻤﺪ, ﷲ, as copied from a PDF) are read as the letters they draw.
    """
    e = e.str.normalize("NFKC")
    return (
        pl.when(contains_arabic_expr(e))
        .then(arabic_to_latin_expr(e))
        .otherwise(normalise_latin_expr(e))
    )


@lru_cache(maxsize=65536)
def _form_and_key(name: str | None) -> tuple[str | None, str | None]:
    if name is None:
        return None, None
    name = name.encode("utf-8", "replace").decode("utf-8")  # lone surrogates → "?"
    frame = pl.select(form=matching_form_expr(pl.lit(name, dtype=pl.Utf8)))
    frame = frame.with_columns(key=name_key_expr(pl.col("form")))
    return frame["form"].item(), frame["key"].item()


def matching_form(name: str | None) -> str | None:
    """Latin matching form of one name in either script (None for None or empty)."""
    return _form_and_key(name)[0]


def name_key(name: str | None) -> str | None:
    """Cross-script phonetic key of one name in either script (None for None or empty)."""
    return _form_and_key(name)[1]


def _forms(a: str | None, b: str | None) -> tuple[pl.Series, pl.Series]:
    fa, fb = matching_form(a), matching_form(b)
    return pl.Series("a", [fa], dtype=pl.Utf8), pl.Series("b", [fb], dtype=pl.Utf8)


def same_name(a: str | None, b: str | None, *, glued_article: bool = False) -> bool:
    """Whether two names in either script are the same name (False if either is missing).

    ``glued_article``: see :func:`pairwise_same_name` (advised for family names).
    """
    fa, fb = _forms(a, b)
    same = pairwise_same_name(fa, fb, glued_article=glued_article)
    return bool(same.fill_null(False).item())


def name_similarity(a: str | None, b: str | None, *, glued_article: bool = False) -> float:
    """Similarity of two names in either script in [0, 1]: 1.0 same name, 0.0 if missing."""
    fa, fb = _forms(a, b)
    value = pairwise_name_similarity(fa, fb, glued_article=glued_article).item()
    return 0.0 if value is None else float(value)


#: A form's ending in an *a* sound, and (when it has none) in a consonant (+ mute e).
ENDING_A_SOUND: Final[str] = r"a[aeh]?$"
ENDING_CONSONANT: Final[str] = r"[b-df-gj-np-tvxz]e?$"
#: A form starting with an ``l`` + vowel: maybe the article glued (Lamrani).
STARTS_L_VOWEL: Final[str] = r"^l[aeiou]"


def ending_class_expr(e: pl.Expr) -> pl.Expr:
    """Ending class of a Latin matching form: ``"A"`` (a sound), ``"C"`` (consonant), or null."""
    return (
        pl.when(e.str.contains(ENDING_A_SOUND))
        .then(pl.lit("A"))
        .when(e.str.contains(ENDING_CONSONANT))
        .then(pl.lit("C"))
        .otherwise(pl.lit(None, dtype=pl.Utf8))
    )


def _key_and_ending_expr(form_a: pl.Expr, form_b: pl.Expr) -> pl.Expr:
    """Equal keys and no a-sound/consonant ending clash (null if either null)."""
    ea, eb = ending_class_expr(form_a), ending_class_expr(form_b)
    clash = ((ea == "A") & (eb == "C")) | ((ea == "C") & (eb == "A"))
    return (name_key_expr(form_a) == name_key_expr(form_b)) & ~clash.fill_null(False)


def _bit(codes: pl.Expr, bit: int) -> pl.Expr:
    """0/1 list: whether each gap code has ``bit`` (list arithmetic, no bitwise ops on lists)."""
    return (codes // bit) % 2


def _lacks(x: pl.Expr, must: int, y: pl.Expr, can: int) -> pl.Expr:
    """0/1 list: gap of ``x`` has a written vowel (``must``) the non-empty ``y`` gap cannot be."""
    return _bit(x, must) * _bit(y, NONEMPTY) * (1 - _bit(y, can))


def _vowel_conflict_expr(va: pl.Expr, vb: pl.Expr) -> pl.Expr:
    """Number of contradicting gaps of two aligned code lists (same length, else null)."""
    u = _lacks(va, MUST_U, vb, CAN_U) + _lacks(vb, MUST_U, va, CAN_U)
    n = va.list.len() - 1
    ha, hb = va.list.head(n), vb.list.head(n)
    i = _lacks(ha, MUST_I, hb, CAN_I) + _lacks(hb, MUST_I, ha, CAN_I)
    return u.list.sum() + i.list.sum()


@lru_cache(maxsize=1)
def _vowel_conflict() -> pl.Expr:
    """Whether the aligned vowel-gap code lists ``va``, ``vb`` contradict
    (:func:`_vowel_conflict_expr` > 0, null as none), built once: building it costs more than
    running it on the few pairs whose keys agree (4 ms, a dozen times a chunk)."""
    return _vowel_conflict_expr(pl.col("va"), pl.col("vb")).fill_null(0) > 0


#: Within :func:`remembered_forms`: per kind of per-form work, the forms done so far and
#: their results (``{form, ...}``, one row per distinct form).
_FORMS: ContextVar[dict[str, Any] | None] = ContextVar("_FORMS", default=None)


@contextmanager
def remembered_forms(memo: dict[str, Any] | None) -> Iterator[None]:
    """Within: the per-form work of the same-name decision (:func:`_form_columns`: keys,
    endings, vowel gaps, the readings of :data:`LATIN_READINGS`) is done once per distinct
    form over all calls that share ``memo`` (``None``: each call does its own), and each form
    keeps one integer code over these calls (:class:`~registry_link.names.form_codes.
    FormTable`, kept in the memo). A link compares the same few ten thousand names in every
    chunk, comparison and pair function; the results are the functions' own, so they are the
    same with or without a memo.

    The compare engine keeps one memo for its calls, from two threads: the form codes' table
    codes and extends under a lock of its own (a call then reads a snapshot that later calls
    only extend); the other kinds (:func:`_per_form`) are replaced whole (a form done by two
    threads at once is only done twice).
    """
    token = _FORMS.set(memo)
    try:
        yield
    finally:
        _FORMS.reset(token)


#: Within :func:`forms_apart`: the prefix of the memo's kinds.
_KIND_PREFIX: ContextVar[str] = ContextVar("_KIND_PREFIX", default="")


@contextmanager
def forms_apart(prefix: str) -> Iterator[None]:
    """Within: the per-form work goes to tables of its own in the memo of
    :func:`remembered_forms` (each kind under ``prefix``), so that work on many forms the
    other calls never ask for (the parts of unsplit full names) does not make their look-ups
    in the memo any longer. The results are the same."""
    token = _KIND_PREFIX.set(prefix)
    try:
        yield
    finally:
        _KIND_PREFIX.reset(token)


def _per_form(
    forms: pl.DataFrame,
    kind: str,
    work: Callable[[pl.DataFrame], pl.DataFrame],
    on: Sequence[str] = ("form",),
) -> pl.DataFrame:
    """``work(forms)`` (``{form}`` distinct, to ``{form, ...}`` in the same order), through the
    active memo (:func:`remembered_forms`): only the forms it has not seen are worked on.

    ``on``: the columns that identify a row of ``forms`` (distinct rows; a pair of forms:
    ``("name", "part")``). ``work`` may give several rows to a form (or none)."""
    memo = _FORMS.get()
    if memo is None:
        return work(forms)
    kind = _KIND_PREFIX.get() + kind
    known = memo.get(kind)
    if known is None:
        done = work(forms)
        memo[kind] = done
        return done
    on = list(on)
    new = forms.join(known.select(on), on=on, how="anti", nulls_equal=True)
    if new.height:
        known = pl.concat([known, work(new)], how="vertical")
        memo[kind] = known
    return forms.join(known, on=on, how="left", maintain_order="left", nulls_equal=True)


#: Latin spellings that stand for another Arabic letter than the key reads them as, each a
#: rewrite (name, pattern, replacement) of a Latin matching form giving the other reading.
#: A pair whose keys differ is also tried with one side read this way (whole form at once),
#: under the same key, ending and vowel checks; so the rewrites only ever add agreements
#: between names whose consonants then all agree.
LATIN_READINGS: Final[tuple[tuple[str, str, str], ...]] = (
    # an initial Ou before a consonant is the letter و, not a vowel (Oudghiri = الودغيري)
    ("ou_is_waw", r"\bou([b-df-hj-np-tv-z])", "w${1}"),
    # غ written rh anywhere (Rharbi = الغربي, Rhita = غيثة, Berrhazi = البرغازي); a bare r
    # is not read as غ: Rania (رانيا) and Ghania (غانية) are two names
    ("r_is_ghain", r"rh", "gh"),
    # ج written g or gu (Guilali = الجيلالي, Hagi = حجي); gh stays غ
    ("g_is_jim", r"gu([eiy])|g([^h]|$)", "j${1}${2}"),
    # خ written h (Hadija = خديجة); not the h of ch, sh, kh, gh, th, dh, ph
    ("h_is_kha", r"(^|[^csktgdp])h", "${1}kh"),
    # the article written as an L glued before a + consonant (Lahcen = الحسن, Lamine = الأمين)
    ("l_article", r"\bla([b-df-hj-km-np-tvxz])", "a${1}"),
)


def _readings(forms: pl.DataFrame) -> pl.DataFrame:
    """Per form of ``{form}``: its ``key``, each reading of :data:`LATIN_READINGS` that
    differs from it (else null) and that reading's key (``<reading>_key``)."""
    reads = forms.select(
        *(
            pl.col("form").str.replace_all(pattern, replacement).alias(name)
            for name, pattern, replacement in LATIN_READINGS
        )
    )
    reads = reads.with_columns(
        pl.when(pl.col(c) != forms["form"]).then(pl.col(c)).alias(c) for c in reads.columns
    )
    keys = reads.select(name_key_expr(pl.col(c)).alias(f"{c}_key") for c in reads.columns)
    return pl.concat(
        [forms.with_columns(key=name_key_expr(pl.col("form"))), reads, keys], how="horizontal"
    )


#: The columns of :func:`_form_columns` that are keys (kept as key codes and as strings).
_KEY_COLUMNS: Final[tuple[str, ...]] = (
    "key",
    *(f"{name}_key" for name, _, _ in LATIN_READINGS),
    "unglued_key",
    "prefix_key",
)
#: :func:`_form_columns`' ending classes as integers (no class: 0).
ENDING_A, ENDING_C = 1, 2


@lru_cache(maxsize=1)
def _form_exprs() -> dict[str, pl.Expr]:
    """The expressions of :func:`_form_columns`, built once (building the key expression of a
    reading costs more than running it on a call's few new forms)."""
    form = pl.col("form")
    ending = ending_class_expr(form)
    exprs: dict[str, pl.Expr] = {
        "key": name_key_expr(form),
        "ending": pl.when(ending == "A")
        .then(pl.lit(ENDING_A, pl.Int8))
        .when(ending == "C")
        .then(pl.lit(ENDING_C, pl.Int8))
        .otherwise(pl.lit(0, pl.Int8)),
        "vowels": vowel_codes_expr(form),
    }
    for name, pattern, replacement in LATIN_READINGS:
        read = form.str.replace_all(pattern, replacement)
        read = pl.when(read != form).then(read)
        exprs[name] = read
        exprs[f"{name}_key"] = name_key_expr(read)
    starts_l = form.str.contains(STARTS_L_VOWEL)
    exprs["starts_l"] = starts_l.fill_null(False)
    exprs["unglued_key"] = pl.when(starts_l).then(name_key_expr(form.str.slice(1)))
    stripped = without_prefix_expr(form)
    exprs["prefix_key"] = pl.when(stripped != form).then(name_key_expr(stripped))
    exprs["tokens"] = (form.str.count_matches(" ") + 1).fill_null(0).cast(pl.Int32)
    return exprs


#: :func:`_form_columns` works out at most this many forms in Python, form by form
#: (:func:`~registry_link.names.one.form_row`): its polars expressions cost about 20 ms a run
#: whatever the forms (their regular expressions compiled at each run), the Python rows
#: about 150 µs a form; a link's calls after the first meet one or a few new forms at a time
#: (a reading, a name without its prefix). The same columns either way
#: (``tests/names/test_names_one.py``).
FEW_FORMS = 64


def _form_columns(forms: pl.DataFrame) -> pl.DataFrame:
    """Per form of ``{form}`` (a null form gets nulls), row for row: its ``key``, ending class
    (``ending``: :data:`ENDING_A`, :data:`ENDING_C` or 0) and vowel-gap codes (``vowels``);
    each reading of :data:`LATIN_READINGS` that differs from it (else null) and that reading's
    key (``<reading>_key``); whether it starts with ``l`` + vowel (``starts_l``) and the key
    without that ``l`` (``unglued_key``); the key without a Ben/Bel/Ibn/Ould prefix
    (``prefix_key``, null without one) and its number of ``tokens``. At most
    :data:`FEW_FORMS` forms are read in Python (:func:`_few_form_columns`)."""
    if forms.height <= FEW_FORMS and not remembering():
        return _few_form_columns(forms.get_column("form").to_list())
    return _form_columns_in_polars(forms)


def _form_columns_in_polars(forms: pl.DataFrame) -> pl.DataFrame:
    """:func:`_form_columns` of any number of forms, with polars."""
    exprs = _form_exprs()
    if remembering():  # (a search: the forms' columns kept across calls)
        done = with_distinct(forms, "form", exprs).drop("form")
        return done.with_columns(  # (a null form's are null there)
            pl.col("ending").fill_null(0),
            pl.col("starts_l").fill_null(False),
            pl.col("tokens").fill_null(0),
        )
    return forms.select(**exprs)


@lru_cache(maxsize=1)
def _form_schema() -> pl.Schema:
    """The columns of :func:`_form_columns` and their types."""
    return pl.DataFrame(schema={"form": pl.Utf8}).select(**_form_exprs()).schema


def _few_form_columns(forms: Sequence[str | None]) -> pl.DataFrame:
    """:func:`_form_columns` of a few ``forms``, each read in Python
    (:func:`~registry_link.names.one.form_row`)."""
    rows = [one.form_row(form) if form is not None else None for form in forms]
    columns: dict[str, list[Any]] = {
        "key": [r.key if r else None for r in rows],
        "ending": [r.ending if r else 0 for r in rows],
        "vowels": [list(r.vowels) if r else None for r in rows],
    }
    for name, _, _ in LATIN_READINGS:
        reads = [r.readings[name] if r else None for r in rows]
        columns[name] = [read[0] if read else None for read in reads]
        columns[f"{name}_key"] = [read[1] if read else None for read in reads]
    columns["starts_l"] = [r.starts_l if r else False for r in rows]
    columns["unglued_key"] = [r.unglued_key if r else None for r in rows]
    columns["prefix_key"] = [r.prefix_key if r else None for r in rows]
    columns["tokens"] = [r.tokens if r else 0 for r in rows]
    return pl.DataFrame(columns, schema=_form_schema())


def _form_table() -> FormTable:
    """The form codes of the active memo (:func:`remembered_forms`; a table of its own under
    :func:`forms_apart`), or a new table for this call only."""
    memo = _FORMS.get()
    if memo is None:
        return FormTable(_form_columns, _KEY_COLUMNS)
    kind = _KIND_PREFIX.get() + "form_codes"
    table = memo.get(kind)
    if table is None:
        table = memo.setdefault(kind, FormTable(_form_columns, _KEY_COLUMNS))
    return table


@dataclass(frozen=True)
class _Pairs:
    """Pairs of forms as form codes (``NULL_CODE`` for null), with the columns of their forms."""

    a: np.ndarray
    b: np.ndarray
    columns: FormColumns
    table: FormTable

    @property
    def valid(self) -> np.ndarray:
        """Whether both forms of each pair are present."""
        return (self.a >= 0) & (self.b >= 0)

    def take(self, rows: np.ndarray) -> _Pairs:
        """The pairs at ``rows``."""
        return _Pairs(self.a[rows], self.b[rows], self.columns, self.table)

    def array(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The numeric column ``name`` of each side (any value where a form is null)."""
        values = self.columns.array(name)
        return values[np.maximum(self.a, 0)], values[np.maximum(self.b, 0)]

    def strings(self, name: str) -> tuple[pl.Series, pl.Series]:
        """The string column ``name`` of each side (null where a form is null)."""
        return self.columns.gather(name, self.a), self.columns.gather(name, self.b)


def _coded(a: pl.Series, b: pl.Series, table: FormTable) -> _Pairs:
    """The pairs of forms ``a``, ``b`` by their codes in ``table``."""
    codes, columns = table.code(pl.concat([a.cast(pl.Utf8), b.cast(pl.Utf8)]))
    return _Pairs(codes[: len(a)], codes[len(a) :], columns, table)


def _strict_same(pairs: _Pairs) -> np.ndarray:
    """Per pair: equal keys, no a-sound/consonant ending clash and no contradicting vowel gap
    (Boolean; false where a form is null)."""
    same = pairs.valid
    if not pairs.columns.size:
        return same
    ka, kb = pairs.array("key")
    ea, eb = pairs.array("ending")
    clash = ((ea == ENDING_A) & (eb == ENDING_C)) | ((ea == ENDING_C) & (eb == ENDING_A))
    same &= (ka == kb) & ~clash
    # vowel gaps compared only where the keys agree (aligned lists of equal length): on those
    # rows only (few of the pairs a similarity is asked for)
    rows = np.flatnonzero(same)
    if rows.size:
        va, vb = pairs.take(rows).strings("vowels")
        agree = pl.DataFrame({"va": va, "vb": vb})
        conflict = agree.select(_vowel_conflict())
        same[rows] = ~conflict.to_series().to_numpy()
    return same


def _strict_same_of(a: pl.Series, b: pl.Series, table: FormTable) -> np.ndarray:
    """:func:`_strict_same` of the forms ``a``, ``b``."""
    return _strict_same(_coded(a, b, table))


def _same(pairs: _Pairs, glued_article: bool) -> np.ndarray:
    """Per pair: the same name (Boolean; false where a form is null): :func:`_strict_same`,
    or one side read with one of the :data:`LATIN_READINGS` is strictly the same as the other,
    or (``glued_article``) the variant Lamrani = (El) Amrani.

    French-style Moroccan spellings often glue the article as a bare ``l`` before a vowel
    (Lamrani, Lasri, Lakhdar, Laaroussi for العمراني, العسري, الأخضر, العروسي) while the
    other record drops it. When exactly one form starts with ``l`` + vowel, that ``l`` is
    also tried without, under the same key, ending and vowel checks. Meant for family names:
    on given names it would equate Leila with Ila; the readings only take an ``l`` before
    a + consonant as the article (Lahcen = الحسن, and so also = Hassan, another spelling of
    الحسن).

    Each retry is checked in full only where its key (a reading's, the form's without the
    ``l``: per form, by code) equals the other side's key: the strict check needs that.
    """
    same = _strict_same(pairs)
    valid = pairs.valid
    open_rows = np.flatnonzero(valid & ~same)
    if open_rows.size:
        found = _readings_found(pairs.take(open_rows))
        same[open_rows[found]] = True
    if glued_article:
        same |= _unglued_found(pairs, valid & ~same)
    return same


def _readings_found(pairs: _Pairs) -> np.ndarray:
    """Per pair (of which none is strictly the same name): one side read with one of the
    :data:`LATIN_READINGS` is strictly the same name as the other."""
    found = np.zeros(len(pairs.a), dtype=bool)
    key = pairs.columns.array("key")
    for name, _, _ in LATIN_READINGS:
        read_key = pairs.columns.array(f"{name}_key")
        for left, right, read_side in ((pairs.a, pairs.b, "a"), (pairs.b, pairs.a, "b")):
            hit = (read_key[left] >= 0) & (read_key[left] == key[right])
            rows = np.flatnonzero(hit)
            if not rows.size:
                continue
            read = pairs.columns.gather(name, left[rows])
            other = pairs.columns.gather("form", right[rows])
            pair = (read, other) if read_side == "a" else (other, read)
            found[rows] |= _strict_same_of(*pair, pairs.table)
    return found


def _unglued_found(pairs: _Pairs, todo: np.ndarray) -> np.ndarray:
    """Per pair: (where ``todo``) exactly one form starts with ``l`` + vowel, and without that
    ``l`` it is strictly the same name as the other."""
    found = np.zeros(len(pairs.a), dtype=bool)
    if not pairs.columns.size:
        return found
    la, lb = pairs.array("starts_l")
    ua, ub = pairs.array("unglued_key")
    ka, kb = pairs.array("key")
    tried = todo & (la ^ lb)
    rows = np.flatnonzero(tried & np.where(la, ua == kb, ub == ka))
    if rows.size:
        some = pairs.take(rows)
        fa, fb = some.strings("form")
        some_l = pl.DataFrame({"a": fa, "b": fb, "la": la[rows], "lb": lb[rows]})
        unglued = some_l.select(
            a2=pl.when("la").then(pl.col("a").str.slice(1)).otherwise("a"),
            b2=pl.when("lb").then(pl.col("b").str.slice(1)).otherwise("b"),
        )
        found[rows] = _strict_same_of(unglued["a2"], unglued["b2"], pairs.table)
    return found


def _same_name_frame(a: pl.Series, b: pl.Series, glued_article: bool) -> pl.DataFrame:
    """``{a, b, same}``: the forms and their same-name decision (:func:`_same`; null where
    either form is null)."""
    pairs = _coded(a, b, _form_table())
    same = pl.Series("same", _same(pairs, glued_article))
    valid = pairs.valid
    if not valid.all():
        same = same.scatter(np.flatnonzero(~valid), None)
    return pl.DataFrame({"a": a.cast(pl.Utf8), "b": b.cast(pl.Utf8), "same": same})


def _check_lengths(a: pl.Series, b: pl.Series) -> None:
    if len(a) != len(b):
        # programming error of the caller, not a user error
        raise ValueError(f"series lengths differ: {len(a)} and {len(b)}")


#: Calls of the pair functions on at most this many pairs decide them in Python, one pair at
#: a time (:mod:`~registry_link.names.one`: a search's new pairs), the others with polars
#: over form codes. The same values either way.
FEW_PAIRS = 128


def _each_pair(
    a: pl.Series, b: pl.Series, decide: Callable[[str | None, str | None], bool | None], name: str
) -> pl.Series:
    """``decide`` of each pair of forms (a few: :data:`FEW_PAIRS`), as a Boolean series."""
    xs, ys = a.cast(pl.Utf8).to_list(), b.cast(pl.Utf8).to_list()
    return pl.Series(name, [decide(x, y) for x, y in zip(xs, ys, strict=True)], pl.Boolean)


def pairwise_same_name(a: pl.Series, b: pl.Series, *, glued_article: bool = False) -> pl.Series:
    """Element-wise same-name decision on Latin matching forms (Boolean; null if either null).

    ``glued_article=True`` (advised for family names) also accepts a leading ``l`` + vowel
    as the article glued on one side only: Lamrani = Amrani = العمراني.
    """
    _check_lengths(a, b)
    if len(a) <= FEW_PAIRS:
        return _each_pair(a, b, lambda x, y: one.same_name_of(x, y, glued_article), "same_name")
    return _same_name_frame(a, b, glued_article)["same"].alias("same_name")


def pairwise_name_similarity(
    a: pl.Series,
    b: pl.Series,
    *,
    glued_article: bool = False,
    score_cutoff: float | None = None,
) -> pl.Series:
    """Element-wise similarity in [0, 1] of Latin matching forms (Float64; null if either null).

    1.0 when the names are the same (:func:`pairwise_same_name`); otherwise the mean of the
    Jaro-Winkler similarities of the keys and of the forms, capped at 0.99 — and at least
    0.95 when the keys are equal but the vowels or endings tell the names apart (Said/Saad).

    ``score_cutoff`` (as rapidfuzz's): a similarity below it is given as 0.0, and the scorer
    skips the work it needs only to tell how far below it is; a similarity at or above it is
    the same value as without. So a threshold at or above the cutoff puts every pair on the
    same side of it (see :func:`_name_similarity_at_least`).
    """
    _check_lengths(a, b)
    if len(a) <= FEW_PAIRS:
        return _few_name_similarity(a, b, glued_article, score_cutoff)
    pairs = _coded(a, b, _form_table())
    valid = pairs.valid
    if not valid.any():
        return pl.Series("name_similarity", [None] * len(a), dtype=pl.Float64)
    same = _same(pairs, glued_article)
    ka, kb = pairs.array("key")
    key_equal = valid & (ka == kb)
    key_ids = (np.where(pairs.a >= 0, ka, NULL_CODE), np.where(pairs.b >= 0, kb, NULL_CODE))
    keys = _Scorer(pairs, "key_text", *key_ids)
    forms = _Scorer(pairs, "form", pairs.a, pairs.b)
    return _similarity(keys, forms, same, key_equal, valid, score_cutoff)


def _few_name_similarity(
    a: pl.Series, b: pl.Series, glued_article: bool, score_cutoff: float | None
) -> pl.Series:
    """:func:`pairwise_name_similarity` of a few pairs, decided in Python
    (:mod:`~registry_link.names.one`) and scored as there."""
    xs, ys = a.cast(pl.Utf8).to_list(), b.cast(pl.Utf8).to_list()
    valid = np.array([x is not None and y is not None for x, y in zip(xs, ys, strict=True)])
    if not valid.any():
        return pl.Series("name_similarity", [None] * len(a), dtype=pl.Float64)
    keys_a = [one.form_row(x).key if x is not None else "" for x in xs]
    keys_b = [one.form_row(y).key if y is not None else "" for y in ys]
    same = np.array(
        [bool(one.same_name_of(x, y, glued_article)) for x, y in zip(xs, ys, strict=True)]
    )
    key_equal = valid & np.array([x == y for x, y in zip(keys_a, keys_b, strict=True)])
    keys = _TextScorer(keys_a, keys_b)
    forms = _TextScorer([x or "" for x in xs], [y or "" for y in ys])
    return _similarity(keys, forms, same, key_equal, valid, score_cutoff)


def _similarity(
    keys: _Scorer | _TextScorer,
    forms: _Scorer | _TextScorer,
    same: np.ndarray,
    key_equal: np.ndarray,
    valid: np.ndarray,
    score_cutoff: float | None,
) -> pl.Series:
    """:func:`pairwise_name_similarity` of pairs from their keys' and forms' scorers and
    their same-name, equal-key and both-present flags."""
    if score_cutoff is None:
        sim = np.minimum((keys.score() + forms.score()) / 2.0, MAX_DIFFERENT)
    else:
        sim = _name_similarity_at_least(keys, forms, ~same, score_cutoff)
    sim = np.where(key_equal, np.maximum(sim, KEY_EQUAL_FLOOR), sim)
    sim = np.where(same, 1.0, sim)
    sim = sim.astype(np.float64)  # (the levels compare Float64 values)
    if score_cutoff is not None:
        sim = np.where(sim >= score_cutoff, sim, 0.0)
    out = pl.Series("name_similarity", sim, dtype=pl.Float64)
    return out.set(pl.Series(~valid), None) if (~valid).any() else out


def _distinct_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of codes ``ids`` (of a :class:`~registry_link.names.form_codes.FormTable`: integers
    from ``NULL_CODE``, dense): a position holding each distinct id, in ascending order of
    the ids, and each position's index among the distinct ids — ``np.unique``'s
    ``return_index`` (any position of an id, not only its first) and ``return_inverse``.

    In linear time, by marking the ids in a table as long as their range, when that range is
    at most a few times the number of ids (else by sorting, as ``np.unique``)."""
    if not len(ids):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    shifted = ids.astype(np.int64) - NULL_CODE
    span = int(shifted.max()) + 1
    if span > 4 * len(ids):
        _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
        return first, inverse.ravel()
    present = np.zeros(span, dtype=bool)
    present[shifted] = True
    position = np.empty(span, dtype=np.int64)
    position[shifted] = np.arange(len(ids), dtype=np.int64)
    rank = np.cumsum(present) - 1
    return position[present], rank[shifted]


def _distinct_pairs(ia: np.ndarray, ib: np.ndarray, nb: int) -> tuple[np.ndarray, np.ndarray]:
    """Of pairs of dense ids ``(ia, ib)`` (``0 <= ib < nb``): a position holding each distinct
    pair, and each position's index among them (by hashing one integer per pair)."""
    key = pl.Series("k", ia.astype(np.uint64) * np.uint64(nb) + ib.astype(np.uint64))
    first = key.arg_unique()
    table = pl.DataFrame({"k": key.gather(first), "i": np.arange(first.len(), dtype=np.int64)})
    found = key.to_frame().join(table, on="k", how="left", maintain_order="left")
    return first.to_numpy().astype(np.int64), found.get_column("i").to_numpy()


@dataclass(frozen=True)
class _TextScorer:
    """Jaro-Winkler similarities of the pairs of texts ``(a[i], b[i])``, each pair scored
    (a few pairs: the values of :class:`_Scorer`)."""

    a: list[str]
    b: list[str]

    def score(self, rows: np.ndarray | None = None, cutoff: float | None = None) -> np.ndarray:
        """:meth:`_Scorer.score` of these texts."""
        a = self.a if rows is None else [self.a[i] for i in rows]
        b = self.b if rows is None else [self.b[i] for i in rows]
        if not a:
            return np.zeros(0, dtype=np.float32)
        scorer = JaroWinkler.normalized_similarity
        return np.asarray(process.cpdist(a, b, scorer=scorer, score_cutoff=cutoff))


@dataclass(frozen=True)
class _Scorer:
    """Jaro-Winkler similarities of one string column (``name``: ``form`` or ``key_text``) of
    the two sides of coded pairs, ``ids_a``/``ids_b`` identifying their strings (equal ids ⇔
    equal strings; ``NULL_CODE``: a missing form, scored as ``""``)."""

    pairs: _Pairs
    name: str
    ids_a: np.ndarray
    ids_b: np.ndarray

    def score(self, rows: np.ndarray | None = None, cutoff: float | None = None) -> np.ndarray:
        """:func:`pairwise_jaro_winkler` of the strings of the pairs at ``rows`` (every pair
        for None), the same values: a matrix of the distinct strings (found by their ids)
        when it is no larger than the pairs, else each distinct pair of ids once (the pairs
        of distinct forms that the similarity is asked about share few distinct keys), or
        each pair when they are nearly all distinct."""
        pairs = self.pairs if rows is None else self.pairs.take(rows)
        ids_a = self.ids_a if rows is None else self.ids_a[rows]
        ids_b = self.ids_b if rows is None else self.ids_b[rows]
        if not len(ids_a):
            return np.zeros(0, dtype=np.float32)
        scorer = JaroWinkler.normalized_similarity
        first_a, ia = _distinct_ids(ids_a)
        first_b, ib = _distinct_ids(ids_b)
        columns = pairs.columns
        if len(first_a) * len(first_b) > len(ids_a):
            first, inverse = _distinct_pairs(ia, ib, len(first_b))
            each = 2 * len(first) > len(ids_a)  # nearly all distinct: each pair
            if each:
                first = np.arange(len(ids_a))
            texts = [
                columns.gather(self.name, codes[first]).fill_null("").to_list()
                for codes in (pairs.a, pairs.b)
            ]
            sims = np.asarray(
                process.cpdist(*texts, scorer=scorer, workers=-1, score_cutoff=cutoff)
            )
            return sims if each else sims[inverse]
        distinct = [
            columns.gather(self.name, codes[first]).fill_null("").to_list()
            for codes, first in ((pairs.a, first_a), (pairs.b, first_b))
        ]
        matrix = process.cdist(*distinct, scorer=scorer, workers=-1, score_cutoff=cutoff)
        return np.asarray(matrix)[ia, ib]


#: Margin taken off the Jaro-Winkler cutoffs of :func:`_name_similarity_at_least` (float32
#: scores, and ``2 * 0.8 - 1 == 0.6000000000000001``): a lower cutoff only does more work.
_CUTOFF_MARGIN = 1e-6


def _name_similarity_at_least(
    keys: _Scorer | _TextScorer, forms: _Scorer | _TextScorer, todo: np.ndarray, cutoff: float
) -> np.ndarray:
    """``min((sk + sf) / 2, 0.99)`` of the keys' and forms' Jaro-Winkler similarities at the
    ``todo`` positions (0.0 elsewhere), exact wherever it can reach ``cutoff``.

    Since ``sf <= 1``, the mean reaches ``cutoff`` only if ``sk >= 2 * cutoff - 1``, and then
    only if ``sf >= 2 * cutoff - sk >= 2 * cutoff - 1``: both scorers get that cutoff (a
    score below it comes back 0.0), and the forms are scored only where the keys reach it.
    Where a score was cut, the mean is at most 0.5, below ``cutoff`` (the bound is used only
    when ``cutoff > 0.5``), as the exact mean is.
    """
    low = 2.0 * cutoff - 1.0 - _CUTOFF_MARGIN
    if low <= 0.0:  # every score matters
        sk, sf = keys.score(), forms.score()
        return np.where(todo, np.minimum((sk + sf) / 2.0, MAX_DIFFERENT), 0.0)
    sk = np.zeros(len(todo), dtype=np.float32)
    sk[todo] = keys.score(np.flatnonzero(todo), low)
    reach = sk >= low  # (cut scores are 0.0)
    sf = np.zeros(len(todo), dtype=np.float32)
    sf[reach] = forms.score(np.flatnonzero(reach), low)
    return np.where(reach, np.minimum((sk + sf) / 2.0, MAX_DIFFERENT), 0.0)


def pairwise_jaro_winkler(
    a: pl.Series, b: pl.Series, *, score_cutoff: float | None = None
) -> np.ndarray:
    """Element-wise Jaro-Winkler similarity of two string series without nulls (float32).

    Name keys repeat a lot: when the distinct values of ``a`` times those of ``b`` are no more
    than the positions, they are scored once as a matrix (``cdist``) and each position takes
    its entry; otherwise each position is scored (``cpdist``). Same values either way.
    ``score_cutoff``: scores below it are 0.0 (rapidfuzz's).
    """
    _check_lengths(a, b)
    if not a.len():
        return np.zeros(0, dtype=np.float32)
    scorer = JaroWinkler.normalized_similarity
    ua, ub = a.unique().sort(), b.unique().sort()
    if ua.len() * ub.len() > a.len():
        sims = process.cpdist(
            a.to_list(), b.to_list(), scorer=scorer, workers=-1, score_cutoff=score_cutoff
        )
        return np.asarray(sims)
    matrix = process.cdist(
        ua.to_list(), ub.to_list(), scorer=scorer, workers=-1, score_cutoff=score_cutoff
    )
    ia = a.cast(pl.Enum(ua)).to_physical().cast(pl.Int64).to_numpy()
    ib = b.cast(pl.Enum(ub)).to_physical().cast(pl.Int64).to_numpy()
    return np.asarray(matrix)[ia, ib]


#: A family-name prefix a record may drop (Ben Slimane / Slimane): ben, bel, bin, ibn, ould,
#: oulad and their transliterations from Arabic (بن → bn, بل → bl, ابن → ebn, ولد → wld).
DROPPABLE_PREFIX: Final[str] = r"\b(?:ben|bel|bin|ibn|ebn|bn|bl|ould|ouled|oulad|wld)([a-z]{3,})"
#: The same prefixes as transliterated from Arabic, glued to a ي or و: a vowel inside the word
#: (بنيحيى → ``bnihiei``), the consonant y or w at the start of the name once the prefix is gone
#: (يحيى → ``yhiei``).
ARABIC_PREFIX_Y: Final[str] = r"\b(?:ebn|bn|bl|wld)i([a-z]{2,})"
ARABIC_PREFIX_W: Final[str] = r"\b(?:ebn|bn|bl|wld)ou([a-z]{2,})"


def without_prefix_expr(form: pl.Expr) -> pl.Expr:
    """A Latin matching form without its Ben/Bel/Ibn/Ould prefix (the first one; unchanged when
    it has none): Benslimane → slimane, بنيحيى (``bnihiei``) → ``yhiei``."""
    return (
        pl.when(form.str.contains(ARABIC_PREFIX_Y))
        .then(form.str.replace(ARABIC_PREFIX_Y, "y${1}"))
        .when(form.str.contains(ARABIC_PREFIX_W))
        .then(form.str.replace(ARABIC_PREFIX_W, "w${1}"))
        .otherwise(form.str.replace(DROPPABLE_PREFIX, "${1}"))
    )


def _hits(same: pl.Series, rows: pl.Series) -> pl.Series:
    return rows.filter(same.fill_null(False))


def _dropped_prefix_rows(part: pl.DataFrame) -> pl.Series:
    """Rows of ``part`` (``a``, ``b``, ``row``) that are one name once a prefix is dropped."""
    part = part.with_columns(
        a2=without_prefix_expr(pl.col("a")),
        b2=without_prefix_expr(pl.col("b")),
    )
    found = []
    for left, right, changed in (("a2", "b", "a"), ("a", "b2", "b")):
        todo = part.filter(pl.col(f"{changed}2") != pl.col(changed))
        if todo.height:
            same = _same_name_frame(todo[left], todo[right], False)["same"]
            found.append(_hits(same, todo["row"]))
    return pl.concat(found) if found else pl.Series("row", [], dtype=pl.UInt32)


#: A token that is a patronymic (nasab) glued to its particle: Ben/Bent/Ibn/Ould + a name
#: (Ahmed Ben Mohamed → ``ahmed benmohamed``, أحمد بن محمد → ``ehmd bnmhmd``).
NASAB_TOKEN: Final[str] = r"^(?:ben|bent|bin|bint|ibn|ebn|bn|bnt|ould|wld)[a-z]{3,}$"


def _partial_compound_rows(part: pl.DataFrame) -> pl.Series:
    """Rows of ``part`` (``a``, ``b``, ``row``) that are a partial compound: every token of the
    name with fewer tokens is the same name as a token of the other, and the part they share
    is more than the other's first token — or the rest of the other is a patronymic.

    The first part of a Moroccan compound name is the common one (Mohamed Amine, Fatima Zahra;
    Alaoui Ismaili, Idrissi Qaitouni): "Fatima" and "Fatima Zahra" share only that, as do
    thousands of different people, while "Zahra" and "Fatima Zahra" share the part that tells
    the name apart. A shared first part counts when what follows it is a nasab (Ahmed / Ahmed
    Ben Mohamed). A one-letter token (M'hamed → ``m hamed``) is no part of a compound.
    """
    part = part.with_columns(ta=pl.col("a").str.split(" "), tb=pl.col("b").str.split(" "))
    real_parts = pl.element().str.len_chars() >= 2
    part = part.filter(
        (pl.col("ta").list.len() != pl.col("tb").list.len())
        & pl.col("ta").list.eval(real_parts).list.all()
        & pl.col("tb").list.eval(real_parts).list.all()
    )
    if not part.height:
        return pl.Series("row", [], dtype=pl.UInt32)
    shorter_a = part["ta"].list.len() < part["tb"].list.len()
    part = part.with_columns(
        short=pl.when(shorter_a).then(pl.col("ta")).otherwise(pl.col("tb")),
        long=pl.when(shorter_a).then(pl.col("tb")).otherwise(pl.col("ta")),
    )
    short = part.select("row", pl.col("short").alias("s")).explode("s").with_row_index("k")
    long = part.select(
        "row", t=pl.col("long"), j=pl.int_ranges(0, pl.col("long").list.len())
    ).explode("t", "j")
    pairs = short.join(long, on="row")
    pairs = pairs.with_columns(same=_same_name_frame(pairs["s"], pairs["t"], False)["same"])
    pairs = pairs.with_columns(pl.col("same").fill_null(False))
    covered = (
        pairs.group_by("row", "k")
        .agg(pl.col("same").any())
        .group_by("row")
        .agg(covered=pl.col("same").all())
    )
    tokens = pairs.group_by("row", "j").agg(
        matched=pl.col("same").any(), nasab=pl.col("t").first().str.contains(NASAB_TOKEN)
    )
    telling = tokens.group_by("row").agg(
        telling=(pl.col("matched") & (pl.col("j") > 0)).any()
        | (pl.col("matched") | pl.col("nasab")).all()
    )
    rows = covered.join(telling, on="row").filter(pl.col("covered") & pl.col("telling"))
    return rows["row"].cast(pl.UInt32)


#: :func:`pairwise_name_variant` checks its last few pairs (those whose keys allow a variant
#: and that are not the same name: a few hundred of a chunk's hundreds of thousands) in
#: Python, one pair at a time (:func:`~registry_link.names.one.variant_of`), when they are at
#: most this many: the polars check's queries cost 35-90 ms a call whatever their rows
#: (regular expressions compiled at each run, the tokens' new forms worked out), the Python
#: one 30-130 µs a pair (its forms' rows kept). The same values either way
#: (``tests/names/test_names_one.py``).
FEW_VARIANT_CHECKS = 1024


def _few_variant_rows(part: pl.DataFrame) -> pl.Series:
    """The rows of ``part`` (``a``, ``b``, ``row``) that are variants, decided in Python."""
    found = [row for x, y, row in part.iter_rows() if one.variant_of(x, y)]
    return pl.Series("row", found, dtype=pl.UInt32)


def _variant_candidates(pairs: _Pairs) -> np.ndarray:
    """Positions (of non-null pairs) that may be variants: a prefix-stripped key equals the
    other key, or the key of the name with fewer tokens is within the other's key."""
    valid = pairs.valid
    if not valid.any():
        return np.zeros(0, dtype=np.int64)
    ka, kb = pairs.array("key")
    pa, pb = pairs.array("prefix_key")
    prefix = ((pa >= 0) & (pa == kb)) | ((pb >= 0) & (ka == pb))
    na, nb = pairs.array("tokens")
    keep = valid & prefix
    rows = np.flatnonzero(valid & ~prefix & (na != nb))
    if rows.size:
        text_a, text_b = pairs.take(rows).strings("key_text")
        some = pl.DataFrame({"ka": text_a, "kb": text_b, "na": na[rows], "nb": nb[rows]})
        ka_, kb_, na_, nb_ = pl.col("ka"), pl.col("kb"), pl.col("na"), pl.col("nb")
        compound = (
            pl.when(na_ < nb_)
            .then(kb_.str.contains(ka_, literal=True))
            .when(nb_ < na_)
            .then(ka_.str.contains(kb_, literal=True))
            .otherwise(False)
        )
        keep[rows] = some.select(compound.fill_null(False)).to_series().to_numpy()
    return np.flatnonzero(keep)


def pairwise_name_variant(a: pl.Series, b: pl.Series) -> pl.Series:
    """Element-wise: two Latin matching forms are variants of one name (Boolean; null if
    either is null; false where they are the same name, :func:`pairwise_same_name`).

    Variants, weaker evidence than the same name:

    * a dropped prefix — one name is the other without its ``Ben``/``Bel``/``Ibn``/``Ould``
      prefix (Slimane / Ben Slimane, سليمان / بنسليمان);
    * a partial compound — every token of the name with fewer tokens is the same name as a
      token of the other, not only its first (common) part unless the rest is a patronymic
      (Zahra / Fatim Zahra, Amine / Mohamed Amine, Ahmed / Ahmed Ben Mohamed; not Fatima /
      Fatima Zahra: :func:`_partial_compound_rows`).

    Only the pairs whose keys allow it (:func:`_variant_candidates`) are checked in full.
    """
    _check_lengths(a, b)
    if len(a) <= FEW_PAIRS:
        return _each_pair(a, b, one.variant_of, "name_variant")
    a, b = a.cast(pl.Utf8), b.cast(pl.Utf8)
    out = pl.Series("name_variant", [False] * len(a), dtype=pl.Boolean)
    pairs = _coded(a, b, _form_table())
    candidates = _variant_candidates(pairs)
    if candidates.size:
        keep = candidates[~_same(pairs.take(candidates), False)]
        rows = pl.Series("row", keep, dtype=pl.UInt32)
        part = pl.DataFrame({"a": a.gather(rows), "b": b.gather(rows), "row": rows})
        if part.height <= FEW_VARIANT_CHECKS:
            hits = _few_variant_rows(part)
        else:
            hits = pl.concat([_dropped_prefix_rows(part), _partial_compound_rows(part)]).unique()
        if hits.len():
            out = out.scatter(hits, True)
    valid = a.is_not_null() & b.is_not_null()
    return out.set(~valid, None) if (~valid).any() else out


def matching_forms(names: pl.Series) -> pl.Series:
    """:func:`matching_form_expr` of each name (either script), once per distinct name — and,
    within :func:`remembered_forms`, once over all the calls that share its memo (a link asks
    for the forms of the same unsplit full names in every chunk)."""
    values = names.cast(pl.Utf8)
    uniq = values.unique().drop_nulls().to_frame("form")
    done = _per_form(
        uniq, "matching_form", lambda new: new.with_columns(out=matching_form_expr(pl.col("form")))
    )
    frame = values.to_frame("form").join(done, on="form", how="left", maintain_order="left")
    return frame["out"].alias(names.name)
