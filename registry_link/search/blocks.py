"""Blocking for one record at a time: each rule's registry keys, hashed and sorted once.

The batch (:func:`~registry_link.block.candidates.block`) joins a whole list with the registry
on each rule's key. A search has one record (or a few): the index keeps, per rule, the 64-bit
hash of every registry record's key (one per distinct element for a list column, records with a
null key part left out, as blocking does) sorted, with the record's row beside it. A query's
candidates are then a binary search per key (:func:`lookup`): no join, no pass over the
registry.

Limits are applied as the batch applies them to one record: ``max_candidates`` (registry records
in the block) as it is; ``max_block_size`` (left × right records in the block) with one left
record — in the batch the block's size also counts the other records of the list sharing the
key, which a search does not have.

Keys are 64-bit hashes of the key values (polars' hash of the key struct, the same for the
registry and a query frame of the same schema); two distinct keys sharing a hash would add a
candidate that does not share the key (it would be compared and scored like any other), about
one chance in 10^13 per search at 10 M keys."""

from __future__ import annotations

import functools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from registry_link.block.candidates import BlockingRule, near_rows, with_near_keys

_SEED = 20261206


@dataclass(frozen=True)
class RuleTable:
    """One rule's registry keys: ``hashes`` sorted (UInt64), ``rows`` the registry rows."""

    rule: BlockingRule
    hashes: np.ndarray
    rows: np.ndarray

    @property
    def size(self) -> int:
        """Keys held (records × distinct list elements)."""
        return int(self.hashes.size)


