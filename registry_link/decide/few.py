"""Decisions for the few records of a search, in plain Python: :func:`decide`'s links.

A search decides one record (or a few) with a handful of candidates; :func:`decide`'s joins,
window functions and expressions cost the same whatever the number of pairs (tens of polars
calls, about half of a search). :func:`rank_few` and :func:`decide_few` apply the same rules
(:mod:`registry_link.decide.decisions`' module docstring) to the best two candidates of each
record in Python:

* the relative-identifier rule of :func:`~registry_link.decide.decisions._relatives_among_top`
  (its flag, its comparison of the best two, the identifier's disagreement explained, the
  swap), with :class:`~registry_link.decide.decisions.RelativeIdRule`'s identifiers, given
  name and person comparisons and their words;
* the decision and reason of :func:`~registry_link.decide.decisions._decision_exprs`, with
  its reason templates (the ``REASON_*`` constants: one definition for both paths) and
  numbers printed as polars prints them (:func:`~registry_link.decide.decisions.format_number`);
* the shared-person note of ``_note_shared_persons``.

Polars' semantics are kept where they show: a comparison with a null is false (``fill_null``),
NaN is above every number, a ``format`` with a null value is null, sums run in row order.
``tests/decide/test_decide_few.py`` checks the links equal :func:`decide`'s (hypothesis: ties,
duplicates of one person, relatives' identifiers, every reason).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from registry_link.decide.decisions import (
    _KEYS,
    LINK_COLUMNS,
    REASON_BELOW_REVIEW,
    REASON_BETWEEN,
    REASON_CLOSE_SECOND,
    REASON_EXPLAINED,
    REASON_ID_ALONE,
    REASON_MATCH,
    REASON_NO_RIVAL,
    REASON_RELATIVE,
    REASON_SHARED_PERSON,
    REASON_TIE,
    REASON_WEIGHT,
    RELATIVE_BY_COMPARISON,
    RELATIVE_DESCRIBED,
    RELATIVE_ID_RULE,
    RelativeIdRule,
    _require,
    check_thresholds,
    format_number,
)
from registry_link.errors import UsageError

__all__ = ["decide_few", "decide_few_columns", "links_frame", "rank_few"]


def rank_few(
    rec: Sequence[int],
    person: Sequence[str | None],
    probability: Sequence[float],
    weight: Sequence[float],
    n_records: int,
) -> list[list[int]]:
    """Per record (``0 .. n_records - 1``), the pairs of its candidates in rank order, one per
    person (its best pair): :func:`~registry_link.decide.decisions.rank_candidates`' order —
    highest probability, then highest match weight, then smallest person_id, pairs without a
    person or with a NaN probability left out, ties in pair order — for the few pairs of a
    search, in Python.

    Args:
        rec: each pair's record.
        person: each pair's registry person (``None``: not a candidate).
        probability: each pair's match probability.
        weight: each pair's match weight.
        n_records: how many records.
    """
    per: list[list[int]] = [[] for _ in range(n_records)]
    for i, r in enumerate(rec):
        if person[i] is not None and not math.isnan(probability[i]):
            per[int(r)].append(i)
    ranked: list[list[int]] = []
    for pairs in per:
        pairs.sort(key=lambda i: (-probability[i], -weight[i], person[i]))
        seen: set[str | None] = set()
        best = []
        for i in pairs:
            if person[i] not in seen:
                seen.add(person[i])
                best.append(i)
        ranked.append(best)
    return ranked


# ------------------------------------------------------------------ polars' semantics


def _gt0(x: float | None) -> bool:
    """``(x > 0).fill_null(False)`` as polars evaluates it (NaN is above every number)."""
    return x is not None and (x > 0 or x != x)


def _is0(x: float | None) -> bool:
    """``(x == 0).fill_null(False)``."""
    return x is not None and x == 0


def _ge(x: float | None, y: float) -> bool:
    """``x >= y`` where a null is false (a ``when`` condition, a ``fill_null(False)``)."""
    return x is not None and (x >= y or x != x)


def _format(template: str, *values: object) -> str | None:
    """``pl.format(template, *values)``: null when a value is null."""
    if any(v is None for v in values):
        return None
    return template.format(*values)


def _probability(weight: float) -> float:
    """``_probability`` of :mod:`~registry_link.decide.decisions` (same operations)."""
    return float((2.0 ** (-weight) + 1.0) ** -1.0)


_fmt = format_number  # (decide's _fmt of one number)


# ------------------------------------------------------------------ the rule per candidate


@dataclass
class _Candidate:
    """One of a record's best two candidates, as ``_relatives_among_top`` sees its row."""

    rank: int
    person: str | None
    p: float
    w: float
    bf: dict[str, float | None]
    gamma: dict[str, int | None]
    relative_id: bool = False
    words: str | None = None
    id_bits: float = 0.0
    id_words: str | None = None
    explained: float = 0.0
    p_decide: float = math.nan


