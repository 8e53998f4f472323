"""Household context: link dependants through their worker's registry household (group linkage).

A child "Mohamed Alaoui, 2012" with no CIN, father or place has too little evidence of its own.
But its partner list says who declared it: ``principal_record_id`` → the worker's record. When
the worker is matched to a registry person, the child is most likely a member of that person's
registry household. This module turns that into ordinary Fellegi–Sunter evidence:

1. **Hints** (:func:`partner_hints`): per partner record with a principal, ``household_hint`` =
   the registry ``household_id`` of the person its worker was *matched* to in the first pass
   (decision ``match``); null otherwise — also null on the worker's own row, whose match *is*
   the evidence (using it for the worker again would count it twice). Registry side: the hint
   is the record's own ``household_id`` (:func:`with_hints`).
2. **Candidates** (:func:`extra_pairs`): a blocking rule on the hint pairs each dependant with
   every member of its worker's registry household (small blocks); only pairs the first pass
   did not propose are added.
3. **Comparison** (:func:`household_comparison`): kind ``exact`` on the hint column, levels
   missing / different / same. u in closed form from the hint-group sizes
   (:func:`household_u`); m and a re-estimated prior by EM with every other comparison's m and
   all u fixed (:func:`registry_link.train.training.extend_model`), smoothed with half a match per
   level like the others.
   The context does not count for a pair whose own given names *and* birth dates are
   different (:func:`gate_household`, settings ``not_when_all_different``): its household
   level is then "missing" (weight 0), so the household cannot lift a child who is not in
   the registry onto a sibling or the father (another name, another year). One of the two
   differing alone is left to the model: on the sample data a gate on either (a typo in an
   Arabic given name, a mistyped year) cost 52 right matches of dependants for 2 wrong ones.
4. The household pass (:mod:`registry_link.households.second_pass`) re-scores every pair with the
   extended model and decides again; ``bf_household`` explains the pull ("registry households
   of the dependant's worker and of this person are identical: +9.1"), while the name, date
   and sex comparisons still tell siblings apart.

The first-pass prior is kept in ``training["household_context"]["pass1_prior"]`` so that
:func:`base_model` gives back exactly the first-pass model when a saved model is reused.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from registry_link.block.candidates import PAIR_SCHEMA, BlockingRule, block, pack_pair
from registry_link.compare import Comparison, build_comparison
from registry_link.errors import LinkageError
from registry_link.households.build import principal_source_expr
from registry_link.model import HouseholdContextSettings, TrainedModel
from registry_link.train.em import FSParams
from registry_link.train.training import rule_keys

#: Words for the household comparison (its levels read "<label> are identical" ...).
HOUSEHOLD_LABEL = "registry households of the dependant's worker and of this person"


def _require(frame: pl.DataFrame, needed: list[str], what: str) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise LinkageError(
            f"household context: the {what} lack column(s) {missing} (they have "
            f"{frame.columns[:12]}); give standardised frames and first-pass links"
        )


def partner_hints(left: pl.DataFrame, links: pl.DataFrame, right: pl.DataFrame) -> pl.Series:
    """Per partner record (left row order): its worker's matched registry household, or null.

    Args:
        left: partner records ``{source, record_id, principal_record_id, relationship, ...}``.
        links: first-pass decisions ``{source, record_id, person_id, decision}``.
        right: registry records ``{person_id, household_id}``.

    Returns:
        A Utf8 series named ``household_hint``, one value per left row: null for a record
        without a principal, for the worker's own row (relationship ``principal`` or its own
        principal), and when the worker is not matched
        (review / non_match) or its person has no household.
    """
    _require(
        left, ["source", "record_id", "principal_record_id", "relationship"], "partner records"
    )
    _require(links, ["source", "record_id", "person_id", "decision"], "links")
    _require(right, ["person_id", "household_id"], "registry records")
    matched = links.filter(pl.col("decision") == "match").select(
        "source", pl.col("record_id").alias("principal_record_id"), "person_id"
    )
    person_household = (
        right.select("person_id", "household_id")
        # the matched persons' rows only (in registry order), before anything else touches them
        .join(
            matched.select("person_id").unique(), on="person_id", how="semi", maintain_order="left"
        )
        .drop_nulls()
        .unique(subset="person_id", keep="first", maintain_order=True)
    )
    worker_household = (
        matched.join(person_household, on="person_id", how="inner")
        .select("source", "principal_record_id", pl.col("household_id").alias("hint"))
        .unique(subset=["source", "principal_record_id"], keep="first", maintain_order=True)
    )
    hinted = left.select(
        principal_source_expr(left).alias("source"),
        "record_id",
        "principal_record_id",
        "relationship",
    ).join(
        worker_household, on=["source", "principal_record_id"], how="left", maintain_order="left"
    )
    own_row = (pl.col("principal_record_id") == pl.col("record_id")) | (
        pl.col("relationship") == "principal"
    )
    return (
        hinted.select(pl.when(own_row.fill_null(False)).then(None).otherwise(pl.col("hint")))
        .to_series()
        .cast(pl.Utf8)
        .alias("household_hint")
    )


def principal_rows(left: pl.DataFrame) -> pl.Series:
    """Per partner record (left row order): whether a record of its source names it as
    principal — the workers, the only records whose first-pass decision
    :func:`partner_hints` reads (a Boolean series named ``is_principal``)."""
    _require(left, ["source", "record_id", "principal_record_id"], "partner records")
    named = (
        left.select(
            principal_source_expr(left).alias("source"),
            pl.col("principal_record_id").alias("record_id"),
        )
        .drop_nulls()
        .unique()
        .with_columns(is_principal=pl.lit(True))
    )
    return (
        left.select("source", "record_id")
        .join(named, on=["source", "record_id"], how="left", maintain_order="left")
        .get_column("is_principal")
        .fill_null(False)
    )


def with_hints(
    left: pl.DataFrame, right: pl.DataFrame, links: pl.DataFrame, hint_column: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Both frames with the hint column added (partner: worker's household; registry: own)."""
    _require(right, ["household_id"], "registry records")
    hints = partner_hints(left, links, right).alias(hint_column)
    return (
        left.with_columns(hints),
        right.with_columns(pl.col("household_id").cast(pl.Utf8).alias(hint_column)),
    )


