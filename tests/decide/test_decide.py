"""Tests of registry_link.decide.decisions on small hand-made scored pairs."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.decide.decisions import (
    LINK_COLUMNS,
    apply_prior_decisions,
    decide,
    rank_candidates,
)
from registry_link.errors import UsageError

TH = {"match_threshold": 0.9, "review_threshold": 0.5, "close_second_margin": 5.0}


def _w(p: float) -> float:
    """Match weight (log2 odds) of a probability, as scoring would give it."""
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log2(p / (1 - p))


#: Columns of the scored pairs the tests build (``bf_name`` numbers the rows).
SCORED_SCHEMA = {
    "source": pl.Utf8,
    "record_id": pl.Utf8,
    "person_id": pl.Utf8,
    "match_probability": pl.Float64,
    "match_weight": pl.Float64,
    "bf_name": pl.Float64,
}


def _scored_frame(rows: list[tuple[str, str, str | None, float, float]]) -> pl.DataFrame:
    """Scored pairs from (source, record_id, person_id, probability, weight)."""
    return pl.DataFrame(
        [(*row, float(i)) for i, row in enumerate(rows)], schema=SCORED_SCHEMA, orient="row"
    )


def scored(rows: list[tuple[str, str, str, float]]) -> pl.DataFrame:
    """Scored pairs from (source, record_id, person_id, probability)."""
    return _scored_frame([(s, r, p, pr, _w(pr)) for s, r, p, pr in rows])


def left(*ids: str, source: str = "a") -> pl.DataFrame:
    return pl.DataFrame({"source": [source] * len(ids), "record_id": list(ids)})


def one(links: pl.DataFrame, rid: str) -> dict:
    return links.filter(pl.col("record_id") == rid).row(0, named=True)


@pytest.mark.parametrize(
    ("pairs", "decision", "person", "reason_part"),
    [
        ([(0.998, "P1")], "match", "P1", "p=0.998 ≥ match threshold 0.9"),
        ([(0.9, "P1")], "match", "P1", "≥ match threshold"),  # at the threshold
        ([(0.7, "P1")], "review", "P1", "between review threshold 0.5 and match threshold 0.9"),
        ([(0.5, "P1")], "review", "P1", "between"),
        ([(0.2, "P1")], "non_match", None, "best candidate P1 p=0.2 below review threshold 0.5"),
        ([], "non_match", None, "no candidate pair"),
        # a close second (weight gap < 5 bits) sends a match to review
        ([(0.999, "P1"), (0.99, "P2")], "review", "P1", "close second candidate P2 (p=0.99"),
        # a far second below the review threshold does not
        ([(0.999, "P1"), (0.3, "P2")], "match", "P1", "≥ match threshold"),
        # far in bits (>5), the second itself above the match threshold: a match by default
        ([(0.99999, "P1"), (0.95, "P2")], "match", "P1", "≥ match threshold"),
        # a tie: review, whatever the margin
        ([(0.97, "P2"), (0.97, "P1")], "review", "P1", "tie: p=0.97 for P1 and for P2"),
    ],
)
def test_decision_table(pairs, decision, person, reason_part) -> None:
    s = scored([("a", "r1", pid, p) for p, pid in pairs])
    links = decide(s, left("r1"), **TH)
    row = one(links, "r1")
    assert row["decision"] == decision
    assert row["person_id"] == person
    assert reason_part in row["reason"]


def test_second_above_match_rule_can_be_switched_on() -> None:
    s = scored([("a", "r1", "P1", 0.99999), ("a", "r1", "P2", 0.95)])
    on = one(decide(s, left("r1"), **TH, second_above_match_reviews=True), "r1")
    off = one(decide(s, left("r1"), **TH), "r1")
    assert (on["decision"], off["decision"]) == ("review", "match")


def test_record_index_column_gives_the_same_links() -> None:
    s = scored([("a", "r1", "P1", 0.95), ("a", "r1", "P2", 0.6), ("b", "r1", "P1", 0.7)])
    with_idx = s.with_columns(l_idx=pl.Series([0, 0, 1], dtype=pl.UInt32))
    lf = pl.concat([left("r1"), left("r1", source="b")])
    assert decide(with_idx, lf, **TH).equals(decide(s, lf, **TH))


def test_every_left_record_once_in_left_order_with_contract_columns() -> None:
    s = scored([("a", "r2", "P1", 0.95), ("a", "r2", "P9", 0.1), ("b", "r1", "P3", 0.6)])
    lf = pl.concat([left("r3", "r2"), left("r1", source="b")])
    links = decide(s, lf, **TH)
    assert links.columns == [*LINK_COLUMNS, "bf_name"]
    assert links.select("source", "record_id").equals(lf)
    assert links["decision"].to_list() == ["non_match", "match", "review"]
    assert links["candidates"].to_list() == [0, 2, 1]
    r2 = one(links, "r2")
    assert r2["second_person_id"] == "P9"
    assert r2["second_probability"] == pytest.approx(0.1)
    assert r2["bf_name"] == 0.0  # the bf of the chosen pair (row 0), not of the second


def test_several_pairs_with_one_person_are_one_candidate() -> None:
    s = scored([("a", "r1", "P1", 0.99), ("a", "r1", "P1", 0.95)])
    row = one(decide(s, left("r1"), **TH), "r1")
    assert row["decision"] == "match"  # not a "close second" with itself
    assert row["candidates"] == 1
    assert row["second_person_id"] is None


def test_duplicates_resolving_to_one_person_are_not_demoted() -> None:
    s = scored([("a", "r1", "P1", 0.99), ("a", "r2", "P1", 0.98), ("b", "x", "P1", 0.97)])
    lf = pl.concat([left("r1", "r2"), left("x", source="b")])
    links = decide(s, lf, **TH)
    assert links["decision"].to_list() == ["match"] * 3
    assert "same person as 2 other partner record(s)" in one(links, "r1")["reason"]


def test_rejected_pair_falls_back_to_next_candidate_or_non_match() -> None:
    s = scored([("a", "r1", "P1", 0.99), ("a", "r1", "P2", 0.2), ("a", "r2", "P3", 0.99)])
    prior = pl.DataFrame(
        {
            "source": ["a", "a"],
            "record_id": ["r1", "r2"],
            "person_id": ["P1", "P3"],
            "decision": ["reject", "reject"],
        }
    )
    links = decide(s, left("r1", "r2"), **TH, prior_decisions=prior)
    r1, r2 = one(links, "r1"), one(links, "r2")
    assert (r1["decision"], r1["person_id"]) == ("non_match", None)
    assert r1["reason"].startswith("rejected by reviewer: P1; best candidate P2 p=0.2")
    assert (r2["decision"], r2["person_id"]) == ("non_match", None)
    assert r2["reason"] == "rejected by reviewer: P3; no candidate pair"


def _reject(record_id: str, person_id: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"source": "a", "record_id": record_id, "person_id": person_id, "decision": "reject"},
        schema={c: pl.Utf8 for c in ("source", "record_id", "person_id", "decision")},
    )


@pytest.mark.parametrize(("p1", "p2"), [(0.99, 0.99), (0.99, 0.95)])
def test_rejecting_one_of_close_candidates_sends_the_other_to_review(p1: float, p2: float) -> None:
    # issue 15 item 9: a tie (or a close second) was in review; rejecting one candidate must
    # not turn the other into a match nobody looked at
    s = scored([("a", "r1", "P1", p1), ("a", "r1", "P2", p2)])
    assert one(decide(s, left("r1"), **TH), "r1")["decision"] == "review"
    r1 = one(decide(s, left("r1"), **TH, prior_decisions=_reject("r1", "P1")), "r1")
    assert (r1["decision"], r1["person_id"]) == ("review", "P2")
    assert "P2 remains after the reviewer rejected P1" in r1["reason"]
    assert r1["reason"].startswith("rejected by reviewer: P1; ")


def test_rejecting_a_far_rival_keeps_the_clear_best_a_match() -> None:
    # P2 is 10 bits below P1: it never made P1 doubtful, so rejecting it changes nothing
    s = scored([("a", "r1", "P1", 0.999), ("a", "r1", "P2", 0.5)])
    r1 = one(decide(s, left("r1"), **TH, prior_decisions=_reject("r1", "P2")), "r1")
    assert (r1["decision"], r1["person_id"]) == ("match", "P1")


def test_accepted_pair_is_a_match_with_its_own_probability_and_bf() -> None:
    s = scored([("a", "r1", "P1", 0.99), ("a", "r1", "P2", 0.6), ("a", "r2", "P3", 0.2)])
    prior = pl.DataFrame(
        {
            "source": ["a", "a"],
            "record_id": ["r1", "r2"],
            "person_id": ["P2", "P7"],
            "decision": ["ACCEPT", "accept"],
        }
    )
    links = decide(s, left("r1", "r2"), **TH, prior_decisions=prior)
    r1, r2 = one(links, "r1"), one(links, "r2")
    assert (r1["decision"], r1["person_id"]) == ("match", "P2")
    assert r1["match_probability"] == pytest.approx(0.6)
    assert r1["bf_name"] == 1.0
    assert r1["second_person_id"] == "P1"
    assert r1["reason"] == "accepted by reviewer (p=0.6)"
    assert (r2["decision"], r2["person_id"]) == ("match", "P7")
    assert r2["match_probability"] is None
    assert "not among the scored candidates" in r2["reason"]


def test_apply_prior_decisions_keeps_links_order() -> None:
    s = scored([("a", "r1", "P1", 0.99), ("a", "r2", "P2", 0.99)])
    links = decide(s, left("r2", "r1"), **TH)
    prior = pl.DataFrame(
        {"source": ["a"], "record_id": ["r1"], "person_id": ["P1"], "decision": ["reject"]}
    )
    again = apply_prior_decisions(links, prior, s, **TH)
    assert again["record_id"].to_list() == ["r2", "r1"]
    assert again["decision"].to_list() == ["match", "non_match"]


@pytest.mark.parametrize(
    "prior",
    [
        {"person_id": ["P1"], "decision": ["maybe"]},
        {"person_id": ["P1", "P1"], "decision": ["accept", "reject"]},
        {"person_id": ["P1", "P2"], "decision": ["accept", "accept"]},
    ],
)
def test_bad_reviewer_decisions_are_usage_errors(prior) -> None:
    n = len(prior["person_id"])
    frame = pl.DataFrame({"source": ["a"] * n, "record_id": ["r1"] * n, **prior})
    with pytest.raises(UsageError, match="r1"):
        decide(scored([("a", "r1", "P1", 0.9)]), left("r1"), **TH, prior_decisions=frame)


@pytest.mark.parametrize(
    "th",
    [
        {"match_threshold": 0.5, "review_threshold": 0.9, "close_second_margin": 1.0},
        {"match_threshold": 1.5, "review_threshold": 0.5, "close_second_margin": 1.0},
        {"match_threshold": 0.9, "review_threshold": 0.5, "close_second_margin": -1.0},
    ],
)
def test_bad_thresholds_are_usage_errors(th) -> None:
    with pytest.raises(UsageError, match="model config"):
        decide(scored([("a", "r1", "P1", 0.9)]), left("r1"), **th)


def test_missing_columns_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="match_weight"):
        decide(scored([("a", "r1", "P1", 0.9)]).drop("match_weight"), left("r1"), **TH)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["r1", "r2", "r3"]),
            st.sampled_from(["P1", "P2", "P3", "P4"]),
            st.floats(0.0, 1.0),
        ),
        max_size=12,
    )
)
def test_properties_one_row_per_record_and_order_independent(rows) -> None:
    s = scored([("a", r, p, prob) for r, p, prob in rows])
    lf = left("r1", "r2", "r3", "r4")
    links = decide(s, lf, **TH)
    assert links.height == 4
    assert set(links["decision"].to_list()) <= {"match", "review", "non_match"}
    again = decide(s.reverse(), lf, **TH)
    assert links.drop("bf_name").equals(again.drop("bf_name"))
    matched = links.filter(pl.col("decision") == "match")
    assert (matched["match_probability"] >= 0.9).all() if matched.height else True
    assert links.filter(pl.col("decision") == "non_match")["person_id"].null_count() == (
        links.filter(pl.col("decision") == "non_match").height
    )


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["r1", "r2"]), st.sampled_from(["P1", "P2", "P3"]), st.floats(0, 1)
        ),
        max_size=8,
    ),
    rejects=st.lists(st.tuples(st.sampled_from(["r1", "r2"]), st.sampled_from(["P1", "P2", "P3"]))),
)
def test_property_a_rejected_pair_is_never_chosen(rows, rejects) -> None:
    s = scored([("a", r, p, prob) for r, p, prob in rows])
    prior = pl.DataFrame(
        {
            "source": ["a"] * len(rejects),
            "record_id": [r for r, _ in rejects],
            "person_id": [p for _, p in rejects],
            "decision": ["reject"] * len(rejects),
        },
        schema={"source": pl.Utf8, "record_id": pl.Utf8, "person_id": pl.Utf8, "decision": pl.Utf8},
    )
    links = decide(s, left("r1", "r2"), **TH, prior_decisions=prior)
    chosen = set(links.drop_nulls("person_id").select("record_id", "person_id").iter_rows())
    assert not chosen & set(rejects)


@pytest.mark.parametrize(
    ("p", "decision"),
    [(0.9, "match"), (0.8999, "review"), (0.5, "review"), (0.4999, "non_match"), (1.0, "match")],
)
def test_just_either_side_of_each_threshold(p: float, decision: str) -> None:
    links = decide(scored([("a", "r1", "P1", p)]), left("r1"), **TH)
    assert one(links, "r1")["decision"] == decision


@pytest.mark.parametrize(
    ("p2", "w2", "decision"),
    [
        (0.9, 15.01, "review"),  # 4.99 bits below the best: close
        (0.9, 15.0, "match"),  # exactly the 5-bit margin: no longer close
        (0.49, 19.0, "match"),  # close in bits but below the review threshold
        (0.5, 19.0, "review"),  # at the review threshold and close
    ],
)
def test_close_second_margin_is_in_bits_of_weight(p2: float, w2: float, decision: str) -> None:
    s = pl.DataFrame(
        {
            "source": ["a", "a"],
            "record_id": ["r1", "r1"],
            "person_id": ["P1", "P2"],
            "match_probability": [0.999, p2],
            "match_weight": [20.0, w2],
        }
    )
    row = one(decide(s, left("r1"), **TH), "r1")
    assert (row["decision"], row["person_id"]) == (decision, "P1")
    assert (row["second_person_id"], row["second_probability"]) == ("P2", p2)
    if decision == "review":
        assert "close second candidate P2" in row["reason"]


# --- the engine's fast path (pairs with l_idx/r_idx, shortlisted candidates) -------------


def with_indexes(s: pl.DataFrame, lf: pl.DataFrame) -> pl.DataFrame:
    """``s`` plus ``l_idx`` (the record's row in ``lf``) and ``r_idx`` (one per person), as the
    engine's scored pairs carry them; row order kept."""
    rows = lf.select("source", "record_id").with_row_index("l_idx")
    out = s.join(rows, on=["source", "record_id"], how="left", maintain_order="left")
    return out.with_columns(r_idx=(pl.col("person_id").rank("dense") - 1).cast(pl.UInt32))


def prior_frame(decisions: list[tuple[str, str, str]]) -> pl.DataFrame:
    """Reviewer decisions from (record_id, person_id, decision), source "a"."""
    return pl.DataFrame(
        {
            "source": ["a"] * len(decisions),
            "record_id": [d[0] for d in decisions],
            "person_id": [d[1] for d in decisions],
            "decision": [d[2] for d in decisions],
        },
        schema={"source": pl.Utf8, "record_id": pl.Utf8, "person_id": pl.Utf8, "decision": pl.Utf8},
    )


def expected(rows: list[tuple[str, str | None, float, float]], rid: str) -> tuple:
    """(best person, best p, second person, second p, candidates) of a record, in plain Python:
    highest probability, then highest weight, then smallest person_id; NaN and no person out."""
    best: dict[str, tuple[float, float, str]] = {}
    for r, person, p, w in rows:
        if r != rid or person is None or math.isnan(p):
            continue
        key = (-p, -w, person)
        best[person] = min(best.get(person, key), key)
    ranked = sorted(best.values())
    first = (ranked[0][2], -ranked[0][0]) if ranked else (None, None)
    second = (ranked[1][2], -ranked[1][0]) if len(ranked) > 1 else (None, None)
    return (*first, *second, len(ranked))


def scored_w(rows: list[tuple[str, str | None, float, float]]) -> pl.DataFrame:
    """Scored pairs from (record_id, person_id, probability, weight), source "a"."""
    return _scored_frame([("a", r, p, pr, w) for r, p, pr, w in rows])


# few values: exact ties of probability and of weight are frequent
_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["r1", "r2", "r3"]),
        st.sampled_from(["P1", "P2", "P3", "P4", "P5", None]),
        st.sampled_from([0.1, 0.5, 0.6, 0.9, 0.95, 0.99, 1.0, 1.0, float("nan")]),
        st.sampled_from([-3.0, 4.0, 10.0, 20.0, 20.0]),
    ),
    max_size=25,
)
_PRIOR = st.lists(
    st.tuples(
        st.sampled_from(["r1", "r2", "r3", "r4"]),
        st.sampled_from(["P1", "P2", "P3", "P4", "P9"]),
        st.sampled_from(["accept", "reject", "reject"]),
    ),
    max_size=5,
)


