"""Either-script matching forms, and the same-name decision and similarity.

* :func:`matching_form_expr` routes a value to :func:`arabic_to_latin_expr` when it contains
  an Arabic letter, else to :func:`normalise_latin_expr`.
* Two matching forms are the **same name** when their keys are equal and their endings do
  not contradict: a form ending in an *a* sound (a, aa, ae, ah: Amina, Saida, Wafae) never
  matches one ending in a consonant or a consonant + mute e (Amine, Said) — the masculine /
  feminine pairs the consonant key cannot tell apart. Endings in i, ou, y, h or ie are
  neutral (an Arabic final ي may be a folded ى).
* :func:`pairwise_name_similarity` is 1.0 for the same name, otherwise a string similarity
  in [0, 1) of the keys and forms (rapidfuzz, element-wise, multi-threaded).

The scalar functions run the vectorised code on a one-row frame, so both always agree.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from registry_link.names.arabic import contains_arabic_expr
from registry_link.names.keys import name_key_expr
from registry_link.names.latin import normalise_latin_expr
from registry_link.names.translit import arabic_to_latin_expr

#: Similarity below 1.0 is capped here so that only the same name scores 1.0.
_MAX_DIFFERENT = 0.99


def matching_form_expr(e: pl.Expr) -> pl.Expr:
    """Latin matching form of a name in either script (Arabic is transliterated)."""
    return (
        pl.when(contains_arabic_expr(e))
        .then(arabic_to_latin_expr(e))
        .otherwise(normalise_latin_expr(e))
    )


def _scalar(expr: pl.Expr, name: str | None) -> str | None:
    if name is None:
        return None
    value = pl.select(expr.alias("v")).item()
    return None if value is None else str(value)


def matching_form(name: str | None) -> str | None:
    """Latin matching form of one name in either script (None for None or empty)."""
    return _scalar(matching_form_expr(pl.lit(name, dtype=pl.Utf8)), name)


def name_key(name: str | None) -> str | None:
    """Cross-script phonetic key of one name in either script (None for None or empty)."""
    return _scalar(name_key_expr(matching_form_expr(pl.lit(name, dtype=pl.Utf8))), name)


def _forms(a: str | None, b: str | None) -> tuple[pl.Series, pl.Series]:
    frame = pl.DataFrame({"a": [a], "b": [b]}, schema={"a": pl.Utf8, "b": pl.Utf8})
    out = frame.select(matching_form_expr(pl.col("a")), matching_form_expr(pl.col("b")))
    return out["a"], out["b"]


def same_name(a: str | None, b: str | None) -> bool:
    """Whether two names in either script are the same name (False if either is missing)."""
    fa, fb = _forms(a, b)
    return bool(pairwise_same_name(fa, fb).fill_null(False).item())


def name_similarity(a: str | None, b: str | None) -> float:
    """Similarity of two names in either script in [0, 1]: 1.0 same name, 0.0 if missing."""
    fa, fb = _forms(a, b)
    value = pairwise_name_similarity(fa, fb).item()
    return 0.0 if value is None else float(value)


def ending_class_expr(e: pl.Expr) -> pl.Expr:
    """Ending class of a Latin matching form: ``"A"`` (a sound), ``"C"`` (consonant), or null."""
    return (
        pl.when(e.str.contains(r"a[aeh]?$"))
        .then(pl.lit("A"))
        .when(e.str.contains(r"[b-df-gj-np-tv-z]e?$"))
        .then(pl.lit("C"))
        .otherwise(pl.lit(None, dtype=pl.Utf8))
    )


def same_name_expr(form_a: pl.Expr, form_b: pl.Expr) -> pl.Expr:
    """Boolean expression: two Latin matching forms are the same name (null if either null)."""
    ea, eb = ending_class_expr(form_a), ending_class_expr(form_b)
    clash = ((ea == "A") & (eb == "C")) | ((ea == "C") & (eb == "A"))
    return (name_key_expr(form_a) == name_key_expr(form_b)) & ~clash.fill_null(False)


def _keys(a: pl.Series, b: pl.Series) -> pl.DataFrame:
    frame = pl.DataFrame({"a": a, "b": b}, schema={"a": pl.Utf8, "b": pl.Utf8})
    return frame.with_columns(
        ka=name_key_expr(pl.col("a")),
        kb=name_key_expr(pl.col("b")),
    )


def _check_lengths(a: pl.Series, b: pl.Series) -> None:
    if len(a) != len(b):
        # programming error of the caller, not a user error
        raise ValueError(f"series lengths differ: {len(a)} and {len(b)}")


def pairwise_same_name(a: pl.Series, b: pl.Series) -> pl.Series:
    """Element-wise same-name decision on Latin matching forms (Boolean; null if either null)."""
    _check_lengths(a, b)
    frame = pl.DataFrame({"a": a, "b": b}, schema={"a": pl.Utf8, "b": pl.Utf8})
    return frame.select(same_name_expr(pl.col("a"), pl.col("b")).alias("same_name")).to_series()


def pairwise_name_similarity(a: pl.Series, b: pl.Series) -> pl.Series:
    """Element-wise similarity in [0, 1] of Latin matching forms (Float64; null if either null).

    1.0 when the names are the same (:func:`pairwise_same_name`), otherwise the mean of the
    Jaro-Winkler similarities of the keys and of the forms, capped below 1.0.
    """
    _check_lengths(a, b)
    frame = _keys(a, b)
    same = frame.select(same_name_expr(pl.col("a"), pl.col("b"))).to_series()
    valid = (frame["a"].is_not_null() & frame["b"].is_not_null()).to_numpy()
    ka = frame["ka"].fill_null("").to_list()
    kb = frame["kb"].fill_null("").to_list()
    fa = frame["a"].fill_null("").to_list()
    fb = frame["b"].fill_null("").to_list()
    sim = np.zeros(len(frame), dtype=np.float64)
    if len(frame):
        sk = process.cpdist(ka, kb, scorer=JaroWinkler.normalized_similarity, workers=-1)
        sf = process.cpdist(fa, fb, scorer=JaroWinkler.normalized_similarity, workers=-1)
        sim = np.minimum((np.asarray(sk) + np.asarray(sf)) / 2.0, _MAX_DIFFERENT)
    sim = np.where(same.fill_null(False).to_numpy(), 1.0, sim)
    out = pl.Series("name_similarity", sim, dtype=pl.Float64)
    return out.set(pl.Series(~valid), None) if (~valid).any() else out
