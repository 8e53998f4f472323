"""Compute comparison vectors over candidate pairs, vectorised and chunked.

:func:`compare` gathers only the columns the comparisons read, as ``l_<col>``/``r_<col>``,
computes each comparison's derived columns (string similarities with rapidfuzz
``process.cpdist`` over all pairs at once, ``workers=-1``) and evaluates the level
predicates as one polars ``when/then`` chain per comparison. No per-pair Python loop.

The similarity helpers here take two aligned :class:`polars.Series` and return one value per
position (null when either side is null); they only call rapidfuzz on positions where both
values are present and differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import OSA, DamerauLevenshtein, JaroWinkler

from registry_link.comparison.levels import Comparison
from registry_link.errors import LinkageError

#: Pairs processed per chunk by :func:`compare` (bounds the gathered frame's memory).
DEFAULT_CHUNK_SIZE = 2_000_000


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


def code_column(column: str) -> str:
    """Name of the dictionary-code column :func:`compare` adds beside a gathered column."""
    return f"__code_{column}"


def on_unique_codes(
    a: pl.Series,
    b: pl.Series,
    codes_a: pl.Series,
    codes_b: pl.Series,
    fn: Callable[[pl.Series, pl.Series], pl.Series],
) -> pl.Series:
    """Like :func:`on_unique_pairs`, with the values' dictionary codes as the pair identity.

    ``codes_a``/``codes_b`` identify the values of ``a``/``b`` (equal code ⇔ equal value,
    nulls included), so distinct pairs are found by hashing one integer per pair instead of
    two strings. ``fn`` runs once per distinct pair (on the first position holding it).
    """
    width = int(codes_b.cast(pl.UInt64).max() or 0) + 1  # type: ignore[arg-type]
    key = codes_a.cast(pl.UInt64) * width + codes_b.cast(pl.UInt64)
    first = key.arg_unique()
    if first.len() >= a.len() * 0.8:
        return fn(a, b)
    values = fn(a.gather(first), b.gather(first))
    table = pl.DataFrame({"k": key.gather(first), "v": values})
    return key.to_frame("k").join(table, on="k", how="left", maintain_order="left")["v"]


def jaro_winkler_similarity(a: pl.Series, b: pl.Series) -> pl.Series:
    """Element-wise Jaro-Winkler similarity in [0, 1]; null where either value is null."""
    return on_unique_pairs(a, b, _jaro_winkler)


def _jaro_winkler(a: pl.Series, b: pl.Series) -> pl.Series:
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


def name_similarity(a: pl.Series, b: pl.Series) -> pl.Series:
    """Element-wise similarity of Latin matching forms of names, in [0, 1]; null if a null.

    Uses :func:`registry_link.names.pairwise_name_similarity` when the names package is
    available, plain Jaro-Winkler otherwise.
    """
    try:
        from registry_link.names import pairwise_name_similarity
    except ImportError:  # pragma: no cover - only before the names package exists
        return jaro_winkler_similarity(a, b)
    return on_unique_pairs(a, b, lambda x, y: pairwise_name_similarity(x, y).cast(pl.Float64))


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


def _check_columns(frame: pl.DataFrame, side: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise LinkageError(
            f"the {side} records lack column(s) {missing} needed by the comparisons; "
            f"columns present: {frame.columns[:40]}. Fix: standardise the records first, or "
            f"name existing columns in the model config's comparisons"
        )


def needed_columns(comparisons: Sequence[Comparison]) -> list[str]:
    """The record columns the comparisons read, in first-use order, without repeats."""
    seen: dict[str, None] = {}
    for comp in comparisons:
        for col in comp.columns:
            seen.setdefault(col, None)
    return list(seen)


#: A string column as (its distinct values, each record's position among them).
Dictionary = tuple[pl.Series, pl.Series]

#: Dictionary-encode a string column when it has at most this many distinct values (or an
#: eighth of its rows, if more): gathering from a small dictionary stays in the CPU cache.
DICTIONARY_MAX_VALUES = 1024


def dictionaries(frame: pl.DataFrame) -> Mapping[str, Dictionary]:
    """Per string column with few distinct values: (distinct values, codes per record).

    Gathering a string column for millions of pairs from a million-row frame is dominated by
    cache misses; gathering the codes (integers) and then the values from the small dictionary
    is several times faster and gives the same strings (:func:`_gather`). Nulls are a value of
    the dictionary like any other, so they survive the round trip. The distinct values are
    compacted (``shrink_to_fit``): fresh from ``unique`` they still point into the whole
    column's string buffers, which makes gathering from them several times slower.

    String columns are encoded at once, in parallel (distinct values, then an ``Enum`` cast
    of each column for the codes). List columns are only read by derived functions on some
    pairs (often none), so each is encoded on first use (see :class:`_Dictionaries`).
    """
    strings = [c for c, t in frame.schema.items() if t == pl.Utf8]
    lists = [c for c, t in frame.schema.items() if t == pl.List(pl.Utf8)]
    if not (strings or lists) or frame.height == 0:
        return {}
    limit = max(DICTIONARY_MAX_VALUES, frame.height // 8)
    lazy = frame.lazy()
    distinct = pl.collect_all([lazy.select(pl.col(c).unique().alias("v")) for c in strings])
    chosen = {c: d.get_column("v") for c, d in zip(strings, distinct, strict=True)}
    chosen = {c: v for c, v in chosen.items() if v.len() <= limit}
    codes = pl.collect_all([lazy.select(_enum_codes(c, v)) for c, v in chosen.items()])
    eager = {
        c: (_dictionary_values(v).alias(c).rechunk().shrink_to_fit(), k.to_series().rechunk())
        for (c, v), k in zip(chosen.items(), codes, strict=True)
    }
    return _Dictionaries(frame.select(lists), limit, eager)


def _dictionary_values(distinct: pl.Series) -> pl.Series:
    """The dictionary of a column's distinct values: the non-null ones, then null if any."""
    values = distinct.drop_nulls()
    return values.extend(pl.Series([None], dtype=values.dtype)) if distinct.has_nulls() else values