@dataclass(frozen=True)
class _RuleColumns:
    """What :class:`RelativeIdRule` reads among the pairs' columns (its ``columns``,
    ``id_bits`` and ``id_words`` inputs), resolved once per call."""

    rule: RelativeIdRule
    read: frozenset[str]  # RelativeIdRule.columns(...)
    ids: tuple[str, ...]  # identifier comparisons with a bf_ column, in rule order


def _rule_columns(rule: RelativeIdRule, available: tuple[str, ...]) -> _RuleColumns:
    have = set(available)
    ids = tuple(n for n in rule.identifiers if f"bf_{n}" in have)
    return _RuleColumns(rule, frozenset(rule.columns(list(available))), ids)


def _flag(rc: _RuleColumns, c: _Candidate) -> bool:
    """:meth:`RelativeIdRule.flag`."""
    if not rc.read:
        return False
    rule = rc.rule
    agrees = any(_gt0(c.bf[f"bf_{n}"]) for n in rule.identifiers if f"bf_{n}" in rc.read)
    differs = any(_is0(c.gamma[f"gamma_{n}"]) for n in rule.person if f"gamma_{n}" in rc.read)
    return agrees and _is0(c.gamma[f"gamma_{rule.given[0]}"]) and differs


def _describe(rc: _RuleColumns, c: _Candidate) -> str | None:
    """:meth:`RelativeIdRule.describe`."""
    if not rc.read:
        return None
    rule = rc.rule
    ids = [w for n, w in rule.identifiers.items() if f"bf_{n}" in rc.read and _gt0(c.bf[f"bf_{n}"])]
    parts = [(rule.given[0], rule.given[1]), *rule.person.items()]
    differ = [w for n, w in parts if f"gamma_{n}" in rc.read and _is0(c.gamma[f"gamma_{n}"])]
    return RELATIVE_DESCRIBED.format(
        " and ".join(ids), ", ".join(differ), "differs" if len(differ) == 1 else "differ"
    )


def _id_bits(rc: _RuleColumns, c: _Candidate) -> float:
    """:meth:`RelativeIdRule.id_bits` (a sum in the identifiers' order)."""
    values = [c.bf[f"bf_{n}"] for n in rc.ids]
    if not values:
        return 0.0
    return functools.reduce(lambda a, b: a + b, (0.0 if v is None else v for v in values))


def _id_words(rc: _RuleColumns, c: _Candidate) -> str | None:
    """:meth:`RelativeIdRule.id_words` ("" when none agrees, as ``concat_str`` gives)."""
    if not rc.ids:
        return None
    return " and ".join(
        w for n, w in rc.rule.identifiers.items() if n in rc.ids and _gt0(c.bf[f"bf_{n}"])
    )


def _given_differs(rc: _RuleColumns, c: _Candidate) -> bool:
    """:meth:`RelativeIdRule.given_differs`."""
    return bool(rc.read) and _is0(c.gamma[f"gamma_{rc.rule.given[0]}"])