def household_rule(hc: HouseholdContextSettings) -> BlockingRule:
    """The blocking rule on the hint column (dependant × its worker's household members)."""
    return BlockingRule(hc.comparison, (hc.hint_column,), hc.max_block_size)


def household_comparison(hc: HouseholdContextSettings) -> Comparison:
    """The ``exact`` comparison on the hint column: missing / different / same household."""
    return build_comparison(
        {"name": hc.comparison, "kind": "exact", "column": hc.hint_column, "label": HOUSEHOLD_LABEL}
    )


#: Integer keys of the rule's values per record of each side (:func:`rule_keys`).
HintKeys = tuple[np.ndarray, np.ndarray]


def hint_keys(left: pl.DataFrame, right: pl.DataFrame, column: str) -> HintKeys:
    """:func:`rule_keys` of the one hint column: per record of each side an integer key, equal
    for a partner record and a registry record iff both have the same non-null hint; -1 for a
    partner record without one, -2 for a registry record without one or with a hint no
    partner record has. The values are coded by a cast to the ``Enum`` of the partner side's
    distinct hints (about half the time of a join on the million registry strings)."""
    lh = left.get_column(column).cast(pl.Utf8)
    distinct = lh.drop_nulls().unique(maintain_order=True)
    if distinct.len() == 0:
        return np.full(left.height, -1, np.int32), np.full(right.height, -2, np.int32)
    hints = pl.Enum(distinct)

    def coded(values: pl.Series, absent: int) -> np.ndarray:
        code = values.cast(pl.Utf8).cast(hints, strict=False).to_physical().cast(pl.Int32)
        return code.fill_null(absent).to_numpy()

    return coded(lh, -1), coded(right.get_column(column), -2)


def extra_pairs(
    left: pl.DataFrame, right: pl.DataFrame, pairs: pl.DataFrame, rule: BlockingRule
) -> pl.DataFrame:
    """Candidate pairs of the household rule that ``pairs`` does not hold already.

    Returns:
        ``{l_idx, r_idx, rule}`` (rule = the household rule's name), unique, disjoint from
        ``pairs`` on ``(l_idx, r_idx)``.
    """
    l_key, r_key = rule_keys(left, right, list(rule.columns))
    # only a pair whose two sides have the same key can be one of the rule's
    same = l_key[pairs["l_idx"].to_numpy()] == r_key[pairs["r_idx"].to_numpy()]
    return _extra_pairs(left, right, pairs.filter(pl.Series(same, dtype=pl.Boolean)), rule, r_key)