def key_hashes(frame: pl.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, hashes)``: each record's key hash for ``columns`` (one per distinct element
    of a list column, e.g. a ``near`` column's buckets; records with a null key part left
    out), rows as UInt32."""
    out = _key_hash_query(frame.lazy(), frame.schema, columns).collect()
    return out["_row"].to_numpy(), out["_h"].to_numpy()


def _key_hash_query(frame: pl.LazyFrame, schema: pl.Schema, columns: Sequence[str]) -> pl.LazyFrame:
    """The query of :func:`key_hashes` (``schema``: the frame's), ``{_row, _h}``."""
    cols = list(columns)
    sel = frame.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"), *cols)
    has_list = False
    for c in cols:
        if isinstance(schema[c], pl.List):
            sel = sel.explode(c)
            has_list = True
    sel = sel.drop_nulls(cols)
    if has_list:
        sel = sel.unique(maintain_order=True)
    return sel.select("_row", pl.struct(cols).hash(_SEED).alias("_h"))


def build_table(frame: pl.DataFrame, rule: BlockingRule, offset: int = 0) -> RuleTable:
    """The rule's table of ``frame``'s records (rows numbered from ``offset``)."""
    rows, hashes = key_hashes(with_near_keys(frame, [rule]), rule.key_columns)
    order = np.argsort(hashes, kind="stable")
    return RuleTable(rule, hashes[order], (rows[order] + offset).astype(np.uint32))


def updated_table(
    table: RuleTable, alive: np.ndarray, added: pl.DataFrame | None, offset: int
) -> RuleTable:
    """``table`` without the rows no longer ``alive``, with ``added``'s records (rows from
    ``offset``) merged in: a copy, the old table untouched (readers may hold it)."""
    keep = alive[table.rows]
    hashes, rows = table.hashes[keep], table.rows[keep]
    if added is not None and added.height:
        new = build_table(added, table.rule, offset)
        at = np.searchsorted(hashes, new.hashes, side="right")
        hashes = np.insert(hashes, at, new.hashes)
        rows = np.insert(rows, at, new.rows)
    return RuleTable(table.rule, hashes, rows)


@dataclass(frozen=True)
class Lookup:
    """A rule's candidate pairs for the query records: ``left`` (query rows) and ``right``
    (registry rows), and ``skipped``: query rows in a block the rule's limits skipped."""

    left: np.ndarray
    right: np.ndarray
    skipped: np.ndarray


def lookup(table: RuleTable, query: pl.DataFrame, max_block_size: int | None = None) -> Lookup:
    """The registry rows sharing a key of the rule with each query record (see the module
    docstring for the limits; ``max_block_size`` overrides the rule's)."""
    rule = table.rule
    qrows, qhash = key_hashes(with_near_keys(query, [rule]), rule.key_columns)
    return _found(table, qrows, qhash, max_block_size)


def lookup_key(table: RuleTable, key: Sequence[object], dtypes: Sequence[pl.DataType]) -> Lookup:
    """:func:`lookup` of one record whose key columns (``table``'s rule has no list or
    ``near`` column) hold ``key``, of ``dtypes``: its key hashed by one ``select`` of a
    one-row frame (the expression :func:`key_hashes` runs: the same hash), no query plan."""
    rule = table.rule
    if any(v is None for v in key):
        none = np.empty(0, np.uint32)
        return Lookup(left=none, right=none, skipped=none)
    frame = pl.DataFrame(
        [pl.Series(c, [v], dtype=t) for c, v, t in zip(rule.key_columns, key, dtypes, strict=True)]
    )
    qhash = frame.select(_key_hash_expr(rule.key_columns)).to_series().to_numpy()
    return _found(table, np.zeros(1, np.uint32), qhash)


@functools.lru_cache(maxsize=16)
def _key_hash_expr(columns: tuple[str, ...]) -> pl.Expr:
    """A key's hash, as :func:`key_hashes` computes it."""
    return pl.struct(list(columns)).hash(_SEED).alias("_h")


def lookup_all(tables: Sequence[RuleTable], query: pl.DataFrame, kept: KeyHashes) -> list[Lookup]:
    """:func:`lookup` of every table in at most one polars call (a search's fixed cost is
    its polars calls): the keys of the rules with a list or ``near`` column are spelt out in
    Python first — one row per list element and per ``near`` bucket (:func:`near_rows`),
    rows with a null key part left out, each key once per record, as :func:`key_hashes`
    explodes them — and stacked under the query's rows; one ``select`` then hashes every
    rule's key on them (a key's hash depends only on its values and their dtypes). The
    hashes are kept per key in ``kept`` (the index's): when every key of the query was
    hashed before (a record searched again, common keys), no polars call at all."""
    schema = query.schema
    plain = [
        t
        for t in tables
        if not t.rule.near and not any(isinstance(schema[c], pl.List) for c in t.rule.columns)
    ]
    others = [t for t in tables if all(t is not u for u in plain)]
    if not tables:
        return []
    n = query.height
    spelt = [_spelt_keys(t.rule, query) for t in others]
    dtypes = {c: schema[c] for t in plain for c in t.rule.key_columns}
    for t in others:
        dtypes |= _key_dtypes(t.rule, schema)
    values = {c: query.get_column(c).to_list() for t in plain for c in t.rule.key_columns}
    plain_keys = [list(zip(*(values[c] for c in t.rule.key_columns), strict=True)) for t in plain]
    ids = [_key_id(t.rule, dtypes) for t in (*plain, *others)]
    keys = [*plain_keys, *(k for k, _ in spelt)]
    hashes = kept.found(ids, keys)
    if hashes is None:
        hashes = _hashed(plain, others, spelt, values, dtypes, n)
        kept.keep(ids, keys, hashes)
    found: dict[str, Lookup] = {}
    for i, t in enumerate(plain):
        whole = np.fromiter((None not in k for k in plain_keys[i]), dtype=bool, count=n)
        qrows = np.flatnonzero(whole).astype(np.uint32)
        found[t.rule.name] = _found(t, qrows, hashes[i][qrows])
    for i, (t, (_, records)) in enumerate(zip(others, spelt, strict=True)):
        qrows = np.asarray(records, dtype=np.uint32)
        found[t.rule.name] = _found(t, qrows, hashes[len(plain) + i])
    return [found[t.rule.name] for t in tables]


#: Key hashes an index keeps (:class:`KeyHashes`) by default.
HASHES_KEPT = 200_000


class KeyHashes:
    """Key hashes computed by :func:`lookup_all`, kept (a registry index holds one, beside
    its other memos): by what a key's hash depends on besides its values (:func:`_key_id`),
    then by its values (tuples of plain values: few objects for the garbage collector to
    follow). At most ``limit`` in all: past it, new ones are computed, not kept.

    Searches of several threads may share one: a hash is a pure function of its key, so a
    key kept twice keeps the same value; the bound may be passed by a few keys at most.
    """

    def __init__(self, limit: int = HASHES_KEPT) -> None:
        self.limit = limit
        self._by_id: dict[Hashable, dict[tuple[object, ...], int]] = {}

    def __len__(self) -> int:
        return sum(map(len, list(self._by_id.values())))

    def found(
        self, ids: Sequence[Hashable], keys: Sequence[Sequence[tuple[object, ...]]]
    ) -> list[np.ndarray] | None:
        """Per rule, its keys' kept hashes (0 for a key with a null part: not looked up);
        None when one is not kept."""
        out = []
        for key_id, rule_keys in zip(ids, keys, strict=True):
            kept = self._by_id.get(key_id, {})
            hashes = [0 if None in k else kept.get(k) for k in rule_keys]
            if None in hashes:
                return None
            out.append(np.asarray(hashes, dtype=np.uint64))
        return out

    def keep(
        self,
        ids: Sequence[Hashable],
        keys: Sequence[Sequence[tuple[object, ...]]],
        hashes: Sequence[np.ndarray],
    ) -> None:
        """Keep the hashes of the keys without a null part (up to :attr:`limit`)."""
        room = self.limit - len(self)
        for key_id, rule_keys, rule_hashes in zip(ids, keys, hashes, strict=True):
            kept = self._by_id.setdefault(key_id, {})
            for k, h in zip(rule_keys, rule_hashes.tolist(), strict=True):
                if room <= 0:
                    return
                if None not in k and k not in kept:
                    kept[k] = h
                    room -= 1


def _key_id(rule: BlockingRule, dtypes: dict[str, pl.DataType]) -> Hashable:
    """What a key's hash depends on besides its values: its columns' dtypes (and names)."""
    return rule.key_columns, tuple(dtypes[c] for c in rule.key_columns)


def _hashed(
    plain: Sequence[RuleTable],
    others: Sequence[RuleTable],
    spelt: Sequence[tuple[list[tuple[object, ...]], list[int]]],
    values: dict[str, list[object]],
    dtypes: dict[str, pl.DataType],
    n: int,
) -> list[np.ndarray]:
    """Per rule, its keys' hashes by one ``select``: the plain rules' on the query's rows,
    the others' on their spelt-out keys stacked under them (see :func:`lookup_all`)."""
    stacked: dict[str, list[object]] = {}
    for c in dtypes:
        column: list[object] = list(values[c]) if c in values else [None] * n
        for t, (keys, _) in zip(others, spelt, strict=True):
            if c in t.rule.key_columns:
                j = t.rule.key_columns.index(c)
                column += [k[j] for k in keys]
            else:
                column += [None] * len(keys)
        stacked[c] = column
    done = (
        pl.DataFrame(stacked, schema=dtypes)
        .select(
            *_hash_exprs(tuple(t.rule for t in plain)),
            *_other_hash_exprs(tuple(t.rule for t in others)),
        )
        .to_numpy()
    )
    out = [done[:n, i] for i in range(len(plain))]
    start = n
    for i, (keys, _) in enumerate(spelt):
        out.append(done[start : start + len(keys), len(plain) + i])
        start += len(keys)
    return out


def _key_dtypes(rule: BlockingRule, schema: pl.Schema) -> dict[str, pl.DataType]:
    """The dtype of each key column of ``rule`` once exploded (a list's element; a
    ``near`` column's buckets are Int64)."""
    out: dict[str, pl.DataType] = {}
    for c, key in zip(rule.columns, rule.key_columns, strict=True):
        dtype = schema[c]
        if c in rule.near:
            out[key] = pl.Int64()
        elif isinstance(dtype, pl.List):
            out[key] = dtype.inner  # type: ignore[assignment]
        else:
            out[key] = dtype
    return out


def _spelt_keys(
    rule: BlockingRule, query: pl.DataFrame
) -> tuple[list[tuple[object, ...]], list[int]]:
    """The rule's keys of each query record (one per combination of its list elements and
    ``near`` buckets; none with a null part; each once) and their records."""
    per_column: list[list[list[object]]] = []
    for c in rule.columns:
        if c in rule.near:
            per_column.append(_near_buckets(query.get_column(c).to_list()))
        elif isinstance(query.schema[c], pl.List):
            per_column.append([v or [] for v in query.get_column(c).to_list()])
        else:
            per_column.append([[v] for v in query.get_column(c).to_list()])
    keys: list[tuple[object, ...]] = []
    records: list[int] = []
    for i in range(query.height):
        combos: list[tuple[object, ...]] = [()]
        for column in per_column:
            combos = [(*k, v) for k in combos for v in column[i] if v is not None]
        for key in dict.fromkeys(combos):
            keys.append(key)
            records.append(i)
    return keys, records


#: The ``near`` buckets of each value seen (:func:`near_rows` of it): birth years repeat.
_NEAR: dict[int, list[object]] = {}


def _near_buckets(values: list[int | None]) -> list[list[object]]:
    """Each value's ``near`` buckets (none for a null), by :func:`near_rows`, once per value
    (a few hundred birth years: kept)."""
    new = list(dict.fromkeys(v for v in values if v is not None and v not in _NEAR))
    if new:
        buckets = near_rows(pl.DataFrame({"v": new}, schema={"v": pl.Int64}), "v")
        found: dict[int, list[object]] = {v: [] for v in new}
        for i, b in zip(buckets["idx"].to_list(), buckets["v"].to_list(), strict=True):
            found[new[i]].append(b)
        if len(_NEAR) < 100_000:
            _NEAR.update(found)
        return [[] if v is None else found[v] if v in found else _NEAR[v] for v in values]
    return [[] if v is None else _NEAR[v] for v in values]


@functools.lru_cache(maxsize=16)
def _other_hash_exprs(rules: tuple[BlockingRule, ...]) -> list[pl.Expr]:
    """Each rule's key hash over its spelt-out keys (:func:`lookup_all`)."""
    return [
        pl.struct(list(r.key_columns)).hash(_SEED).alias(f"_o_{i}") for i, r in enumerate(rules)
    ]


@functools.lru_cache(maxsize=16)
def _hash_exprs(rules: tuple[BlockingRule, ...]) -> list[pl.Expr]:
    """:func:`lookup_all`'s select of the plain rules (built once per rules): each rule's key
    hash (UInt64; a key with a null part is not looked up: :func:`lookup_all` leaves it
    out)."""
    return [
        pl.struct(list(r.key_columns)).hash(_SEED).alias(f"_h_{i}") for i, r in enumerate(rules)
    ]


def _found(
    table: RuleTable, qrows: np.ndarray, qhash: np.ndarray, max_block_size: int | None = None
) -> Lookup:
    """The pairs of the query rows ``qrows`` whose keys hash to ``qhash``."""
    rule = table.rule
    lo = np.searchsorted(table.hashes, qhash, side="left")
    hi = np.searchsorted(table.hashes, qhash, side="right")
    n = hi - lo
    over = np.zeros(n.size, dtype=bool)
    limit = max_block_size if max_block_size is not None else rule.max_block_size
    if limit is not None:
        over |= n > limit
    if rule.max_candidates is not None:
        over |= n > rule.max_candidates
    keep = ~over & (n > 0)
    counts = n[keep]
    total = int(counts.sum())
    starts = np.repeat(lo[keep] - (np.cumsum(counts) - counts), counts)
    positions = starts + np.arange(total)
    return Lookup(
        left=np.repeat(qrows[keep], counts).astype(np.uint32),
        right=table.rows[positions],
        skipped=np.unique(qrows[over]).astype(np.uint32),
    )
