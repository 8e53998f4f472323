"""Element-wise string similarities and distances over aligned pairs of values.

Each helper takes two aligned :class:`polars.Series` and returns one value per position
(null when either side is null); rapidfuzz runs only on positions where both values are
present and differ (``process.cpdist``, ``workers=-1``), and pair functions can run once per
distinct pair of values (:func:`on_unique_pairs`) or of dictionary codes
(:func:`on_unique_codes`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from functools import cache, lru_cache, partial
from typing import Any, Final

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import OSA, DamerauLevenshtein, JaroWinkler

from registry_link.compare.engine import active_link_memo, active_pair_cache
from registry_link.names import pairwise_name_similarity
from registry_link.names.arabic import NORMALISE
from registry_link.names.keys import COLLAPSE_DOUBLES
from registry_link.names.latin import CLEAN
from registry_link.names.rewrite import Chain, Sub, chain_expr, chain_text
from registry_link.names.translit import TO_LATIN
from registry_link.standardise.gazetteer import town_aliases
from registry_link.standardise.names import arabic_only, arabic_only_expr
from registry_link.standardise.places import alias_key, alias_key_expr, alias_key_of


def _differing(a: pl.Series, b: pl.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks (both present, equal) and the positions where both are present and differ."""
    a = a.cast(pl.Utf8)
    b = b.cast(pl.Utf8)
    present = (a.is_not_null() & b.is_not_null()).to_numpy()
    eq = (a == b).fill_null(False).to_numpy()
    todo = np.flatnonzero(present & ~eq)
    return present, eq, todo


def _pairwise(
    a: pl.Series,
    b: pl.Series,
    scorer: Callable[..., Any],
    equal_value: float,
    dtype: type[np.generic],
    prefilter: Callable[[pl.Series, pl.Series], np.ndarray] | None = None,
    **kwargs: Any,
) -> np.ndarray:
    """Run a rapidfuzz scorer on differing, present positions; ``equal_value`` where equal.

    ``prefilter`` (with a distance scorer and ``score_cutoff``): a mask of the differing
    positions that may be within the cutoff; the others get ``score_cutoff + 1`` unscored.
    """
    present, eq, todo = _differing(a, b)
    out = np.zeros(len(a), dtype=dtype)
    out[eq] = equal_value
    if len(todo):
        idx = pl.Series(todo)
        sa, sb = a.cast(pl.Utf8).gather(idx), b.cast(pl.Utf8).gather(idx)
        if prefilter is not None:  # positions that cannot reach the cutoff get its cap
            possible = prefilter(sa, sb)
            out[todo[~possible]] = kwargs["score_cutoff"] + 1
            todo, sa, sb = todo[possible], sa.filter(possible), sb.filter(possible)
        out[todo] = process.cpdist(sa.to_list(), sb.to_list(), scorer=scorer, workers=-1, **kwargs)
    return out, present  # type: ignore[return-value]


def _may_be_one_edit_apart(a: pl.Series, b: pl.Series) -> np.ndarray:
    """False where two different strings are surely more than one edit apart (OSA > 1).

    One insertion, deletion, substitution or transposition of adjacent characters changes the
    length by at most one and touches at most two neighbouring positions, so two strings of
    at least 7 characters one edit apart agree on their first three or on their last three
    characters (the untouched side of the edit is at least 3 long). A cheap exact filter
    before the edit distance: ID numbers of different persons mostly fail it.
    """
    frame = pl.DataFrame({"a": a, "b": b})
    la, lb = (pl.col(c).str.len_chars().cast(pl.Int64) for c in ("a", "b"))
    head = pl.col("a").str.head(3) == pl.col("b").str.head(3)
    tail = pl.col("a").str.tail(3) == pl.col("b").str.tail(3)
    possible = ((la - lb).abs() <= 1) & ((pl.min_horizontal(la, lb) < 7) | head | tail)
    return frame.select(possible.fill_null(True)).to_series().to_numpy()