def _extra_pairs(
    left: pl.DataFrame,
    right: pl.DataFrame,
    same: pl.DataFrame,
    rule: BlockingRule,
    r_key: np.ndarray,
) -> pl.DataFrame:
    """:func:`extra_pairs` given the registry side's integer keys of the rule's values
    (:func:`rule_keys`: a registry row has a key >= 0 iff some partner record has its values)
    and ``same``, the proposed pairs whose two sides have the same key: the only ones that can
    be among the rule's (a few in a hundred of them)."""
    columns = list(rule.columns)
    # the registry rows whose key some partner record has (the others pair with no one), so
    # that blocking encodes thousands of household ids, not millions; r_idx mapped back below
    rows = pl.Series("_r", np.flatnonzero(r_key >= 0), dtype=pl.UInt32)
    new = block(left, right.select(columns).gather(rows), [rule])
    new = new.with_columns(r_idx=rows.gather(new.get_column("r_idx")))
    if new.height == 0 or same.height == 0:
        return new.select(list(PAIR_SCHEMA)).cast(PAIR_SCHEMA)  # type: ignore[arg-type]
    packed = pack_pair("l_idx", "r_idx")  # the anti-join on one UInt64 per pair
    return (
        new.with_columns(packed)
        .join(same.select(packed), on="pair", how="anti")
        .select(list(PAIR_SCHEMA))
        .cast(PAIR_SCHEMA)  # type: ignore[arg-type]
    )


def household_gammas(
    left: pl.DataFrame, right: pl.DataFrame, pairs: pl.DataFrame, comparison: Comparison
) -> pl.Series:
    """``gamma_<household>`` of ``pairs`` (frames with the hint column, see :func:`with_hints`).

    Only pairs whose partner record has a hint are compared; the others are missing (-1),
    which is what the comparison gives them (its missing level: a null hint on either side).
    """
    return household_gammas_of(left, right, [pairs], comparison)[0]


def household_gammas_of(
    left: pl.DataFrame,
    right: pl.DataFrame,
    pair_frames: Sequence[pl.DataFrame],
    comparison: Comparison,
) -> list[pl.Series]:
    """:func:`household_gammas` of several pair frames, the hints encoded once for all."""
    _check_household_comparison(comparison)
    (hint,) = comparison.columns
    return _household_gammas(right, pair_frames, comparison, hint_keys(left, right, hint))


def household_pairs(
    left: pl.DataFrame,
    right: pl.DataFrame,
    pairs: pl.DataFrame,
    settings: HouseholdContextSettings,
    keys: HintKeys,
) -> tuple[pl.DataFrame, pl.Series, pl.Series]:
    """The household rule's extra pairs and the household comparison's gammas of the
    proposed pairs and of the extra ones (frames with the hint column, see
    :func:`with_hints`; ``keys``: their :func:`hint_keys`, encoded once for all).

    Returns:
        ``(extra, gamma of pairs, gamma of extra)``: ``extra_pairs(left, right, pairs,
        household_rule(settings))`` and ``household_gammas_of(left, right, [pairs, extra],
        household_comparison(settings))``.
    """
    comparison = household_comparison(settings)
    # the proposed pairs' levels first: their "same" level (1) is where the two sides have the
    # same key, the only pairs the extra ones are checked against
    (old_gamma,) = _household_gammas(right, [pairs], comparison, keys)
    same = pairs.filter(old_gamma == 1)
    new = _extra_pairs(left, right, same, household_rule(settings), keys[1])
    (new_gamma,) = _household_gammas(right, [new], comparison, keys)
    return new, old_gamma, new_gamma


def _check_household_comparison(comparison: Comparison) -> None:
    if comparison.kind != "exact" or comparison.n_levels != 2:
        raise LinkageError(
            f"the household comparison must be of kind 'exact' (missing / different / same), "
            f"got {comparison.kind!r}; build it with household_comparison()"
        )


#: :func:`_household_gammas`' code of a registry record without a hint (:func:`rule_keys`
#: gives partner records without one -1, registry records without one or without a partner
#: record's value -2).
_NULL = -3