def _enum_codes(col: str, distinct: pl.Series) -> pl.Expr:
    """Each record's position in ``_dictionary_values(distinct)`` (nulls: the last one)."""
    values = distinct.drop_nulls()
    return (
        pl.col(col)
        .cast(pl.Enum(values))
        .to_physical()
        .cast(pl.UInt32)
        .fill_null(values.len())
        .alias("c")
    )


class _Dictionaries(Mapping[str, Dictionary]):
    """:func:`dictionaries`' result: string columns' dictionaries computed already, list
    columns' on first use (looking one up; iterating computes them all).
    """

    def __init__(self, lists: pl.DataFrame, limit: int, encoded: Mapping[str, Dictionary]) -> None:
        self._lists = lists
        self._limit = limit
        self._encoded = dict(encoded)
        self._pending = set(lists.columns)

    def _resolve(self, col: str) -> None:
        if col not in self._pending:
            return
        self._pending.discard(col)
        column = self._lists.select(pl.col(col).alias("v"))
        distinct = column.unique()
        if distinct.height > self._limit:
            return
        codes = column.join(
            distinct.with_row_index("c"),
            on="v",
            how="left",
            maintain_order="left",
            nulls_equal=True,
        )
        self._encoded[col] = (
            distinct.get_column("v").alias(col).rechunk().shrink_to_fit(),
            codes.get_column("c").rechunk(),
        )

    def __getitem__(self, col: str) -> Dictionary:
        self._resolve(col)
        return self._encoded[col]

    def __contains__(self, col: object) -> bool:
        if isinstance(col, str):
            self._resolve(col)
        return col in self._encoded

    def __iter__(self) -> Iterator[str]:
        for col in list(self._pending):
            self._resolve(col)
        return iter(self._encoded)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def pair_level_columns(comp: Comparison) -> set[str] | None:
    """The record columns a comparison reads in the pair frame (``None``: unknown, all).

    Read off its predicates' and derived functions' column names (a derived function without a
    ``reads`` attribute makes it unknown). A source column that only feeds the comparison's
    :attr:`~Comparison.record_derived` columns is not among them, and need not be gathered.
    """
    exprs = [comp.missing.predicate, *(lvl.predicate for lvl in comp.levels)]
    names = {n for e in [*exprs, *comp.derived_when.values()] for n in e.meta.root_names()}
    for fn in comp.derived.values():
        reads = getattr(fn, "reads", None)
        if reads is None:
            return None
        names |= set(reads)
    return {n[2:] for n in names if n.startswith(("l_", "r_"))}


