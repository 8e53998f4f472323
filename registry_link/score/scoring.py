"""Score comparison vectors with a trained model: Bayes factors, TF adjustment, probability.

For each comparison, ``bf_<name>`` is the log2 Bayes factor of the pair's level,
``log2(m / u)`` (0 for missing). On a term-frequency adjusted level (exact agreement of a
configured column), u is replaced by the frequency of the pair's value on the right/registry
side, as Splink does: the adjustment ``log2(u_level / max(tf(value), floor))`` is added, so a
rare shared value weighs more than a common one. Values absent from the TF table (rarer than
the floor) use the floor.

``match_weight = log2(λ / (1 - λ)) + Σ bf`` and ``match_probability = 2^w / (1 + 2^w)``.
Everything is vectorised (numpy lookups, polars joins); no per-pair Python.

Within a link (a :class:`~registry_link.compare.CompareEngine` entered), the frequency of each
right record's value is looked up once per column and TF table, in the engine's link memo
(:func:`~registry_link.compare.engine.active_link_memo`), for all the link's ``score`` calls
(first pass, household pass, the decisions' contributions); outside one, each call looks its
pairs' values up. The weights are the same.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from registry_link.compare.engine import active_link_memo, record_dictionary
from registry_link.errors import ModelError
from registry_link.model import TrainedModel

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

#: Pairs scored at once by :func:`score` (bounds its temporaries; the result does not depend on it).
SCORE_CHUNK = 5_000_000


def _bf_table(model: TrainedModel, name: str) -> np.ndarray:
    """Bayes factors indexed by gamma + 1 (index 0 = missing → 0)."""
    return np.concatenate([[0.0], model.params.bayes_factors(name)])


def _tf_adjust(
    model: TrainedModel,
    bf: np.ndarray,
    gamma: np.ndarray,
    level: int,
    column: str,
    right: pl.DataFrame,
    r_rows: np.ndarray,
    u_level: float,
) -> None:
    """Add ``log2(u_level / tf(value))`` to ``bf`` (in place) where ``gamma == level`` and the
    right record has a value (a level adjusted on one side's value, e.g. a split name's key
    found among the other's unsplit tokens, is not adjusted where the right side has none)."""
    hit = np.flatnonzero(gamma == level)
    if hit.size == 0:
        return
    if column not in right.columns:
        raise ModelError(
            f"the model adjusts on column {column!r}, absent from the right records; "
            f"score with records of the same layout as for training"
        )
    rows = r_rows[hit]
    memo = active_link_memo()
    if memo is not None or hit.size >= right.height:
        # once per record (in a link: once for all its score calls), gathered for the pairs
        log_freq = _record_log_frequency(model, column, right, memo).at(rows)
        absent = np.isnan(log_freq)
    else:  # fewer pairs than records, one call: look the pairs' values up
        values = right.get_column(column).gather(rows)
        log_freq = _log_frequency(model, column, values)
        absent = values.is_null().to_numpy()
    if absent.any():
        log_freq[absent] = np.log2(u_level)
    bf[hit] += np.log2(u_level) - log_freq


@dataclass(frozen=True)
class _RecordFrequencies:
    """Each right record's log-frequency as ``levels[codes[record]]``: a record's code (two
    bytes where the TF table has under 65,535 distinct frequencies) into the few distinct
    log-frequencies, NaN last (null values) — a quarter of a float64 per record, the same
    floats."""

    levels: np.ndarray
    codes: np.ndarray

    def at(self, rows: np.ndarray) -> np.ndarray:
        """The log-frequencies of the records ``rows`` (a new float64 array)."""
        return self.levels[self.codes[rows]]


def _record_log_frequency(
    model: TrainedModel, column: str, right: pl.DataFrame, memo: dict[Hashable, Any] | None
) -> _RecordFrequencies:
    """:func:`_log_frequency` of each right record's value (NaN for a null), kept in ``memo``
    (a link memo, see :func:`~registry_link.compare.engine.active_link_memo`) for these
    records, column and TF table: read-only, gather from it.

    An entry holds the table and a weak reference to the records (an id is only theirs while
    they live; the memo does not keep them alive): entries of records gone are dropped. When
    the engine has a dictionary of the column (:func:`~registry_link.compare.engine.
    record_dictionary`: the registry prepared whole), each distinct value is looked up once
    and the records' frequencies gathered from them."""
    table = model.tf_tables.get(column)
    key = ("tf_log_frequency", id(right), column, id(table), model.tf_minimum_frequency)
    found = memo.get(key) if memo is not None else None
    if found is not None and found[0]() is right and found[1] is table:
        return found[2]
    encoded = record_dictionary(right, column)
    if encoded is not None:  # the engine's dictionary: each distinct value looked up once
        distinct, codes = encoded
        per_value = _log_frequency_codes(model, column, distinct)
        made = _RecordFrequencies(per_value.levels, per_value.codes[codes.to_numpy()])
    else:
        made = _log_frequency_codes(model, column, right.get_column(column))
    made.levels.flags.writeable = False
    made.codes.flags.writeable = False
    if memo is not None:
        mine = [(k, v) for k, v in list(memo.items()) if isinstance(k, tuple) and k[0] == key[0]]
        for gone in [k for k, v in mine if v[0]() is None]:
            memo.pop(gone, None)
        memo[key] = (weakref.ref(right), table, made)
    return made


def _log_frequency_codes(model: TrainedModel, column: str, values: pl.Series) -> _RecordFrequencies:
    """:func:`_log_frequency` of each value, NaN for a null, as codes into the distinct
    log-frequencies (the same floats: each is computed from the same frequency)."""
    floor = model.tf_minimum_frequency
    table = model.tf_tables.get(column, {})
    distinct = sorted(set(table.values()))
    frequencies = np.array([*distinct, floor], dtype=np.float64)
    levels = np.append(np.log2(np.maximum(frequencies, floor)), np.nan)
    absent, null = len(distinct), len(distinct) + 1
    dtype = pl.UInt16 if null < 2**16 else pl.UInt32
    if table:
        position = {f: i for i, f in enumerate(distinct)}
        keys, codes = list(table), [position[f] for f in table.values()]
        if values.dtype == pl.Categorical:  # (a registry read with its repeated values coded)
            coded = _by_category(values, keys, codes, absent, dtype)
        else:
            coded = values.cast(pl.Utf8).replace_strict(
                keys, codes, default=absent, return_dtype=dtype
            )
    else:
        coded = pl.Series(np.full(values.len(), absent), dtype=dtype)
    if values.has_nulls():
        coded = coded.set(values.is_null(), null)
    return _RecordFrequencies(levels, coded.to_numpy())


def _by_category(
    values: pl.Series, keys: list[str], codes: list[int], default: int, dtype: PolarsDataType
) -> pl.Series:
    """``values.cast(pl.Utf8).replace_strict(keys, codes, default=default)`` of a
    ``Categorical`` column: each distinct value looked up once, the records' codes gathered
    by their category code (a third of the time of casting a million records to strings)."""
    present = values.unique().drop_nulls()
    mapped = present.cast(pl.Utf8).replace_strict(keys, codes, default=default, return_dtype=dtype)
    category = present.to_physical().to_numpy()
    table = np.full(int(category.max(initial=0)) + 1, default, dtype=mapped.to_numpy().dtype)
    table[category] = mapped.to_numpy()
    return pl.Series(table).gather(values.to_physical())


def _log_frequency(model: TrainedModel, column: str, values: pl.Series) -> np.ndarray:
    """log2(max(tf(value), floor)) per value (the floor for values not in the table)."""
    floor = model.tf_minimum_frequency
    table = model.tf_tables.get(column, {})
    if not table:
        return np.full(values.len(), np.log2(floor))
    freq = values.cast(pl.Utf8).replace_strict(
        list(table), list(table.values()), default=floor, return_dtype=pl.Float64
    )
    return np.log2(np.maximum(freq.fill_null(floor).to_numpy(), floor))


def score(
    gammas: pl.DataFrame,
    model: TrainedModel,
    left: pl.DataFrame | None = None,
    right: pl.DataFrame | None = None,
    *,
    contributions: bool = True,
) -> pl.DataFrame:
    """Score comparison vectors.

    Args:
        gammas: ``{l_idx, r_idx, gamma_<name> ...}`` from ``compare``.
        model: the trained model.
        left: left records (unused today; kept for symmetric adjustments).
        right: right records, for term-frequency adjustments (the value of a pair is read on
            the right side); without it no TF adjustment is applied.
        contributions: add the ``bf_<name>`` columns. Without them the frame is narrow (a
            float64 column less per comparison); :func:`pair_details` computes them again,
            identical, for the rows that need explaining.

    Returns:
        ``{l_idx, r_idx, gamma_* ..., bf_<name> ..., match_weight, match_probability}``
        (no ``bf_*`` when ``contributions`` is false).

    Raises:
        ModelError: a gamma column of the model is absent, or holds a level outside the model.
    """
    del left
    total = np.full(gammas.height, _prior_weight(model))
    bfs = _add_bayes_factors(gammas, model, right, total, contributions)
    prob = np.exp2(-total)  # 1 / (1 + 2^-w), in place: no temporaries of every pair
    prob += 1.0
    np.reciprocal(prob, out=prob)
    return gammas.with_columns(
        *[pl.Series(name, values, dtype=pl.Float64) for name, values in bfs.items()],
        pl.Series("match_weight", total, dtype=pl.Float64),
        pl.Series("match_probability", prob, dtype=pl.Float64),
    )


def _add_bayes_factors(
    gammas: pl.DataFrame,
    model: TrainedModel,
    right: pl.DataFrame | None,
    total: np.ndarray,
    contributions: bool,
) -> dict[str, np.ndarray]:
    """Add each pair's Bayes factor of every comparison of ``model`` to ``total`` (in place,
    in the model's order), TF adjusted on ``right`` (see :func:`score`); returns the
    ``bf_<name>`` arrays when ``contributions``, else nothing.

    Raises:
        ModelError: a gamma column of the model is absent, or holds a level outside the model.
    """
    missing = [c.output_column for c in model.comparisons if c.output_column not in gammas.columns]
    if missing:
        raise ModelError(
            f"comparison vectors lack {missing} the model needs; compute them with the "
            f"model's comparisons"
        )
    n = gammas.height
    bfs = {f"bf_{c.name}": np.empty(n) for c in model.comparisons} if contributions else {}
    tables = {c.name: _bf_table(model, c.name) for c in model.comparisons}
    # in slices: the per-comparison temporaries (Bayes factors, TF lookups) stay small
    for start in range(0, n, SCORE_CHUNK):
        part = gammas.slice(start, SCORE_CHUNK)
        stop = start + part.height
        r_rows = part["r_idx"].to_numpy() if "r_idx" in part.columns else None
        for comp in model.comparisons:
            g = part[comp.output_column].to_numpy()
            if g.dtype.kind not in "iu":
                g = g.astype(np.int64)
            if g.size and (g.min() < -1 or g.max() >= comp.n_levels):
                raise ModelError(
                    f"{comp.output_column} holds levels outside -1..{comp.n_levels - 1}; the "
                    f"vectors were computed with different comparisons than the model's"
                )
            table = tables[comp.name]
            # indexed by gamma itself: -1 (missing) takes the last entry, 0
            bf = np.append(table[1:], table[0])[g]  # a new array: adjusted in place below
            if right is not None and r_rows is not None:
                for level, column in comp.tf_columns().items():
                    u_level = model.params.u[comp.name][level]
                    _tf_adjust(model, bf, g, level, column, right, r_rows, u_level)
            if contributions:
                bfs[f"bf_{comp.name}"][start:stop] = bf
            total[start:stop] += bf
    return bfs


def score_arrays(
    gammas: Mapping[str, np.ndarray],
    model: TrainedModel,
    right_values: Callable[[str], Sequence[object]] | None = None,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """:func:`score` of a few pairs held as arrays (a search's tens of candidates): the same
    Bayes factors, term-frequency adjustments, match weight and probability, computed with
    numpy and the TF tables' dicts instead of polars calls (whose fixed cost would outweigh
    the work).

    Args:
        gammas: per comparison of the model, ``gamma_<name>`` → one level per pair.
        model: the trained model.
        right_values: ``column`` → the right (registry) record's value of each pair, for the
            term-frequency adjustments; ``None``: no adjustment (as ``score`` without
            ``right``).

    Returns:
        ``({bf_<name>: array}, match_weight, match_probability)``, one value per pair.

    Raises:
        ModelError: a gamma of the model is absent, or holds a level outside the model.
    """
    missing = [c.output_column for c in model.comparisons if c.output_column not in gammas]
    if missing:
        raise ModelError(
            f"comparison vectors lack {missing} the model needs; compute them with the "
            f"model's comparisons"
        )
    n = len(next(iter(gammas.values()))) if gammas else 0
    total = np.full(n, _prior_weight(model))
    bfs: dict[str, np.ndarray] = {}
    for comp in model.comparisons:
        g = np.asarray(gammas[comp.output_column]).astype(np.int64)
        if g.size and (g.min() < -1 or g.max() >= comp.n_levels):
            raise ModelError(
                f"{comp.output_column} holds levels outside -1..{comp.n_levels - 1}; the "
                f"vectors were computed with different comparisons than the model's"
            )
        table = _bf_table(model, comp.name)
        bf = np.append(table[1:], table[0])[g]
        if right_values is not None:
            for level, column in comp.tf_columns().items():
                hit = np.flatnonzero(g == level)
                if hit.size:
                    values = right_values(column)
                    u_level = model.params.u[comp.name][level]
                    bf[hit] += _tf_bits(model, column, [values[int(i)] for i in hit], u_level)
        bfs[f"bf_{comp.name}"] = bf
        total += bf
    prob = np.exp2(-total)
    prob += 1.0
    np.reciprocal(prob, out=prob)
    return bfs, total, prob


def _tf_bits(
    model: TrainedModel, column: str, values: Sequence[object], u_level: float
) -> np.ndarray:
    """:func:`_tf_adjust`'s adjustment ``log2(u_level / max(tf(value), floor))`` of each value
    (0 for a null value), the frequencies read from the TF table's dict."""
    floor = model.tf_minimum_frequency
    table = model.tf_tables.get(column, {})
    freq = np.array(
        [
            floor
            if v is None or not table
            else table.get(v if isinstance(v, str) else str(v), floor)
            for v in values
        ],
        dtype=np.float64,
    )
    log_freq = np.log2(np.maximum(freq, floor))
    absent = np.array([v is None for v in values], dtype=bool)
    if absent.any():
        log_freq[absent] = np.log2(u_level)
    return np.log2(u_level) - log_freq


def _prior_weight(model: TrainedModel) -> float:
    return float(np.log2(model.prior) - np.log2(1.0 - model.prior))


def extend_scores(
    scored: pl.DataFrame,
    gammas: pl.DataFrame,
    base: TrainedModel,
    extended: TrainedModel,
    right: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Pairs scored with ``base``, re-scored with ``extended`` = ``base`` + more comparisons.

    When ``extended`` keeps every comparison of ``base`` with the same m, u and TF tables and
    only adds comparisons (and a new prior), its weight of a pair is the old weight, minus the
    old prior's, plus the new prior's and the added comparisons' Bayes factors: no need to score
    the other comparisons again. Equal to :func:`score` with ``extended`` (up to rounding).

    Args:
        scored: output of :func:`score` with ``base`` (any extra columns are kept).
        gammas: ``gamma_<name>`` of the added comparisons, one row per row of ``scored``.
        base: the model ``scored`` was scored with.
        extended: the model to score with.
        right: right records, for term-frequency adjustments of the added comparisons.

    Returns:
        ``scored`` with the added ``gamma_*``/``bf_*`` columns and the new ``match_weight`` and
        ``match_probability`` (no ``bf_*`` when ``scored`` has none: see ``score``'s
        ``contributions``).

    Raises:
        ModelError: ``extended`` is not ``base`` plus comparisons, or ``gammas`` does not fit.
    """
    known = {c.name for c in base.comparisons}
    same = all(
        c.name in extended.params.names
        and extended.params.m[c.name] == base.params.m[c.name]
        and extended.params.u[c.name] == base.params.u[c.name]
        for c in base.comparisons
    ) and all(_same_table(extended.tf_tables.get(k), v) for k, v in base.tf_tables.items())
    if not same:
        raise ModelError(
            "extend_scores needs a model that keeps every comparison of the base model "
            "unchanged; score the pairs again with score() instead"
        )
    if gammas.height != scored.height:
        raise ModelError(
            f"{gammas.height:,} rows of comparison vectors for {scored.height:,} scored pairs"
        )
    added = [c for c in extended.comparisons if c.name not in known]
    with_bf = any(c.startswith("bf_") for c in scored.columns)
    added_model = TrainedModel(
        comparisons=tuple(added),
        params=type(extended.params)(
            prior=extended.prior,
            m={c.name: extended.params.m[c.name] for c in added},
            u={c.name: extended.params.u[c.name] for c in added},
        ),
        tf_tables=extended.tf_tables,
        tf_minimum_frequency=extended.tf_minimum_frequency,
        training=extended.training,
    )
    # the added comparisons' weight as score() computes it with the new prior (its
    # probability is not needed), then, in place, one float64 per pair at a time (55 M pairs:
    # 0.44 GB each), the same operations in the same order:
    # total = (old - old prior + new prior) + (added weight - new prior)
    delta = np.full(scored.height, _prior_weight(extended))
    bfs = _add_bayes_factors(
        pl.concat([scored.select("l_idx", "r_idx"), gammas], how="horizontal"),
        added_model,
        right,
        delta,
        contributions=with_bf,
    )
    delta -= _prior_weight(extended)
    total = scored["match_weight"].to_numpy() - _prior_weight(base)
    total += _prior_weight(extended)
    total += delta
    del delta
    prob = np.negative(total)  # 1 / (1 + 2^-w), as score computes it
    np.exp2(prob, out=prob)
    prob += 1.0
    np.reciprocal(prob, out=prob)
    return scored.with_columns(
        *[gammas.get_column(c.output_column) for c in added],
        *[pl.Series(name, values, dtype=pl.Float64) for name, values in bfs.items()],
        pl.Series("match_weight", total, dtype=pl.Float64),
        pl.Series("match_probability", prob, dtype=pl.Float64),
    )


def _same_table(table: Mapping[str, float] | None, other: Mapping[str, float]) -> bool:
    """Whether two TF tables are equal (the same object at once: a model extended from
    another shares its tables, of up to a million values)."""
    return table is other or table == other


def contributions(pairs: pl.DataFrame, model: TrainedModel, right: pl.DataFrame) -> pl.DataFrame:
    """Each comparison's ``bf_<name>`` for some scored pairs, exactly as :func:`score` computes
    them (TF adjusted on the right records' values).

    The engine keeps its scored pairs narrow (see ``score``'s ``contributions``); this gives the
    contributions again for the rows that need explaining.

    Args:
        pairs: ``{r_idx, gamma_<name> ...}`` of the model's comparisons.
        model: the model the pairs were scored with.
        right: the records ``r_idx`` indexes.

    Returns:
        One ``bf_<name>`` column per comparison of the model, one row per pair.
    """
    gammas = pairs.select("r_idx", *[c.output_column for c in model.comparisons])
    return score(gammas, model, right=right).select(f"bf_{c.name}" for c in model.comparisons)


@dataclass(frozen=True)
class _ComparisonWords:
    """One comparison's words and Bayes factors per ``gamma + 1`` (index 0: missing)."""

    name: str
    gamma_column: str
    bf_column: str
    words: tuple[str, ...]
    bayes_factors: tuple[float, ...]
    tf_adjusted: tuple[bool, ...]


@dataclass(frozen=True)
class _ModelWords:
    """What :func:`explain` reads of a model, computed once per model (it runs per row)."""

    comparisons: tuple[_ComparisonWords, ...]
    prior: str


def _words_of(model: TrainedModel) -> _ModelWords:
    comparisons = []
    for comp in model.comparisons:
        levels = [comp.level(g) for g in range(-1, comp.n_levels)]
        comparisons.append(
            _ComparisonWords(
                name=comp.name,
                gamma_column=comp.output_column,
                bf_column=f"bf_{comp.name}",
                words=tuple(level.describe() for level in levels),
                bayes_factors=tuple(float(b) for b in _bf_table(model, comp.name)),
                tf_adjusted=(False, *(bool(level.tf_column) for level in levels[1:])),
            )
        )
    prior = float(np.log2(model.prior) - np.log2(1 - model.prior))
    return _ModelWords(tuple(comparisons), f"prior (chance two records match): {prior:+.1f}")


#: :func:`_words_of` of the models explained lately, by ``id`` (with the model itself, so that
#: a new model at a freed id is not taken for the old one); a few models at most.
_WORDS: dict[int, tuple[TrainedModel, _ModelWords]] = {}


def _model_words(model: TrainedModel) -> _ModelWords:
    kept = _WORDS.get(id(model))
    if kept is not None and kept[0] is model:
        return kept[1]
    words = _words_of(model)
    if len(_WORDS) >= 8:
        _WORDS.clear()
    _WORDS[id(model)] = (model, words)
    return words


def explain(row: Mapping[str, Any], model: TrainedModel) -> list[str]:
    """Each comparison's contribution to a scored pair, in words, largest effect first.

    ``row`` is one scored pair as a mapping (``scored.row(i, named=True)``, or a link row with
    ``gamma_*``/``bf_*``). Returns lines like ``"given names have the same cross-script key:
    +6.2"``, then the prior and the total. (The model's words and Bayes factors are computed
    once per model: the review file explains every candidate of every record under review.)
    """
    known = _model_words(model)
    lines: list[tuple[float, str]] = []
    for comp in known.comparisons:
        gamma = row.get(comp.gamma_column)
        bf = row.get(comp.bf_column)
        if gamma is None and bf is None:
            continue
        if gamma is None:
            value, words = float(bf or 0.0), f"{comp.name}: level unknown"
        else:
            at = int(gamma) + 1
            base = comp.bayes_factors[at]
            value, words = (base if bf is None else float(bf)), comp.words[at]
            if comp.tf_adjusted[at] and abs(value - base) > 0.05:
                words += " (value frequency taken into account)"
        lines.append((abs(value), f"{words}: {value:+.1f}"))
    lines.sort(key=lambda t: -t[0])
    out = [text for _, text in lines]
    out.append(known.prior)
    if row.get("match_weight") is not None:
        out.append(
            f"total match weight {float(row['match_weight']):+.1f}"
            + (
                f", match probability {float(row['match_probability']):.3f}"
                if row.get("match_probability") is not None
                else ""
            )
        )
    return out