def as_strings(values: pl.Series) -> pl.Series:
    """``values`` as strings when they are coded (``Enum``, ``Categorical``), else as they are."""
    return values.cast(pl.Utf8) if isinstance(values.dtype, (pl.Enum, pl.Categorical)) else values


def on_unique_pairs(
    a: pl.Series, b: pl.Series, fn: Callable[[pl.Series, pl.Series], pl.Series]
) -> pl.Series:
    """Apply an element-wise pair function once per distinct (a, b) value pair.

    Names repeat a lot among candidate pairs, so scoring distinct pairs and joining the
    result back is much cheaper than scoring every pair. Nulls propagate.
    """
    frame = pl.DataFrame({"a": a.cast(pl.Utf8), "b": b.cast(pl.Utf8)})
    uniq = frame.drop_nulls().unique()
    if uniq.height >= frame.height * 0.8:
        return fn(frame["a"], frame["b"])
    scored = uniq.with_columns(fn(uniq["a"], uniq["b"]).alias("__v"))
    return frame.join(scored, on=["a", "b"], how="left", maintain_order="left")["__v"]


def on_unique_codes(
    a: pl.Series,
    b: pl.Series,
    codes_a: pl.Series,
    codes_b: pl.Series,
    fn: Callable[[pl.Series, pl.Series], pl.Series],
    cache_key: Hashable | None = None,
) -> pl.Series:
    """:func:`on_unique_codes_each` of one function."""
    return on_unique_codes_each(a, b, codes_a, codes_b, (fn,), cache_key)[0]


def on_unique_codes_each(
    a: pl.Series,
    b: pl.Series,
    codes_a: pl.Series,
    codes_b: pl.Series,
    fns: Sequence[Callable[[pl.Series, pl.Series], pl.Series]],
    cache_key: Hashable | None = None,
) -> list[pl.Series]:
    """Like :func:`on_unique_pairs`, with the values' dictionary codes as the pair identity.

    ``codes_a``/``codes_b`` identify the values of ``a``/``b`` (equal code ⇔ equal value,
    nulls included; ``a``/``b`` may be coded, as the shared ``Enum``: ``fns`` get the
    distinct pairs' values as strings), so distinct pairs are found by hashing one integer
    per pair instead of two strings. ``fn`` runs once per distinct pair (on the first
    position holding it); within a :class:`~registry_link.compare.engine.CompareEngine` call
    with a pair cache
    (:func:`~registry_link.compare.engine.active_pair_cache`) and a ``cache_key``, once per
    distinct pair over all the chunks with that key.

    Several functions ``fns`` of the same pairs (one value each per pair): one pass finds
    their distinct pairs and joins every function's values back (a list, in the order of
    ``fns``); a ``cache_key`` then names the table of all of them.

    The cache's table is kept sorted by pair key (:func:`_cached_values`): a chunk finds its
    distinct pairs in it by binary search and joins its pairs to a table of its own distinct
    pairs only, so that its cost does not grow with the pairs earlier chunks scored.
    """
    key = codes_a.cast(pl.UInt64) * (1 << 32) + codes_b.cast(pl.UInt64)
    first = key.arg_unique()
    cache = active_pair_cache()
    names = [f"v{i}" for i in range(len(fns))]

    def scored(rows: pl.Series) -> pl.DataFrame:
        ga, gb = as_strings(a.gather(rows)), as_strings(b.gather(rows))
        values = {n: fn(ga, gb) for n, fn in zip(names, fns, strict=True)}
        return pl.DataFrame({"k": key.gather(rows), **values})

    if cache is None or cache_key is None:
        if first.len() >= a.len() * 0.8:
            return [fn(as_strings(a), as_strings(b)) for fn in fns]
        table = scored(first)
    else:
        table = _cached_values(cache, cache_key, key, first, scored)
    joined = key.to_frame("k").join(table, on="k", how="left", maintain_order="left")
    return [joined.get_column(n).alias("v") for n in names]


