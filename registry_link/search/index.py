"""The registry index: the registry prepared once, searched one record (or a few) at a time.

:meth:`registry_link.Linker.index` builds a :class:`RegistryIndex` from a standardised
registry and a trained model. A search runs the batch's own stages on the query records and
their candidates only — the same standardiser, comparisons, scoring and decision rules
(:func:`~registry_link.standardise.pipeline.standardise`,
:func:`~registry_link.compare.compute.compare`, :func:`~registry_link.score.scoring.score`,
:func:`~registry_link.decide.decisions.decide`) — so a record gets the candidate, probability and
decision ``registry-link match`` gives it. What is prepared once is the registry frame and,
per blocking rule, its keys hashed and sorted (:mod:`registry_link.search.blocks`): a
query's candidates are binary searches, never a pass over the registry.

**Households.** In the batch, a dependant's worker, once matched, gives the dependant a
household hint (:mod:`registry_link.households.context`). A search has no list: search a
dependant with its worker (``search(record, principal=worker)``, or ``search_many`` of a
household's records, the dependants' ``principal_record_id`` naming the worker's
``record_id``) and the same second pass runs on them; searched alone, a dependant gets no
hint, as a record without a principal.

**Updates and threads.** The index's state is one immutable snapshot (registry frame, rule
tables, version). A search reads the snapshot current when it starts, without a lock;
:meth:`RegistryIndex.upsert` and :meth:`RegistryIndex.remove` build a new snapshot (copies
of the rule tables with the changed rows, the registry frame appended to, never rewritten)
under a writers' lock and swap it in with one assignment: concurrent readers see the old
snapshot or the new one, never a mix; a search started after an update returns sees it.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from registry_link.block.candidates import BlockingRule
from registry_link.compare.levels import Comparison
from registry_link.compare.small import DerivedMemo, FewPairs
from registry_link.config.loader import SourceSettings
from registry_link.decide.decisions import note_skipped_blocks
from registry_link.decide.few import decide_few_columns, links_frame, rank_few
from registry_link.errors import ModelError, QueryError, UsageError
from registry_link.households.context import (
    base_model,
    gate_household,
    household_gammas_of,
    household_name,
    partner_hints,
    principal_rows,
)
from registry_link.model import ModelSettings, TrainedModel
from registry_link.schema import DISPLAY_FIELDS, STANDARDISED_SCHEMA
from registry_link.score.scoring import explain, score_arrays
from registry_link.search.blocks import (
    KeyHashes,
    Lookup,
    RuleTable,
    build_table,
    lookup,
    lookup_all,
    lookup_key,
    updated_table,
)
from registry_link.search.query import (
    QUERY_FIELDS,
    REGISTRY_RECORD_FIELDS,
    for_queries,
    query_settings,
    standardise_records,
)
from registry_link.standardise.distinct import ValueMemo, remembered_values
from registry_link.standardise.parts import PartsMemo, prepare_python_rules
from registry_link.standardise.pipeline import StandardisedList

#: Registry fields a candidate shows (besides its ids).
CANDIDATE_FIELDS: tuple[str, ...] = (
    "record_id",
    "person_id",
    "household_id",
    "relation_to_head",
    *DISPLAY_FIELDS,
)


@dataclass(frozen=True)
class Candidate:
    """One registry record found for a query record.

    ``decision``: the batch decision for the best candidate; for the others ``review`` at or
    above the review threshold (a second candidate is never matched automatically), else
    ``non_match``. ``explanation``: one line per comparison level, as the review tool prints
    them, then the prior and the total.
    """

    record_id: str
    person_id: str | None
    household_id: str | None
    match_probability: float
    match_weight: float
    bits: dict[str, float]
    explanation: tuple[str, ...]
    decision: str
    fields: dict[str, object]


@dataclass(frozen=True)
class SearchResult:
    """A query record's candidates (best first, at most k: the person the decision names
    first, even when a relative holding the record's identifier has a higher probability),
    the batch decision and its reason, and the data-quality flags the standardiser raised on
    the query."""

    candidates: tuple[Candidate, ...]
    decision: str
    reason: str
    flags: tuple[str, ...]


@dataclass(frozen=True)
class _Snapshot:
    """The index's state at one version (never modified: updates make a new one)."""

    registry: pl.DataFrame  # every row ever added; removed and replaced rows are not alive
    alive: np.ndarray  # bool per registry row
    tables: Mapping[str, RuleTable]  # blocking rules (+ the household rule), by name
    version: int
    size: int
    # the first row of each part of ``registry`` held in one chunk (the registry as built,
    # then each upsert's records): rows are gathered part by part (see _gather)
    starts: tuple[int, ...] = (0,)

    def gather(self, rows: np.ndarray) -> pl.DataFrame:
        """The registry rows ``rows`` (sorted), gathered from each single-chunk part: 120
        rows gathered from a 1 M-row registry of two chunks cost 8 ms of CPU, from one chunk
        0.1 ms (measured with polars 2.1)."""
        if len(self.starts) == 1:
            return self.registry[rows]
        bounds = [*self.starts, self.registry.height]
        cuts = np.searchsorted(rows, bounds)
        pieces = [
            self.registry.slice(lo, hi - lo)[rows[a:b] - lo]
            for lo, hi, a, b in zip(bounds, bounds[1:], cuts, cuts[1:], strict=False)
            if b > a
        ]
        if not pieces:
            return self.registry.head(0)
        return pieces[0] if len(pieces) == 1 else pl.concat(pieces, how="vertical")