def _gather(
    frame: pl.DataFrame,
    idx: pl.Series,
    prefix: str,
    lists: Sequence[str],
    encoded: Mapping[str, Dictionary] | None = None,
) -> pl.DataFrame:
    """``frame`` rows at ``idx`` as ``<prefix><col>``; list columns only as placeholders.

    Columns in ``encoded`` (see :func:`dictionaries`) are gathered through their dictionary.

    Gathering list columns for every pair is the costliest part of a chunk, yet only derived
    columns read their contents, and only on the rows their ``when`` selects. A placeholder
    keeps the list's nulls (so ``is_null``/``is_not_null`` in predicates stay exact) with an
    empty list elsewhere; :func:`_with_lists` puts the real lists in before a derived function
    runs.
    """
    given = encoded or {}
    # (lists first: looking a list column up in a lazy dictionary would encode it)
    encoded = {c: given[c] for c in frame.columns if c not in lists and c in given}
    plain = [c for c in frame.columns if c not in lists and c not in encoded]
    # one parallel select for the codes, one for the values (no per-column Python loop)
    codes = pl.DataFrame([d[1].alias(c) for c, d in encoded.items()]).select(pl.all().gather(idx))
    values = codes.select(pl.lit(d[0]).gather(pl.col(c)).alias(c) for c, d in encoded.items())
    parts = [f for f in (frame.select(pl.col(plain).gather(idx)), values) if f.width]
    out = pl.concat(parts, how="horizontal") if parts else pl.DataFrame()
    if lists:
        nulls = frame.select(pl.col(lists).is_null().gather(idx))
        placeholders = nulls.select(
            pl.when(pl.col(c)).then(None).otherwise(pl.lit([], dtype=frame.schema[c])).alias(c)
            for c in lists
        )
        out = pl.concat([out, placeholders], how="horizontal") if out.width else placeholders
    return out.select(pl.col(c).alias(f"{prefix}{c}") for c in frame.columns).with_columns(
        codes.get_column(c).alias(code_column(f"{prefix}{c}")) for c in codes.columns
    )


def _with_lists(
    frame: pl.DataFrame, sides: _Sides, reads: frozenset[str] | None = None
) -> pl.DataFrame:
    """``frame`` with its list placeholders replaced by the real lists of its pairs.

    ``reads``: the columns the derived function reads (all when None); only those are gathered.
    """
    real = []
    for prefix, source, idx_col, encoded in sides:
        wanted = [
            c
            for c in source.columns
            if f"{prefix}{c}" in frame.columns
            and (reads is None or f"{prefix}{c}" in reads)
            and source.get_column(c).null_count() < source.height  # placeholders are exact
        ]
        if not wanted:
            continue
        idx = frame.get_column(idx_col)
        real += [
            (
                encoded[c][0].gather(encoded[c][1].gather(idx))  # cache-friendly, see dictionaries
                if c in encoded
                else source.get_column(c).gather(idx)
            ).alias(f"{prefix}{c}")
            for c in wanted
        ]
    return frame.with_columns(real) if real else frame


#: Per side: column prefix, the side's list columns, its index column in the pair frame, and
#: its dictionaries (:func:`dictionaries`).
_Sides = list[tuple[str, pl.DataFrame, str, Mapping[str, Dictionary]]]