def _cached_values(
    cache: dict[Hashable, pl.DataFrame],
    cache_key: Hashable,
    key: pl.Series,
    first: pl.Series,
    scored: Callable[[pl.Series], pl.DataFrame],
) -> pl.DataFrame:
    """``{k, v0 ...}`` of the distinct pair keys ``key.gather(first)``: those in
    ``cache[cache_key]`` taken from it, the others ``scored`` (at their positions ``first``)
    and added to it.

    The cache's table is sorted by ``k`` (its first chunk's is sorted when a second one
    comes): a chunk's distinct keys are looked up by binary search and its new pairs merged in
    in linear time, not hashed against every pair the call has scored so far."""
    known = cache.get(cache_key)
    if known is None:
        table = scored(first)
        cache[cache_key] = table
        return table
    if not known.get_column("k").is_sorted():
        known = known.sort("k")
    wanted = key.gather(first).to_numpy()
    keys = known.get_column("k").to_numpy()
    at = np.searchsorted(keys, wanted)
    found = at < len(keys)
    found[found] = keys[at[found]] == wanted[found]
    if found.all():
        cache[cache_key] = known
        return known.gather(at)
    new = scored(first.filter(pl.Series(~found))).sort("k")
    if new.schema == known.schema:
        cache[cache_key] = known.merge_sorted(new, "k")
    else:  # (a column all null so far: its type is settled now)
        cache[cache_key] = pl.concat([known, new], how="vertical_relaxed").sort("k")
    if not found.any():
        return new
    return pl.concat([known.gather(at[found]), new], how="vertical_relaxed")


def jaro_winkler_similarity(a: pl.Series, b: pl.Series) -> pl.Series:
    """Element-wise Jaro-Winkler similarity in [0, 1]; null where either value is null."""
    return on_unique_pairs(a, b, jaro_winkler_each)


def jaro_winkler_each(a: pl.Series, b: pl.Series) -> pl.Series:
    """:func:`jaro_winkler_similarity` position by position, for values already distinct."""
    values, present = _pairwise(a, b, JaroWinkler.normalized_similarity, 1.0, np.float64)
    return pl.Series("jaro_winkler", values, dtype=pl.Float64).scatter(
        np.flatnonzero(~present), None
    )


def damerau_levenshtein_distance(a: pl.Series, b: pl.Series, cutoff: int = 3) -> pl.Series:
    """Element-wise Damerau-Levenshtein distance (capped at ``cutoff + 1``); null if a null."""
    values, present = _pairwise(a, b, DamerauLevenshtein.distance, 0, np.int32, score_cutoff=cutoff)
    return pl.Series("damerau_levenshtein", values, dtype=pl.Int32).scatter(
        np.flatnonzero(~present), None
    )


def osa_distance(a: pl.Series, b: pl.Series, cutoff: int = 3) -> pl.Series:
    """Element-wise optimal-string-alignment distance (capped at ``cutoff + 1``); null if a null.

    OSA is the restricted Damerau-Levenshtein distance: insertions, deletions, substitutions
    and transpositions of adjacent characters, no substring edited twice. It equals the
    Damerau-Levenshtein distance up to 1 (and almost always at 2), and is about 3x faster.
    """
    prefilter = _may_be_one_edit_apart if cutoff == 1 else None
    values, present = _pairwise(
        a, b, OSA.distance, 0, np.int32, prefilter=prefilter, score_cutoff=cutoff
    )
    return pl.Series("osa", values, dtype=pl.Int32).scatter(np.flatnonzero(~present), None)


def name_similarity(a: pl.Series, b: pl.Series, *, score_cutoff: float | None = None) -> pl.Series:
    """Element-wise similarity of Latin matching forms of names, in [0, 1]; null if a null.

    :func:`registry_link.names.pairwise_name_similarity`, once per distinct pair of values;
    ``score_cutoff``: a similarity below it is 0.0, for less work (a comparison's levels ask
    only whether it reaches their thresholds: the lowest is the cutoff).
    """
    return on_unique_pairs(a, b, partial(name_similarity_each, score_cutoff=score_cutoff))


