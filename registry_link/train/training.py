"""Train a Fellegi–Sunter model: u by random sampling, m by EM (Splink-style), TF tables, prior.

Steps of :func:`train`:

1. **u** — P(level | non-match) from a seeded random sample of record pairs (left × right, or
   distinct pairs of one frame in dedupe mode); almost all random pairs are non-matches. When the
   whole pair space is smaller than the sample size, every pair is used. A level never seen in
   the sample gets half a pair's worth of probability (a conservative floor); a comparison
   missing on every sampled pair gets equal u per level (listed in ``never_observed`` when it
   is missing on every candidate pair too).
2. **m** — one EM *session* per blocking rule (``training.em_rules``, default all), on the
   candidate pairs that satisfy the rule, over the comparisons that do **not** read the rule's
   columns (their agreement is forced by the blocking, so it tells nothing), with u fixed. A
   comparison's m is the mean over the sessions that estimated it (as Splink does), each
   smoothed with half a match per level (:func:`smooth_m`) so no level gets m ≈ 0. Then the
   weights are made monotone down the levels (:mod:`registry_link.train.monotone`: a closer
   level never weighs less than a looser one; adjacent levels out of order are pooled), but
   for the comparisons of ``training.levels_not_ordered``; ``training["monotone_levels"]``
   records every pooled block with its weights before and after.
3. **prior** — a last EM over all candidate pairs with u and the estimated m fixed, where the
   pairs blocking did not propose count as non-matches (``n_total`` = whole pair space): λ is
   the probability that two random records match, coherent with u from random pairs. A
   comparison no session could estimate (it reads columns of every rule) gets its m here.
4. **term frequencies** — per TF-adjusted column, value → relative frequency on the right
   (registry) side, or the one frame in dedupe mode; values rarer than the floor are dropped
   (the scorer floors them anyway).

Cost at national scale (millions of candidate pairs, a million registry records): comparing
the random pairs for u dominates. It does not need the candidate pairs, nor do the term
frequencies and the fingerprints (:func:`pair_free_estimates`), so they are a stage of their
own, which the linker runs in the compare engine's background while the candidate pairs are
blocked and compared (:meth:`~registry_link.compare.CompareEngine.submit`);
:func:`train` then finds each session's pairs (integer keys of the rule columns,
:func:`rule_keys`, not gathered strings) and counts the agreement patterns (one packed integer
per pair, see :func:`~registry_link.train.em.pattern_counts`). The EMs run on pattern counts and
cost little. :func:`train_on` does both for one engine.

The household pass's comparison is estimated here too (:func:`extend_model`): its m and a new
prior by EM, every other parameter fixed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from registry_link.block.candidates import BlockingRule, MapEach, in_order, value_codes
from registry_link.compare import CompareEngine, Comparison
from registry_link.errors import LinkageError
from registry_link.model import ModelSettings, TrainedModel, TrainingSettings
from registry_link.schema import values_type
from registry_link.train.em import FSParams, pattern_counts, posterior, run_em
from registry_link.train.monotone import monotone_m, monotone_params


def pair_space(n_left: int, n_right: int | None) -> int:
    """Number of possible pairs: n_left·n_right (link) or n(n-1)/2 (dedupe, ``n_right=None``)."""
    if n_right is None:
        return n_left * (n_left - 1) // 2
    return n_left * n_right


def sample_pairs(n_left: int, n_right: int | None, size: int, seed: int) -> pl.DataFrame:
    """Random record pairs ``{l_idx, r_idx}`` (UInt32), seeded.

    Link mode: uniform over left × right, with replacement; every pair when the space has at
    most ``size`` pairs. Dedupe mode (``n_right=None``): distinct records, ``l_idx < r_idx``.
    Sorted by ``(l_idx, r_idx)``: compared in that order, each chunk of them reads a slice of
    the left records (fewer distinct values per chunk, cache-friendly gathering: 100k x 1M,
    the u sample's compare about 15 % less CPU). The u-probabilities count levels; the
    order changes none of them.
    """
    total = pair_space(n_left, n_right)
    schema = {"l_idx": pl.UInt32, "r_idx": pl.UInt32}
    if total <= 0:
        return pl.DataFrame(schema=schema)
    if total <= size:
        if n_right is None:
            i, j = np.triu_indices(n_left, k=1)
        else:
            i, j = np.divmod(np.arange(total, dtype=np.int64), n_right)
        return pl.DataFrame({"l_idx": i, "r_idx": j}).cast(schema)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    if n_right is None:
        i = rng.integers(0, n_left, size=size)
        j = rng.integers(0, n_left - 1, size=size)
        j = np.where(j >= i, j + 1, j)  # uniform over j != i
        i, j = np.minimum(i, j), np.maximum(i, j)
    else:
        i = rng.integers(0, n_left, size=size)
        j = rng.integers(0, n_right, size=size)
    # sorted as one integer per pair (l_idx << 32 | r_idx: indices are below 2**32): a numpy
    # sort of one column, several times cheaper than a two-column frame sort; the same order
    packed = (i.astype(np.uint64) << np.uint64(32)) | j.astype(np.uint64)
    packed.sort()
    return pl.DataFrame(
        {
            "l_idx": (packed >> np.uint64(32)).astype(np.uint32),
            "r_idx": (packed & np.uint64(0xFFFFFFFF)).astype(np.uint32),
        },
        schema=schema,
    )


def level_shares(gammas: pl.Series, n_levels: int, zero_count: float = 0.5) -> tuple[float, ...]:
    """Share of each level among non-missing values; a level never seen counts ``zero_count``."""
    values = gammas.to_numpy()
    values = values[values >= 0].astype(np.int64)
    counts = np.bincount(values, minlength=n_levels)[:n_levels].astype(np.float64)
    counts = np.where(counts == 0, zero_count, counts)
    return tuple(counts / counts.sum())


def estimate_u(
    engine: CompareEngine, *, sample_size: int, seed: int
) -> tuple[dict[str, tuple[float, ...]], int]:
    """u-probabilities per comparison from random pairs of the engine's records (distinct
    records of one frame in dedupe mode); also returns the pairs sampled."""
    n_right = None if engine.dedupe else engine.right.height
    pairs = sample_pairs(engine.left.height, n_right, sample_size, seed)
    gammas = engine.compare(pairs)
    u = {c.name: level_shares(gammas[c.output_column], c.n_levels) for c in engine.comparisons}
    return u, pairs.height


@dataclass(frozen=True)
class PairFreeEstimates:
    """What training needs that does not depend on the candidate pairs.

    Computed by :func:`pair_free_estimates`, which can therefore run while the candidate pairs
    are still being compared (the linker starts it in a second thread).

    Attributes:
        comparisons: the names of the comparisons ``u`` was estimated for.
        u: per comparison, P(level | non-match) from random pairs (see :func:`estimate_u`).
        u_sample_pairs: the number of random pairs compared.
        tf_tables: per term-frequency column, value → relative frequency (right side; the
            one frame in dedupe mode).
        fingerprints: :func:`fingerprint` of the left and right records (right: ``None`` in
            dedupe mode).
    """

    comparisons: tuple[str, ...]
    u: dict[str, tuple[float, ...]]
    u_sample_pairs: int
    tf_tables: dict[str, dict[str, float]]
    fingerprints: tuple[dict[str, Any], dict[str, Any] | None]


def pair_free_estimates(engine: CompareEngine, settings: TrainingSettings) -> PairFreeEstimates:
    """u from random pairs, term frequencies and fingerprints (see :class:`PairFreeEstimates`)
    of the engine's records and comparisons.

    Args:
        engine: compares the left records (partner lists; dedupe mode: the one frame) with the
            right ones (the registry; dedupe mode: the left records themselves).
        settings: the training settings (u sample size, seed, term-frequency floor).

    Raises:
        LinkageError: a column a term-frequency table reads is absent.
    """
    u, n_sampled = estimate_u(engine, sample_size=settings.u_sample_size, seed=settings.seed)
    comparisons = engine.comparisons
    tf_cols = list(dict.fromkeys(col for c in comparisons for col in c.tf_columns().values()))
    return PairFreeEstimates(
        comparisons=tuple(c.name for c in comparisons),
        u=u,
        u_sample_pairs=n_sampled,
        tf_tables=term_frequencies(engine.right, tf_cols, settings.tf_minimum_frequency),
        fingerprints=(
            fingerprint(engine.left),
            None if engine.dedupe else fingerprint(engine.right),
        ),
    )


def unobserved(gammas: pl.DataFrame, comparisons: Sequence[Comparison]) -> list[str]:
    """Comparisons that are missing (-1) on every pair of the frame."""
    return [c.name for c in comparisons if not (gammas[c.output_column] >= 0).any()]


def term_frequencies(
    frame: pl.DataFrame, columns: Sequence[str], minimum_frequency: float
) -> dict[str, dict[str, float]]:
    """Per column, value (as text) → relative frequency among non-null values.

    Values with a frequency below ``minimum_frequency`` are left out (scoring floors them).
    A ``Categorical`` column (a registry read with its repeated values coded) is counted by
    its codes and only the distinct values are cast to text: the same counts, without a
    million strings made and hashed (1M registry records, seven columns: 0.46 → 0.13 CPU s).
    """
    out: dict[str, dict[str, float]] = {}
    for col in columns:
        if col not in frame.columns:
            raise LinkageError(
                f"term-frequency column {col!r} is not in the records; columns present: "
                f"{frame.columns[:40]}. Fix the comparison's columns or its 'tf' setting"
            )
        column = frame.get_column(col)
        coded = column.dtype == pl.Categorical  # (one code per distinct string)
        values = (column if coded else column.cast(pl.Utf8)).drop_nulls()
        if values.len() == 0:
            out[col] = {}
            continue
        counts = (
            values.alias("value")
            .value_counts(name="count")
            .with_columns(
                pl.col("value").cast(pl.Utf8), (pl.col("count") / values.len()).alias("frequency")
            )
        )
        kept = counts.filter(pl.col("frequency") >= minimum_frequency).sort(
            "frequency", "value", descending=[True, False]
        )
        out[col] = dict(zip(kept["value"].to_list(), kept["frequency"].to_list(), strict=True))
    return out


def default_m(n_levels: int) -> tuple[float, ...]:
    """Starting m: most mass on the closest level, decreasing geometrically to 'different'."""
    w = 2.0 ** (3.0 * np.arange(n_levels))
    return tuple(w / w.sum())


def smooth_m(
    m: tuple[float, ...], expected_matches: float, pseudo: float = 0.5
) -> tuple[float, ...]:
    """m with half a pair's worth of matches added to every level (no level gets m ≈ 0).

    EM gives m ≈ 0 to a level no match falls in; its Bayes factor would then be hugely negative
    and one unusual level would veto a true match. The floor keeps it at about -log2 of the
    ratio of pseudo-count to matches.
    """
    n = max(float(expected_matches), 0.0)
    values = (np.asarray(m, dtype=np.float64) * n + pseudo) / (n + pseudo * len(m))
    return tuple(values)


def _codable(left: pl.Series, right: pl.Series) -> bool:
    """Whether a rule column can be compared through integer keys (same scalar, non-float type;
    a ``Categorical`` column, a lazy registry's coded strings, counts as strings)."""
    dtype = values_type(left.dtype)
    return dtype == values_type(right.dtype) and (
        dtype == pl.Utf8 or dtype == pl.Boolean or dtype.is_integer() or dtype.is_temporal()
    )


def _as_strings(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """``columns`` of ``frame``, a ``Categorical`` one as its strings (:func:`values_type`)."""
    return frame.select(pl.col(c).cast(values_type(frame.schema[c])) for c in columns)


def rule_keys(
    left: pl.DataFrame, right: pl.DataFrame, columns: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Per record of each side, an integer key of its values in ``columns`` (scalar columns).

    A left record and a right record have the same key iff all the columns are non-null and
    equal on both. Keys stand for the distinct left value combinations; a left record with a
    null gets -1, a right record with a null or with a combination no left record has gets -2.
    Gathering and comparing one integer per pair is far cheaper than gathering the strings.
    The keys are the columns' codes packed (:func:`coded_keys`) where blocking's codes serve,
    else the combinations' numbers from a join on the values.
    """
    coded = coded_keys(left, right, columns)
    return coded if coded is not None else joined_keys(left, right, columns)


def joined_keys(
    left: pl.DataFrame, right: pl.DataFrame, columns: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`rule_keys` by a join: each record's key is the number of its combination of
    values among the left side's distinct ones (any scalar type)."""
    cols = list(columns)
    lookup = _as_strings(left, cols).drop_nulls().unique().with_row_index("__key")
    dtype = pl.Int32 if lookup.height < 2**31 - 2 else pl.Int64  # int32: half the cache misses

    def keys(frame: pl.DataFrame) -> pl.Series:
        return (
            _as_strings(frame, cols)
            .join(lookup, on=cols, how="left", maintain_order="left")
            .get_column("__key")
            .cast(dtype)
        )

    lk = keys(left)
    rk = lk if right is left else keys(right)
    return lk.fill_null(-1).to_numpy(), rk.fill_null(-2).to_numpy()


def coded_keys(
    left: pl.DataFrame, right: pl.DataFrame, columns: Sequence[str]
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`rule_keys` without a join: each column's values coded by their position among
    the left side's distinct values (blocking's
    :func:`~registry_link.block.candidates.value_codes`: a ``Categorical`` or string column
    through an ``Enum``, integers and dates through a table; no strings are made), the codes
    packed into one integer (mixed radix). ``None`` where a column has no such codes or the
    packed keys would not fit in 62 bits."""
    n_left, n_right = left.height, right.height
    lkey, lnull = np.zeros(n_left, dtype=np.int64), np.zeros(n_left, dtype=bool)
    rkey, rnull = np.zeros(n_right, dtype=np.int64), np.zeros(n_right, dtype=bool)
    span = 1
    for col in columns:
        values = left.get_column(col)
        values = values.cast(values_type(values.dtype)).drop_nulls().unique()
        if values.len() == 0:  # no left record has a value: none matches
            lnull[:] = rnull[:] = True
            continue
        radix = values.len()
        span *= radix
        if span >= 2**62:
            return None
        lcodes = value_codes(left.get_column(col), values)
        rcodes = lcodes if right is left else value_codes(right.get_column(col), values)
        if lcodes is None or rcodes is None:
            return None
        for key, null, codes in ((lkey, lnull, lcodes), (rkey, rnull, rcodes)):
            key *= radix
            key += codes.fill_null(0).to_numpy()
            null |= codes.is_null().to_numpy()
    lkey[lnull] = -1
    rkey[rnull] = -2
    dtype = np.int32 if span < 2**31 - 2 else np.int64  # int32: half the cache misses
    return lkey.astype(dtype), rkey.astype(dtype)


def rule_mask(
    left: pl.DataFrame, right: pl.DataFrame, pairs: pl.DataFrame, rule: BlockingRule
) -> pl.Series:
    """Per candidate pair: True when the pair satisfies the rule (all its columns equal).

    Computed from the records, not from the pairs' ``rule``: a pair proposed by one rule may
    satisfy another too. A list column is satisfied by a shared non-null element (a list on
    one side and a scalar on the other: by the scalar being in the list). Scalar columns are
    compared at once through :func:`rule_keys`; the other columns (lists, floats) by their
    values, only on the pairs that still satisfy the rule.
    """
    l_idx, r_idx = pairs["l_idx"].to_numpy(), pairs["r_idx"].to_numpy()
    coded = [c for c in rule.columns if _codable(left.get_column(c), right.get_column(c))]
    if coded:
        lk, rk = rule_keys(left, right, coded)
        mask = lk[l_idx] == rk[r_idx]
    else:
        mask = np.ones(pairs.height, dtype=bool)
    for col in (c for c in rule.columns if c not in coded):
        todo = np.flatnonzero(mask)
        frame = pl.DataFrame(
            {
                "l": left.get_column(col).gather(l_idx[todo]),
                "r": right.get_column(col).gather(r_idx[todo]),
            }
        )
        lists = [isinstance(frame.schema[side], pl.List) for side in ("l", "r")]
        if any(lists):  # a scalar on one side is the list of its one value
            lv, rv = (
                pl.col(c) if is_list else pl.concat_list(c)
                for c, is_list in zip("lr", lists, strict=True)
            )
            expr = lv.list.set_intersection(rv).list.drop_nulls().list.len() > 0
        else:
            expr = pl.col("l") == pl.col("r")
        mask[todo] = frame.select(expr.fill_null(False)).to_series().to_numpy()
    return pl.Series(rule.name, mask, dtype=pl.Boolean)


def fingerprint(frame: pl.DataFrame) -> dict[str, Any]:
    """Rows, columns and a content hash of a frame (polars row hashes: same polars version)."""
    digest = hashlib.sha256()
    digest.update(",".join(frame.columns).encode())
    if frame.height:
        hashes = frame.hash_rows(seed=20260101).to_numpy()
        digest.update(np.sort(hashes).tobytes())
    return {"rows": frame.height, "columns": len(frame.columns), "sha256": digest.hexdigest()}


@dataclass(frozen=True)
class _Session:
    """One EM session's input: the rule, its pairs, its comparisons and their patterns."""

    rule: str
    pairs: int
    free: tuple[Comparison, ...]
    patterns: pl.DataFrame | None  # None: the session is skipped

    def entry(self) -> dict[str, Any]:
        """The session's log entry (``training.em_sessions``) before its EM runs."""
        out: dict[str, Any] = {
            "rule": self.rule,
            "pairs": self.pairs,
            "comparisons": [c.name for c in self.free],
        }
        if self.patterns is None:
            out["skipped"] = (
                "no pairs" if self.pairs == 0 else "every comparison reads the rule's columns"
            )
        return out


def _session_patterns(
    left: pl.DataFrame,
    right: pl.DataFrame,
    pairs: pl.DataFrame,
    gammas: pl.DataFrame,
    comparisons: Sequence[Comparison],
    rule: BlockingRule,
) -> _Session:
    """One EM rule's session: the pairs satisfying it and their patterns over the comparisons
    it frees."""
    used = set(rule.columns)
    free = tuple(c for c in comparisons if not used.intersection(c.columns))
    mask = rule_mask(left, right, pairs, rule)
    n = int(mask.sum())
    patterns = None
    if n and free:
        patterns = pattern_counts(gammas.select([c.output_column for c in free]).filter(mask))
    return _Session(rule.name, n, free, patterns)


def _sessions(
    sessions: Sequence[_Session], u: dict[str, tuple[float, ...]], ts: TrainingSettings
) -> tuple[dict[str, list[tuple[float, ...]]], list[dict[str, Any]]]:
    """Run each session's EM (u fixed); per comparison its smoothed m estimates, and the log."""
    estimates: dict[str, list[tuple[float, ...]]] = {}
    log: list[dict[str, Any]] = []
    for session in sessions:
        entry = session.entry()
        log.append(entry)
        if session.patterns is None:
            continue
        start = FSParams(
            prior=0.5,
            m={c.name: default_m(c.n_levels) for c in session.free},
            u={c.name: u[c.name] for c in session.free},
        )
        res = run_em(
            session.patterns, start, max_iterations=ts.max_iterations, tolerance=ts.tolerance
        )
        matches = res.pattern_match_share * session.pairs
        for c in session.free:
            estimates.setdefault(c.name, []).append(smooth_m(res.params.m[c.name], matches))
        entry.update(
            iterations=res.iterations, converged=res.converged, match_share=res.params.prior
        )
    return estimates, log


def train(
    left: pl.DataFrame,
    right: pl.DataFrame | None,
    pairs: pl.DataFrame,
    gammas: pl.DataFrame,
    comparisons: Sequence[Comparison],
    settings: ModelSettings,
    pair_free: PairFreeEstimates,
    map_each: MapEach[Any, Any] = in_order,
) -> TrainedModel:
    """Train the model on candidate pairs (unsupervised).

    Args:
        left: left records (partner lists) — or the one frame in dedupe mode.
        right: right records (registry); ``None`` (or ``left`` itself) for dedupe mode.
        pairs: candidate pairs ``{l_idx, r_idx, ...}`` from blocking.
        gammas: the candidate pairs' comparison vectors (same row order as ``pairs``).
        comparisons: the comparisons (usually ``settings.comparisons``).
        settings: the model settings (blocking rules for the EM sessions, training settings).
        pair_free: :func:`pair_free_estimates` of the same records, comparisons and training
            settings (u, term frequencies, fingerprints).
        map_each: runs the EM sessions' pair masks and patterns and all pairs' patterns, each
            independent of the others (:data:`~registry_link.block.candidates.MapEach`; in a
            link the engine's ``map``, one a core): the same model whichever it is.

    Returns:
        The trained model (see the module docs for the method).

    Raises:
        LinkageError: no candidate pairs, or ``gammas`` or ``pair_free`` do not fit.
    """
    if pairs.height == 0:
        raise LinkageError(
            "no candidate pairs to train on; loosen the blocking rules or check that the "
            "records share values in the blocked columns"
        )
    ts = settings.training
    if right is left:  # the same frame on both sides: dedupe mode
        right = None
    r_frame = left if right is None else right
    n_total = pair_space(left.height, None if right is None else right.height)
    if gammas.height != pairs.height:
        raise LinkageError(
            f"the comparison vectors have {gammas.height:,} rows but there are "
            f"{pairs.height:,} candidate pairs; compute them from the same pairs"
        )
    names = tuple(c.name for c in comparisons)
    if pair_free.comparisons != names:
        raise LinkageError(
            f"the pair-free estimates were made for comparisons {list(pair_free.comparisons)}, "
            f"not {list(names)}; compute them with pair_free_estimates() for these comparisons"
        )
    # each EM rule's session (its pairs' mask: most of train's work) and all pairs' patterns
    rules = settings.em_rules()

    def prepare(rule: BlockingRule | None) -> _Session | pl.DataFrame:
        if rule is None:
            return pattern_counts(gammas.select([c.output_column for c in comparisons]))
        return _session_patterns(left, r_frame, pairs, gammas, comparisons, rule)

    done = map_each(prepare, [*rules, None])
    prepared = [session for session in done if isinstance(session, _Session)]
    (all_patterns,) = [patterns for patterns in done if isinstance(patterns, pl.DataFrame)]
    never_observed = unobserved(gammas, comparisons)
    free = pair_free
    u = free.u
    estimates, sessions = _sessions(prepared, u, ts)
    m = {
        c.name: tuple(np.mean(estimates[c.name], axis=0))
        if c.name in estimates
        else default_m(c.n_levels)
        for c in comparisons
    }
    estimated = [c.name for c in comparisons if c.name in estimates]
    labels = {c.name: [lvl.label for lvl in c.levels] for c in comparisons}
    ordered = [c.name for c in comparisons if c.name not in ts.levels_not_ordered]
    # the sessions' m made monotone before the prior is estimated with them (fixed)
    start, pooled = monotone_params(
        FSParams(prior=0.5, m=m, u=u), labels, [n for n in ordered if n in estimated]
    )
    m = dict(start.m)
    start_prior = min(0.5, max(1e-9, min(left.height, r_frame.height) / n_total / 2))
    final = run_em(
        all_patterns,
        FSParams(prior=start_prior, m=m, u=u),
        max_iterations=ts.max_iterations,
        tolerance=ts.tolerance,
        n_total=n_total,
        fixed_m=estimated,
    )
    expected = final.pattern_match_share * pairs.height
    params, pooled_final = monotone_params(
        FSParams(
            prior=final.params.prior,
            m={
                name: values if name in estimated else smooth_m(values, expected)
                for name, values in final.params.m.items()
            },
            u=final.params.u,
        ),
        labels,
        [n for n in ordered if n not in estimated],
    )
    info: dict[str, Any] = {
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": "dedupe" if right is None else "link",
        "candidate_pairs": pairs.height,
        "pair_space": n_total,
        "u_sample_pairs": free.u_sample_pairs,
        "seed": ts.seed,
        "em_sessions": sessions,
        "m_estimated_in_final_em": [c.name for c in comparisons if c.name not in estimates],
        "never_observed": never_observed,
        "iterations": final.iterations,
        "converged": final.converged and all(s.get("converged", True) for s in sessions),
        "candidate_match_share": final.pattern_match_share,
        "expected_matches": expected,
        "monotone_levels": {
            "not_ordered": [c.name for c in comparisons if c.name not in ordered],
            "pooled": {**pooled, **pooled_final},
        },
        "left": free.fingerprints[0],
        "right": free.fingerprints[1],
    }
    return TrainedModel(
        comparisons=tuple(comparisons),
        params=params,
        tf_tables=free.tf_tables,
        tf_minimum_frequency=ts.tf_minimum_frequency,
        training=info,
        settings=dict(settings.raw) if settings.raw else None,
    )


def train_on(engine: CompareEngine, pairs: pl.DataFrame, settings: ModelSettings) -> TrainedModel:
    """Train the model on the engine's records and candidate ``pairs``: the pair-free
    estimates in the engine's background while the candidate pairs are compared, then
    :func:`train` (same model as the two steps one after the other)."""
    pending = engine.submit(pair_free_estimates, engine, settings.training)
    try:
        gammas = engine.compare(pairs)
    finally:
        pair_free = pending.result()  # (its error first, as when it ran first)
    right = None if engine.dedupe else engine.right
    return train(
        engine.left, right, pairs, gammas, engine.comparisons, settings, pair_free, engine.map
    )


def extend_model(
    model: TrainedModel,
    comparison: Comparison,
    gammas: pl.DataFrame,
    u: tuple[float, float],
    n_total: int,
    training: TrainingSettings,
    info: dict[str, Any] | None = None,
) -> TrainedModel:
    """The model with one comparison added (the household pass's): its m and the prior by EM.

    EM runs over the agreement patterns of all candidate pairs (first pass + household rule),
    with u fixed (``u`` for the added comparison, the model's for the others), every other
    comparison's m fixed, and the pairs not proposed counted as non-matches (``n_total``), so
    the prior stays the probability that two random records match. The added m is then
    smoothed with half a match per level (:func:`smooth_m`), using the expected matches among
    pairs where the comparison is not missing.

    Args:
        model: the first-pass model (without the comparison).
        comparison: the comparison to add.
        gammas: ``gamma_*`` of every model comparison and of ``comparison``, one row per pair.
        u: the added comparison's u (levels different, same).
        n_total: size of the pair space (left × right).
        training: EM settings (iterations, tolerance).
        info: extra metadata stored under ``training["household_context"]``.

    Returns:
        The extended model; ``training["household_context"]`` records the first-pass prior,
        the EM outcome and the expected matches.
    """
    names = [*model.params.names, comparison.name]
    patterns = pattern_counts(gammas.select([f"gamma_{n}" for n in names]))
    start = FSParams(
        prior=model.prior,
        m={**model.params.m, comparison.name: (0.1, 0.9)},
        u={**model.params.u, comparison.name: u},
    )
    res = run_em(
        patterns,
        start,
        max_iterations=training.max_iterations,
        tolerance=training.tolerance,
        n_total=n_total,
        fixed_m=list(model.params.names),
    )
    hinted = patterns[comparison.output_column].to_numpy() >= 0
    counts = patterns["count"].cast(pl.Float64).to_numpy()
    expected = float(np.dot(counts[hinted], posterior(patterns, res.params)[hinted]))
    m_added = smooth_m(res.params.m[comparison.name], expected)
    if comparison.name not in training.levels_not_ordered:
        m_added = monotone_m(m_added, u).m
    params = FSParams(
        prior=res.params.prior,
        m={**model.params.m, comparison.name: m_added},
        u={**model.params.u, comparison.name: u},
    )
    meta = {
        **(info or {}),
        "comparison": comparison.name,
        "pass1_prior": model.prior,
        "iterations": res.iterations,
        "converged": res.converged,
        "hinted_pairs": int(counts[hinted].sum()),
        "expected_matches_hinted": expected,
    }
    return TrainedModel(
        comparisons=(*model.comparisons, comparison),
        params=params,
        tf_tables=model.tf_tables,
        tf_minimum_frequency=model.tf_minimum_frequency,
        training={**model.training, "household_context": meta},
        settings=model.settings,
    )