def valid_prior(decisions: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """At most one accepted person per record, and no pair both accepted and rejected."""
    accepted: dict[str, str] = {}
    for r, p, d in decisions:
        if d == "accept":
            accepted.setdefault(r, p)
    rejected = {(r, p) for r, p, d in decisions if d == "reject" and accepted.get(r) != p}
    return [(r, p, "accept") for r, p in accepted.items()] + [
        (r, p, "reject") for r, p in sorted(rejected)
    ]


@settings(max_examples=150, deadline=None)
@given(rows=_ROWS)
def test_best_second_and_count_match_a_plain_python_ranking(rows) -> None:
    s = scored_w(rows)
    lf = left("r1", "r2", "r3", "r4")
    for frame in (s, with_indexes(s, lf)):
        links = decide(frame, lf, **TH)
        for rid in ("r1", "r2", "r3", "r4"):
            row = one(links, rid)
            best, p, second, p2, n = expected(rows, rid)
            assert (row["match_probability"], row["candidates"]) == (p, n)
            assert (row["second_person_id"], row["second_probability"]) == (second, p2)
            assert row["person_id"] == (best if row["decision"] != "non_match" else None)


@settings(max_examples=150, deadline=None)
@given(rows=_ROWS, decisions=_PRIOR, seed=st.integers(0, 1000))
def test_engine_pairs_and_plain_pairs_give_the_same_links(rows, decisions, seed) -> None:
    s = scored_w(rows)
    lf = left("r3", "r1", "r4", "r2")
    prior = prior_frame(valid_prior(decisions)) if decisions else None
    plain = decide(s, lf, **TH, prior_decisions=prior)
    indexed = with_indexes(s, lf)
    assert decide(indexed, lf, **TH, prior_decisions=prior).equals(plain)
    # unsorted l_idx: the same decisions (among pairs equal in all but bf, either may be kept)
    shuffled = decide(
        indexed.sample(fraction=1.0, shuffle=True, seed=seed), lf, **TH, prior_decisions=prior
    )
    assert shuffled.drop("bf_name").equals(plain.drop("bf_name"))


@settings(max_examples=150, deadline=None)
@given(rows=_ROWS, decisions=_PRIOR, size=st.integers(1, 4), seed=st.integers(0, 1000))
def test_shortlisting_a_slice_of_records_at_a_time_gives_the_same_links(
    rows, decisions, size, seed
) -> None:
    """A record's shortlist depends on its own pairs only: shortlisted in slices of about
    ``size`` pairs (each record whole in one), the links are those of one slice."""
    import registry_link.decide.decisions as decide_module

    lf = left("r3", "r1", "r4", "r2")
    prior = prior_frame(valid_prior(decisions)) if decisions else None
    frames = [scored_w(rows), with_indexes(scored_w(rows), lf)]
    frames.append(frames[1].sample(fraction=1.0, shuffle=True, seed=seed))
    whole = [decide(f, lf, **TH, prior_decisions=prior) for f in frames]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(decide_module, "SHORTLIST_CHUNK", size)
        for frame, want in zip(frames, whole, strict=True):
            assert decide(frame, lf, **TH, prior_decisions=prior).equals(want)
        # the parts (records' candidates, then their best two) on two threads: the same
        patch.setattr(decide_module, "PART_ROWS", 1)
        for frame, want in zip(frames, whole, strict=True):
            got = decide(frame, lf, **TH, prior_decisions=prior, map_each=_two_threads)
            assert got.equals(want)


def _two_threads(fn, items):  # type: ignore[no-untyped-def]
    """A ``map_each`` on two threads of its own (as the link's engine runs ``decide``'s parts)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(fn, items))


@given(st.lists(st.integers(0, 5), max_size=30).map(sorted), st.integers(1, 6))
def test_record_chunks_keep_each_record_whole_and_every_row_in_order(recs, size) -> None:
    from registry_link.decide.decisions import record_chunks

    order = pl.DataFrame(
        {"_row": range(len(recs)), "_rec": recs}, schema={"_row": pl.UInt32, "_rec": pl.UInt32}
    )
    chunks = record_chunks(order, size)
    assert pl.concat(chunks).equals(order)
    owners = [set(c["_rec"].to_list()) for c in chunks]
    assert all(not (a & b) for i, a in enumerate(owners) for b in owners[i + 1 :])
    # a slice is cut at the first record start at or after each multiple of size
    assert all(c.height < size + recs.count(c["_rec"][-1]) for c in chunks if c.height)


def test_pairs_of_one_person_do_not_hide_the_second_candidate() -> None:
    rows = [("r1", "P1", 0.99, 20.0), ("r1", "P1", 0.98, 19.0), ("r1", "P2", 0.6, 1.0)]
    lf = left("r1")
    for frame in (scored_w(rows), with_indexes(scored_w(rows), lf)):
        row = one(decide(frame, lf, **TH), "r1")
        assert (row["person_id"], row["second_person_id"], row["candidates"]) == ("P1", "P2", 2)
        assert row["bf_name"] == 0.0


def test_reviewer_decisions_reach_candidates_beyond_the_second() -> None:
    rows = [
        ("r1", "P1", 0.99, 20.0),
        ("r1", "P2", 0.98, 19.0),
        ("r1", "P3", 0.97, 18.0),
        ("r1", "P4", 0.6, 1.0),
        ("r1", "P5", 0.1, -3.0),
        ("r2", "P1", 0.99, 20.0),
        ("r2", "P2", 0.7, 2.0),
        ("r2", "P3", 0.6, 1.0),
    ]
    lf = left("r1", "r2")
    prior = prior_frame([("r1", "P1", "reject"), ("r1", "P2", "reject"), ("r2", "P3", "accept")])
    for frame in (scored_w(rows), with_indexes(scored_w(rows), lf)):
        links = decide(frame, lf, **TH, prior_decisions=prior)
        r1, r2 = one(links, "r1"), one(links, "r2")
        assert (r1["person_id"], r1["second_person_id"], r1["candidates"]) == ("P3", "P4", 3)
        # P3 was 1 bit from the rejected P2: a close rival gone is no proof (issue 15 item 9)
        assert r1["decision"] == "review"
        assert r1["reason"].startswith("rejected by reviewer: P1, P2; P3 remains after")
        assert (r2["person_id"], r2["second_person_id"], r2["bf_name"]) == ("P3", "P1", 7.0)
        assert (r2["decision"], r2["candidates"]) == ("match", 3)


def test_person_hash_collisions_do_not_change_the_links(monkeypatch) -> None:
    """The shortlist tells persons apart by a hash of person_id: were all hashes equal, the
    links would still be the same (only more pairs ranked on person_id)."""
    import registry_link.decide.decisions as decide_module

    rows = [
        ("r1", "P1", 0.99, 20.0),
        ("r1", "P2", 0.95, 18.0),
        ("r1", "P3", 0.95, 18.0),
        ("r1", "P1", 0.5, 0.0),
        ("r2", "P4", 0.7, 2.0),
        ("r2", "P5", 0.2, -2.0),
    ]
    lf = left("r1", "r2", "r3")
    frame = with_indexes(scored_w(rows), lf)
    honest = decide(frame, lf, **TH)
    real = decide_module.usable_pairs
    monkeypatch.setattr(
        decide_module,
        "usable_pairs",
        lambda scored, order=None: real(scored, order).with_columns(
            _pid=pl.lit(7, dtype=pl.UInt64)
        ),
    )
    assert decide(frame, lf, **TH).equals(honest)
    assert one(honest, "r1")["second_person_id"] == "P2"
    assert one(honest, "r1")["candidates"] == 3


def test_rank_candidates_ranks_every_person_once() -> None:
    s = scored_w(
        [
            ("r1", "P2", 0.9, 10.0),
            ("r1", "P1", 0.9, 10.0),
            ("r1", "P1", 0.95, 4.0),
            ("r1", None, 0.99, 20.0),
            ("r2", "P3", float("nan"), 1.0),
            ("r2", "P3", 0.5, 1.0),
        ]
    )
    ranked = rank_candidates(s)
    assert ranked.columns == [
        "_row",
        "source",
        "record_id",
        "person_id",
        "match_probability",
        "match_weight",
        "rank",
    ]
    got = ranked.select("record_id", "person_id", "rank", "_row").rows()
    assert got == [("r1", "P1", 1, 2), ("r1", "P2", 2, 0), ("r2", "P3", 1, 5)]


def test_note_skipped_blocks_explains_records_without_candidates() -> None:
    from registry_link.decide.decisions import note_skipped_blocks

    links = pl.DataFrame(
        {
            "record_id": ["a", "b", "c", "d"],
            "reason": ["no candidate pair", "best candidate p=0.95", "no candidate pair", "x"],
        }
    )
    skipped = {
        "rule_b": pl.Series([0, 1], dtype=pl.UInt32),
        "rule_a": pl.Series([0, 3], dtype=pl.UInt32),
    }
    out = note_skipped_blocks(links, skipped)
    assert out.columns == links.columns
    assert out["reason"].to_list() == [
        "no candidate pair (its keys are too common: the size limits of rule(s) rule_a, rule_b "
        "skipped its blocks)",
        "best candidate p=0.95",  # had candidates: unchanged
        "no candidate pair",  # in no skipped block: unchanged
        "x",
    ]
    assert note_skipped_blocks(links, {}).equals(links)


# --- a relative's identifier (RelativeIdRule) -------------------------------------------------

#: One candidate: (person, probability, bf_cin, gamma_given, gamma_sex, gamma_birth_date).
Cand = tuple[str, float, float, int, int, int]


def relative_scored(cands: list[Cand]) -> pl.DataFrame:
    """Wide scored pairs of record r1 with the columns the relative-identifier rule reads."""
    return pl.DataFrame(
        [
            ("a", "r1", pid, p, _w(p), cin, g_given, g_sex, g_birth)
            for pid, p, cin, g_given, g_sex, g_birth in cands
        ],
        schema={
            **{k: v for k, v in SCORED_SCHEMA.items() if k != "bf_name"},
            "bf_cin": pl.Float64,
            "gamma_given": pl.Int8,
            "gamma_sex": pl.Int8,
            "gamma_birth_date": pl.Int8,
        },
        orient="row",
    )


@pytest.mark.parametrize(
    ("cands", "decision", "person", "reason_part"),
    [
        # the husband's CIN: CIN agrees, given name, sex and birth date differ -> review
        (
            [("HUSBAND", 0.999, 17.0, 0, 0, 0)],
            "review",
            "HUSBAND",
            "CIN agrees but the person differs: given name, sex, birth date differ: HUSBAND "
            "(p=0.999) holds the identifier of a relative",
        ),
        # the son's CIN: same sex, given name and birth date differ -> review
        (
            [("SON", 0.99, 17.0, 0, 1, 0)],
            "review",
            "SON",
            "CIN agrees but the person differs: given name, birth date differ: SON",
        ),
        # a brother's CIN, birth date missing on one side: given name and sex differ -> review
        (
            [("BROTHER", 0.99, 17.0, 0, 0, -1)],
            "review",
            "BROTHER",
            "given name, sex differ",
        ),
        # the right person is a candidate too and wins on names: matched, the relative no
        # rival; the husband's CIN explains the record's CIN disagreeing with the wife's: not
        # counted against her (p=0.97 with it, 2^3 times the odds without it)
        (
            [("HUSBAND", 0.9999, 17.0, 0, 0, 0), ("WIFE", 0.97, -3.0, 4, 1, 3)],
            "match",
            "WIFE",
            "; HUSBAND (p=0.9999) holds the identifier of a relative (CIN agrees but the person "
            "differs: given name, sex, birth date differ): its disagreement with WIFE is not "
            "counted (-3.0 bits; p=0.97 with it), correct the record's identifier",
        ),
        # ... and when the person comes first already
        (
            [("WIFE", 0.999, -3.0, 4, 1, 3), ("HUSBAND", 0.998, 17.0, 0, 0, 0)],
            "match",
            "WIFE",
            "HUSBAND (p=0.998) holds the identifier of a relative",
        ),
        # ... and when the relative is far below the review threshold: still the explanation
        (
            [("WIFE", 0.999, -3.0, 4, 1, 3), ("HUSBAND", 0.2, 17.0, 0, 0, 0)],
            "match",
            "WIFE",
            "HUSBAND (p=0.2) holds the identifier of a relative",
        ),
        # the wife's CIN missing in the registry: nothing to explain, the relative no rival
        (
            [("HUSBAND", 0.9999, 17.0, 0, 0, 0), ("WIFE", 0.97, 0.0, 4, 1, 3)],
            "match",
            "WIFE",
            "; HUSBAND (p=0.9999) is no rival: CIN agrees but the person differs: given name, "
            "sex, birth date differ, the identifier of a relative",
        ),
        # explained, the person below the match threshold becomes a match: 0.85 -> 0.978
        (
            [("WIFE", 0.85, -3.0, 4, 1, 3), ("HUSBAND", 0.01, 17.0, 0, 0, 0)],
            "match",
            "WIFE",
            "p=0.9784 ≥ match threshold 0.9",
        ),
        # explained, a weak person goes to review, not to a match: 0.3 -> 0.774
        (
            [("HUSBAND", 0.999, 17.0, 0, 0, 0), ("WIFE", 0.3, -3.0, 4, 1, 3)],
            "review",
            "WIFE",
            "p=0.7742 between review threshold 0.5 and match threshold 0.9; HUSBAND (p=0.999) "
            "holds the identifier of a relative",
        ),
        # explained and still below the review threshold: the relative is not left for it
        (
            [("HUSBAND", 0.999, 17.0, 0, 0, 0), ("WIFE", 0.05, -3.0, 4, 1, 3)],
            "review",
            "HUSBAND",
            "CIN agrees but the person differs",
        ),
        # a given name that differs with the same birth date is a typo, not a relative: match
        ([("SELF", 0.999, 17.0, 0, 1, 4)], "match", "SELF", "≥ match threshold"),
        # a birth date that differs with the same given name: not a relative either
        ([("SELF", 0.999, 17.0, 3, 1, 0)], "match", "SELF", "≥ match threshold"),
        # no agreeing CIN: the rule does not apply
        ([("OTHER", 0.95, 0.0, 0, 0, 0)], "match", "OTHER", "≥ match threshold"),
        # a relative's CIN on a candidate below the review threshold: non_match as ever
        ([("HUSBAND", 0.2, 17.0, 0, 0, 0)], "non_match", None, "below review threshold"),
    ],
)
def test_relative_identifier_table(cands, decision, person, reason_part) -> None:
    links = decide(relative_scored(cands), left("r1"), **TH)
    row = one(links, "r1")
    assert (row["decision"], row["person_id"]) == (decision, person)
    assert reason_part in row["reason"], row["reason"]
    relatives = [c[0] for c in cands if c[2] > 0 and c[3] == 0 and 0 in c[4:]]
    rivals = [c for c in cands if c[0] in relatives and c[1] >= 0.5]
    explains = [c for c in cands if c[0] == person and c[2] < 0] if relatives else []
    # the reason names the relative's identifier exactly when one could have mattered: a
    # rival, or the explanation of the chosen person's disagreeing CIN
    said = "the identifier of a relative" in row["reason"]
    assert said == bool(rivals or explains), row["reason"]


def test_an_explained_identifier_decides_but_the_links_keep_the_pairs_figures() -> None:
    """The chosen pair's disagreeing CIN, explained by the relative holding it, is left out of
    the decision (p=0.85 -> 0.978: a match), which the reason gives; the links keep the pair's
    own probability, weight and bf_* (those a search shows for the candidate)."""
    s = relative_scored([("WIFE", 0.85, -3.0, 4, 1, 3), ("HUSBAND", 0.01, 17.0, 0, 0, 0)])
    row = one(decide(s, left("r1"), **TH), "r1")
    assert (row["decision"], row["person_id"]) == ("match", "WIFE")
    assert row["bf_cin"] == -3.0
    assert row["match_weight"] == pytest.approx(_w(0.85))
    assert row["match_probability"] == pytest.approx(0.85)
    without = 1 / (1 + 2 ** -(_w(0.85) + 3.0))
    assert row["reason"].startswith(
        f"p={round(without, 4)} ≥ match threshold 0.9 (weight {round(_w(0.85) + 3.0, 4)} bits)"
    )
    assert "is not counted (-3.0 bits; p=0.85 with it)" in row["reason"]


def test_relative_identifier_rule_can_be_turned_off() -> None:
    s = relative_scored([("HUSBAND", 0.999, 17.0, 0, 0, 0)])
    row = one(decide(s, left("r1"), relative_id=None, **TH), "r1")
    assert (row["decision"], row["person_id"]) == ("match", "HUSBAND")


def test_relative_identifier_rule_is_off_without_the_columns_it_reads() -> None:
    """Pairs without gamma_given (a model without that comparison) are decided as before."""
    s = relative_scored([("HUSBAND", 0.999, 17.0, 0, 0, 0)]).drop("gamma_given")
    row = one(decide(s, left("r1"), **TH), "r1")
    assert (row["decision"], row["person_id"]) == ("match", "HUSBAND")


def test_accepted_relative_pair_is_a_match() -> None:
    """A reviewer who accepts the pair overrides the rule."""
    s = relative_scored([("HUSBAND", 0.999, 17.0, 0, 0, 0)])
    accepted = pl.DataFrame(
        {"source": ["a"], "record_id": ["r1"], "person_id": ["HUSBAND"], "decision": ["accept"]}
    )
    row = one(decide(s, left("r1"), prior_decisions=accepted, **TH), "r1")
    assert (row["decision"], row["person_id"]) == ("match", "HUSBAND")
    assert row["reason"].startswith("accepted by reviewer")


# --- an identifier alone must not pick the person -------------------------------------------


@pytest.mark.parametrize(
    ("cands", "decision", "person", "reason_part"),
    [
        # the CIN's holder has a similar given name (not a different one: a misspelling or
        # a sister?), same sex and birth year; without the CIN the second fits far better
        (
            [("SISTER", 0.9999, 14.0, 1, 1, 3), ("SELF", 0.98, -3.0, 4, 1, 3)],
            "review",
            "SISTER",
            "CIN alone decides: it agrees with SISTER (p=0.9999), but without it SELF (p=0.98)",
        ),
        # the same, the second below the review threshold: no rival, matched on the CIN
        (
            [("SISTER", 0.9999, 14.0, 1, 1, 3), ("SELF", 0.3, -3.0, 4, 1, 3)],
            "match",
            "SISTER",
            "≥ match threshold",
        ),
        # both hold the CIN (a duplicate registry record): the identifier decides nothing
        (
            [("A", 0.9999, 14.0, 0, 1, 3), ("B", 0.98, 14.0, 4, 1, 3)],
            "match",
            "A",
            "≥ match threshold",
        ),
        # the person's own CIN, a namesake fitting the rest a little better (< margin): match
        (
            [("SELF", 0.99999, 14.0, 4, 1, 3), ("NAMESAKE", 0.9, -3.0, 4, 1, 3)],
            "match",
            "SELF",
            "≥ match threshold",
        ),
    ],
)
def test_identifier_alone_table(cands, decision, person, reason_part) -> None:
    links = decide(relative_scored(cands), left("r1"), **TH)
    row = one(links, "r1")
    assert (row["decision"], row["person_id"]) == (decision, person)
    assert reason_part in row["reason"], row["reason"]


def test_identifier_alone_rule_is_off_with_the_relative_rule() -> None:
    s = relative_scored([("SISTER", 0.9999, 14.0, 1, 1, 3), ("SELF", 0.98, -3.0, 4, 1, 3)])
    row = one(decide(s, left("r1"), relative_id=None, **TH), "r1")
    assert (row["decision"], row["person_id"]) == ("match", "SISTER")


# --- a relative's identifier by comparison with the other candidate -------------------------


@pytest.mark.parametrize(
    ("cands", "decision", "person", "reason_part"),
    [
        # a sister's CIN (same sex, same birth year, given name different) against the person
        # with the record's names: without the CIN the second fits 9.3 bits better -> the
        # CIN is the sister's, the record the person's, not counted against her: p=0.9975
        (
            [("SISTER", 0.9999, 14.0, 0, 1, 3), ("SELF", 0.98, -3.0, 4, 1, 3)],
            "match",
            "SELF",
            "p=0.9975 ≥ match threshold 0.9 (weight 8.6147 bits); SISTER (p=0.9999) holds the "
            "identifier of a relative (CIN agrees but the person differs: given name differs, "
            "and without it the other candidate fits the record 9.3271 bits better): its "
            "disagreement with SELF is not counted (-3.0 bits; p=0.98 with it)",
        ),
        # the same, the person weak without the CIN (p=0.842): review, never a match
        (
            [("SISTER", 0.999, 14.0, 0, 1, 3), ("SELF", 0.4, -3.0, 4, 1, 3)],
            "review",
            "SELF",
            "p=0.8421 between review threshold 0.5 and match threshold 0.9; SISTER (p=0.999) "
            "holds the identifier of a relative",
        ),
        # the person reaches the review threshold only without the explained CIN: review
        (
            [("SISTER", 0.99, 14.0, 0, 1, 3), ("SELF", 0.3, -3.0, 4, 1, 3)],
            "review",
            "SELF",
            "p=0.7742 between review threshold 0.5 and match threshold 0.9",
        ),
        # ... not even then (p=0.47): no rival, matched on the CIN as ever
        (
            [("SISTER", 0.99, 14.0, 0, 1, 3), ("SELF", 0.1, -3.0, 4, 1, 3)],
            "match",
            "SISTER",
            "p=0.99 ≥ match threshold 0.9",
        ),
        # without the CIN the person fits only 4.3 bits better (< the margin): the CIN decides
        (
            [("SISTER", 0.9999, 14.0, 0, 1, 3), ("SELF", 0.6, -3.0, 4, 1, 3)],
            "match",
            "SISTER",
            "p=0.9999 ≥ match threshold 0.9",
        ),
        # the holder's given name is similar, not different: a misspelling or a sister? review
        (
            [("SISTER", 0.9999, 14.0, 1, 1, 3), ("SELF", 0.98, -3.0, 4, 1, 3)],
            "review",
            "SISTER",
            "CIN alone decides",
        ),
        # both hold the CIN (a duplicate registry record): the identifier tells nothing apart
        (
            [("SISTER", 0.9999, 14.0, 0, 1, 3), ("SELF", 0.98, 14.0, 4, 1, 3)],
            "match",
            "SISTER",
            "≥ match threshold",
        ),
        # the person comes first already, the sister a close second on her CIN: no rival
        (
            [("SELF", 0.9999, -3.0, 4, 1, 3), ("SISTER", 0.9995, 14.0, 0, 1, 3)],
            "match",
            "SELF",
            "p=1.0 ≥ match threshold 0.9 (weight 16.2876 bits); SISTER (p=0.9995) holds the "
            "identifier of a relative",
        ),
    ],
)
def test_relative_identifier_by_comparison_table(cands, decision, person, reason_part) -> None:
    links = decide(relative_scored(cands), left("r1"), **TH)
    row = one(links, "r1")
    assert (row["decision"], row["person_id"]) == (decision, person)
    assert reason_part in row["reason"], row["reason"]


def test_relative_identifier_by_comparison_needs_the_given_name_comparison() -> None:
    """Without gamma_given the rule cannot tell a different given name: the CIN alone rule
    sends the record to review, as before."""
    s = relative_scored([("SISTER", 0.9999, 14.0, 0, 1, 3), ("SELF", 0.98, -3.0, 4, 1, 3)])
    row = one(decide(s.drop("gamma_given"), left("r1"), **TH), "r1")
    assert (row["decision"], row["person_id"]) == ("review", "SISTER")
    assert "CIN alone decides" in row["reason"]