def name_similarity_each(
    a: pl.Series, b: pl.Series, *, score_cutoff: float | None = None
) -> pl.Series:
    """:func:`name_similarity` position by position, for values already distinct."""
    return pairwise_name_similarity(a, b, score_cutoff=score_cutoff).cast(pl.Float64)


#: :func:`max_token_similarity` scores every (distinct probe, distinct token) combination
#: at once when there are at most this many per (exploded) token position.
TOKEN_MATRIX_MAX_RATIO = 4


def max_token_similarity(probe: pl.Series, tokens: pl.Series) -> pl.Series:
    """Per position, the best Jaro-Winkler similarity of ``probe`` to any of ``tokens``.

    ``tokens`` is a list column. Null when the probe is null or the list is null/empty.
    Vectorised: the lists are exploded and scored against the probes. Probes and tokens
    repeat (name keys), so when the distinct probes x distinct tokens are few enough (see
    :data:`TOKEN_MATRIX_MAX_RATIO`) they are scored once as a matrix (``cdist``) and each
    position takes the maximum over its tokens' entries (:func:`_max_token_similarity_matrix`);
    otherwise distinct (probe, token) pairs are scored (:func:`_max_token_similarity_pairs`).
    Both give the same values.
    """
    frame = pl.DataFrame({"probe": probe.cast(pl.Utf8), "tok": tokens}).with_row_index("i")
    long = frame.explode("tok").drop_nulls(["probe", "tok"])
    probes = long.get_column("probe").unique().sort()
    toks = long.get_column("tok").unique().sort()
    if probes.len() * toks.len() <= TOKEN_MATRIX_MAX_RATIO * max(long.height, 1):
        best = _max_token_similarity_matrix(long, probes, toks)
    else:
        best = _max_token_similarity_pairs(long)
    out = pl.repeat(None, frame.height, dtype=pl.Float64, eager=True)
    return out.scatter(best.get_column("i"), best.get_column("sim")).alias("max_token_similarity")


def _max_token_similarity_pairs(long: pl.DataFrame) -> pl.DataFrame:
    """``{i, sim}``: per position ``i`` of the exploded ``{i, probe, tok}``, the best score,
    scoring each distinct (probe, token) pair."""
    sims = jaro_winkler_similarity(long["probe"], long["tok"])
    return long.select("i").with_columns(sim=sims).group_by("i").agg(pl.col("sim").max())


def _max_token_similarity_matrix(
    long: pl.DataFrame, probes: pl.Series, toks: pl.Series
) -> pl.DataFrame:
    """Like :func:`_max_token_similarity_pairs`, through a distinct-probe x distinct-token
    similarity matrix (one ``cdist`` call) and a per-position maximum (``i`` ascending, as
    :meth:`polars.DataFrame.explode` leaves it). ``probes``/``toks``: the distinct values.
    """
    if long.height == 0:
        return pl.DataFrame(schema={"i": pl.UInt32, "sim": pl.Float64})
    matrix = np.asarray(
        process.cdist(
            probes.to_list(), toks.to_list(), scorer=JaroWinkler.normalized_similarity, workers=-1
        ),
        dtype=np.float64,
    )
    codes = long.select(
        p=pl.col("probe").cast(pl.Enum(probes)).to_physical().cast(pl.Int64),
        t=pl.col("tok").cast(pl.Enum(toks)).to_physical().cast(pl.Int64),
    )
    pi, ti = codes.get_column("p").to_numpy(), codes.get_column("t").to_numpy()
    # equal strings score 1.0, as in jaro_winkler_similarity (not left to the scorer)
    same = (
        probes.to_frame("v")
        .with_row_index("p")
        .join(toks.to_frame("v").with_row_index("t"), on="v", how="inner")
    )
    matrix[same.get_column("p").to_numpy(), same.get_column("t").to_numpy()] = 1.0
    sim = matrix[pi, ti]
    i = long.get_column("i").to_numpy()
    starts = np.flatnonzero(np.r_[True, i[1:] != i[:-1]])
    return pl.DataFrame(
        {"i": i[starts], "sim": np.maximum.reduceat(sim, starts)},
        schema={"i": pl.UInt32, "sim": pl.Float64},
    )


