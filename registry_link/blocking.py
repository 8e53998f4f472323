"""Blocking: candidate record pairs from equality rules, never a full cross product.

A :class:`BlockingRule` names columns that must be equal on both records (nulls never block
together). List columns (e.g. ``name_token_keys``) are exploded: two records share the block
when they share one element. Candidate pairs are the union over the rules, deduplicated, with
``rule`` = the first rule that produced the pair.

Modes: **link** (``right`` given: pairs of a left row and a right row) and **dedupe**
(``right=None``: pairs of rows of ``left`` with ``l_idx < r_idx``).

Memory: rules are processed one by one; each rule's pairs are built from the key columns and
row indices only, checked against the rule's pair-count limit *before* the join (from block
sizes), and deduplicated against earlier rules with an anti-join on a packed ``UInt64`` key
``l_idx << 32 | r_idx``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from registry_link.errors import LinkageError

PAIR_SCHEMA: dict[str, Any] = {"l_idx": pl.UInt32, "r_idx": pl.UInt32, "rule": pl.Utf8}


class OversizedBlockWarning(UserWarning):
    """Blocks larger than a rule's ``max_block_size`` were skipped."""


@dataclass(frozen=True)
class BlockingRule:
    """Records are candidates when all ``columns`` are equal (and non-null) on both.

    Attributes:
        name: the rule's name (reported in ``rule`` and in messages).
        columns: record columns that must be equal; a list column matches on any shared element.
        max_block_size: skip (with an :class:`OversizedBlockWarning`) any block that would
            produce more pairs than this (left size × right size; n·(n-1)/2 in dedupe mode).
        max_pairs: raise :class:`~registry_link.errors.LinkageError` if the rule would produce
            more pairs than this (counted from block sizes, before any join).
    """

    name: str
    columns: tuple[str, ...]
    max_block_size: int | None = None
    max_pairs: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        if not self.columns:
            raise LinkageError(f"blocking rule {self.name!r} names no column; give at least one")

    def describe(self) -> str:
        """The rule in words."""
        return f"{self.name}: same {' and '.join(self.columns)}"


@dataclass
class _Side:
    keys: pl.DataFrame  # idx + key columns, exploded, nulls dropped, unique
    sizes: pl.DataFrame  # key columns + n


def _check_columns(frame: pl.DataFrame, side: str, rule: BlockingRule) -> None:
    missing = [c for c in rule.columns if c not in frame.columns]
    if missing:
        raise LinkageError(
            f"blocking rule {rule.name!r}: the {side} records lack column(s) {missing}; "
            f"columns present: {frame.columns[:40]}. Fix the rule's columns in the model config"
        )


def _key_cols(rule: BlockingRule) -> list[str]:
    return [f"k{i}" for i in range(len(rule.columns))]


def _side(frame: pl.DataFrame, rule: BlockingRule) -> _Side:
    keys = _key_cols(rule)
    sel = frame.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("idx"),
        *[pl.col(c).alias(k) for c, k in zip(rule.columns, keys, strict=True)],
    )
    for k in keys:
        if isinstance(sel.schema[k], pl.List):
            sel = sel.explode(k)
    sel = sel.drop_nulls(keys)
    if any(isinstance(frame.schema[c], pl.List) for c in rule.columns):
        sel = sel.unique(maintain_order=True)
    sizes = sel.group_by(keys).agg(pl.len().cast(pl.UInt64).alias("n"))
    return _Side(sel, sizes)


