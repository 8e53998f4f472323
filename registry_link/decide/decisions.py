"""Decisions: one registry person (or none) per partner record, with the reason in words.

Input: scored candidate pairs ``{source, record_id, person_id, match_probability, match_weight,
bf_* ...}`` (other columns, e.g. ``l_idx`` or ``gamma_*``, are ignored), or the engine's narrow
ones ``{l_idx, r_idx, gamma_*, match_weight, match_probability}`` with the records and model they
were scored with (see :mod:`registry_link.score.scored_pairs`). Output, the *links*:
one row per partner record — all of them, records without any candidate included — with
:data:`LINK_COLUMNS` then the chosen pair's ``bf_*`` columns.

The rules, in words:

* Candidates are registry *persons*: several pairs of one record with one person keep the best;
  pairs whose registry side has no person_id are ignored.
* A partner record links to at most one person, its best candidate (highest probability, then
  highest match weight, then smallest person_id: the outcome never depends on row order).
* ``match`` at or above the match threshold, ``review`` from the review threshold up to the
  match threshold, ``non_match`` below the review threshold (``person_id`` is then null and the
  reason names the best candidate).
* A close second candidate sends the record to ``review`` even above the match threshold. It is
  close when it is at or above the review threshold and its match weight is within
  ``close_second_margin`` bits of the best's (a tie always is), or when it is itself at or above
  the match threshold when ``second_above_match_reviews`` is on (off by default: a second
  candidate 10+ bits below the best is typically a relative sharing the name, and on the
  sample data those records were all matched right). Bits, not
  probabilities: near p = 1 two probabilities both print as 1.000 while their weights still
  tell 2^20 from 2^21.
* An identifier that agrees while the person differs is a relative's (:class:`RelativeIdRule`):
  when the record's CIN (or CNSS number) agrees with a candidate's but its given name disagrees
  and so does its sex or its birth date — the CIN of a husband, a son, a sister — the
  identifier says the record belongs to that candidate's family, not that it is that
  candidate. Such a candidate is never a ``match``: another candidate that is not one wins when
  it reaches the review threshold (its disagreement on that identifier not counted, see below;
  the relative is no close rival of it), else the record goes to ``review`` with the reason
  "CIN agrees but the person differs: ...".
* A relative's identifier is also told *by comparison* of the best two candidates: the one
  whose identifier agrees has a different given name, the other's identifier does not agree,
  and without the identifiers the other fits the record better by ``close_second_margin``
  bits or more and reaches the review threshold (the sister with the record's CIN against the
  person with the record's names and birth date). The CIN then says whose family the record
  belongs to, the names and date who it is.
* The identifier a relative holds explains why the record's identifier disagrees with the
  other candidate's: that disagreement is not counted (the record carries the relative's
  CIN, not a mistyped one of its own). The other candidate is decided on its weight without
  those bits — a ``match`` when that reaches the match threshold, ``review`` when it reaches
  only the review threshold. The links keep the pair's own probability, weight and ``bf_*``
  (a search shows the same); the reason gives the figures decided on: "p=0.978 ≥ match
  threshold 0.9 (weight 5.5 bits); <relative> (p=...) holds the identifier of a relative
  (CIN agrees but the person differs: ...): its disagreement with <person> is not counted
  (-2.7 bits; p=0.85 with it), correct the record's identifier".
* An identifier alone must not pick one person over another (:meth:`RelativeIdRule.id_bits`):
  when the best candidate's identifier agrees, the second's does not, the second reaches the
  review threshold, and without the identifiers' bits the second fits the record better by
  ``close_second_margin`` bits or more, but the best's given name is not different (similar,
  swapped, the same: a misspelling of the person's own, or a sibling's?), the record goes to
  ``review``: "CIN alone decides ...".
* Several partner records resolving to the same registry person are duplicates (within or
  across lists), not rivals: none is demoted; the reason says how many share the person.
* Reviewer decisions ``{source, record_id, person_id, decision}`` (``accept``/``reject``): a
  rejected pair is never chosen — the record is decided on its other candidates by the same
  rules; an accepted pair is a ``match`` whose reason says "accepted by reviewer".
* A record without candidates whose blocks the blocking limits skipped says so
  (:func:`note_skipped_blocks`): its keys were too common to block on, which is not the same as
  sharing no key with the registry.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import polars as pl

from registry_link.block.candidates import MapEach, in_order
from registry_link.errors import UsageError
from registry_link.model import TrainedModel
from registry_link.score.scored_pairs import ScoredPairs

#: The decisions, most confident first.
DECISIONS: Final[tuple[str, ...]] = ("match", "review", "non_match")

#: Columns every links frame starts with (then the chosen pair's bf_* columns).
LINK_COLUMNS: Final[tuple[str, ...]] = (
    "source",
    "record_id",
    "person_id",
    "match_probability",
    "match_weight",
    "decision",
    "reason",
    "second_person_id",
    "second_probability",
    "candidates",
)

#: Columns of a reviewer-decisions frame.
PRIOR_DECISION_COLUMNS: Final[tuple[str, ...]] = ("source", "record_id", "person_id", "decision")

_KEYS: Final[list[str]] = ["source", "record_id"]


# The words of the decisions (pl.format templates, '{}' per value), shared by decide and
# the few-records path (registry_link.decide.few): one definition of each.
RELATIVE_DESCRIBED: Final[str] = "{} agrees but the person differs: {} {}"
RELATIVE_BY_COMPARISON: Final[str] = (
    "{}, and without it the other candidate fits the record {} bits better"
)
REASON_BELOW_REVIEW: Final[str] = "best candidate {} p={} below review threshold {}"
REASON_RELATIVE: Final[str] = (
    "{}: {} (p={}) holds the identifier of a relative, not the record's person's own"
)
REASON_ID_ALONE: Final[str] = (
    "{} alone decides: it agrees with {} (p={}), but without it {} (p={}) fits "
    "the record {} bits better; is it a relative's {}?"
)
REASON_TIE: Final[str] = "tie: p={} for {} and for {}"
REASON_CLOSE_SECOND: Final[str] = (
    "p={} ≥ match threshold {} but close second candidate {} (p={}, {} bits below)"
)
REASON_MATCH: Final[str] = "p={} ≥ match threshold {}"
REASON_WEIGHT: Final[str] = " (weight {} bits)"
REASON_BETWEEN: Final[str] = "p={} between review threshold {} and match threshold {}"
REASON_NO_RIVAL: Final[str] = "; {} (p={}) is no rival: {}, the identifier of a relative"
REASON_EXPLAINED: Final[str] = (
    "; {} (p={}) holds the identifier of a relative ({}): its disagreement with {} is not "
    "counted ({} bits; p={} with it), correct the record's identifier"
)
REASON_SHARED_PERSON: Final[str] = (
    "{}; same person as {} other partner record(s): duplicates, not rivals"
)


@dataclass(frozen=True)
class RelativeIdRule:
    """When an agreeing identifier is a relative's, not the record's person's.

    A candidate holds a *relative's identifier* when the Bayes factor of one of
    ``identifiers`` is positive (the identifiers agree) while its ``given`` comparison is at
    its lowest level, "different" (gamma 0), and so is at least one of ``person`` (sex, birth
    date: a birth year more than the tolerance apart) — or, by comparison with the other of
    the best two candidates, when its given name differs and the other fits the record better
    without the identifiers (:func:`decide`'s module docstring). Comparisons the scored pairs
    do not have take no part; without the ``given`` one (``gamma_<given>``) the rule is off.

    Attributes:
        identifiers: comparison names of the identifiers (their words in the reason).
        given: the given-name comparison and its words.
        person: the other comparisons that tell two relatives apart, with their words.
    """

    identifiers: Mapping[str, str] = field(
        default_factory=lambda: {"cin": "CIN", "cnss": "CNSS number"}
    )
    given: tuple[str, str] = ("given", "given name")
    person: Mapping[str, str] = field(
        default_factory=lambda: {"sex": "sex", "birth_date": "birth date"}
    )

    def columns(self, available: list[str] | tuple[str, ...]) -> list[str]:
        """The columns the rule reads among ``available`` ([] when it cannot tell)."""
        have = set(available)
        ids = [f"bf_{n}" for n in self.identifiers if f"bf_{n}" in have]
        person = [f"gamma_{n}" for n in self.person if f"gamma_{n}" in have]
        given = f"gamma_{self.given[0]}"
        if not ids or not person or given not in have:
            return []
        return [*ids, given, *person]

    def flag(self, available: list[str] | tuple[str, ...]) -> pl.Expr:
        """Boolean ``_relative_id`` over a frame with the ``available`` columns: the pair's
        agreeing identifier is a relative's (false where the rule cannot tell)."""
        have = set(self.columns(available))
        if not have:
            return pl.lit(False).alias("_relative_id")
        agrees = pl.any_horizontal(
            (pl.col(f"bf_{n}") > 0).fill_null(False) for n in self.identifiers if f"bf_{n}" in have
        )
        differs = pl.any_horizontal(
            (pl.col(f"gamma_{n}") == 0).fill_null(False)
            for n in self.person
            if f"gamma_{n}" in have
        )
        given = (pl.col(f"gamma_{self.given[0]}") == 0).fill_null(False)
        return (agrees & given & differs).alias("_relative_id")

    def given_differs(self, available: list[str] | tuple[str, ...]) -> pl.Expr:
        """``_given_differs``: the pair's given names differ (gamma 0; false where the rule
        cannot tell), over a frame with the ``available`` columns."""
        if not self.columns(available):
            return pl.lit(False).alias("_given_differs")
        given = pl.col(f"gamma_{self.given[0]}") == 0
        return given.fill_null(False).alias("_given_differs")

    def words(self, available: list[str] | tuple[str, ...]) -> pl.Expr:
        """``_relative_words``: "CIN agrees but the person differs: given name, birth date
        differ" for a flagged pair (null for the others)."""
        return pl.when(self.flag(available)).then(self.describe(available)).alias("_relative_words")

    def describe(self, available: list[str] | tuple[str, ...]) -> pl.Expr:
        """``_relative_words`` of any pair: which identifiers agree and which of the given
        name, sex and birth date differ (null where the rule cannot tell)."""
        have = set(self.columns(available))
        if not have:
            return pl.lit(None, pl.Utf8).alias("_relative_words")
        ids = [
            pl.when(pl.col(f"bf_{n}") > 0).then(pl.lit(w))
            for n, w in self.identifiers.items()
            if f"bf_{n}" in have
        ]
        parts = [(self.given[0], self.given[1]), *self.person.items()]
        differ = [
            pl.when(pl.col(f"gamma_{n}") == 0).then(pl.lit(w))
            for n, w in parts
            if f"gamma_{n}" in have
        ]
        many = pl.sum_horizontal(
            pl.lit(0),
            *[
                (pl.col(f"gamma_{n}") == 0).fill_null(False)
                for n, _ in parts
                if f"gamma_{n}" in have
            ],
        )
        return pl.format(
            RELATIVE_DESCRIBED,
            pl.concat_str(ids, separator=" and ", ignore_nulls=True),
            pl.concat_str(differ, separator=", ", ignore_nulls=True),
            pl.when(many == 1).then(pl.lit("differs")).otherwise(pl.lit("differ")),
        ).alias("_relative_words")

    def id_bits(self, available: list[str] | tuple[str, ...]) -> pl.Expr:
        """``_id_bits``: the pair's bits from its identifiers (``bf_cin`` + ``bf_cnss``, a
        missing one as 0), over a frame with the ``available`` columns.

        :func:`decide` compares two candidates' weights without them: when only the best
        candidate's identifier agrees and the rest of the evidence prefers the second, the
        identifier alone would pick the person, and the record goes to review.
        """
        have = [f"bf_{n}" for n in self.identifiers if f"bf_{n}" in set(available)]
        if not have:
            return pl.lit(0.0).alias("_id_bits")
        return pl.sum_horizontal(pl.col(c).fill_null(0.0) for c in have).alias("_id_bits")

    def id_words(self, available: list[str] | tuple[str, ...]) -> pl.Expr:
        """``_id_words``: the words of the pair's agreeing identifiers ("CIN", "CIN and CNSS
        number"; null when none agrees), over a frame with the ``available`` columns."""
        have = set(available)
        agree = [
            pl.when(pl.col(f"bf_{n}") > 0).then(pl.lit(w))
            for n, w in self.identifiers.items()
            if f"bf_{n}" in have
        ]
        if not agree:
            return pl.lit(None, pl.Utf8).alias("_id_words")
        return pl.concat_str(agree, separator=" and ", ignore_nulls=True).alias("_id_words")


#: The rule :func:`decide` applies unless told otherwise.
RELATIVE_ID_RULE: Final[RelativeIdRule] = RelativeIdRule()
_PAIR: Final[list[str]] = ["source", "record_id", "person_id"]


def _probability(weight: pl.Expr) -> pl.Expr:
    """The match probability of a match weight (log2 odds, the prior included)."""
    return (pl.lit(2.0).pow(-weight) + 1.0).pow(-1.0)


_PAIR_EXPRS: dict[tuple[int, tuple[str, ...], tuple[str, ...]], tuple[Any, list[pl.Expr]]] = {}


def _pair_exprs(
    rule: RelativeIdRule, read: tuple[str, ...], ids: tuple[str, ...], bf: tuple[str, ...]
) -> list[pl.Expr]:
    """The per-pair expressions of :func:`_relatives_among_top` (built once per rule and
    columns: a search decides a few records many times)."""
    key = (id(rule), read, bf)
    found = _PAIR_EXPRS.get(key)
    if found is None or found[0] is not rule:
        agrees = pl.any_horizontal(pl.lit(False), *[(pl.col(c) > 0).fill_null(False) for c in ids])
        exprs = [
            rule.flag(list(read)),
            rule.describe(list(read)).alias("_describe"),
            rule.id_bits(list(bf)),
            rule.id_words(list(bf)),
            rule.given_differs(list(read)),
            agrees.alias("_agrees"),
            *[(pl.col(c) > 0).fill_null(False).cast(pl.Int32).alias(f"_agree{c}") for c in ids],
        ]
        found = _PAIR_EXPRS[key] = (rule, exprs)
    return found[1]


def _relatives_among_top(
    top: pl.DataFrame,
    rule: RelativeIdRule | None,
    read: list[str],
    bf: list[str],
    keys: list[str],
    margin: float,
    review_threshold: float,
) -> pl.DataFrame:
    """The relative-identifier rule over the best two candidates of each record.

    ``top`` holds ranks 1 and 2 (``rank``) of each record (``keys``) with
    ``match_probability``, ``match_weight``, the ``bf_*`` columns ``bf`` and the columns
    ``read`` the rule reads (:meth:`RelativeIdRule.columns`). A candidate holds a relative's
    identifier (``_relative_id``, why in ``_relative_words``) when the rule's flag says so on
    its own, or *by comparison*: it is the only one of the two whose identifier agrees, its
    given name differs, and without the identifiers the other fits the record better by
    ``margin`` bits or more and reaches ``review_threshold``.

    The identifier a relative holds explains the other's disagreement on it: the other's
    negative ``bf_*`` of that identifier is not counted (``_explained``, the bits left out,
    <= 0; ``_p_decide``, the probability without them, that the record is decided on). A
    best candidate holding a relative's identifier gives way (``rank`` swapped) to a second
    that does not and reaches ``review_threshold`` so counted.

    Returns:
        ``top`` with the adjusted ``rank``, plus ``_relative_id``, ``_relative_words``,
        ``_id_bits``, ``_id_words`` (:meth:`RelativeIdRule.id_bits`,
        :meth:`RelativeIdRule.id_words`), ``_explained`` and ``_p_decide``.
    """
    if rule is None:
        return top.with_columns(
            _relative_id=pl.lit(False),
            _relative_words=pl.lit(None, pl.Utf8),
            _id_bits=pl.lit(0.0),
            _id_words=pl.lit(None, pl.Utf8),
            _explained=pl.lit(0.0),
            _p_decide=pl.col("match_probability"),
        )
    ids = [f"bf_{n}" for n in rule.identifiers if f"bf_{n}" in bf]
    w, p = pl.col("match_weight"), pl.col("match_probability")

    def other(expr: pl.Expr) -> pl.Expr:  # the other candidate's value (0 when alone)
        return expr.sum().over(keys) - expr

    top = top.with_columns(_pair_exprs(rule, tuple(read), tuple(ids), tuple(bf)))
    helpers = ["_describe", "_given_differs", "_agrees", *[f"_agree{c}" for c in ids]]
    if not (top["_agrees"] & top["_given_differs"]).any():
        # no candidate whose identifier agrees has a different given name: no relative's
        # identifier (the flag implies both), nothing explained, nothing swapped
        return top.drop(helpers).with_columns(
            _relative_words=pl.lit(None, pl.Utf8),
            _explained=pl.lit(0.0),
            _p_decide=pl.col("match_probability"),
        )
    lazy = top.lazy()
    held = {c: other(pl.col(f"_agree{c}")) > 0 for c in ids}  # the other agrees on it
    unexplained = [pl.when(held[c] & (pl.col(c) < 0)).then(pl.col(c)) for c in ids]
    rest = w - pl.col("_id_bits")
    lazy = lazy.with_columns(
        _n=pl.len().over(keys),
        _drop=pl.sum_horizontal([pl.lit(0.0), *unexplained]),
        _rest_gap=other(rest) - rest,
        _other_agrees=other(pl.col("_agrees").cast(pl.Int32)),
        **{f"_held{c}": held[c] for c in ids},
    )
    by_comparison = (
        (pl.col("_n") == 2)
        & pl.col("_given_differs")
        & pl.col("_agrees")
        & (pl.col("_other_agrees") == 0)
        & (pl.col("_rest_gap") >= margin)
        & (_probability(other(w) - other(pl.col("_drop"))) >= review_threshold)
    )
    lazy = lazy.with_columns(
        _relative_id=pl.col("_relative_id") | by_comparison,
        _relative_words=pl.when(pl.col("_relative_id"))
        .then(pl.col("_describe"))
        .when(by_comparison)
        .then(
            pl.format(
                RELATIVE_BY_COMPARISON,
                pl.col("_describe"),
                _fmt(pl.col("_rest_gap")),
            )
        ),
    )
    relative_other = other(pl.col("_relative_id").cast(pl.Int32)) > 0
    lazy = lazy.with_columns(
        _explained=pl.when(~pl.col("_relative_id") & relative_other)
        .then(pl.col("_drop"))
        .otherwise(0.0)
    )
    explained = pl.col("_explained") < 0
    p_eff = pl.when(explained).then(_probability(w - pl.col("_explained"))).otherwise(p)
    first = (pl.col("rank") == 1) & pl.col("_relative_id")
    second_ok = (pl.col("rank") == 2) & ~pl.col("_relative_id") & (p_eff >= review_threshold)
    swap = first.any().over(keys) & second_ok.any().over(keys)
    lazy = lazy.with_columns(
        rank=pl.when(swap).then(3 - pl.col("rank")).otherwise("rank"), _p_decide=p_eff
    )
    helpers += ["_n", "_drop", "_rest_gap", "_other_agrees", *[f"_held{c}" for c in ids]]
    return lazy.drop(helpers).collect()


def _fmt(expr: pl.Expr) -> pl.Expr:
    """A number as text with at most 4 decimals (:func:`format_number` for one value)."""
    return expr.round(4).cast(pl.Utf8)


def format_number(value: float | None) -> str | None:
    """:func:`_fmt` of one number, in Python (the few-records path): polars rounds
    ``value * 10**4`` half to even and prints the shortest repr ("1.0", "-0.0", "NaN")."""
    if value is None:
        return None
    if math.isnan(value):
        return "NaN"
    scaled = value * 10_000.0
    if not math.isfinite(scaled):
        return repr(value)
    rounded = round(scaled) / 10_000.0
    return repr(math.copysign(rounded, value) if rounded == 0 else rounded)


def _require(frame: pl.DataFrame, needed: list[str] | tuple[str, ...], what: str) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise UsageError(
            f"the {what} frame lacks column(s) {missing} (it has {frame.columns[:12]}); "
            f"give a frame with {list(needed)}"
        )


def check_thresholds(match: float, review: float, margin: float) -> None:
    """Raise :class:`UsageError` unless ``0 <= review <= match <= 1`` and ``margin >= 0``."""
    if not (0.0 <= review <= match <= 1.0):
        raise UsageError(
            f"thresholds must satisfy 0 <= review <= match <= 1, got review={review} and "
            f"match={match}; fix 'thresholds' in the model config"
        )
    if not margin >= 0.0:
        raise UsageError(
            f"close_second_margin is in bits of match weight and must be >= 0, got {margin}; "
            f"fix 'close_second_margin' in the model config"
        )


_REC: Final[str] = "_rec"


def _record_key(scored: pl.DataFrame) -> pl.Expr:
    """The partner record as one integer: its row in the left frame when the pairs carry it
    (``l_idx``, the engine contract), else a dense rank of ``(source, record_id)``."""
    return pl.col("l_idx") if "l_idx" in scored.columns else pl.struct(_KEYS).rank("dense")


#: Pairs shortlisted at once (:func:`_candidates`): the per-pair temporaries of the ranking
#: (about 50 bytes a pair) are bounded by it, not by every pair of the link (1M × 10M: 58 M).
SHORTLIST_CHUNK: Final[int] = 4_000_000

#: The records are cut into at least two parts of at least this many rows (pairs, or
#: candidates): parts handled by :func:`decide`'s ``map_each`` on two threads keep both
#: cores busy; fewer rows are handled at once (a search decides a few records many times).
PART_ROWS: Final[int] = 100_000


def _part_size(rows: int) -> int:
    """Rows of a part of records (:func:`record_chunks`): half of ``rows``, at least
    :data:`PART_ROWS`, at most :data:`SHORTLIST_CHUNK`."""
    return min(SHORTLIST_CHUNK, max(PART_ROWS, -(-rows // 2)))


def usable_order(pairs: ScoredPairs) -> pl.DataFrame:
    """``{_row, _rec}`` of the usable pairs, sorted by ``_rec`` (stably: by ``_row`` within a
    record). ``_row`` is the pair's row in ``scored``; pairs without a person or with a NaN
    probability are not candidates."""
    scored = pairs.frame
    order = (
        scored.select(
            _record_key(scored).alias(_REC),
            _ok=pl.lit(pairs.has_person()) & pl.col("match_probability").is_not_nan(),
        )
        .with_row_index("_row")
        .filter(pl.col("_ok"))
        .drop("_ok")
    )
    if order[_REC].is_sorted():
        return order.with_columns(pl.col(_REC).set_sorted())
    # a stable sort: the pairs come as a few runs sorted by record (one per blocking rule's
    # batch, then the household pass's), which numpy's stable sort merges
    by_record = np.argsort(order.get_column(_REC).to_numpy(), kind="stable")
    return order[by_record].with_columns(pl.col(_REC).set_sorted())


def usable_pairs(pairs: ScoredPairs, order: pl.DataFrame | None = None) -> pl.DataFrame:
    """The usable pairs, narrow: ``{_row, _rec, _pid, match_probability}`` sorted by ``_rec``.

    ``order``: those of :func:`usable_order` wanted (default all of them, in its order).
    ``_pid`` is the hash of ``person_id``.
    """
    order = usable_order(pairs) if order is None else order
    rows = order.get_column("_row")
    return order.with_columns(
        pl.col(_REC).set_sorted(),
        pairs.person_hash(rows),
        pairs.frame.get_column("match_probability").gather(rows),
    )


def record_chunks(order: pl.DataFrame, size: int) -> list[pl.DataFrame]:
    """``order`` (sorted by ``_rec``) in slices of about ``size`` rows, each record's rows
    whole in one slice."""
    rec = order.get_column(_REC).to_numpy()
    starts = np.flatnonzero(rec[1:] != rec[:-1]) + 1  # where a record's rows begin
    cuts = [0]
    for target in range(size, len(rec), size):
        at = int(np.searchsorted(starts, max(target, cuts[-1] + 1)))
        if at == len(starts):
            break
        cuts.append(int(starts[at]))
    cuts.append(len(rec))
    slices = [order.slice(a, b - a) for a, b in itertools.pairwise(cuts) if b > a]
    return slices or [order]


def _shortlist(pairs: pl.DataFrame) -> pl.DataFrame:
    """``{_row, _rec, candidates, _exact, _keep}`` for :func:`usable_pairs`' pairs.

    ``candidates`` counts the record's distinct person hashes: the number of persons when the
    record has as many pairs (``_exact``), else it must be counted again on ``person_id``
    (two pairs with one person, or a hash collision). ``_keep`` marks the pairs that can be a
    record's best or second candidate: those at or above ``_m2``, the highest probability of
    the person hashes other than ``_pa``, one with the record's highest probability ``_m1``;
    all of the record's pairs when there is no other hash. A collision only lowers ``_m2`` (or
    leaves none): more pairs kept, never fewer. Ties are kept too: the exact order is left to
    :func:`_rank`.
    """
    p, pid, rec = pl.col("match_probability"), pl.col("_pid"), pl.col(_REC)
    return (
        pairs.with_columns(
            _m1=p.max().over(rec),
            candidates=pid.n_unique().over(rec).cast(pl.UInt32),
            _n=pl.len().over(rec),
        )
        .with_columns(_pa=pl.when(p == pl.col("_m1")).then(pid).min().over(rec))
        .with_columns(_m2=pl.when(pid != pl.col("_pa")).then(p).max().over(rec))
        .select(
            "_row",
            _REC,
            "candidates",
            _exact=pl.col("candidates") == pl.col("_n"),
            _keep=pl.col("_m2").is_null() | (p >= pl.col("_m2")),
        )
    )


def _count_persons(
    kept: pl.DataFrame, shortlist: pl.DataFrame, scored: ScoredPairs
) -> pl.DataFrame:
    """``kept`` with ``candidates`` counted on ``person_id`` for the records whose count of
    person hashes is not exact (see :func:`_shortlist`)."""
    recount = shortlist.filter(~pl.col("_exact"))
    if not recount.height:
        return kept
    counts = (
        recount.select(_REC, _person=scored.take(recount["_row"], ["person_id"]).to_series())
        .group_by(_REC)
        .agg(_count=pl.col("_person").n_unique().cast(pl.UInt32))
    )
    return (
        kept.join(counts, on=_REC, how="left")
        .with_columns(candidates=pl.coalesce("_count", "candidates"))
        .drop("_count")
    )


def _rank(frame: pl.DataFrame, *, one_pair_per_person: bool = False) -> pl.DataFrame:
    """One row per (``_rec``, person), its best pair, ranked per record (1 = best): highest
    probability, then highest match weight, then smallest person_id.

    ``one_pair_per_person``: the caller knows no record has two pairs with one person.
    """
    ranked = frame.sort(
        [_REC, "match_probability", "match_weight", "person_id"],
        descending=[False, True, True, False],
        nulls_last=True,
        maintain_order=True,
    )
    if not one_pair_per_person:
        ranked = ranked.filter(pl.struct(_REC, "person_id").is_first_distinct())
    # sorted by record: the rank is the distance to the record's first row
    rec, row = pl.col(_REC), pl.int_range(1, pl.len() + 1, dtype=pl.UInt32)
    first = pl.when((rec != rec.shift(1)).fill_null(True)).then(row).forward_fill()
    return ranked.with_columns(rank=row - first + 1)


def _with_pair(frame: pl.DataFrame, scored: ScoredPairs) -> pl.DataFrame:
    """``frame`` plus the pair columns of the scored pairs its ``_row`` column points at."""
    picked = scored.take(frame["_row"], [*_PAIR, "match_probability", "match_weight"])
    return pl.concat([frame, picked], how="horizontal")


def rank_candidates(scored: pl.DataFrame) -> pl.DataFrame:
    """One row per (record, person), the best pair of each, ranked per record (1 = best).

    Every candidate of every record (:func:`decide` ranks only a shortlist, see
    :func:`_shortlist`). The record is one integer key; ``_row`` is the pair's row in
    ``scored``, to fetch its ``bf_*`` columns with :func:`_with_bf`.

    Returns:
        ``{_row, source, record_id, person_id, match_probability, match_weight, rank}``.
    """
    view = ScoredPairs(scored)
    pairs = usable_pairs(view).select("_row", _REC)
    return _rank(_with_pair(pairs, view)).drop(_REC)


def _candidates(
    scored: ScoredPairs, full_keys: pl.DataFrame | None, map_each: MapEach[Any, Any] = in_order
) -> pl.DataFrame:
    """The ranked candidates :func:`decide` needs: ranks 1 and 2 of every record, and all of
    them (``_all``) for the records in ``full_keys`` (``source, record_id``: those with
    reviewer decisions). Only narrow columns are handled for all pairs; the pair columns are
    fetched for the shortlisted ones.

    Returns:
        ``{_row, _rec, candidates, source, record_id, person_id, match_probability,
        match_weight, rank, _all}`` sorted by ``_rec``; ``candidates`` counts the record's
        distinct persons.
    """
    # a record's candidates depend on its own pairs only: ranked a slice of records at a
    # time (``map_each`` may run the slices in parallel), the same rows in the same order
    order = usable_order(scored)
    chunks = record_chunks(order, _part_size(order.height))
    return pl.concat(map_each(lambda chunk: _ranked(scored, chunk, full_keys), chunks))


def _ranked(
    scored: ScoredPairs, chunk: pl.DataFrame, full_keys: pl.DataFrame | None
) -> pl.DataFrame:
    """:func:`_candidates` of the records of ``chunk`` (rows of :func:`usable_order`, each
    record's rows all in it)."""
    pairs = _shortlist(usable_pairs(scored, chunk))
    kept = _with_pair(pairs.filter("_keep").drop("_keep", "_exact"), scored)
    full = pl.Series(_REC, [], dtype=pairs.schema[_REC]).implode()
    if full_keys is not None and full_keys.height:
        full = kept.join(full_keys, on=_KEYS, how="semi")[_REC].unique().implode()
        rest = pairs.filter(~pl.col("_keep") & pl.col(_REC).is_in(full))
        kept = pl.concat([kept, _with_pair(rest.drop("_keep", "_exact"), scored)])
    kept = _count_persons(kept, pairs, scored)
    ranked = _rank(kept, one_pair_per_person=bool(pairs["_exact"].all()))
    return ranked.with_columns(_all=pl.col(_REC).is_in(full)).filter(
        (pl.col("rank") <= 2) | pl.col("_all")
    )


def _with_bf(frame: pl.DataFrame, scored: ScoredPairs) -> pl.DataFrame:
    """``frame`` plus the ``bf_*`` columns of the scored pairs its ``_row`` column points at
    (nulls where ``_row`` is null)."""
    if not scored.bf_columns:
        return frame
    return pl.concat([frame, scored.contributions(frame["_row"])], how="horizontal")


def validate_prior_decisions(decisions: pl.DataFrame) -> pl.DataFrame:
    """Reviewer decisions as text, lower-cased, deduplicated and checked.

    Raises:
        UsageError: a decision other than ``accept``/``reject``; a pair both accepted and
            rejected; a record accepted for two different persons.
    """
    _require(decisions, PRIOR_DECISION_COLUMNS, "reviewer decisions")
    d = decisions.select(
        *[pl.col(c).cast(pl.Utf8) for c in _PAIR],
        pl.col("decision").cast(pl.Utf8).str.strip_chars().str.to_lowercase(),
    ).unique(maintain_order=True)
    bad = d.filter(~pl.col("decision").is_in(["accept", "reject"]) | pl.col("decision").is_null())
    if bad.height:
        r = bad.row(0, named=True)
        raise UsageError(
            f"reviewer decision {r['decision']!r} for record {r['record_id']!r} of source "
            f"{r['source']!r} is neither 'accept' nor 'reject'; fix the decisions given"
        )
    both = d.group_by(_PAIR).len().filter(pl.col("len") > 1)
    if both.height:
        r = both.row(0, named=True)
        raise UsageError(
            f"record {r['record_id']!r} of source {r['source']!r} is both accepted and rejected "
            f"for person {r['person_id']!r}; keep one decision per pair"
        )
    multi = d.filter(pl.col("decision") == "accept").group_by(_KEYS).len()
    multi = multi.filter(pl.col("len") > 1)
    if multi.height:
        r = multi.row(0, named=True)
        raise UsageError(
            f"record {r['record_id']!r} of source {r['source']!r} is accepted for {r['len']} "
            f"different persons; a partner record is one person: keep one 'accept'"
        )
    return d


def decide(
    scored: pl.DataFrame,
    left: pl.DataFrame,
    *,
    match_threshold: float = 0.9,
    review_threshold: float = 0.5,
    close_second_margin: float = 5.0,
    prior_decisions: pl.DataFrame | None = None,
    second_above_match_reviews: bool = False,
    right: pl.DataFrame | None = None,
    model: TrainedModel | None = None,
    relative_id: RelativeIdRule | None = RELATIVE_ID_RULE,
    map_each: MapEach[Any, Any] = in_order,
) -> pl.DataFrame:
    """One row per partner record: the best registry person, decision and reason.

    Args:
        scored: scored pairs ``{source, record_id, person_id, match_probability, match_weight,
            bf_* ...}``, or narrow ones ``{l_idx, r_idx, gamma_*, match_probability,
            match_weight}`` (then ``right`` and ``model`` are needed, and ``left`` must be the
            records ``l_idx`` indexes).
        left: every partner record (``source, record_id``); those without a candidate get
            ``non_match`` with reason "no candidate pair".
        match_threshold: probability at or above which the best candidate is a match.
        review_threshold: probability at or above which (and below the match threshold) a
            record goes to review.
        close_second_margin: in bits of match weight (see the module docstring).
        prior_decisions: reviewer decisions ``{source, record_id, person_id, decision}``.
        second_above_match_reviews: a second candidate at or above the match threshold sends
            the record to review however far its weight is below the best's.
        right: for narrow pairs, the registry records ``r_idx`` indexes.
        model: for narrow pairs, the model they were scored with.
        relative_id: when an agreeing identifier is a relative's, and when an identifier alone
            would pick the person (see the module docstring);
            ``None``: no such rule.
        map_each: how to run the work of each part of the records (their candidates, the
            best two's rules), independent until the decisions are gathered
            (:data:`~registry_link.block.candidates.MapEach`, e.g. the link's
            :meth:`~registry_link.compare.engine.CompareEngine.map`): the same links whichever
            it is.

    Returns:
        :data:`LINK_COLUMNS` + the chosen pair's ``bf_*`` columns, in the order of ``left``.

    Raises:
        UsageError: bad thresholds, missing columns, contradictory reviewer decisions.
    """
    check_thresholds(match_threshold, review_threshold, close_second_margin)
    _require(left, _KEYS, "partner records")
    pairs = ScoredPairs(scored, left, right, model)
    wanted = ["match_probability", "match_weight", *([] if pairs.narrow else _PAIR)]
    _require(scored, wanted, "scored pairs")
    bf = pairs.bf_columns
    prior = validate_prior_decisions(prior_decisions) if prior_decisions is not None else None
    accepted = rejected = rivals = None
    full_keys = prior.select(_KEYS).unique() if prior is not None else None
    cands = _candidates(pairs, full_keys, map_each)
    if prior is not None and prior.height:
        accepted = prior.filter(pl.col("decision") == "accept").drop("decision")
        rejected = prior.filter(pl.col("decision") == "reject").drop("decision")
        rivals = _rejected_rivals(cands, rejected)
        # the records with reviewer decisions carry all their candidates: count them again
        cands = cands.join(rejected, on=_PAIR, how="anti", maintain_order="left").with_columns(
            rank=pl.col("rank").rank("ordinal").over(_KEYS).cast(pl.UInt32),
            candidates=pl.when(pl.col("_all"))
            .then(pl.len().over(_REC).cast(pl.UInt32))
            .otherwise(pl.col("candidates")),
        )
    out = _best_and_second(
        left,
        cands.drop("_all"),
        pairs,
        relative_id,
        review_threshold,
        close_second_margin,
        by_row=_records_are_rows(pairs, left),
        map_each=map_each,
        decided=functools.partial(
            _decision_and_reason,
            match_threshold=match_threshold,
            review_threshold=review_threshold,
            margin=close_second_margin,
            second_above_match_reviews=second_above_match_reviews,
        ),
    )
    cands = cands.drop(_REC, "_all")
    if rivals is not None and rivals.height:
        out = _review_after_rejected_rival(out, rivals, review_threshold, close_second_margin)
    if accepted is not None and accepted.height:
        out = _apply_accepted(out, accepted, cands.drop("candidates"), pairs)
    if rejected is not None and rejected.height:
        out = _note_rejected(out, rejected)
    out = _note_shared_persons(out)
    return out.sort("_order").select(*LINK_COLUMNS, *bf)


def _best_and_second(
    left: pl.DataFrame,
    cands: pl.DataFrame,
    scored: ScoredPairs,
    relative_id: RelativeIdRule | None = None,
    review_threshold: float = 0.5,
    margin: float = 5.0,
    *,
    by_row: bool = False,
    map_each: MapEach[Any, Any] = in_order,
    decided: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """Every left record with its best candidate (may be null), second candidate and count,
    in no particular order (``_order``: the record's row in ``left``).

    With ``relative_id``, the relative-identifier rule over the best two
    (:func:`_relatives_among_top`): a best candidate holding a relative's identifier gives
    way to the second when the second is not one and reaches ``review_threshold``;
    ``_relative`` (``_second_relative``) then says whether the best (second) holds one,
    ``_relative_words`` why, ``_explained`` the best's bits of it left out.

    ``cands`` is sorted by ``_rec`` (:func:`_candidates`), handled a part of the records at a
    time by ``map_each``: their best two, the rules over them, and ``decided`` (a function of
    the records' rows alone, e.g. :func:`_decision_and_reason`, applied to every record's
    row: those of each part there, the records without a candidate at the end). With
    ``by_row`` (:func:`_records_are_rows`: ``_rec`` is the record's row in ``left``), the
    records are told apart by that integer instead of ``source, record_id`` (the same
    records: a window and a join on one integer instead of two strings).
    """
    gammas = [c for c in scored.frame.columns if c.startswith("gamma_")]
    read = relative_id.columns([*scored.bf_columns, *gammas]) if relative_id is not None else []
    keys = [_REC] if by_row else _KEYS
    records = left.select(_KEYS).with_row_index("_order")
    if by_row:
        records = records.with_columns(pl.col("_order").alias(_REC))

    def best_two(part: pl.DataFrame) -> pl.DataFrame:
        top = _with_bf(part.filter(pl.col("rank") <= 2), scored)
        own = [c for c in read if c.startswith("gamma_") and c not in top.columns]
        if own:
            top = pl.concat([top, scored.take(top["_row"], own)], how="horizontal")
        top = _relatives_among_top(
            top, relative_id, read, scored.bf_columns, keys, margin, review_threshold
        )
        return top.drop(*own, *(_KEYS if by_row else [_REC]))

    def with_best(part: pl.DataFrame) -> pl.DataFrame:  # the part's records, decided
        mine = (
            records.gather(part.get_column(_REC).unique(maintain_order=True))
            if by_row
            else records.join(part.select(_KEYS).unique(), on=_KEYS, how="semi")
        )
        out = _with_best_and_second(mine, best_two(part), keys)
        return decided(out) if decided is not None else out

    parts = record_chunks(cands, _part_size(cands.height)) if cands.height else [cands]
    done = map_each(with_best, parts)
    # the records without a candidate (none when every record has one)
    rest = (
        records.filter(~pl.col(_REC).is_in(cands.get_column(_REC).implode()))
        if by_row
        else records.join(cands.select(_KEYS), on=_KEYS, how="anti")
    )
    if rest.height:
        out = _with_best_and_second(rest, best_two(cands.clear()), keys)
        done.append(decided(out) if decided is not None else out)
    out = pl.concat(done, how="vertical")
    return out.drop(_REC) if by_row else out


def _records_are_rows(pairs: ScoredPairs, left: pl.DataFrame) -> bool:
    """Whether :func:`usable_pairs`' ``_rec`` of ``pairs`` is the record's row in ``left`` and
    tells the records apart as ``source, record_id`` do: narrow pairs (``_rec`` is ``l_idx``)
    and no two rows of ``left`` with the same ``source, record_id``."""
    return pairs.narrow and bool(left.select(pl.struct(_KEYS).is_unique().all()).item())


def _with_best_and_second(
    records: pl.DataFrame, top: pl.DataFrame, keys: list[str]
) -> pl.DataFrame:
    """``records`` (one row per ``keys``) with the best candidate of ``top``
    (:func:`_relatives_among_top`'s output) and the second's probability, weight and flags."""
    best = top.filter(pl.col("rank") == 1).drop("rank", "_row", "_relative_words", strict=False)
    best = best.rename({"_relative_id": "_relative"})
    second = top.filter(pl.col("rank") == 2).select(
        *keys,
        second_person_id=pl.col("person_id"),
        second_probability=pl.col("match_probability"),
        _second_weight=pl.col("match_weight"),
        _second_relative=pl.col("_relative_id"),
        _second_id_bits=pl.col("_id_bits"),
    )
    words = top.filter(pl.col("_relative_id")).select(
        *keys, _best_words=pl.col("_relative_words"), _rank=pl.col("rank")
    )
    return (
        records.join(best, on=keys, how="left")
        .join(second, on=keys, how="left")
        .join(words.sort("_rank").unique(keys, keep="first").drop("_rank"), on=keys, how="left")
        .rename({"_best_words": "_relative_words"})
        .with_columns(
            pl.col("candidates").fill_null(0),
            pl.col("_relative").fill_null(False),
            pl.col("_second_relative").fill_null(False),
            pl.col("_explained").fill_null(0.0),
        )
        .with_columns(pl.col("_p_decide").fill_null(pl.col("match_probability")))
    )


def _decision_and_reason(
    frame: pl.DataFrame,
    match_threshold: float,
    review_threshold: float,
    margin: float,
    second_above_match_reviews: bool,
) -> pl.DataFrame:
    """Decision and reason from the best and second candidates (no reviewer decisions)."""
    decision, reason = _decision_exprs(
        match_threshold, review_threshold, margin, second_above_match_reviews
    )
    return (
        frame.with_columns(_p_txt=_fmt(pl.col("_p_decide")))
        .with_columns(decision=decision, reason=reason)
        .with_columns(
            person_id=pl.when(pl.col("decision") != "non_match").then(pl.col("person_id"))
        )
        .drop("_p_txt")
    )


@functools.lru_cache(maxsize=64)
def _decision_exprs(
    match_threshold: float,
    review_threshold: float,
    margin: float,
    second_above_match_reviews: bool,
) -> tuple[pl.Expr, pl.Expr]:
    """The decision and reason expressions of :func:`_decision_and_reason` (built once per
    thresholds: a search decides a few records many times)."""
    # the best's probability and weight without the identifier a relative holds (the pair's
    # own when there is none, see _relatives_among_top)
    p, p2 = pl.col("_p_decide"), pl.col("second_probability")
    gap = pl.col("match_weight") - pl.col("_second_weight")
    near = (p2 >= review_threshold) & ((gap <= 0) | (gap < margin))
    also_match = (p2 >= match_threshold) if second_above_match_reviews else pl.lit(False)
    relative, second_relative = pl.col("_relative"), pl.col("_second_relative")
    # a candidate holding a relative's identifier is no rival of the person named by the rest
    close = p2.is_not_null() & (near | also_match) & ~second_relative
    # only the best's identifier agrees, and without the identifiers the second fits the
    # record better by the margin: the identifier alone would pick the person
    id_bits, id_bits2 = pl.col("_id_bits"), pl.col("_second_id_bits")
    rest_gap = (pl.col("_second_weight") - id_bits2) - (pl.col("match_weight") - id_bits)
    id_alone = (
        (id_bits > 0)
        & (id_bits2 <= 0)
        & (p2 >= review_threshold)
        & (rest_gap >= margin)
        & ~relative
        & ~second_relative
    ).fill_null(False)
    m, r = pl.lit(str(match_threshold)), pl.lit(str(review_threshold))
    p_txt = pl.col("_p_txt")  # formatted once, used by most reasons
    weight = pl.format(
        REASON_WEIGHT, _fmt(pl.col("match_weight") - pl.col("_explained").fill_null(0.0))
    )
    decision = (
        pl.when(p.is_null() | (p < review_threshold))
        .then(pl.lit("non_match"))
        .when((p >= match_threshold) & ~close & ~relative & ~id_alone)
        .then(pl.lit("match"))
        .otherwise(pl.lit("review"))
    )
    reason = (
        pl.when(p.is_null())
        .then(pl.lit("no candidate pair"))
        .when(p < review_threshold)
        .then(pl.format(REASON_BELOW_REVIEW, pl.col("person_id"), p_txt, r))
        .when(relative)
        .then(
            pl.format(
                REASON_RELATIVE,
                pl.col("_relative_words"),
                pl.col("person_id"),
                p_txt,
            )
        )
        .when(id_alone)
        .then(
            pl.format(
                REASON_ID_ALONE,
                pl.col("_id_words"),
                pl.col("person_id"),
                p_txt,
                pl.col("second_person_id"),
                _fmt(p2),
                _fmt(rest_gap),
                pl.col("_id_words"),
            )
        )
        .when((p >= match_threshold) & close & (gap <= 0))
        .then(
            pl.format(
                REASON_TIE,
                p_txt,
                pl.col("person_id"),
                pl.col("second_person_id"),
            )
        )
        .when((p >= match_threshold) & close)
        .then(
            pl.format(
                REASON_CLOSE_SECOND,
                p_txt,
                m,
                pl.col("second_person_id"),
                _fmt(p2),
                _fmt(gap),
            )
        )
        .when(p >= match_threshold)
        .then(pl.concat_str(pl.format(REASON_MATCH, p_txt, m), weight))
        .otherwise(pl.format(REASON_BETWEEN, p_txt, r, m))
    )
    # the best won over a candidate holding a relative's identifier that could have been a
    # rival (at or above the review threshold): say so
    beside = pl.format(
        REASON_NO_RIVAL,
        pl.col("second_person_id"),
        _fmt(p2),
        pl.col("_relative_words"),
    )
    # the relative's identifier explains the best's disagreement on it: say what was left out
    explained = pl.col("_explained") < 0
    with_it = pl.col("match_probability")
    belongs = pl.format(
        REASON_EXPLAINED,
        pl.col("second_person_id"),
        _fmt(p2),
        pl.col("_relative_words"),
        pl.col("person_id"),
        _fmt(pl.col("_explained")),
        _fmt(with_it),
    )
    reason = (
        pl.when(explained & ~relative & second_relative)
        .then(pl.concat_str(reason, belongs))
        .when(second_relative & (p2 >= review_threshold) & (p >= review_threshold) & ~relative)
        .then(pl.concat_str(reason, beside))
        .otherwise(reason)
    )
    return decision, reason


def _apply_accepted(
    frame: pl.DataFrame, accepted: pl.DataFrame, cands: pl.DataFrame, scored: ScoredPairs
) -> pl.DataFrame:
    """Records with an accepted pair: that pair, as a match; second = best other candidate."""
    pair_cols = ["match_probability", "match_weight", *scored.bf_columns]
    acc = _with_bf(accepted.join(cands.drop("rank"), on=_PAIR, how="left"), scored).select(
        *_KEYS,
        _acc=pl.lit(True),
        _acc_person=pl.col("person_id"),
        **{f"_acc_{c}": pl.col(c) for c in pair_cols},
    )
    alt = (
        cands.join(accepted, on=_PAIR, how="anti")
        .sort("rank")
        .group_by(_KEYS, maintain_order=True)
        .first()
        .select(*_KEYS, _alt_person=pl.col("person_id"), _alt_p=pl.col("match_probability"))
    )
    frame = frame.join(acc, on=_KEYS, how="left").join(alt, on=_KEYS, how="left")
    is_acc = pl.col("_acc").fill_null(False)
    reason = pl.concat_str(
        pl.lit("accepted by reviewer"),
        pl.when(pl.col("_acc_match_probability").is_not_null())
        .then(pl.format(" (p={})", _fmt(pl.col("_acc_match_probability"))))
        .otherwise(pl.lit(" (pair not among the scored candidates)")),
    )
    replaced = {
        "person_id": pl.col("_acc_person"),
        "decision": pl.lit("match"),
        "reason": reason,
        "second_person_id": pl.col("_alt_person"),
        "second_probability": pl.col("_alt_p"),
        **{c: pl.col(f"_acc_{c}") for c in pair_cols},
    }
    frame = frame.with_columns(
        pl.when(is_acc).then(expr).otherwise(pl.col(name)).alias(name)
        for name, expr in replaced.items()
    )
    return frame.drop(
        "_acc", "_acc_person", "_alt_person", "_alt_p", *[f"_acc_{c}" for c in pair_cols]
    )


def _rejected_rivals(cands: pl.DataFrame, rejected: pl.DataFrame) -> pl.DataFrame:
    """Per record with rejected pairs, its best rejected candidate: ``{source, record_id,
    _rej_person, _rej_p, _rej_weight}``."""
    return (
        cands.join(rejected, on=_PAIR, how="semi")
        .sort("match_weight", descending=True, nulls_last=True)
        .group_by(_KEYS, maintain_order=True)
        .first()
        .select(
            *_KEYS,
            _rej_person=pl.col("person_id"),
            _rej_p=pl.col("match_probability"),
            _rej_weight=pl.col("match_weight"),
        )
    )


def _review_after_rejected_rival(
    frame: pl.DataFrame, rivals: pl.DataFrame, review_threshold: float, margin: float
) -> pl.DataFrame:
    """A record that was in review because two candidates were close (a tie, or a second within
    ``margin`` bits) does not become a ``match`` of the remaining one when a reviewer rejects the
    other: rejecting one says nothing for the other. It goes back to ``review``.
    """
    gap = pl.col("match_weight") - pl.col("_rej_weight")
    was_close = (
        pl.col("_rej_p").is_not_null() & (pl.col("_rej_p") >= review_threshold) & (gap < margin)
    )
    back = (pl.col("decision") == "match") & was_close
    return (
        frame.join(rivals, on=_KEYS, how="left")
        .with_columns(
            decision=pl.when(back).then(pl.lit("review")).otherwise(pl.col("decision")),
            reason=pl.when(back)
            .then(
                pl.format(
                    "{} remains after the reviewer rejected {} (p={}, {} bits from it): "
                    "rejecting one of close candidates does not confirm the other",
                    pl.col("person_id"),
                    pl.col("_rej_person"),
                    _fmt(pl.col("_rej_p")),
                    _fmt(gap),
                )
            )
            .otherwise(pl.col("reason")),
        )
        .drop("_rej_person", "_rej_p", "_rej_weight")
    )


def _note_rejected(frame: pl.DataFrame, rejected: pl.DataFrame) -> pl.DataFrame:
    """Prefix the reason of records with rejected pairs by the persons rejected."""
    note = rejected.group_by(_KEYS).agg(
        _note=pl.format("rejected by reviewer: {}; ", pl.col("person_id").sort().str.join(", "))
    )
    return (
        frame.join(note, on=_KEYS, how="left")
        .with_columns(reason=pl.concat_str(pl.col("_note").fill_null(""), pl.col("reason")))
        .drop("_note")
    )


def _note_shared_persons(frame: pl.DataFrame) -> pl.DataFrame:
    """Append to a matched record's reason how many other partner records matched its person."""
    is_match = pl.col("decision") == "match"
    others = pl.col("_others")
    return (
        frame.with_columns(_others=is_match.cast(pl.Int64).sum().over("person_id") - 1)
        .with_columns(
            reason=pl.when(is_match & (others > 0))
            .then(
                pl.format(
                    REASON_SHARED_PERSON,
                    pl.col("reason"),
                    others,
                )
            )
            .otherwise(pl.col("reason"))
        )
        .drop("_others")
    )


def apply_prior_decisions(
    links: pl.DataFrame,
    decisions: pl.DataFrame,
    scored: pl.DataFrame,
    *,
    match_threshold: float = 0.9,
    review_threshold: float = 0.5,
    close_second_margin: float = 5.0,
) -> pl.DataFrame:
    """Decide ``links``' records again under reviewer decisions (pure; same row order).

    A rejected pair is never chosen: the record is decided on its other candidates (next best,
    or ``non_match`` "no candidate pair"); an accepted pair is a ``match``, reason "accepted by
    reviewer". The scored pairs are needed to find the next best candidate and the accepted
    pair's contributions.

    Args:
        links: links from :func:`decide` (only ``source, record_id`` are read).
        decisions: reviewer decisions ``{source, record_id, person_id, decision}``.
        scored: the scored pairs the links were decided from.
        match_threshold: as for :func:`decide`.
        review_threshold: as for :func:`decide`.
        close_second_margin: as for :func:`decide`.
    """
    return decide(
        scored,
        links.select(_KEYS),
        match_threshold=match_threshold,
        review_threshold=review_threshold,
        close_second_margin=close_second_margin,
        prior_decisions=decisions,
    )


#: How the reason of a record cut off by the blocking limits begins (:func:`note_skipped_blocks`).
CUT_OFF_REASON: Final[str] = "no candidate pair (its keys are too common"


def note_skipped_blocks(links: pl.DataFrame, skipped: Mapping[str, pl.Series]) -> pl.DataFrame:
    """``links`` with the reason of each record without candidates that the blocking limits
    cut off: "no candidate pair (its keys are too common: the size limits of rule(s) …
    skipped its blocks)".

    Args:
        links: :func:`decide`'s output, in the order of the left records.
        skipped: per rule, the left rows in blocks its limits skipped (``block(...,
            skipped=...)``).
    """
    if not skipped or links.height == 0:
        return links
    rows = pl.concat(
        [
            pl.DataFrame({"_i": v.cast(pl.UInt32)}).with_columns(_rule=pl.lit(name, pl.Utf8))
            for name, v in skipped.items()
        ]
    )
    why = rows.group_by("_i").agg(pl.col("_rule").unique().sort().str.join(", ").alias("_rules"))
    out = (
        links.with_row_index("_i")
        .join(why, on="_i", how="left", maintain_order="left")
        .with_columns(
            reason=pl.when(pl.col("reason") == "no candidate pair", pl.col("_rules").is_not_null())
            .then(
                pl.format(
                    CUT_OFF_REASON + ": the size limits of rule(s) {} skipped its blocks)",
                    pl.col("_rules"),
                )
            )
            .otherwise(pl.col("reason"))
        )
    )
    return out.drop("_i", "_rules")