#: A place's Latin spelling made its consonants: letters only, vowels dropped, doubled letters
#: written once (:func:`place_spelling`).
CONSONANTS: Final[Chain] = (Sub(r"[^a-z]+", ""), Sub(r"[aeiou]+", ""), *COLLAPSE_DOUBLES)

#: The Latin spelling of a place written in Arabic only: normalised, then transliterated
#: (which normalises again), as :func:`~registry_link.standardise.names.latin_form_expr`
#: reads Arabic; a place in another script is cleaned only (:data:`~.latin.CLEAN`).
FROM_ARABIC: Final[Chain] = NORMALISE + NORMALISE + TO_LATIN

#: :func:`place_spelling_distance` reads the spellings of calls of at most this many pairs in
#: Python (:func:`place_spelling_of`: a search's new pairs), of larger calls with polars. The
#: same values either way.
FEW_PLACE_PAIRS = 128

#: Places whose spelling :func:`place_spelling_of` keeps (places repeat from one search to the
#: next).
PLACE_SPELLINGS_KEPT = 65536


def place_spelling(values: pl.Series) -> pl.Series:
    """The consonants of place names as spelled, that :func:`place_spelling_distance`
    compares: Latin lowercase without accents (Arabic transliterated), articles and particles
    kept, letters only, vowels dropped and doubled letters written once (``"Leqliaa"`` and
    ``"Lqliaa"`` -> ``"lql"``); null for a null value and for a place the gazetteer knows
    (:mod:`registry_link.standardise.gazetteer`: its spellings already share one key, and two
    of its towns are different places however alike their names).

    Unlike the cross-script key, which reads an initial ``L`` before a consonant as the article
    (``Lqliaa`` -> ``kl``), nothing is dropped but vowels, so vowel spellings do not matter.
    """
    return values.cast(pl.Utf8).to_frame("place").select(_place_spelling_expr()).to_series()


@cache
def _place_spelling_expr() -> pl.Expr:
    """:func:`place_spelling` of the column ``place``, built once (the chains' expressions and
    the gazetteer's keys cost milliseconds to build, at every chunk of every call)."""
    e = pl.col("place")
    latin = (
        pl.when(arabic_only_expr(e))
        .then(chain_expr(FROM_ARABIC, e))
        .otherwise(chain_expr(CLEAN, e))
    )
    keys = pl.Series(sorted(_gazetteer_keys()), dtype=pl.Utf8)
    known = alias_key_expr(e).is_in(keys.implode())
    return pl.when(~known).then(chain_expr(CONSONANTS, latin)).alias("place")


@lru_cache(maxsize=PLACE_SPELLINGS_KEPT)
def place_spelling_of(value: str | None) -> str | None:
    """:func:`place_spelling` of one value, in Python (the same chains; kept per value)."""
    if value is None or alias_key_of(value) in _gazetteer_keys():
        return None
    latin = chain_text(FROM_ARABIC if arabic_only(value) else CLEAN, value)
    return chain_text(CONSONANTS, latin)


@cache
def _gazetteer_keys() -> frozenset[str]:
    return frozenset(alias_key(name) for name in town_aliases())


#: Spellings' consonants shorter than this are alike only when equal (one edit is too much).
PLACE_MIN_FUZZY_LENGTH = 4