def _household_gammas(
    right: pl.DataFrame, pair_frames: Sequence[pl.DataFrame], comparison: Comparison, keys: HintKeys
) -> list[pl.Series]:
    """:func:`household_gammas_of` with the hints as integer keys (equal key <=> equal
    non-null value, see :func:`rule_keys`)."""
    (hint,) = comparison.columns
    lk, rk = keys
    # one registry code per record: its key, -2 (a value no partner record has) or -3 (null),
    # so that one gather per pair gives both "same" (equal keys, both >= 0) and "missing"
    r_code = np.where(right.get_column(hint).is_null().to_numpy(), _NULL, rk).astype(rk.dtype)
    out = []
    for pairs in pair_frames:
        lkp = lk[pairs["l_idx"].to_numpy()]
        gamma = np.full(pairs.height, -1, dtype=np.int8)  # missing where the partner has none
        hinted = np.flatnonzero(lkp >= 0)
        # (the registry's codes, a random gather, only for the pairs whose partner has a hint)
        rkp = r_code[pairs["r_idx"].to_numpy()[hinted]]
        level = (lkp[hinted] == rkp).view(np.int8)  # same 1, different 0 ...
        level[rkp == _NULL] = -1  # ... missing where the registry record has none
        gamma[hinted] = level
        out.append(pl.Series(comparison.output_column, gamma, dtype=pl.Int8))
    return out


def gate_household(
    gamma: pl.Series, gammas: pl.DataFrame, not_when_all_different: Sequence[str]
) -> pl.Series:
    """``gamma`` (the household comparison's levels) with "missing" (-1) where every one of
    the comparisons ``not_when_all_different`` is at its "different" level (gamma 0) in
    ``gammas`` (one row per pair): the household context does not count for those pairs.

    Raises:
        LinkageError: a comparison named is absent from ``gammas``.
    """
    columns = [f"gamma_{name}" for name in not_when_all_different]
    missing = [c for c in columns if c not in gammas.columns]
    if missing:
        raise LinkageError(
            f"household context: not_when_all_different names comparison(s) "
            f"{[c.removeprefix('gamma_') for c in missing]} the model does not have (it has "
            f"{[c.removeprefix('gamma_') for c in gammas.columns if c.startswith('gamma_')]}); "
            f"fix household_context.not_when_all_different in the model config"
        )
    if not columns:
        return gamma
    different = gammas.select(pl.all_horizontal(pl.col(c) == 0 for c in columns)).to_series()
    return (
        pl.select(pl.when(different.fill_null(False)).then(-1).otherwise(gamma))
        .to_series()
        .cast(pl.Int8)
        .alias(gamma.name)
    )


def household_u(keys: HintKeys, right_hinted: int) -> tuple[float, float]:
    """u of the household comparison, levels (different, same), in closed form.

    Among record pairs with a hint on both sides (the others are "missing"), the share with
    the same value is ``Σ_h nl_h · nr_h / (NL · NR)`` over hint values h; random pairs are
    non-matches (as for :func:`registry_link.train.training.estimate_u`). A share of 0 is floored
    at half a pair, as unseen levels are in training.

    Args:
        keys: the hint column's :func:`hint_keys` (the partner records' hints numbered, each
            registry record's the same number, or negative without one or with one no partner
            record has: those count in NR only).
        right_hinted: NR, the registry records with a hint.
    """
    lk, rk = keys
    n_pairs = float(np.count_nonzero(lk >= 0)) * float(right_hinted)
    if n_pairs == 0:
        return (0.5, 0.5)
    distinct = int(lk.max()) + 1
    nl = np.bincount(lk[lk >= 0], minlength=distinct).astype(np.float64)
    nr = np.bincount(rk[rk >= 0], minlength=distinct).astype(np.float64)
    same = float(np.dot(nl, nr))  # (whole numbers below 2**53: exact in any order)
    same = min(max(same, 0.5), n_pairs - 0.5) if n_pairs > 1 else 0.5
    return (1.0 - same / n_pairs, same / n_pairs)


def household_name(model: TrainedModel) -> str | None:
    """The name of the model's household comparison (from its training metadata), or None."""
    meta = model.training.get("household_context")
    name = meta.get("comparison") if isinstance(meta, dict) else None
    return name if isinstance(name, str) and name in model.params.names else None


def base_model(model: TrainedModel, name: str | None) -> TrainedModel:
    """The first-pass model: without comparison ``name``, with the first-pass prior.

    A model without that comparison (or ``name=None``) is returned unchanged.
    """
    if name is None or name not in model.params.names:
        return model
    meta = model.training.get("household_context") or {}
    prior = float(meta.get("pass1_prior", model.prior))
    keep = tuple(c for c in model.comparisons if c.name != name)
    return TrainedModel(
        comparisons=keep,
        params=FSParams(
            prior=prior,
            m={c.name: model.params.m[c.name] for c in keep},
            u={c.name: model.params.u[c.name] for c in keep},
        ),
        tf_tables=model.tf_tables,
        tf_minimum_frequency=model.tf_minimum_frequency,
        training=model.training,
        settings=model.settings,
    )
