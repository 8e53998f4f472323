"""The :class:`Linker` facade: orchestrates the pipeline stages, computes nothing itself.

standardise → block → compare → train (EM) → score → decide → [household pass: hints, extra
pairs, household comparison, re-score, decide again] → dedupe → cluster → households.

Each stage is a module of pure functions over polars frames; the stages compare pairs through
one :class:`~registry_link.compare.CompareEngine` per link, which owns the prepared
records, caches and threads. The Linker only wires the stages, times them and gathers the
result; it keeps no state of a run. Integration code uses it directly::

    from registry_link import Linker, load_standardised

    registry = load_standardised("sample_data/registry.csv", "configs/registry.yaml")
    coop = load_standardised("sample_data/partner_coop_ar.csv", "configs/partner_coop_ar.yaml")
    linker = Linker.from_config("configs/model.yaml")
    result = linker.link(registry, [coop])
    result.links.filter(pl.col("decision") == "match")
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from registry_link.block.candidates import (
    BlockingReport,
    MapEach,
    block,
    blocking_report,
    in_order,
)
from registry_link.cluster.components import cluster, matched_persons
from registry_link.compare import CompareEngine, needed_columns
from registry_link.decide.decisions import decide, note_skipped_blocks
from registry_link.decide.review_pairs import review_pairs
from registry_link.errors import UsageError
from registry_link.households.build import build_households
from registry_link.households.context import base_model, household_name, principal_rows
from registry_link.households.second_pass import household_pass
from registry_link.model import ModelSettings, TrainedModel, load_model_config
from registry_link.report.outputs import with_record_flags
from registry_link.report.summary import build_summary
from registry_link.schema import STANDARDISED_SCHEMA
from registry_link.score.scored_pairs import ScoredPairs
from registry_link.score.scoring import score
from registry_link.standardise.pipeline import StandardisedList
from registry_link.train.training import PairFreeEstimates, pair_free_estimates, train

if TYPE_CHECKING:
    from concurrent.futures import Future

    from registry_link.config.loader import SourceSettings
    from registry_link.search import RegistryIndex

#: What a source may be given as: a standardised list, or a standardised frame.
SourceInput = StandardisedList | pl.DataFrame

#: What the registry may also be given as: a lazy frame of a standardised registry (e.g.
#: ``pl.scan_parquet(path)``). Only the columns the link reads are then loaded
#: (:meth:`Linker.registry_columns`); review pairs read the display columns for their rows only.
RegistryInput = SourceInput | pl.LazyFrame


#: Registry columns every link reads besides the blocking and comparison columns.
_REGISTRY_KEYS: tuple[str, ...] = (
    "source",
    "record_id",
    "person_id",
    "household_id",
    "relation_to_head",
)

#: Registry columns whose values repeat (names and their keys, places, codes: some thousands of
#: distinct values among millions of records). A lazy registry is read with them as
#: ``Categorical``: a 4-byte code per record instead of a 16-byte string view (and its bytes),
#: about half the memory of the registry as read (1M × 10M: 4.2 → 2.2 GB); the stages read
#: them as they read strings, with the same results. Not the identifiers (``record_id``,
#: ``person_id``, ``household_id``, ``cin``, ``cnss_number``: as many values as records, a code
#: would save nothing; the person and household ids go into the outputs as strings).
REPEATED_COLUMNS: frozenset[str] = frozenset(
    {
        "source",
        "relation_to_head",
        "family_name",
        "given_name",
        "family_name_ar",
        "given_name_ar",
        "father_given_name",
        "family_lat",
        "given_lat",
        "father_lat",
        "family_ar",
        "given_ar",
        "father_ar",
        "family_key",
        "given_key",
        "father_key",
        "family_key_ar",
        "given_key_ar",
        "name_tokens_key",
        "sex",
        "birth_date_precision",
        "birth_place",
        "residence",
        "birth_place_raw",
        "residence_raw",
        "relationship",
    }
)

#: Called with (stage name, seconds) after each stage, e.g. to drive a progress display.
StageCallback = Callable[[str, float], None]


@dataclass(frozen=True)
class LinkResult:
    """What a link run produces.

    Attributes:
        links: one row per partner record: best registry person, probability, decision, reason.
        review: the pairs awaiting a person, both sides' fields side by side.
        clusters: one row per partner record: its beneficiary (deduplicated person) key.
        households: one row per household member, with flags.
        model: the trained (or loaded) model.
        summary: counts and timings, JSON-safe.
        pairs: every scored candidate pair (partner × registry), kept narrow (``l_idx,
            r_idx, gamma_*, match_weight, match_probability``) with the records and model
            that explain them (see :mod:`registry_link.score.scored_pairs`).
        timings: seconds per stage (also in ``summary["timings_s"]``).
    """

    links: pl.DataFrame
    review: pl.DataFrame
    clusters: pl.DataFrame
    households: pl.DataFrame
    model: TrainedModel
    summary: dict[str, Any]
    pairs: ScoredPairs = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict)

    @cached_property
    def scored_pairs(self) -> pl.DataFrame:
        """Every scored candidate pair, wide: ``source, record_id, person_id``, then ``l_idx,
        r_idx, gamma_*, match_weight, match_probability`` and each comparison's ``bf_*``.

        Built on first use (millions of rows: filter :attr:`pairs` first, then
        ``pairs.wide(rows)``, when only some are needed).
        """
        return self.pairs.wide()


def _check_standardised(columns: Sequence[str], what: str) -> None:
    missing = [c for c in STANDARDISED_SCHEMA if c not in columns]
    if missing:
        raise UsageError(
            f"the {what} is not a standardised frame: it lacks {missing[:8]}; load it with "
            f"registry_link.load_standardised(path, config) first"
        )


def _frame(source: SourceInput, what: str) -> pl.DataFrame:
    frame = source.frame if isinstance(source, StandardisedList) else source
    _check_standardised(frame.columns, what)
    return frame.select(list(STANDARDISED_SCHEMA))


def _registry(
    source: RegistryInput, columns: Sequence[str]
) -> tuple[pl.DataFrame, pl.DataFrame | pl.LazyFrame]:
    """The registry frame the stages read, and where the review pairs' display fields are.

    A lazy registry is read once, for ``columns`` only, those of :data:`REPEATED_COLUMNS` as
    ``Categorical``; the display fields stay lazy (and strings).
    """
    if not isinstance(source, pl.LazyFrame):
        frame = _frame(source, "registry")
        return frame, frame
    schema = source.collect_schema()
    _check_standardised(schema.names(), "registry")
    coded = [c for c in columns if c in REPEATED_COLUMNS and schema[c] == pl.String]
    read = source.select(list(columns)).with_columns(pl.col(coded).cast(pl.Categorical))
    return read.collect(), source.select(list(STANDARDISED_SCHEMA))


@dataclass(frozen=True)
class _Decided:
    """The candidate pairs, their scores and decisions after the last pass, the first pass's
    model (the within-list pairs are scored with it) and the last pass's."""

    pairs: pl.DataFrame
    scored: pl.DataFrame
    links: pl.DataFrame
    pass1: TrainedModel
    model: TrainedModel


