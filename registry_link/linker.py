"""The :class:`Linker` facade: orchestrates the pipeline stages, computes nothing itself.

standardise → block → compare → train (EM) → score → decide → [household context: hints,
extra pairs, household comparison, re-score, decide again] → dedupe → cluster → households.

Each stage is a module of pure functions over polars frames; the Linker only wires them, times
them and gathers the result. Integration code uses it directly::

    from registry_link import Linker, load_standardised

    registry = load_standardised("sample_data/registry.csv", "configs/registry.yaml")
    coop = load_standardised("sample_data/partner_coop_ar.csv", "configs/partner_coop_ar.yaml")
    linker = Linker.from_config("configs/model.yaml")
    result = linker.link(registry, [coop])
    result.links.filter(pl.col("decision") == "match")
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from registry_link import __version__
from registry_link.blocking import BlockingReport, block, blocking_report
from registry_link.cluster import cluster
from registry_link.comparison import (
    PreparedRecords,
    compare,
    needed_columns,
    prepare_records,
)
from registry_link.comparison.compute import DEFAULT_CHUNK_SIZE
from registry_link.decide import CUT_OFF_REASON, decide, note_skipped_blocks
from registry_link.errors import UsageError
from registry_link.household_context import (
    base_model,
    extend_model,
    extra_pairs,
    household_comparison,
    household_gammas_of,
    household_name,
    household_rule,
    household_u,
    principal_rows,
    with_hints,
)
from registry_link.households import build_households
from registry_link.model import ModelSettings, TrainedModel, load_model_config
from registry_link.outputs import with_record_flags
from registry_link.review_pairs import review_pairs
from registry_link.schema import STANDARDISED_SCHEMA
from registry_link.scored_pairs import ScoredPairs
from registry_link.scoring import extend_scores, score
from registry_link.standardise.pipeline import StandardisedList
from registry_link.training import PairFreeEstimates, pair_free_estimates, pair_space, train

#: Candidate pairs compared per chunk while training's random pairs are compared in the second
#: thread: half of ``compare``'s default, so that the two working sets together stay near the
#: peak of one (100k x 1M benchmark: 1.14 GiB, against 1.38 GiB with the default). About 5 %
#: slower than the default alone, more than repaid by the overlap.
CONCURRENT_COMPARE_CHUNK = DEFAULT_CHUNK_SIZE // 2

#: What a source may be given as: a standardised list, or a standardised frame.
SourceInput = StandardisedList | pl.DataFrame

#: What the registry may also be given as: a lazy frame of a standardised registry (e.g.
#: ``pl.scan_parquet(path)``). Only the columns the link reads are then loaded
#: (:meth:`Linker.registry_columns`); review pairs read the display columns for their rows only.
RegistryInput = SourceInput | pl.LazyFrame


@dataclass(frozen=True)
class _Prepared:
    """Both sides' per-record comparison work (:func:`~registry_link.comparison.prepare_records`),
    done once for a link's several ``compare`` calls; ``None`` for a side not worth preparing
    whole (see :meth:`Linker._shared_work`)."""

    left: PreparedRecords | None = None
    right: PreparedRecords | None = None


#: Registry columns every link reads besides the blocking and comparison columns.
_REGISTRY_KEYS: tuple[str, ...] = (
    "source",
    "record_id",
    "person_id",
    "household_id",
    "relation_to_head",
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
            that explain them (see :mod:`registry_link.scored_pairs`).
    """

    links: pl.DataFrame
    review: pl.DataFrame
    clusters: pl.DataFrame
    households: pl.DataFrame
    model: TrainedModel
    summary: dict[str, Any]
    pairs: ScoredPairs = field(repr=False)

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

    A lazy registry is read once, for ``columns`` only; the display fields stay lazy.
    """
    if not isinstance(source, pl.LazyFrame):
        frame = _frame(source, "registry")
        return frame, frame
    _check_standardised(source.collect_schema().names(), "registry")
    return source.select(list(columns)).collect(), source.select(list(STANDARDISED_SCHEMA))


class Linker:
    """Links partner lists to the registry with one model config.

    Args:
        settings: the validated model config (blocking rules, comparisons, thresholds, training).
        on_stage: optional callback called after each stage with its name and duration.
    """

    def __init__(self, settings: ModelSettings, *, on_stage: StageCallback | None = None) -> None:
        self.settings = settings
        self._on_stage = on_stage
        self.timings: dict[str, float] = {}

    @classmethod
    def from_config(cls, path: str | Path, *, on_stage: StageCallback | None = None) -> Linker:
        """A linker from a model config YAML file (see ``configs/model.yaml``)."""
        return cls(load_model_config(path), on_stage=on_stage)

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        elapsed = time.perf_counter() - start
        self.timings[name] = round(self.timings.get(name, 0.0) + elapsed, 3)
        if self._on_stage is not None:
            self._on_stage(name, elapsed)

    def registry_columns(self) -> list[str]:
        """The registry columns a link reads: those of the blocking rules and comparisons,
        persons and households (the display columns only for the review pairs' rows)."""
        s = self.settings
        wanted = {
            *(c for r in s.blocking_rules for c in r.columns),
            *needed_columns(s.comparisons),
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

    def train(self, registry: RegistryInput, partners: Sequence[SourceInput]) -> TrainedModel:
        """Train the model (u by random sampling, m by EM, term frequencies) on these lists.

        With ``household_context`` configured, the first-pass model is used to decide, and the
        household comparison is then estimated on top of it (see
        :mod:`registry_link.household_context`); the returned model carries it.
        """
        left = self._partners(partners)
        right = _registry(registry, self.registry_columns())[0]
        pairs, gammas, model, prepared = self._block_compare_train(left, right, None)
        if self.settings.household_context is None:
            return model
        with self._stage("household_context"):
            links = self._decide_principals(self._score(gammas, model, right), left, right, model)
            return self._household_pass(left, right, pairs, gammas, links, model, None, prepared)[2]

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
        self.timings = {}
        s = self.settings
        hc = s.household_context
        left = self._partners(partners)
        with self._stage("read"):
            right, display = _registry(registry, self.registry_columns())
        skipped: dict[str, pl.Series] = {}
        given = model
        pairs, gammas, model, prepared = self._block_compare_train(left, right, given, skipped)
        # a given model with the household comparison is the second pass's model as it is
        full = (
            given
            if given is not None and hc is not None and hc.comparison in given.params.names
            else None
        )
        if hc is None:  # only the household pass's extra pairs use the registry's again
            prepared = _Prepared(left=prepared.left)
        # pass 1 never has household evidence (a saved model may carry the comparison)
        model = base_model(model, hc.comparison if hc is not None else household_name(model))
        pass1 = model
        with self._stage("score"):
            scored = self._score(gammas, model, right)
        with self._stage("decide"):
            if hc is None:
                links = self._decide(scored, left, right, model, prior_decisions)
            else:  # pass 1's decisions are only the household pass's hints
                links = self._decide_principals(scored, left, right, model, prior_decisions)
        if hc is not None:
            with self._stage("household_context"):
                pairs, scored, model = self._household_pass(
                    left, right, pairs, scored, links, pass1, full, prepared
                )
                prepared = _Prepared(left=prepared.left)  # the registry's is no longer needed
                links = self._decide(scored, left, right, model, prior_decisions)
        links = note_skipped_blocks(links, skipped)
        del gammas
        with ThreadPoolExecutor(max_workers=1) as background:
            # the review pairs need only the links: made in a second thread while the people
            # are deduplicated and clustered (stage "review" is the wait for them)
            reviewing = background.submit(
                review_pairs, links, scored, left, right, model, fields_from=display
            )
            with self._stage("dedupe"):
                dedupe_pairs = self._within_lists(left, pass1, prepared.left)
            with self._stage("cluster"):
                clusters = cluster(
                    links,
                    dedupe_pairs,
                    left,
                    threshold=s.match_threshold,
                    previous_keys=previous_keys,
                )
            with self._stage("households"):
                households = build_households(left, links, clusters, right)
            with self._stage("review"):
                review = reviewing.result()
        summary = self._summary(
            left, right, pairs, links, clusters, households, review, model, skipped
        )
        links = with_record_flags(links, left)  # which records were flagged, and why
        households = with_record_flags(households, left)
        return LinkResult(
            links=links,
            review=review,
            clusters=clusters,
            households=households,
            model=model,
            summary=summary,
            pairs=ScoredPairs(scored, left, right, model),
        )

    def _block_compare_train(
        self,
        left: pl.DataFrame,
        right: pl.DataFrame,
        model: TrainedModel | None,
        skipped: dict[str, pl.Series] | None = None,
    ) -> tuple[pl.DataFrame, pl.DataFrame, TrainedModel, _Prepared]:
        """The candidate pairs, their comparison vectors and the model (``model`` if given,
        else trained on them), in the stages ``block``, ``compare`` and ``train``.

        Training's random-pair work (:func:`~registry_link.training.pair_free_estimates`) needs
        no candidate pairs: a second thread prepares the records (:meth:`_shared_work`) and
        compares the random pairs while this one blocks and then compares the candidate pairs
        (in smaller chunks, :data:`CONCURRENT_COMPARE_CHUNK`). Also returns the records'
        prepared comparison work, for the household pass's extra pairs and the within-list
        pairs. ``skipped``: see :func:`~registry_link.blocking.block`.
        """
        s = self.settings
        if model is not None:
            with self._stage("block"):
                pairs = block(left, right, s.blocking_rules, skipped=skipped)
            with self._stage("compare"):
                return pairs, compare(left, right, pairs, s.comparisons), model, _Prepared()
        with ThreadPoolExecutor(max_workers=1) as background:
            # in the one background thread, in this order: prepare, then the random pairs
            preparing = background.submit(self._shared_work, left, right)

            def random_pairs_work() -> PairFreeEstimates:
                ready = preparing.result()  # (done: it ran first in the same thread)
                return pair_free_estimates(
                    left,
                    right,
                    s.comparisons,
                    s.training,
                    left_prepared=ready.left,
                    right_prepared=ready.right,
                )

            pair_free = background.submit(random_pairs_work)
            try:
                with self._stage("block"):
                    pairs = block(left, right, s.blocking_rules, skipped=skipped)
            except BaseException:  # e.g. a rule over its max_pairs: no need for the random pairs
                pair_free.cancel()
                raise
            with self._stage("compare"):
                prepared = preparing.result()
                gammas = compare(
                    left,
                    right,
                    pairs,
                    s.comparisons,
                    chunk_size=CONCURRENT_COMPARE_CHUNK,
                    left_prepared=prepared.left,
                    right_prepared=prepared.right,
                    helper=background,
                )
            with self._stage("train"):
                trained = train(
                    left,
                    right,
                    pairs,
                    s.comparisons,
                    s,
                    gammas=gammas,
                    pair_free=pair_free.result(),
                )
        return pairs, gammas, trained, prepared

    def _shared_work(self, left: pl.DataFrame, right: pl.DataFrame) -> _Prepared:
        """The records prepared once (:func:`~registry_link.comparison.prepare_records`) for
        comparing the random pairs for u, the candidate pairs, the household pass's extra pairs
        and (partner side) the within-list pairs: each side of which the u sample reaches more
        than half, so that its compare would prepare most of it anyway. Not a side the sample
        reaches less of, e.g. a registry of many millions, where preparing all of it would cost
        more than it saves (``compare`` then prepares only the records each call reaches).
        """
        u = self.settings.training.u_sample_size
        comparisons = self.settings.comparisons

        def prepared(frame: pl.DataFrame) -> PreparedRecords | None:
            # u random pairs reach about n(1 - e^(-u/n)) of n records: over half when u > n ln 2
            return prepare_records(frame, comparisons) if u > frame.height * math.log(2) else None

        return _Prepared(left=prepared(left), right=prepared(right))

    @staticmethod
    def _score(gammas: pl.DataFrame, model: TrainedModel, right: pl.DataFrame) -> pl.DataFrame:
        """Narrow scored pairs: who they are and each comparison's contribution are fetched
        later for the rows that need them (see :mod:`registry_link.scored_pairs`)."""
        return score(gammas, model, right=right, contributions=False)

    def _decide(
        self,
        scored: pl.DataFrame,
        left: pl.DataFrame,
        right: pl.DataFrame,
        model: TrainedModel,
        prior_decisions: pl.DataFrame | None,
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
        )

    def _decide_principals(
        self,
        scored: pl.DataFrame,
        left: pl.DataFrame,
        right: pl.DataFrame,
        model: TrainedModel,
        prior_decisions: pl.DataFrame | None = None,
    ) -> pl.DataFrame:
        """The first pass's decisions for the household hints: only the principals' (the
        workers, see :func:`~registry_link.household_context.principal_rows`), from their pairs
        alone — a record's decision depends only on its own pairs. The other records' rows
        read "no candidate pair": not their decisions; the second pass decides everyone.
        (100k x 1M: 28 % of the pairs.)"""
        principal = principal_rows(left)
        mine = principal.gather(scored.get_column("l_idx"))
        return self._decide(scored.filter(mine), left, right, model, prior_decisions)

    def _household_pass(
        self,
        left: pl.DataFrame,
        right: pl.DataFrame,
        pairs: pl.DataFrame,
        scored: pl.DataFrame,
        links: pl.DataFrame,
        pass1: TrainedModel,
        full: TrainedModel | None,
        prepared: _Prepared | None = None,
    ) -> tuple[pl.DataFrame, pl.DataFrame, TrainedModel]:
        """Second pass: household hints, extra pairs, household comparison, re-score.

        ``full`` is a given model that already has the household comparison; otherwise the
        comparison is estimated here on top of ``pass1`` (see
        :mod:`registry_link.household_context`). The first-pass pairs are not compared nor
        scored again: their weights only gain the household Bayes factor and the new prior
        (:func:`~registry_link.scoring.extend_scores`). Returns all pairs, all scored pairs and
        the extended model. ``prepared``: the records' prepared comparison work, where the
        first pass had it (see :meth:`_shared_work`).
        """
        hc = self.settings.household_context
        if hc is None:
            raise UsageError("the household-context pass needs a household_context config")
        left_h, right_h = with_hints(left, right, links, hc.hint_column)
        new = extra_pairs(left_h, right_h, pairs, household_rule(hc))
        comp = household_comparison(hc)
        # the hint column is not among the comparisons' columns: the records' prepared
        # comparison work (if any) serves the extra pairs as well
        shared = prepared or _Prepared()
        with ThreadPoolExecutor(max_workers=1) as helper:  # two threads compare the chunks
            new_gammas = compare(
                left,
                right,
                new,
                self.settings.comparisons,
                left_prepared=shared.left,
                right_prepared=shared.right,
                helper=helper,
            )
        # the first pass's pairs and the new ones (the hints are encoded once)
        old_hh, new_hh = household_gammas_of(left_h, right_h, [pairs, new], comp)
        new_gammas = new_gammas.with_columns(new_hh)
        if full is None:
            gamma_cols = [c.output_column for c in pass1.comparisons]
            full = extend_model(
                pass1,
                comp,
                pl.concat(
                    [
                        scored.select(gamma_cols).with_columns(old_hh),
                        new_gammas.select(*gamma_cols, comp.output_column),
                    ],
                    how="vertical",
                ),
                household_u(left_h, right_h, hc.hint_column),
                pair_space(left.height, right.height),
                self.settings.training,
                info={
                    "hinted_records": int(left_h[hc.hint_column].is_not_null().sum()),
                    "extra_pairs": new.height,
                },
            )
        old = extend_scores(scored, old_hh.to_frame(), pass1, full, right_h)
        fresh = self._score(new_gammas, full, right_h).select(old.columns)
        all_pairs = pl.concat([pairs, new], how="vertical")
        return all_pairs, pl.concat([old, fresh], how="vertical"), full

    def _within_lists(
        self, left: pl.DataFrame, model: TrainedModel, prepared: PreparedRecords | None = None
    ) -> pl.DataFrame:
        """Scored pairs of partner records that may be the same person (within and across
        lists). ``prepared``: the partner records' comparison work, used on both sides when
        made for the model's comparisons."""
        pairs = block(left, None, self.settings.blocking_rules)
        names = tuple(c.name for c in model.comparisons)
        if prepared is not None and prepared.comparisons != names:
            prepared = None
        with ThreadPoolExecutor(max_workers=1) as helper:  # two threads compare the chunks
            gammas = compare(
                left,
                left,
                pairs,
                model.comparisons,
                left_prepared=prepared,
                right_prepared=prepared,
                helper=helper,
            )
        scored = score(gammas, model, left, left)
        return scored.select(
            source_l=left["source"].gather(scored["l_idx"]),
            record_id_l=left["record_id"].gather(scored["l_idx"]),
            source_r=left["source"].gather(scored["r_idx"]),
            record_id_r=left["record_id"].gather(scored["r_idx"]),
            match_probability=scored["match_probability"],
        )

    def _summary(
        self,
        left: pl.DataFrame,
        right: pl.DataFrame,
        pairs: pl.DataFrame,
        links: pl.DataFrame,
        clusters: pl.DataFrame,
        households: pl.DataFrame,
        review: pl.DataFrame,
        model: TrainedModel,
        skipped: dict[str, pl.Series],
    ) -> dict[str, Any]:
        per_source = (
            links.group_by("source", "decision").len().sort("source", "decision").to_dicts()
        )
        flags = (
            households.select(pl.col("flags").explode().drop_nulls().alias("flag"))
            .group_by("flag")
            .len()
            .sort("flag")
        )
        return {
            "registry_link_version": __version__,
            "records": {"partner": left.height, "registry": right.height},
            "candidate_pairs": pairs.height,
            "candidate_pairs_by_rule": dict(pairs.group_by("rule").len().sort("rule").iter_rows()),
            # partner records in blocks the rules' size limits skipped, per rule, and those
            # left without any candidate by it
            "records_in_skipped_blocks": {name: rows.len() for name, rows in skipped.items()},
            "records_cut_off_by_blocking_limits": links.filter(
                pl.col("reason").str.starts_with(CUT_OFF_REASON)
            ).height,
            "decisions": dict(links.group_by("decision").len().sort("decision").iter_rows()),
            "decisions_by_source": per_source,
            "review_pairs": review.height,
            "beneficiaries": clusters["beneficiary_key"].n_unique(),
            "households": households["household_key"].n_unique(),
            "household_flags": dict(flags.iter_rows()),
            "model": {
                "prior": model.prior,
                "training": dict(model.training),
            },
            "thresholds": {
                "match": self.settings.match_threshold,
                "review": self.settings.review_threshold,
                "close_second_margin": self.settings.close_second_margin,
            },
            "timings_s": dict(self.timings),
        }