def _relatives_of_two(
    top: list[_Candidate], rc: _RuleColumns | None, margin: float, review_threshold: float
) -> None:
    """``_relatives_among_top`` of one record's best two (or one) candidates, in place:
    ``relative_id``, ``words``, ``id_bits``, ``id_words``, ``explained``, ``p_decide`` and
    the ``rank`` (swapped when a relative's identifier gives way)."""
    for c in top:
        c.p_decide = c.p
    if rc is None:
        return
    for c in top:
        c.relative_id = _flag(rc, c)
        c.id_bits = _id_bits(rc, c)
        c.id_words = _id_words(rc, c)
    agree = [[_gt0(c.bf[f"bf_{n}"]) for n in rc.ids] for c in top]
    agrees = [any(a) for a in agree]
    given = [_given_differs(rc, c) for c in top]
    if not any(a and g for a, g in zip(agrees, given, strict=True)):
        return  # no candidate whose identifier agrees has a different given name
    described = [_describe(rc, c) for c in top]

    def other(values: list[Any], i: int) -> Any:  # expr.sum().over(record) - expr
        total = values[0] if len(values) == 1 else values[0] + values[1]
        return total - values[i]

    n = len(top)
    ids_bf = [[c.bf[f"bf_{m}"] for m in rc.ids] for c in top]
    drop = []
    for i in range(n):
        held = [other([int(a[j]) for a in agree], i) > 0 for j in range(len(rc.ids))]
        unexplained = [
            v for h, v in zip(held, ids_bf[i], strict=True) if h and v is not None and v < 0
        ]
        drop.append(functools.reduce(lambda a, b: a + b, unexplained, 0.0))
    rest = [c.w - c.id_bits for c in top]
    ws = [c.w for c in top]
    flagged = [c.relative_id for c in top]
    for i, c in enumerate(top):
        rest_gap = other(rest, i) - rest[i]
        by_comparison = (
            n == 2
            and given[i]
            and agrees[i]
            and other([int(a) for a in agrees], i) == 0
            and _ge(rest_gap, margin)
            and _ge(_probability(other(ws, i) - other(drop, i)), review_threshold)
        )
        c.relative_id = flagged[i] or by_comparison
        if flagged[i]:
            c.words = described[i]
        elif by_comparison:
            c.words = _format(RELATIVE_BY_COMPARISON, described[i], _fmt(rest_gap))
    relative = [int(c.relative_id) for c in top]
    for i, c in enumerate(top):
        c.explained = drop[i] if not c.relative_id and other(relative, i) > 0 else 0.0
        if c.explained < 0:
            c.p_decide = _probability(c.w - c.explained)
    first = any(c.rank == 1 and c.relative_id for c in top)
    second_ok = any(
        c.rank == 2 and not c.relative_id and _ge(c.p_decide, review_threshold) for c in top
    )
    if first and second_ok:
        for c in top:
            c.rank = 3 - c.rank


# ------------------------------------------------------------------ decision and reason


@dataclass(frozen=True)
class _Thresholds:
    match: float
    review: float
    margin: float
    second_above_match_reviews: bool