def place_spelling_distance(a: pl.Series, b: pl.Series) -> pl.Series:
    """Element-wise edit distance (optimal string alignment, capped at 2) of two places'
    consonants as spelled (:func:`place_spelling`); null where either is null (or known to
    the gazetteer). Consonants shorter than :data:`PLACE_MIN_FUZZY_LENGTH` are 0 apart when
    equal, else 2. Each distinct place is spelled once; a call of at most
    :data:`FEW_PLACE_PAIRS` pairs is read in Python, pair by pair
    (:func:`_few_place_spelling_distance`), the same values.

    The cross-script key drops every vowel and reads some initials as articles, so a vowel
    written or not can change it (Leqliaa -> ``lkl``, Lqliaa -> ``kl``); the consonants as
    spelled stay the same.
    """
    if a.len() <= FEW_PLACE_PAIRS:
        return _few_place_spelling_distance(a, b)
    names = pl.concat([a.cast(pl.Utf8), b.cast(pl.Utf8)]).unique().drop_nulls()
    table = _place_spellings(names)
    sa = a.cast(pl.Utf8).replace_strict(table, default=None, return_dtype=pl.Utf8)
    sb = b.cast(pl.Utf8).replace_strict(table, default=None, return_dtype=pl.Utf8)
    distance = osa_distance(sa, sb, cutoff=1)
    short = (sa.str.len_chars() < PLACE_MIN_FUZZY_LENGTH) | (
        sb.str.len_chars() < PLACE_MIN_FUZZY_LENGTH
    )
    return (
        pl.select(pl.when(short & (sa != sb)).then(pl.lit(2)).otherwise(distance))
        .to_series()
        .cast(pl.Int32)
        .alias("distance")
    )


#: The link memo's key of the places spelled so far (see :func:`_place_spellings`).
_PLACE_SPELLINGS = "place_spellings"


def _place_spellings(names: pl.Series) -> dict[str, str | None]:
    """:func:`place_spelling` of distinct place ``names`` (no nulls), each name's.

    Within an engine's link (:func:`~registry_link.compare.engine.active_link_memo`), a place
    is spelled once for all its chunks and calls: running the chains' expression costs
    ≈ 15 ms whatever the number of places (its regular expressions are compiled at each run),
    and the same few thousand places recur in every chunk.
    """
    memo = active_link_memo()
    if memo is None:
        return dict(zip(names.to_list(), place_spelling(names).to_list(), strict=True))
    kept: dict[str, str | None] = memo.setdefault(_PLACE_SPELLINGS, {})
    wanted = names.to_list()
    new = [name for name in wanted if name not in kept]
    if new:  # (two threads may both spell a place: the same spelling)
        spelled = place_spelling(pl.Series(new, dtype=pl.Utf8)).to_list()
        kept.update(zip(new, spelled, strict=True))
    return {name: kept[name] for name in wanted}


def _few_place_spelling_distance(a: pl.Series, b: pl.Series) -> pl.Series:
    """:func:`place_spelling_distance` of a few pairs, in Python: each place spelled by
    :func:`place_spelling_of`, each pair's distance by :func:`spelling_distance_of`."""
    xs, ys = a.cast(pl.Utf8).to_list(), b.cast(pl.Utf8).to_list()
    values = [
        spelling_distance_of(place_spelling_of(x), place_spelling_of(y))
        for x, y in zip(xs, ys, strict=True)
    ]
    return pl.Series("distance", values, dtype=pl.Int32)


def spelling_distance_of(a: str | None, b: str | None) -> int | None:
    """The distance :func:`place_spelling_distance` gives two spellings' consonants
    (:func:`place_spelling_of`): null when either is null, 2 when they differ and either is
    shorter than :data:`PLACE_MIN_FUZZY_LENGTH`, else their OSA distance capped at 2 (as
    :func:`osa_distance` with ``cutoff=1``)."""
    if a is None or b is None:
        return None
    if a == b:
        return 0
    if min(len(a), len(b)) < PLACE_MIN_FUZZY_LENGTH:
        return 2
    return int(OSA.distance(a, b, score_cutoff=1))