@dataclass(frozen=True)
class _Household:
    """The household second pass's pieces, when the model has the household comparison."""

    rule: BlockingRule
    hint: str
    pass1: TrainedModel


_SCHEMA = pl.Schema(STANDARDISED_SCHEMA)

#: The reason of a record without candidates, the only one :func:`note_skipped_blocks` changes.
_NO_CANDIDATE = "no candidate pair"

#: The registry's person ids, hashed and sorted as a blocking rule's keys: :meth:`get`.
_PERSON_RULE = BlockingRule("__person_id", ("person_id",))


def _standardised(records: StandardisedList | pl.DataFrame, what: str) -> pl.DataFrame:
    """The standardised frame of ``records``, in schema order and dtypes."""
    frame = records.frame if isinstance(records, StandardisedList) else records
    missing = [c for c in STANDARDISED_SCHEMA if c not in frame.columns]
    if missing:
        raise UsageError(
            f"the {what} records are not a standardised frame: they lack {missing[:8]}; load "
            f"them with registry_link.load_standardised(path, config) first"
        )
    if frame.schema == _SCHEMA:
        return frame
    return frame.select(pl.col(c).cast(t) for c, t in STANDARDISED_SCHEMA.items())


class RegistryIndex:
    """A registry prepared for searches (build it with :meth:`registry_link.Linker.index`).

    Args:
        settings: the model config (blocking rules, thresholds, household context).
        model: the trained model (with its household comparison when the config has one).
        registry: the standardised registry.
        query: how query records are read (default :func:`query_settings`: canonical fields,
            ISO dates or a year alone, the built-in codes).
        registry_source: how ``upsert`` reads registry records given as mappings.
    """

    def __init__(
        self,
        settings: ModelSettings,
        model: TrainedModel,
        registry: StandardisedList | pl.DataFrame,
        *,
        query: SourceSettings | None = None,
        registry_source: SourceSettings | None = None,
    ) -> None:
        self.settings = settings
        self.model = model
        hc = settings.household_context
        name = household_name(model)
        self._household = (
            _Household(
                BlockingRule(hc.comparison, (hc.hint_column,), hc.max_block_size),
                hc.hint_column,
                base_model(model, name),
            )
            if hc is not None and name == hc.comparison
            else None
        )
        self._query = for_queries(query or query_settings())
        self._registry_source = registry_source or query_settings(
            source="registry", kind="registry"
        )
        # in one chunk (a copy when the caller's frame has several): see _Snapshot.gather
        frame = self._with_hint(_standardised(registry, "registry")).rechunk()
        self._check_unique(frame)
        self._lock = threading.Lock()
        self._memos: dict[int, tuple[SourceSettings, PartsMemo]] = {}
        self._compare_memo = ValueMemo()
        self._derived_memo = DerivedMemo()
        self._key_hashes = KeyHashes()  # (the blocking keys' hashes: lookup_all)
        self._few: dict[tuple[str, ...], FewPairs] = {}
        prepare_python_rules()
        self._snapshot = _Snapshot(
            registry=frame,
            alive=np.ones(frame.height, dtype=bool),
            tables={r.name: build_table(frame, r) for r in self._rules()},
            version=0,
            size=frame.height,
        )

    def __repr__(self) -> str:
        return f"RegistryIndex(size={self.size}, version={self.version})"

    # ------------------------------------------------------------------ state

    @property
    def size(self) -> int:
        """Registry records searchable now."""
        return self._snapshot.size

    @property
    def nbytes(self) -> int:
        """Memory the index holds: the registry frame and the per-rule key tables (bytes)."""
        snap = self._snapshot
        tables = sum(t.hashes.nbytes + t.rows.nbytes for t in snap.tables.values())
        return int(snap.registry.estimated_size()) + snap.alive.nbytes + tables

    @property
    def version(self) -> int:
        """0 when built, +1 per update (:meth:`upsert`, :meth:`remove`)."""
        return self._snapshot.version

    def _rules(self) -> list[BlockingRule]:
        rules = list(self.settings.blocking_rules)
        rules += [self._household.rule] if self._household is not None else []
        return [*rules, _PERSON_RULE]  # (for get(person_id): not a blocking rule)

    def _with_hint(self, frame: pl.DataFrame) -> pl.DataFrame:
        if self._household is None:
            return frame
        return frame.with_columns(pl.col("household_id").cast(pl.Utf8).alias(self._household.hint))

    @staticmethod
    def _check_unique(frame: pl.DataFrame) -> None:
        dup = frame.filter(pl.col("record_id").is_duplicated())
        if dup.height:
            raise UsageError(
                f"the registry repeats record ids ({dup.height} rows share "
                f"{dup['record_id'].n_unique()} ids); give each registry record once"
            )

    # ------------------------------------------------------------------ updates

    def upsert(self, records: Sequence[Mapping[str, object]] | pl.DataFrame) -> int:
        """Add registry records, or replace those with the same ``record_id``; returns how
        many. ``records``: a standardised frame (the registry's schema), or mappings of
        registry fields (:data:`~registry_link.search.query.REGISTRY_RECORD_FIELDS`: the
        canonical fields, ``person_id``, ``household_id``, ``relation_to_head``) read as the
        registry is (``record_id`` defaults to ``person_id``).

        Raises:
            QueryError: an unknown field, or a record id given twice.
        """
        if isinstance(records, pl.DataFrame):
            added = self._with_hint(_standardised(records, "registry"))
        else:
            ids = [str(r.get("record_id") or r.get("person_id") or "") for r in records]
            added = self._with_hint(
                standardise_records(
                    records,
                    self._registry_source,
                    fields=REGISTRY_RECORD_FIELDS,
                    default_ids=ids,
                )
            )
        if added.height == 0:
            return 0
        if added["record_id"].null_count() or added["record_id"].is_duplicated().any():
            raise QueryError(
                "registry records to upsert need a record_id (or person_id), each given once"
            )
        with self._lock:
            old = self._snapshot
            replaced = self._rows_of(old, added["record_id"])
            alive = old.alive.copy()
            alive[replaced] = False
            offset = old.registry.height
            registry = pl.concat([old.registry, added.rechunk()], how="vertical", rechunk=False)
            starts = (*old.starts, offset)
            if len(starts) > 64:
                registry, starts = registry.rechunk(), (0,)
            alive = np.concatenate([alive, np.ones(added.height, dtype=bool)])
            tables = {
                name: updated_table(t, alive, added, offset) for name, t in old.tables.items()
            }
            self._snapshot = _Snapshot(
                registry,
                alive,
                tables,
                old.version + 1,
                old.size - replaced.size + added.height,
                starts,
            )
        return added.height

    def remove(self, record_ids: Sequence[str]) -> int:
        """Remove registry records by ``record_id``; returns how many were there."""
        ids = pl.Series("record_id", [str(i) for i in record_ids], dtype=pl.Utf8)
        with self._lock:
            old = self._snapshot
            gone = self._rows_of(old, ids)
            if gone.size == 0:
                return 0
            alive = old.alive.copy()
            alive[gone] = False
            tables = {name: updated_table(t, alive, None, 0) for name, t in old.tables.items()}
            self._snapshot = _Snapshot(
                old.registry, alive, tables, old.version + 1, old.size - gone.size, old.starts
            )
        return int(gone.size)

    def _memo(self, settings: SourceSettings) -> PartsMemo:
        """The standardisation results kept for queries read with ``settings`` (per part of
        a record, and per value)."""
        with self._lock:
            found = self._memos.get(id(settings))
            if found is None or found[0] is not settings:
                found = (settings, PartsMemo())
                self._memos[id(settings)] = found
            return found[1]

    @staticmethod
    def _rows_of(snapshot: _Snapshot, ids: pl.Series) -> np.ndarray:
        """The alive registry rows holding these record ids."""
        hit = snapshot.registry.get_column("record_id").is_in(ids.implode()).to_numpy()
        return np.flatnonzero(hit & snapshot.alive)

    # ------------------------------------------------------------------ search

    def search(
        self,
        record: Mapping[str, object],
        k: int = 5,
        *,
        principal: Mapping[str, object] | None = None,
        settings: SourceSettings | None = None,
    ) -> SearchResult:
        """Search one record (canonical fields → raw values, as a partner row gives them).

        Args:
            record: the query record.
            k: candidates returned at most.
            principal: for a dependant, the worker who declared it: searched with it, so
                that its match gives the dependant the household evidence the batch gives
                (the worker's own result is not returned).
            settings: how to read the record (a partner config's date format and codes);
                default the index's query settings.
        """
        if principal is None:
            return self.search_many([record], k, settings=settings)[0]
        worker = {**principal, "record_id": principal.get("record_id") or "principal"}
        dependant = {
            **record,
            "record_id": record.get("record_id") or "dependant",
            "principal_record_id": worker["record_id"],
        }
        if worker["record_id"] == dependant["record_id"]:
            raise QueryError("a record and its principal need different record_id values")
        return self.search_many([worker, dependant], k, settings=settings)[1]

    def search_many(
        self,
        records: Sequence[Mapping[str, object]],
        k: int = 5,
        *,
        settings: SourceSettings | None = None,
    ) -> list[SearchResult]:
        """Search several records at once (one result each, in order): standardised,
        blocked, compared, scored and decided together, each as if searched alone — except
        that dependants whose ``principal_record_id`` names another record's ``record_id``
        get the household pass with it."""
        if k < 1:
            raise QueryError(f"k must be at least 1, got {k}")
        if isinstance(records, Mapping):
            raise QueryError("search_many takes a list of records; use search for one")
        if not records:
            return []
        read = for_queries(settings) if settings is not None else self._query
        left = standardise_records(
            records, read, fields=QUERY_FIELDS, memo=self._memo(settings or self._query)
        )
        if left.get_column("source").to_list() != [read.source] * left.height:
            left = left.with_columns(pl.lit(read.source, pl.Utf8).alias("source"))
        # (in Python: a search's record or few, where a polars call is the cost)
        counts = Counter(left.get_column("record_id").to_list())
        repeated = next((r for r, n in counts.items() if n > 1), None)
        if repeated is not None:
            raise QueryError(
                f"record_id {repeated!r} is given to {counts[repeated]} records of one search; "
                f"give each record its own record_id (or none: one is made up)"
            )
        return self._search_frame(self._snapshot, left, k)

    def search_frame(self, left: pl.DataFrame, k: int = 5) -> list[SearchResult]:
        """Search records already standardised (a partner list's frame, one result per row)."""
        return self._search_frame(self._snapshot, _standardised(left, "query"), k)

    # ------------------------------------------------------------------ the stages

    def _candidates(
        self, snap: _Snapshot, left: pl.DataFrame
    ) -> tuple[np.ndarray, np.ndarray, dict[str, pl.Series]]:
        """Candidate pairs (query rows, registry rows), unique; rows skipped per rule."""
        rules = self.settings.blocking_rules
        found = lookup_all([snap.tables[rule.name] for rule in rules], left, self._key_hashes)
        skipped = {
            rule.name: pl.Series(hit.skipped, dtype=pl.UInt32)
            for rule, hit in zip(rules, found, strict=True)
            if hit.skipped.size
        }
        return *_unique_pairs(found), skipped

    def _search_frame(self, snap: _Snapshot, left: pl.DataFrame, k: int) -> list[SearchResult]:
        l_rows, r_rows, skipped = self._candidates(snap, left)
        hh = self._household
        if hh is not None:
            left, l_rows, r_rows = self._household_pass(snap, left, l_rows, r_rows, hh)
        rows, r_local = np.unique(r_rows, return_inverse=True)
        right = snap.gather(rows)
        scored = self._score(left, right, l_rows, r_local.astype(np.uint32), self.model)
        ranked, links = self._decide(left, scored)
        # (a record without candidates cut off by the blocking limits: its reason says so;
        # only a record without candidates is noted, so none such: no polars calls)
        if skipped and _NO_CANDIDATE in links["reason"]:
            noted = note_skipped_blocks(links_frame(left, links), skipped)
            links = {**links, "reason": noted.get_column("reason").to_list()}
        return self._results(left, right, scored, ranked, links, k)

    def _decide(
        self, left: pl.DataFrame, scored: _Scored
    ) -> tuple[list[list[int]], dict[str, list[Any]]]:
        """The query records' candidates ranked (pair indices per record) and their links,
        by the batch's rules and the model config's thresholds."""
        ranked = rank_few(
            scored.l_idx.tolist(), scored.person, scored.probability, scored.weight, left.height
        )
        s = self.settings
        links = decide_few_columns(
            left,
            ranked,
            scored.person,
            scored.probability,
            scored.weight,
            scored.columns,
            match_threshold=s.match_threshold,
            review_threshold=s.review_threshold,
            close_second_margin=s.close_second_margin,
        )
        return ranked, links

    def _score(
        self,
        left: pl.DataFrame,
        right: pl.DataFrame,
        l_idx: np.ndarray,
        r_idx: np.ndarray,
        model: TrainedModel,
    ) -> _Scored:
        """The pairs (``l_idx``, ``r_idx``) compared and scored with ``model``."""
        hh = self._household
        plain = [c for c in model.comparisons if hh is None or c.name != hh.rule.name]
        few = self._few_pairs(plain)
        with remembered_values(self._compare_memo):  # (per-value name features)
            gammas = few.compare(left, right, l_idx, r_idx)
        if len(plain) < len(model.comparisons):
            assert hh is not None
            comp = model.comparison(hh.rule.name)
            if left.get_column(hh.hint).null_count() == left.height:
                # no query record has a hint: every pair is missing (household_gammas_of's
                # rule: only pairs whose partner record has a hint are compared)
                gamma = pl.Series(comp.output_column, np.full(len(l_idx), -1, np.int8))
            else:
                (gamma,) = household_gammas_of(left, right, [gammas], comp)
            # as in the batch's second pass: no household evidence where the person's own
            # given name and birth date both differ (nothing to take where all are missing)
            hc = self.settings.household_context
            if hc is not None and (gamma.to_numpy() != -1).any():
                gamma = gate_household(gamma, gammas, hc.not_when_all_different)
            gammas = gammas.with_columns(gamma)
        gamma_columns = {
            c.output_column: gammas[c.output_column].to_numpy() for c in model.comparisons
        }
        values: dict[str, list[object]] = {}

        def right_values(column: str) -> list[object]:
            if column not in values:
                if column not in right.columns:
                    raise ModelError(
                        f"the model adjusts on column {column!r}, absent from the registry "
                        f"records; build the index with the registry the model was trained on"
                    )
                every = right.get_column(column).to_list()
                values[column] = [every[j] for j in r_idx]
            return values[column]

        bfs, weight, probability = score_arrays(gamma_columns, model, right_values)
        persons = right.get_column("person_id").to_list()
        return _Scored(
            gammas=gammas,
            l_idx=np.asarray(l_idx),
            r_idx=np.asarray(r_idx),
            person=[persons[j] for j in r_idx],
            probability=probability.tolist(),
            weight=weight.tolist(),
            columns={
                **{name: v.tolist() for name, v in bfs.items()},
                **{name: v.tolist() for name, v in gamma_columns.items()},
            },
        )

    def _few_pairs(self, comparisons: Sequence[Comparison]) -> FewPairs:
        """The few-pairs comparer of ``comparisons`` (one per set, sharing one memo)."""
        key = tuple(c.name for c in comparisons)
        found = self._few.get(key)
        if found is None:
            found = self._few[key] = FewPairs(comparisons, self._derived_memo)
        return found

    def _household_pass(
        self,
        snap: _Snapshot,
        left: pl.DataFrame,
        l_rows: np.ndarray,
        r_rows: np.ndarray,
        hh: _Household,
    ) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
        """The query records with their household hints, and the candidate pairs with the
        household rule's (see :mod:`registry_link.households.context`)."""
        no_hint = pl.lit(None, pl.Utf8).alias(hh.hint)
        if left.get_column("principal_record_id").null_count() == left.height:
            return left.with_columns(no_hint), l_rows, r_rows  # (no record names a principal)
        principal = principal_rows(left).to_numpy()
        if not principal.any():
            return left.with_columns(no_hint), l_rows, r_rows
        mine = principal[l_rows]
        rows, r_local = np.unique(r_rows[mine], return_inverse=True)
        right = snap.gather(rows)
        pass1 = self._score(
            left.with_columns(no_hint), right, l_rows[mine], r_local.astype(np.uint32), hh.pass1
        )
        _, links = self._decide(left, pass1)
        hints = partner_hints(left, links_frame(left, links), right)
        left = left.with_columns(hints.alias(hh.hint))
        extra = lookup(snap.tables[hh.rule.name], left)
        return left, *_unique_pairs([Lookup(l_rows, r_rows, extra.skipped), extra])

    def _results(
        self,
        left: pl.DataFrame,
        right: pl.DataFrame,
        scored: _Scored,
        ranked: Sequence[Sequence[int]],
        links: Mapping[str, list[Any]],
        k: int,
    ) -> list[SearchResult]:
        """One :class:`SearchResult` per query record: its candidates in rank order (at most
        ``k``) — the person the decision names first —, the decision and reason of ``links``."""
        s = self.settings
        bf_cols = [f"bf_{c.name}" for c in self.model.comparisons]
        decisions, reasons, chosen = links["decision"], links["reason"], links["person_id"]
        flags = left["flags"].to_list()
        shown_pairs = []
        for i, ranked_pairs in enumerate(ranked):
            # the person the decision names comes first (the relative-identifier rule may
            # have passed over a candidate of higher probability for it)
            pairs = list(ranked_pairs)
            named = [j for j, pair in enumerate(pairs) if scored.person[pair] == chosen[i]]
            if chosen[i] is not None and named and named[0] > 0:
                pairs.insert(0, pairs.pop(named[0]))
            shown_pairs.append(pairs[:k])
        # the registry rows of the candidates shown only (a search may have a hundred)
        needed = sorted({int(scored.r_idx[pair]) for pairs in shown_pairs for pair in pairs})
        shown = [c for c in CANDIDATE_FIELDS if c in right.columns]
        registry_rows = (
            dict(zip(needed, right[needed, shown].to_dicts(), strict=True)) if needed else {}
        )
        results = []
        for i, pairs in enumerate(shown_pairs):
            candidates = []
            for rank, pair in enumerate(pairs, start=1):
                reg = registry_rows[int(scored.r_idx[pair])]
                row = {name: values[pair] for name, values in scored.columns.items()}
                p = scored.probability[pair]
                row["match_weight"] = scored.weight[pair]
                row["match_probability"] = p
                if rank == 1:
                    decision = decisions[i]
                else:
                    decision = "review" if p >= s.review_threshold else "non_match"
                candidates.append(
                    Candidate(
                        record_id=reg["record_id"],
                        person_id=reg["person_id"],
                        household_id=reg["household_id"],
                        match_probability=float(p),
                        match_weight=float(scored.weight[pair]),
                        bits={c[3:]: float(row[c]) for c in bf_cols},
                        explanation=tuple(explain(row, self.model)),
                        decision=decision,
                        fields=reg,
                    )
                )
            results.append(
                SearchResult(
                    candidates=tuple(candidates),
                    decision=decisions[i],
                    reason=reasons[i],
                    flags=tuple(flags[i] or ()),
                )
            )
        return results

    # ------------------------------------------------------------------ one person

    def get(self, person_id: str) -> list[dict[str, object]]:
        """The searchable registry records of one person (``person_id``), as a candidate
        shows them (:data:`CANDIDATE_FIELDS`); none for an unknown id.

        An exact look-up, not a search: the person ids are hashed and sorted once (and kept
        up to date by :meth:`upsert` and :meth:`remove`), so it is one hash and a binary
        search whatever the registry's size.
        """
        snap = self._snapshot
        wanted = str(person_id)
        found = lookup_key(snap.tables[_PERSON_RULE.name], (wanted,), (pl.Utf8(),))
        if found.right.size == 0:
            return []
        shown = [c for c in CANDIDATE_FIELDS if c in snap.registry.columns]
        rows = snap.gather(np.sort(found.right))[shown].to_dicts()  # (by name: no query plan)
        return [r for r in rows if r["person_id"] == wanted]  # (a hash collision aside)


@dataclass(frozen=True)
class _Scored:
    """A search's pairs compared and scored: per pair its query row (``l_idx``), registry
    row (``r_idx``, into the candidates' frame), person, probability, weight, and its
    ``bf_<name>`` and ``gamma_<name>`` values (``columns``); ``gammas`` the vectors' frame."""

    gammas: pl.DataFrame
    l_idx: np.ndarray
    r_idx: np.ndarray
    person: list[str | None]
    probability: list[float]
    weight: list[float]
    columns: dict[str, list[float]]


def _unique_pairs(found: Sequence[Lookup]) -> tuple[np.ndarray, np.ndarray]:
    """The lookups' pairs, each once, sorted by (query row, registry row)."""
    if not found:
        return np.empty(0, np.uint32), np.empty(0, np.uint32)
    packed = np.concatenate(
        [f.left.astype(np.uint64) << np.uint64(32) | f.right.astype(np.uint64) for f in found]
    )
    packed = np.unique(packed)
    return (packed >> np.uint64(32)).astype(np.uint32), (packed & np.uint64(0xFFFFFFFF)).astype(
        np.uint32
    )


__all__ = ["CANDIDATE_FIELDS", "Candidate", "RegistryIndex", "SearchResult"]