def _decision_and_reason(
    best: _Candidate | None,
    second: _Candidate | None,
    words: str | None,
    t: _Thresholds,
) -> tuple[str, str | None]:
    """``_decision_exprs`` for one record: its decision and reason."""
    if best is None:
        return "non_match", "no candidate pair"
    p, w = best.p_decide, best.w
    p_txt, m, r = _fmt(p), str(t.match), str(t.review)
    relative = best.relative_id
    second_relative = second is not None and second.relative_id
    close = id_alone = False
    p2 = gap = rest_gap = None
    if second is not None:
        p2, gap = second.p, w - second.w
        near = _ge(p2, t.review) and (gap <= 0 or gap < t.margin)
        also_match = t.second_above_match_reviews and _ge(p2, t.match)
        close = (near or also_match) and not second_relative
        rest_gap = (second.w - second.id_bits) - (w - best.id_bits)
        id_alone = (
            _gt0(best.id_bits)
            and not _gt0(second.id_bits)
            and _ge(p2, t.review)
            and _ge(rest_gap, t.margin)
            and not relative
            and not second_relative
        )
    at_match = _ge(p, t.match)
    decision, reason = "review", None
    if not _ge(p, t.review):
        decision = "non_match"
        reason = _format(REASON_BELOW_REVIEW, best.person, p_txt, r)
    elif relative:
        reason = _format(REASON_RELATIVE, words, best.person, p_txt)
    elif id_alone:
        assert second is not None
        reason = _format(
            REASON_ID_ALONE,
            best.id_words,
            best.person,
            p_txt,
            second.person,
            _fmt(p2),
            _fmt(rest_gap),
            best.id_words,
        )
    elif at_match and close and gap is not None and gap <= 0:
        assert second is not None
        reason = _format(REASON_TIE, p_txt, best.person, second.person)
    elif at_match and close:
        assert second is not None
        reason = _format(REASON_CLOSE_SECOND, p_txt, m, second.person, _fmt(p2), _fmt(gap))
    elif at_match:  # (not close, no relative's identifier, not the identifier alone)
        decision = "match"
        weight = _format(REASON_WEIGHT, _fmt(w - best.explained))
        match = _format(REASON_MATCH, p_txt, m)
        reason = None if match is None or weight is None else match + weight
    else:
        reason = _format(REASON_BETWEEN, p_txt, r, m)
    suffix: str | None = ""
    if best.explained < 0 and not relative and second_relative:
        assert second is not None
        suffix = _format(
            REASON_EXPLAINED,
            second.person,
            _fmt(p2),
            words,
            best.person,
            _fmt(best.explained),
            _fmt(best.p),
        )
    elif second_relative and _ge(p2, t.review) and _ge(p, t.review) and not relative:
        assert second is not None
        suffix = _format(REASON_NO_RIVAL, second.person, _fmt(p2), words)
    return decision, None if reason is None or suffix is None else reason + suffix


def decide_few_columns(
    left: pl.DataFrame,
    ranked: Sequence[Sequence[int]],
    person: Sequence[str | None],
    probability: Sequence[float],
    weight: Sequence[float],
    columns: Mapping[str, Sequence[float]],
    *,
    match_threshold: float = 0.9,
    review_threshold: float = 0.5,
    close_second_margin: float = 5.0,
    second_above_match_reviews: bool = False,
    relative_id: RelativeIdRule | None = RELATIVE_ID_RULE,
) -> dict[str, list[Any]]:
    """:func:`decide_few`'s links as Python lists (column → one value per record), without
    ``source`` and ``record_id``: a search reads them without building a frame.

    Args:
        left: the records ``{source, record_id}``, one per entry of ``ranked``.
        ranked: per record, its pairs in rank order (indices into the pair sequences).
        person, probability, weight: per pair.
        columns: per pair, its ``bf_<name>`` and ``gamma_<name>`` values (the relative-id rule
            reads some; the ``bf_*`` are the links' last columns).
    """
    check_thresholds(match_threshold, review_threshold, close_second_margin)
    _require(left, _KEYS, "partner records")
    if left.height != len(ranked):
        raise UsageError(f"{left.height} records for {len(ranked)} lists of ranked candidates")
    bf = [c for c in columns if c.startswith("bf_")]
    gammas = [c for c in columns if c.startswith("gamma_")]
    rc = _rule_columns(relative_id, tuple(columns)) if relative_id is not None else None
    t = _Thresholds(
        match_threshold, review_threshold, close_second_margin, second_above_match_reviews
    )
    out: dict[str, list[Any]] = {c: [] for c in (*LINK_COLUMNS, *bf)}
    del out["source"], out["record_id"]
    for pairs in ranked:
        top = [
            _Candidate(
                rank,
                person[i],
                probability[i],
                weight[i],
                {c: columns[c][i] for c in bf},
                {c: columns[c][i] for c in gammas},  # type: ignore[misc]
            )
            for rank, i in enumerate(pairs[:2], 1)
        ]
        _relatives_of_two(top, rc, close_second_margin, review_threshold)
        top.sort(key=lambda c: c.rank)
        best = top[0] if top else None
        second = top[1] if len(top) > 1 else None
        words = next((c.words for c in top if c.relative_id), None)
        decision, reason = _decision_and_reason(best, second, words, t)
        out["person_id"].append(best.person if best and decision != "non_match" else None)
        out["match_probability"].append(best.p if best else None)
        out["match_weight"].append(best.w if best else None)
        out["decision"].append(decision)
        out["reason"].append(reason)
        out["second_person_id"].append(second.person if second else None)
        out["second_probability"].append(second.p if second else None)
        out["candidates"].append(len(pairs))
        for c in bf:
            out[c].append(best.bf[c] if best else None)
    _note_shared_persons(out["person_id"], out["decision"], out["reason"])
    return out