def _compare_chunk(
    left: pl.DataFrame,
    right: pl.DataFrame,
    pairs: pl.DataFrame,
    comps: Sequence[Comparison],
    encoded: tuple[Mapping[str, Dictionary], Mapping[str, Dictionary]] = ({}, {}),
) -> pl.DataFrame:
    l_idx = pairs.get_column("l_idx")
    r_idx = pairs.get_column("r_idx")
    lists = [
        c
        for c, t in left.schema.items()
        if isinstance(t, pl.List) and isinstance(right.schema[c], pl.List)
    ]
    frame = pl.concat(
        [
            pairs.select("l_idx", "r_idx"),
            _gather(left, l_idx, "l_", lists, encoded[0]),
            _gather(right, r_idx, "r_", lists, encoded[1]),
        ],
        how="horizontal",
    )
    sides: _Sides = [
        ("l_", left.select(lists), "l_idx", encoded[0]),
        ("r_", right.select(lists), "r_idx", encoded[1]),
    ]
    out = [frame.select("l_idx", "r_idx")]
    for comp in comps:
        cols = [
            f"{side}_{c}"
            for c in (*comp.columns, *comp.record_derived)
            for side in ("l", "r")
            if c in left.columns
        ]
        cols += [code_column(c) for c in cols if code_column(c) in frame.columns]
        work = frame.select("l_idx", "r_idx", *cols)
        masks: dict[str, pl.Series] = {}
        for name, fn in comp.derived.items():  # in order: later ones may use earlier ones
            if name in comp.derived_when and name not in masks:
                masks.update(_ready_masks(work, comp, masks))
                if name not in masks:  # reads a column not (yet) in the frame: polars says which
                    masks[name] = work.select(comp.derived_when[name].fill_null(False)).to_series()
            work = work.with_columns(_derive(work, name, fn, masks.get(name), sides))
        out.append(work.lazy().select(comp.gamma_expr()).collect())
    return pl.concat(out, how="horizontal")


def _ready_masks(
    frame: pl.DataFrame, comp: Comparison, done: Mapping[str, pl.Series]
) -> dict[str, pl.Series]:
    """The ``derived_when`` masks (nulls as False) of ``comp`` that ``frame`` can evaluate now.

    Masks not yet computed whose columns are all in ``frame`` are evaluated in one lazy
    query, so a condition shared by several masks (e.g. "no closer level decided the pair")
    is computed once (common-subexpression elimination).
    """
    ready = {
        name: when
        for name, when in comp.derived_when.items()
        if name in comp.derived
        and name not in done
        and set(when.meta.root_names()) <= set(frame.columns)
    }
    if not ready:
        return {}
    exprs = [when.fill_null(False).alias(name) for name, when in ready.items()]
    masks = frame.lazy().select(exprs).collect()
    return {name: masks.get_column(name) for name in ready}


def _derive(
    frame: pl.DataFrame,
    name: str,
    fn: Callable[[pl.DataFrame], pl.Series],
    mask: pl.Series | None,
    sides: _Sides,
) -> pl.Series:
    """A derived column, computed only on the rows ``mask`` selects (null elsewhere).

    ``mask``: Boolean, no nulls (see :func:`_ready_masks`); ``None`` for every row. Only the
    columns ``fn`` reads (``fn.reads``, with their dictionary codes) are filtered.
    """
    reads: frozenset[str] | None = getattr(fn, "reads", None)
    if mask is None:
        return fn(_with_lists(frame, sides, reads)).alias(name)
    n = int(mask.sum())
    if n == frame.height:
        return fn(_with_lists(frame, sides, reads)).alias(name)
    if n == 0:
        return pl.repeat(None, frame.height, dtype=pl.Float64, eager=True).alias(name)
    if reads is not None:  # filter only what fn and _with_lists need
        wanted = {"l_idx", "r_idx", *reads, *(code_column(c) for c in reads)}
        frame = frame.select(c for c in frame.columns if c in wanted)
    values = fn(_with_lists(frame.filter(mask), sides, reads))
    full = pl.repeat(None, frame.height, dtype=values.dtype, eager=True).alias(name)
    return full.scatter(mask.arg_true(), values)