class _Stages:
    """One run's stage timer: seconds per stage, and the caller's callback after each."""

    def __init__(self, on_stage: StageCallback | None) -> None:
        self.timings: dict[str, float] = {}
        self._on_stage = on_stage

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        elapsed = time.perf_counter() - start
        self.timings[name] = round(self.timings.get(name, 0.0) + elapsed, 3)
        if self._on_stage is not None:
            self._on_stage(name, elapsed)


class Linker:
    """Links partner lists to the registry with one model config.

    Args:
        settings: the validated model config (blocking rules, comparisons, thresholds, training).
        on_stage: optional callback called after each stage with its name and duration.
        workers: threads comparing pairs (see :class:`~registry_link.compare.CompareEngine`;
            default the core count). The results do not depend on it.
        caches: the engine's caches (prepared records, tables, scored value pairs); off only
            to check that they change no result.
    """

    def __init__(
        self,
        settings: ModelSettings,
        *,
        on_stage: StageCallback | None = None,
        workers: int | None = None,
        caches: bool = True,
    ) -> None:
        self.settings = settings
        self.workers = workers
        self.caches = caches
        self._on_stage = on_stage

    @classmethod
    def from_config(
        cls,
        path: str | Path,
        *,
        on_stage: StageCallback | None = None,
        workers: int | None = None,
        caches: bool = True,
    ) -> Linker:
        """A linker from a model config YAML file (see ``configs/model.yaml``)."""
        return cls(load_model_config(path), on_stage=on_stage, workers=workers, caches=caches)

    def registry_columns(self, model: TrainedModel | None = None) -> list[str]:
        """The registry columns a link reads: those of the blocking rules and comparisons (the
        model's too, when one is given), persons and households (the display columns only for
        the review pairs' rows)."""
        s = self.settings
        wanted = {
            *(c for r in s.blocking_rules for c in r.columns),
            *needed_columns(s.comparisons),
            *(needed_columns(model.comparisons) if model is not None else ()),
            *_REGISTRY_KEYS,
        }
        return [c for c in STANDARDISED_SCHEMA if c in wanted]

    @staticmethod
    def _partners(partners: Sequence[SourceInput]) -> pl.DataFrame:
        if not partners:
            raise UsageError("give at least one partner list to link")
        frames = [_frame(p, "partner list") for p in partners]
        left = pl.concat(frames, how="vertical")
        dup = left.group_by("source", "record_id").len().filter(pl.col("len") > 1)
        if dup.height:
            sources = sorted(dup["source"].unique().to_list())
            raise UsageError(
                f"partner lists repeat (source, record_id) pairs in sources {sources}: the same "
                f"list was given twice, or two configs share a 'source' name; give each list once "
                f"with its own source name"
            )
        return left

    def blocking_report(
        self, registry: RegistryInput, partners: Sequence[SourceInput], top: int = 10
    ) -> BlockingReport:
        """Candidate pairs per blocking rule and the largest blocks, before any scoring."""
        left = self._partners(partners)
        right = _registry(registry, self.registry_columns())[0]
        return blocking_report(left, right, self.settings.blocking_rules, top=top)

    def _engine(
        self, left: pl.DataFrame, right: pl.DataFrame, model: TrainedModel | None
    ) -> CompareEngine:
        """The link's compare engine. Without a model it trains one: the config's comparisons,
        and the u sample's random pairs too. With a model, the model's own comparisons (its
        first pass's: the household comparison is the second pass's): its m and u are those
        of its levels, whatever the config says today — a model trained before a comparison
        gained a level keeps comparing, and scoring, as it was trained."""
        s = self.settings
        if model is None:
            comparisons, u = s.comparisons, s.training.u_sample_size
        else:
            comparisons, u = base_model(model, household_name(model)).comparisons, 0
        return CompareEngine(
            left, right, comparisons, workers=self.workers, caches=self.caches, random_pairs=u
        )

    def train(self, registry: RegistryInput, partners: Sequence[SourceInput]) -> TrainedModel:
        """Train the model (u by random sampling, m by EM, term frequencies) on these lists.

        With ``household_context`` configured, the first-pass model is used to decide, and the
        household comparison is then estimated on top of it (see
        :mod:`registry_link.households.context`); the returned model carries it.
        """
        s, hc = self.settings, self.settings.household_context
        stages = _Stages(self._on_stage)
        left = self._partners(partners)
        right = _registry(registry, self.registry_columns())[0]
        with self._engine(left, right, None) as engine:
            pairs, gammas, model = self._block_compare_train(engine, None, {}, [], stages)
            if hc is None:
                return model
            with stages("household_context"):
                scored = score(gammas, model, right=right, contributions=False)
                links = self._decide_principals(scored, left, right, model, map_each=engine.map)
                return household_pass(engine, pairs, scored, links, model, hc, s.training).model

    def link(
        self,
        registry: RegistryInput,
        partners: Sequence[SourceInput],
        *,
        model: TrainedModel | None = None,
        previous_keys: pl.DataFrame | None = None,
        prior_decisions: pl.DataFrame | None = None,
    ) -> LinkResult:
        """Link partner lists to the registry, deduplicate people and build households.

        Args:
            registry: the standardised registry extract (a lazy frame: only the columns the
                link reads are loaded, see :data:`RegistryInput`).
            partners: one or more standardised partner lists (distinct ``source`` names).
            model: a trained model to reuse; trained on these lists when ``None``. With
                ``household_context`` configured, a model without the household comparison
                gets it estimated on these lists.
            previous_keys: a previous run's ``{source, record_id, beneficiary_key}``, so that
                clusters whose members stay keep their key.
            prior_decisions: reviewer decisions ``{source, record_id, person_id, decision}``
                (``accept``/``reject``) to apply before deciding.

        Returns:
            A :class:`LinkResult`.
        """
        s = self.settings
        stages = _Stages(self._on_stage)
        left = self._partners(partners)
        with stages("read"):
            right, display = _registry(registry, self.registry_columns(model))
        skipped: dict[str, pl.Series] = {}
        largest: list[dict[str, Any]] = []
        with self._engine(left, right, model) as engine:
            pairs, gammas, trained = self._block_compare_train(
                engine, model, skipped, largest, stages
            )
            pass1 = self._first_pass_model(trained)
            within = engine.within_left(pass1.comparisons)  # keeps the partners' work
            with within:
                # the within-list pairs need the final decisions (only pairs with a record not
                # matched to the registry are compared): blocked in the engine's background
                # while the link is scored and decided and its household pass runs, compared
                # and scored (first pass's model) while its review pairs are made (stage
                # "dedupe" is the wait for them after that); with one worker, all in their
                # stage as before
                blocking = (
                    engine.submit(self._within_candidates, within) if engine.workers > 1 else None
                )
                try:
                    linked = self._decide_passes(
                        engine, pairs, gammas, trained, pass1, model, prior_decisions, stages
                    )
                except BaseException:
                    if blocking is not None:
                        blocking.cancel()
                    raise
                del pairs, gammas  # (the first pass's: let them go before the people stages)
                links = note_skipped_blocks(linked.links, skipped)
                deduping = (
                    engine.submit(self._within_lists, within, pass1, blocking.result(), links)
                    if blocking is not None
                    else None
                )
                with stages("review"):
                    review = review_pairs(
                        links, linked.scored, left, right, linked.model, fields_from=display
                    )
                with stages("dedupe"):
                    dedupe_pairs = (
                        deduping.result()
                        if deduping is not None
                        else self._within_lists(
                            within, pass1, self._within_candidates(within), links
                        )
                    )
        with stages("cluster"):
            clusters = cluster(
                links,
                dedupe_pairs,
                left,
                threshold=s.match_threshold,
                previous_keys=previous_keys,
            )
        with stages("households"):
            households = build_households(left, links, clusters, right)
        summary = build_summary(
            left=left,
            right=right,
            pairs=linked.pairs,
            links=links,
            clusters=clusters,
            households=households,
            review=review,
            model=linked.model,
            skipped=skipped,
            largest_blocks=largest,
            settings=s,
            timings=stages.timings,
        )
        links = with_record_flags(links, left)  # which records were flagged, and why
        households = with_record_flags(households, left)
        return LinkResult(
            links=links,
            review=review,
            clusters=clusters,
            households=households,
            model=linked.model,
            summary=summary,
            pairs=ScoredPairs(linked.scored, left, right, linked.model),
            timings=dict(stages.timings),
        )

    def index(
        self,
        registry: SourceInput,
        model: TrainedModel,
        *,
        query: SourceSettings | None = None,
        registry_source: SourceSettings | None = None,
    ) -> RegistryIndex:
        """The registry prepared once for searches one record at a time, with this linker's
        config and a trained model (:class:`~registry_link.search.RegistryIndex`).

        Args:
            registry: the standardised registry.
            model: the trained model (e.g. a link's ``result.model`` or ``load_model(path)``).
            query: how query records are read (default: canonical fields, ISO dates or a
                year alone; see :func:`~registry_link.search.query_settings`).
            registry_source: how ``index.upsert`` reads registry records given as mappings
                (e.g. ``load_source_config("configs/registry.yaml")``; default as ``query``,
                with the registry's fields).
        """
        from registry_link.search import RegistryIndex

        return RegistryIndex(
            self.settings, model, registry, query=query, registry_source=registry_source
        )

    def _decide_passes(
        self,
        engine: CompareEngine,
        pairs: pl.DataFrame,
        gammas: pl.DataFrame,
        trained: TrainedModel,
        pass1: TrainedModel,
        given: TrainedModel | None,
        prior_decisions: pl.DataFrame | None,
        stages: _Stages,
    ) -> _Decided:
        """The stages ``score`` and ``decide`` (first pass, with ``pass1``: see
        :meth:`_first_pass_model`), then ``household_context`` (the household pass and
        deciding again), when configured."""
        hc = self.settings.household_context
        left, right = engine.left, engine.right
        with stages("score"):
            scored = score(gammas, pass1, right=right, contributions=False)
        del gammas
        with stages("decide"):  # with a household pass: only its hints
            decide_pass1 = self._decide if hc is None else self._decide_principals
            links = decide_pass1(scored, left, right, pass1, prior_decisions, engine.map)
        if hc is None:
            return _Decided(pairs, scored, links, pass1, pass1)
        with stages("household_context"):
            # a given model with the household comparison is the second pass's as it is
            full = given if given is not None and hc.comparison in given.params.names else None
            second = household_pass(
                engine, pairs, scored, links, pass1, hc, self.settings.training, full
            )
            # the first pass's weights and probabilities (16 bytes a pair: 0.9 GB at 55 M
            # pairs) were replaced in the second's scores: let them go before deciding again
            del scored
            links = self._decide(
                second.scored, left, right, second.model, prior_decisions, engine.map
            )
        return _Decided(second.pairs, second.scored, links, pass1, second.model)

    def _first_pass_model(self, trained: TrainedModel) -> TrainedModel:
        """The model of the first pass (and of the within-list pairs): ``trained`` without
        household evidence, which pass 1 never has (a saved model may carry the comparison)."""
        hc = self.settings.household_context
        return base_model(trained, hc.comparison if hc else household_name(trained))

    def _block_compare_train(
        self,
        engine: CompareEngine,
        model: TrainedModel | None,
        skipped: dict[str, pl.Series],
        largest: list[dict[str, Any]],
        stages: _Stages,
    ) -> tuple[pl.DataFrame, pl.DataFrame, TrainedModel]:
        """The candidate pairs, their comparison vectors and the model (``model`` if given,
        else trained on them), in the stages ``block``, ``compare`` and ``train``.

        Training's random-pair work (:func:`~registry_link.train.training.pair_free_estimates`)
        needs no candidate pairs: it runs in the engine's background from before blocking
        (the stages ``block`` and ``compare`` include it; ``train`` is what remains).
        ``skipped``, ``largest``: filled as :func:`~registry_link.block.candidates.block` says.
        """
        s = self.settings
        left, right = engine.left, engine.right
        pending: Future[PairFreeEstimates] | None = None
        if model is None:
            pending = engine.submit(pair_free_estimates, engine, s.training)
        try:
            with stages("block"):
                pairs = block(
                    left,
                    right,
                    s.blocking_rules,
                    skipped=skipped,
                    largest=largest,
                    map_each=engine.map,
                )
            with stages("compare"):
                # one chunk a column (the engine's are one per compared chunk, a million pairs,
                # l_idx and r_idx one): frames whose columns are chunked alike are filtered
                # and gathered without being copied whole first (the review's filter was a
                # copy of every gamma column of 55 M pairs)
                gammas = engine.compare(pairs).rechunk()
        except BaseException:  # e.g. a rule over its max_pairs: no need for the random pairs
            if pending is not None:
                pending.cancel()
            raise
        if pending is None:
            return pairs, gammas, model  # type: ignore[return-value]
        with stages("train"):
            trained = train(
                left, right, pairs, gammas, s.comparisons, s, pending.result(), engine.map
            )
        return pairs, gammas, trained

    def _decide(
        self,
        scored: pl.DataFrame,
        left: pl.DataFrame,
        right: pl.DataFrame,
        model: TrainedModel,
        prior_decisions: pl.DataFrame | None = None,
        map_each: MapEach[Any, Any] = in_order,
    ) -> pl.DataFrame:
        s = self.settings
        return decide(
            scored,
            left,
            right=right,
            model=model,
            match_threshold=s.match_threshold,
            review_threshold=s.review_threshold,
            close_second_margin=s.close_second_margin,
            prior_decisions=prior_decisions,
            map_each=map_each,
        )

    def _decide_principals(
        self,
        scored: pl.DataFrame,
        left: pl.DataFrame,
        right: pl.DataFrame,
        model: TrainedModel,
        prior_decisions: pl.DataFrame | None = None,
        map_each: MapEach[Any, Any] = in_order,
    ) -> pl.DataFrame:
        """The first pass's decisions for the household hints: only the principals' (the
        workers, see :func:`~registry_link.households.context.principal_rows`), from their pairs
        alone — a record's decision depends only on its own pairs. The other records' rows
        read "no candidate pair": not their decisions; the second pass decides everyone.
        (100k x 1M: 28 % of the pairs.)"""
        principal = principal_rows(left)
        mine = principal.gather(scored.get_column("l_idx"))
        return self._decide(scored.filter(mine), left, right, model, prior_decisions, map_each)

    def _within_candidates(self, engine: CompareEngine) -> pl.DataFrame:
        """The within-list candidate pairs: the blocking rules over the partner records
        (``engine.left``) alone, each pair once (``l_idx < r_idx``)."""
        return block(engine.left, None, self.settings.blocking_rules, map_each=engine.map)

    def _within_lists(
        self,
        engine: CompareEngine,
        model: TrainedModel,
        candidates: pl.DataFrame,
        links: pl.DataFrame,
    ) -> pl.DataFrame:
        """Scored pairs of partner records that may be the same person (within and across
        lists), compared by ``engine`` (the partner records on both sides): those of
        ``candidates`` (:meth:`_within_candidates`) at or above the match threshold, the only
        ones clustering reads.

        Only pairs with a record not matched to the registry (by ``links``, the final
        decisions) are compared: clustering ignores a pair of two matched records (the
        registry decided, :func:`~registry_link.cluster.components.cluster`), and most
        partner records are matched (1M × 10M: 89 %; 78 % of the 14.8 M candidate pairs are
        of two matched records, 3.3 M are compared).
        """
        left = engine.left
        matched = matched_persons(links, left).is_not_null()
        both = matched.gather(candidates["l_idx"]) & matched.gather(candidates["r_idx"])
        pairs = candidates.filter(~both)
        # narrow (no bf_* per comparison: 1M partners, millions of pairs, a GB): only the
        # probability is kept, and the records' keys only for the pairs clustering joins
        # (four strings a pair: a GB more for every pair)
        scored = score(engine.compare(pairs), model, left, left, contributions=False)
        scored = scored.filter(pl.col("match_probability") >= self.settings.match_threshold)
        return scored.select(
            source_l=left["source"].gather(scored["l_idx"]),
            record_id_l=left["record_id"].gather(scored["l_idx"]),
            source_r=left["source"].gather(scored["r_idx"]),
            record_id_r=left["record_id"].gather(scored["r_idx"]),
            match_probability=scored["match_probability"],
        )