def links_frame(left: pl.DataFrame, columns: Mapping[str, Sequence[Any]]) -> pl.DataFrame:
    """The links frame of :func:`decide_few_columns`' lists (``left``: the records)."""
    bf = [c for c in columns if c.startswith("bf_")]
    schema: dict[str, Any] = {
        "person_id": pl.Utf8,
        "match_probability": pl.Float64,
        "match_weight": pl.Float64,
        "decision": pl.Utf8,
        "reason": pl.Utf8,
        "second_person_id": pl.Utf8,
        "second_probability": pl.Float64,
        "candidates": pl.UInt32,
        **dict.fromkeys(bf, pl.Float64),
    }
    links = pl.DataFrame({c: columns[c] for c in schema}, schema=schema)
    return pl.concat([left.select(_KEYS), links], how="horizontal").select(*LINK_COLUMNS, *bf)


def decide_few(
    left: pl.DataFrame,
    ranked: Sequence[Sequence[int]],
    person: Sequence[str | None],
    probability: Sequence[float],
    weight: Sequence[float],
    columns: Mapping[str, Sequence[float]],
    *,
    match_threshold: float = 0.9,
    review_threshold: float = 0.5,
    close_second_margin: float = 5.0,
    second_above_match_reviews: bool = False,
    relative_id: RelativeIdRule | None = RELATIVE_ID_RULE,
) -> pl.DataFrame:
    """:func:`~registry_link.decide.decisions.decide` for the few records of a search, their
    candidates already ranked (:func:`rank_few`): the same links (:data:`LINK_COLUMNS` then
    the chosen pair's ``bf_*``), from the same rules applied in Python to the best two
    candidates of each record (see the module docstring). No reviewer decisions.

    Args:
        left: the records ``{source, record_id}``, one per entry of ``ranked``.
        ranked: per record, its pairs in rank order (indices into the pair sequences).
        person, probability, weight: per pair.
        columns: per pair, its ``bf_<name>`` and ``gamma_<name>`` values (the relative-id rule
            reads some; the ``bf_*`` are the links' last columns).
    """
    out = decide_few_columns(
        left,
        ranked,
        person,
        probability,
        weight,
        columns,
        match_threshold=match_threshold,
        review_threshold=review_threshold,
        close_second_margin=close_second_margin,
        second_above_match_reviews=second_above_match_reviews,
        relative_id=relative_id,
    )
    return links_frame(left, out)


def _note_shared_persons(
    person: list[str | None], decision: list[str], reason: list[str | None]
) -> None:
    """``_note_shared_persons`` of the records decided together, in place: a matched record's
    reason says how many other records matched its person."""
    matches: dict[str | None, int] = {}
    for who, d in zip(person, decision, strict=True):
        if d == "match":
            matches[who] = matches.get(who, 0) + 1
    for i, (who, d) in enumerate(zip(person, decision, strict=True)):
        if d == "match" and matches[who] > 1:
            reason[i] = _format(REASON_SHARED_PERSON, reason[i], matches[who] - 1)
