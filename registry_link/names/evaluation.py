"""Measure the name matcher on tables of (Arabic, Latin) name pairs.

Used by ``benchmarks/bench_name_pairs.py`` and by the tests that guard the goals.

* **Project table** (``tests/data/moroccan_name_pairs.tsv``: ``concept, kind, arabic, latin``):
  true Arabic↔Latin pairs are its rows; true Latin↔Latin pairs are every two different Latin
  spellings of one concept. Different-name pairs are *all* cross-concept pairs of the same
  kind (given with given, family with family), so confusable names (Amine/Amina, Said/Saad)
  always count; nothing is sampled.
* **Public sets** (one file of ``arabic, latin, native_hint``): true pairs are its rows;
  different pairs pair each row's Arabic with the Latin of another row, after a seeded
  shuffle (numpy ``default_rng(seed)``), skipping the few draws whose Latin equals the row's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from registry_link.errors import InputError
from registry_link.names.keys import name_key_expr
from registry_link.names.matcher import (
    matching_form_expr,
    pairwise_name_variant,
    pairwise_same_name,
)

#: A decision function over two Series of raw names (either script) → Boolean Series.
Decider = Callable[[pl.Series, pl.Series], pl.Series]


@dataclass(frozen=True)
class Rates:
    """Share of true pairs judged the same, and of different-name pairs judged the same."""

    true_pairs: int
    recall: float
    different_pairs: int
    false_positive_rate: float


def project_decider(a: pl.Series, b: pl.Series, glued_article: bool = False) -> pl.Series:
    """The project's decision on raw names: matching forms, then :func:`pairwise_same_name`."""
    forms = pl.DataFrame({"a": a, "b": b}).select(
        matching_form_expr(pl.col("a")), matching_form_expr(pl.col("b"))
    )
    same = pairwise_same_name(forms["a"], forms["b"], glued_article=glued_article)
    return same.fill_null(False)


def same_or_variant_decider(a: pl.Series, b: pl.Series) -> pl.Series:
    """The name comparison's agreement at its "variant" level or above: the same name
    (:func:`project_decider`) or a variant of it (:func:`pairwise_name_variant`)."""
    forms = pl.DataFrame({"a": a, "b": b}).select(
        matching_form_expr(pl.col("a")), matching_form_expr(pl.col("b"))
    )
    variant = pairwise_name_variant(forms["a"], forms["b"]).fill_null(False)
    return project_decider(a, b) | variant


#: A family name's Ben/Bel prefix as a record may drop it (not the doubled letter of Bennani,
#: Bellahcen): the rest of the name.
_BEN_PREFIX = r"^(?i:ben|bel)[ -]?([^nNlL \-][a-z]{2,}.*)$"


def project_dropped_prefix(table: pl.DataFrame, decider: Decider) -> Rates:
    """Rates of ``decider`` on the family names of the project table with a Ben/Bel prefix
    written without it (true pairs: the row's Arabic and its Latin with the Latin without the
    prefix, Ben Slimane → Slimane) against all cross-concept family pairs (Arabic↔Latin)."""
    family = table.filter(pl.col("kind") == "family")
    rest = pl.col("latin").str.extract(_BEN_PREFIX, 1)
    dropped = family.with_columns(short=rest).drop_nulls("short")
    true = pl.concat([dropped.select(a="arabic", b="short"), dropped.select(a="latin", b="short")])
    ar = family.select("concept", a="arabic").unique()
    la = family.select("concept", b="latin").unique()
    diff = ar.join(la, how="cross").filter(pl.col("concept") != pl.col("concept_right"))
    return _rates(decider, true, diff.select("a", "b"))


def family_decider(a: pl.Series, b: pl.Series) -> pl.Series:
    """:func:`project_decider` with ``glued_article=True`` (the setting for family names)."""
    return project_decider(a, b, glued_article=True)


def load_pair_table(path: str | Path) -> pl.DataFrame:
    """Read the project pair table (TSV with ``concept, kind, arabic, latin``)."""
    path = Path(path)
    try:
        frame = pl.read_csv(path, separator="\t", infer_schema=False, quote_char=None)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(str(path), f"cannot read the pair table: {exc}") from exc
    missing = {"concept", "kind", "arabic", "latin"} - set(frame.columns)
    if missing:
        raise InputError(str(path), f"missing columns {sorted(missing)}", expected="a TSV header")
    return frame


def _decide_unique(decider: Decider, a: pl.Series, b: pl.Series) -> np.ndarray:
    """Decide on distinct (a, b) pairs only, then map back (pairs repeat a lot)."""
    pairs = pl.DataFrame({"a": a, "b": b})
    uniq = pairs.unique(maintain_order=True)
    decided = uniq.with_columns(same=decider(uniq["a"], uniq["b"]).fill_null(False))
    return pairs.join(decided, on=["a", "b"], how="left", maintain_order="left")["same"].to_numpy()


def _rates(decider: Decider, true: pl.DataFrame, diff: pl.DataFrame) -> Rates:
    t = _decide_unique(decider, true["a"], true["b"]) if len(true) else np.zeros(0, bool)
    d = _decide_unique(decider, diff["a"], diff["b"]) if len(diff) else np.zeros(0, bool)
    return Rates(
        true_pairs=len(t),
        recall=float(t.mean()) if len(t) else float("nan"),
        different_pairs=len(d),
        false_positive_rate=float(d.mean()) if len(d) else float("nan"),
    )


def project_arabic_latin(table: pl.DataFrame, decider: Decider = project_decider) -> Rates:
    """Arabic↔Latin rates on the project table."""
    true = table.select(a="arabic", b="latin")
    ar = table.select("concept", "kind", a="arabic").unique()
    la = table.select("concept", "kind", b="latin").unique()
    diff = ar.join(la, on="kind").filter(pl.col("concept") != pl.col("concept_right"))
    return _rates(decider, true, diff.select("a", "b"))


def project_latin_latin(table: pl.DataFrame, decider: Decider = project_decider) -> Rates:
    """Latin↔Latin rates on the project table (two spellings of one concept vs other concepts)."""
    la = table.select("concept", "kind", "latin").unique()
    both = la.join(la, on="kind").filter(pl.col("latin") < pl.col("latin_right"))
    true = both.filter(pl.col("concept") == pl.col("concept_right"))
    diff = both.filter(pl.col("concept") != pl.col("concept_right"))
    return _rates(
        decider,
        true.select(a="latin", b="latin_right"),
        diff.select(a="latin", b="latin_right"),
    )


def shuffled_different_pairs(frame: pl.DataFrame, seed: int = 20240601) -> pl.DataFrame:
    """Each row's Arabic with the Latin of a row drawn by a seeded permutation (a, b)."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(frame))
    other = frame["latin"].gather(perm)
    diff = pl.DataFrame({"a": frame["arabic"], "b": other, "own": frame["latin"]})
    return diff.filter(pl.col("b") != pl.col("own")).select("a", "b")


def public_set_rates(
    frame: pl.DataFrame, decider: Decider = project_decider, seed: int = 20240601
) -> Rates:
    """Rates on one public file (or a slice of it): rows true, shuffled rows different."""
    true = frame.select(a="arabic", b="latin")
    return _rates(decider, true, shuffled_different_pairs(frame, seed))


def key_of(names: pl.Series) -> pl.Series:
    """Keys of raw names in either script (helper for reports)."""
    return pl.select(name_key_expr(matching_form_expr(pl.lit(names)))).to_series()