def compare(
    left: pl.DataFrame,
    right: pl.DataFrame,
    pairs: pl.DataFrame,
    comparisons: Sequence[Comparison],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> pl.DataFrame:
    """Comparison vectors of candidate pairs.

    Args:
        left: left records (link mode: partner records; dedupe mode: the one frame).
        right: right records (link mode: the registry; dedupe mode: the same frame as left).
        pairs: candidate pairs ``{l_idx: UInt32, r_idx: UInt32, ...}`` (row indices).
        comparisons: the comparisons to compute (distinct names).
        chunk_size: pairs per chunk (memory bound of the gathered columns).

    Returns:
        ``{l_idx: UInt32, r_idx: UInt32, gamma_<name>: Int8 ...}`` in the order of ``pairs``.

    Raises:
        LinkageError: a column a comparison reads is absent, or two comparisons share a name.
    """
    names = [c.name for c in comparisons]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise LinkageError(f"comparison names must be unique; repeated: {dupes}")
    cols = needed_columns(comparisons)
    _check_columns(left, "left", cols)
    _check_columns(right, "right", cols)
    record_derived = {n: e for c in comparisons for n, e in c.record_derived.items()}
    reads = [pair_level_columns(c) for c in comparisons]
    keep = (
        [*cols, *record_derived]
        if any(r is None for r in reads)
        else [c for c in [*cols, *record_derived] if any(c in r for r in reads if r is not None)]
    )
    pairs = pairs.select(pl.col("l_idx").cast(pl.UInt32), pl.col("r_idx").cast(pl.UInt32))
    if pairs.height == 0:
        schema: dict[str, Any] = {"l_idx": pl.UInt32, "r_idx": pl.UInt32}
        schema.update({c.output_column: pl.Int8 for c in comparisons})
        return pl.DataFrame(schema=schema)
    original = pairs
    # per-record work (derived columns, dictionaries) only on the rows the pairs reference
    lsel, l_idx = _referenced_rows(left.select(cols), pairs["l_idx"])
    rsel, r_idx = _referenced_rows(right.select(cols), pairs["r_idx"])
    pairs = pl.DataFrame({"l_idx": l_idx, "r_idx": r_idx})
    lsel = lsel.with_columns(**record_derived).select(keep)
    rsel = rsel.with_columns(**record_derived).select(keep)
    # dictionary-encode a side's strings when the pairs gather them often enough to repay it
    encoded = (
        dictionaries(lsel) if pairs.height >= lsel.height // 4 else {},
        dictionaries(rsel) if pairs.height >= rsel.height // 4 else {},
    )
    chunks = [
        _compare_chunk(lsel, rsel, pairs.slice(start, chunk_size), comparisons, encoded)
        for start in range(0, pairs.height, max(1, chunk_size))
    ]
    out = pl.concat(chunks, how="vertical") if len(chunks) > 1 else chunks[0]
    return out.with_columns(original["l_idx"], original["r_idx"])


def _referenced_rows(frame: pl.DataFrame, idx: pl.Series) -> tuple[pl.DataFrame, pl.Series]:
    """The rows ``idx`` points at and ``idx`` renumbered into them, when they are under half
    of ``frame`` (a few extra pairs against a large registry); else ``frame`` and ``idx``."""
    rows = idx.unique().sort()
    if rows.len() * 2 > frame.height:
        return frame, idx
    position = np.zeros(frame.height, dtype=np.uint32)
    position[rows.to_numpy()] = np.arange(rows.len(), dtype=np.uint32)
    return frame.gather(rows), pl.Series(idx.name, position[idx.to_numpy()], dtype=pl.UInt32)