def _block_sizes(left: _Side, right: _Side | None, keys: list[str]) -> pl.DataFrame:
    """Per block: left size, right size, pairs (link: nl·nr; dedupe: n(n-1)/2)."""
    if right is None:
        return left.sizes.select(
            *keys,
            pl.col("n").alias("left_size"),
            pl.col("n").alias("right_size"),
            (pl.col("n") * (pl.col("n") - 1) // 2).alias("pairs"),
        )
    return left.sizes.join(right.sizes, on=keys, how="inner", suffix="_r").select(
        *keys,
        pl.col("n").alias("left_size"),
        pl.col("n_r").alias("right_size"),
        (pl.col("n") * pl.col("n_r")).alias("pairs"),
    )


@dataclass
class _RuleBlocks:
    """One rule's kept blocks: per side ``{idx, bid}`` rows and per-record block ids."""

    rule: BlockingRule
    blocks: pl.DataFrame  # bid, pairs (kept blocks only)
    left: pl.DataFrame  # idx, bid
    right: pl.DataFrame  # idx, bid (dedupe: same as left)
    left_ids: pl.Series  # per left record: bid (UInt32) or List[UInt32] for list rules
    right_ids: pl.Series
    is_list: bool


def _ids(rows: pl.DataFrame, n: int, is_list: bool) -> pl.Series:
    """Per record (0..n-1): its block id, or list of block ids for list rules; null if none."""
    base = pl.DataFrame({"idx": pl.int_range(n, dtype=pl.UInt32, eager=True)})
    if is_list:
        rows = rows.group_by("idx").agg(pl.col("bid"))
    return base.join(rows, on="idx", how="left", maintain_order="left")["bid"]


def _rule_blocks(
    left_frame: pl.DataFrame, right_frame: pl.DataFrame | None, rule: BlockingRule
) -> _RuleBlocks:
    """Block the rule's records, apply max_block_size and max_pairs (before any pair join)."""
    keys = _key_cols(rule)
    left = _side(left_frame, rule)
    right = _side(right_frame, rule) if right_frame is not None else None
    blocks = _block_sizes(left, right, keys)
    if rule.max_block_size is not None:
        big = blocks.filter(pl.col("pairs") > rule.max_block_size)
        if big.height:
            worst = big.sort("pairs", descending=True).row(0, named=True)
            shown = ", ".join(f"{c}={worst[k]!r}" for c, k in zip(rule.columns, keys, strict=True))
            warnings.warn(
                f"blocking rule {rule.name!r}: skipped {big.height} block(s) larger than "
                f"max_block_size={rule.max_block_size} pairs ({int(big['pairs'].sum())} pairs in "
                f"all; largest: {shown} with {worst['pairs']} pairs)",
                OversizedBlockWarning,
                stacklevel=4,
            )
            blocks = blocks.filter(pl.col("pairs") <= rule.max_block_size)
    blocks = blocks.filter(pl.col("pairs") > 0)
    total = int(blocks["pairs"].sum()) if blocks.height else 0
    if rule.max_pairs is not None and total > rule.max_pairs:
        raise LinkageError(
            f"blocking rule {rule.name!r} ({' + '.join(rule.columns)}) would produce {total:,} "
            f"candidate pairs, above its limit of {rule.max_pairs:,}. Fix: add a column to the "
            f"rule, set a max_block_size, or raise max_pairs"
        )
    # join on a small integer block id, never on the (string) key columns
    kept = blocks.select(*keys, "pairs").with_row_index("bid")
    lk = left.keys.join(kept.select("bid", *keys), on=keys, how="inner").select("idx", "bid")
    if right is None:
        rk = lk
    else:
        rk = right.keys.join(kept.select("bid", *keys), on=keys, how="inner").select("idx", "bid")
    is_list = any(isinstance(left_frame.schema[c], pl.List) for c in rule.columns)
    n_right = len(right_frame) if right_frame is not None else len(left_frame)
    return _RuleBlocks(
        rule,
        kept.select("bid", "pairs"),
        lk,
        rk,
        _ids(lk, len(left_frame), is_list),
        _ids(rk, n_right, is_list) if right is not None else _ids(lk, len(left_frame), is_list),
        is_list,
    )


def _in_rule(pairs: pl.DataFrame, rb: _RuleBlocks) -> pl.Series:
    """True for the pairs that rule ``rb`` produces (they share one of its kept blocks)."""
    lid = rb.left_ids.gather(pairs["l_idx"])
    rid = rb.right_ids.gather(pairs["r_idx"])
    if rb.is_list:
        shared = lid.list.set_intersection(rid).list.len()
        return shared.fill_null(0) > 0
    return (lid == rid).fill_null(False)


def _batches(rb: _RuleBlocks, batch_pairs: int) -> list[tuple[int, int]]:
    """Contiguous block-id ranges ``[start, end)`` of about ``batch_pairs`` pairs each."""
    if rb.blocks.height == 0:
        return []
    cum = rb.blocks["pairs"].cum_sum()
    batch = (cum - rb.blocks["pairs"]) // max(1, batch_pairs)
    edges = batch.rle().struct.field("len").cum_sum().to_list()
    return list(zip([0, *edges[:-1]], edges, strict=True))


def _batch_pairs(rb: _RuleBlocks, start: int, end: int, dedupe: bool) -> pl.DataFrame:
    """The pairs of blocks ``start <= bid < end`` of one rule: ``{l_idx, r_idx}``, unique."""
    lk = rb.left.filter(pl.col("bid").is_between(start, end, closed="left"))
    rk = rb.right.filter(pl.col("bid").is_between(start, end, closed="left"))
    pairs = lk.join(rk, on="bid", how="inner", suffix="_r").select(
        pl.col("idx").alias("l_idx"), pl.col("idx_r").alias("r_idx"), "bid"
    )
    if dedupe:
        pairs = pairs.filter(pl.col("l_idx") < pl.col("r_idx"))
    if rb.is_list:
        # records sharing several elements meet in several blocks: keep the first block only
        first = (
            rb.left_ids.gather(pairs["l_idx"])
            .list.set_intersection(rb.right_ids.gather(pairs["r_idx"]))
            .list.min()
        )
        pairs = pairs.filter(first == pairs["bid"])
    return pairs.drop("bid").sort("l_idx", "r_idx")


def block(
    left: pl.DataFrame,
    right: pl.DataFrame | None,
    rules: Sequence[BlockingRule],
    *,
    batch_pairs: int = 20_000_000,
) -> pl.DataFrame:
    """Candidate pairs: the union of the rules' pairs, deduplicated.

    Each rule's pairs are built in batches of blocks (about ``batch_pairs`` pairs each); a
    pair already produced by an earlier rule is dropped by checking that rule's per-record
    block ids (two small gathers), so no set of seen pairs is kept.

    Args:
        left: left records (link mode) or the one frame (dedupe mode).
        right: right records (link mode), or ``None`` for dedupe mode (pairs ``l_idx < r_idx``).
        rules: blocking rules, in priority order (``rule`` = first rule producing the pair).
        batch_pairs: pairs joined at once (memory bound of the intermediate join).

    Returns:
        ``{l_idx: UInt32, r_idx: UInt32, rule: Utf8}``, unique on ``(l_idx, r_idx)``; ordered
        by rule, then ``(l_idx, r_idx)`` within each batch.

    Raises:
        LinkageError: a rule names an absent column, names repeat, or a rule exceeds max_pairs.
    """
    _validate(left, right, rules)
    if len(left) >= 2**32 or (right is not None and len(right) >= 2**32):
        raise LinkageError("blocking supports at most 2**32 - 1 records per side")
    done: list[_RuleBlocks] = []
    parts: list[pl.DataFrame] = []
    for rule in rules:
        rb = _rule_blocks(left, right, rule)
        for start, end in _batches(rb, batch_pairs):
            pairs = _batch_pairs(rb, start, end, dedupe=right is None)
            if done and pairs.height:
                earlier = pl.Series([False] * pairs.height)
                for prev in done:
                    earlier = earlier | _in_rule(pairs, prev)
                pairs = pairs.filter(~earlier)
            parts.append(pairs.with_columns(pl.lit(rule.name, dtype=pl.Utf8).alias("rule")))
        done.append(rb)
    if not parts:
        return pl.DataFrame(schema=PAIR_SCHEMA)
    return pl.concat(parts).cast(PAIR_SCHEMA)  # type: ignore[arg-type]


def _validate(
    left: pl.DataFrame, right: pl.DataFrame | None, rules: Sequence[BlockingRule]
) -> None:
    names = [r.name for r in rules]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise LinkageError(f"blocking rule names must be unique; repeated: {dupes}")
    for rule in rules:
        _check_columns(left, "left", rule)
        if right is not None:
            _check_columns(right, "right", rule)


@dataclass(frozen=True)
class BlockingReport:
    """Candidate-pair counts per rule and the largest blocks, from block sizes only.

    ``rules``: ``{rule, columns, blocks, pairs, largest_block_pairs, left_rows, right_rows}``
    — ``pairs`` counts the rule alone (pairs also produced by earlier rules are included;
    for list columns a pair sharing several elements is counted once per element).
    ``largest_blocks``: ``{rule, key, left_size, right_size, pairs}``, the ``top`` largest
    blocks of each rule, largest first.
    """

    rules: pl.DataFrame
    largest_blocks: pl.DataFrame = field(repr=False)

    def to_text(self) -> str:
        """A plain-text table for the ``registry-link blocking`` command."""
        lines = ["rule                          blocks        pairs  largest block"]
        for r in self.rules.iter_rows(named=True):
            lines.append(
                f"{r['rule']:<28}{r['blocks']:>8,}{r['pairs']:>13,}  {r['largest_block_pairs']:,}"
            )
        lines.append("")
        lines.append("largest blocks (rule, key, left size, right size, pairs):")
        for b in self.largest_blocks.iter_rows(named=True):
            lines.append(
                f"  {b['rule']}: {b['key']}  {b['left_size']:,} x {b['right_size']:,}"
                f" = {b['pairs']:,}"
            )
        return "\n".join(lines)


def blocking_report(
    left: pl.DataFrame,
    right: pl.DataFrame | None,
    rules: Sequence[BlockingRule],
    top: int = 10,
) -> BlockingReport:
    """Count candidate pairs per rule and list the largest blocks, without building pairs.

    ``right=None`` means dedupe mode (block pairs n·(n-1)/2). Size limits of the rules are
    not applied: the report shows what the rules would produce.
    """
    _validate(left, right, rules)
    rows: list[dict[str, Any]] = []
    tops: list[pl.DataFrame] = []
    for rule in rules:
        keys = _key_cols(rule)
        lside = _side(left, rule)
        rside = _side(right, rule) if right is not None else None
        blocks = _block_sizes(lside, rside, keys)
        rows.append(
            {
                "rule": rule.name,
                "columns": ", ".join(rule.columns),
                "blocks": blocks.height,
                "pairs": int(blocks["pairs"].sum()) if blocks.height else 0,
                "largest_block_pairs": int(blocks["pairs"].max() or 0),  # type: ignore[arg-type]
                "left_rows": lside.keys.select(pl.col("idx").n_unique()).item(),
                "right_rows": (rside or lside).keys.select(pl.col("idx").n_unique()).item(),
            }
        )
        key_text = pl.concat_str(
            [
                pl.lit(f"{c}=") + pl.col(k).cast(pl.Utf8)
                for c, k in zip(rule.columns, keys, strict=True)
            ],
            separator=", ",
        )
        tops.append(
            blocks.sort("pairs", descending=True)
            .head(top)
            .select(
                pl.lit(rule.name).alias("rule"),
                key_text.alias("key"),
                pl.col("left_size").cast(pl.Int64),
                pl.col("right_size").cast(pl.Int64),
                pl.col("pairs").cast(pl.Int64),
            )
        )
    rule_schema = {
        "rule": pl.Utf8,
        "columns": pl.Utf8,
        "blocks": pl.Int64,
        "pairs": pl.Int64,
        "largest_block_pairs": pl.Int64,
        "left_rows": pl.Int64,
        "right_rows": pl.Int64,
    }
    largest = (
        pl.concat(tops)
        if tops
        else pl.DataFrame(
            schema={
                "rule": pl.Utf8,
                "key": pl.Utf8,
                "left_size": pl.Int64,
                "right_size": pl.Int64,
                "pairs": pl.Int64,
            }
        )
    )
    return BlockingReport(pl.DataFrame(rows, schema=rule_schema), largest)


def rules_from_config(specs: Sequence[dict[str, Any]]) -> list[BlockingRule]:
    """Rules from model-config mappings ``{name, columns, max_block_size?, max_pairs?}``."""
    return [
        BlockingRule(
            name=s["name"],
            columns=tuple(s["columns"]),
            max_block_size=s.get("max_block_size"),
            max_pairs=s.get("max_pairs"),
        )
        for s in specs
    ]
