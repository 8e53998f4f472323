"""decide over the engine's narrow pairs tells records apart by their row (``l_idx``), not by
``source, record_id``: the same links as the same pairs given wide (told apart by the keys),
the relative-identifier rule and reviewer decisions included."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import registry_link.decide.decisions as decisions_module
from registry_link.compare import build_comparison
from registry_link.decide.decisions import _records_are_rows, decide
from registry_link.model import TrainedModel
from registry_link.score.scored_pairs import ScoredPairs
from registry_link.score.scoring import score
from registry_link.train.em import FSParams

_NAMES = ("cin", "given", "sex", "birth_date", "family")

MODEL = TrainedModel(
    comparisons=tuple(build_comparison({"name": n, "kind": "exact", "column": n}) for n in _NAMES),
    params=FSParams(
        prior=0.05,
        m={
            "cin": (0.1, 0.9),
            "given": (0.2, 0.8),
            "sex": (0.05, 0.95),
            "birth_date": (0.3, 0.7),
            "family": (0.2, 0.8),
        },
        u={
            "cin": (0.999, 0.001),
            "given": (0.9, 0.1),
            "sex": (0.5, 0.5),
            "birth_date": (0.95, 0.05),
            "family": (0.9, 0.1),
        },
    ),
    tf_tables={},
    tf_minimum_frequency=1e-3,
)

RIGHT = pl.DataFrame(
    {
        "record_id": [f"r{i}" for i in range(6)],
        "person_id": ["P1", "P2", None, "P3", "P1", "P10"],
    }
)

_PAIR = st.tuples(
    st.integers(0, 3),  # l_idx
    st.integers(0, 5),  # r_idx
    *[st.integers(-1, 1) for _ in _NAMES],
)
_PRIOR = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.sampled_from(["P1", "P2", "P3", "P9"]),
        st.sampled_from(["accept", "reject", "reject"]),
    ),
    max_size=4,
)


def _left(duplicated: bool) -> pl.DataFrame:
    ids = ["x", "y", "x", "z"] if duplicated else ["x", "y", "w", "z"]
    return pl.DataFrame(
        {"source": ["a", "a", "b" if not duplicated else "a", "a"], "record_id": ids}
    )


def _narrow(pairs: list[tuple[int, ...]]) -> pl.DataFrame:
    columns = {"l_idx": [p[0] for p in pairs], "r_idx": [p[1] for p in pairs]}
    columns |= {f"gamma_{n}": [p[2 + i] for p in pairs] for i, n in enumerate(_NAMES)}
    gammas = pl.DataFrame(
        columns,
        schema={"l_idx": pl.UInt32, "r_idx": pl.UInt32, **{f"gamma_{n}": pl.Int8 for n in _NAMES}},
    )
    return score(gammas, MODEL, right=RIGHT, contributions=False)


def _prior(left: pl.DataFrame, decisions: list[tuple[int, str, str]]) -> pl.DataFrame | None:
    accepted: dict[int, str] = {}
    for row, person, d in decisions:
        if d == "accept":
            accepted.setdefault(row, person)
    rejected = {(r, p) for r, p, d in decisions if d == "reject" and accepted.get(r) != p}
    kept = [(r, p, "accept") for r, p in accepted.items()] + [
        (r, p, "reject") for r, p in sorted(rejected)
    ]
    if not kept:
        return None
    return pl.DataFrame(
        {
            "source": [left["source"][r] for r, _, _ in kept],
            "record_id": [left["record_id"][r] for r, _, _ in kept],
            "person_id": [p for _, p, _ in kept],
            "decision": [d for _, _, d in kept],
        }
    )


@settings(max_examples=200, deadline=None)
@given(pairs=st.lists(_PAIR, max_size=30), decisions=_PRIOR)
def test_narrow_pairs_give_the_links_of_the_same_pairs_wide(pairs, decisions) -> None:
    left = _left(duplicated=False)
    narrow = _narrow(pairs)
    view = ScoredPairs(narrow, left, RIGHT, MODEL)
    assert _records_are_rows(view, left)
    wide = view.wide()
    assert not ScoredPairs(wide).narrow
    prior = _prior(left, decisions)
    th = {"match_threshold": 0.9, "review_threshold": 0.5, "close_second_margin": 5.0}
    want = decide(wide, left, prior_decisions=prior, **th)
    got = decide(narrow, left, right=RIGHT, model=MODEL, prior_decisions=prior, **th)
    assert got.equals(want)
    # shortlisted a slice of records at a time (a pair or two per slice): the same links
    for size in (1, 2):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(decisions_module, "SHORTLIST_CHUNK", size)
            sliced = decide(narrow, left, right=RIGHT, model=MODEL, prior_decisions=prior, **th)
            assert sliced.equals(want)
            assert decide(wide, left, prior_decisions=prior, **th).equals(want)


def test_records_are_told_apart_by_row_only_when_their_keys_are_unique() -> None:
    narrow = _narrow([(0, 0, 1, 1, 1, 1, 1), (2, 1, 1, 1, 1, 1, 1)])
    unique, duplicated = _left(duplicated=False), _left(duplicated=True)
    assert _records_are_rows(ScoredPairs(narrow, unique, RIGHT, MODEL), unique)
    assert not _records_are_rows(ScoredPairs(narrow, duplicated, RIGHT, MODEL), duplicated)
    wide = ScoredPairs(narrow, unique, RIGHT, MODEL).wide()
    assert not _records_are_rows(ScoredPairs(wide), unique)
    # two rows with one (source, record_id): decided as the wide pairs are (by their keys)
    view = ScoredPairs(narrow, duplicated, RIGHT, MODEL)
    got = decide(narrow, duplicated, right=RIGHT, model=MODEL)
    assert got.equals(decide(view.wide(), duplicated))
