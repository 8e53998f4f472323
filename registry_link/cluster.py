"""Deduplication: which partner records are the same person, with a stable beneficiary key.

Two ways records join one person:

* **through the registry** — records matched to the same registry person are that person;
* **within and across lists** — records not matched to the registry are joined by their own
  scored pairs at or above the threshold (connected components).

Chaining guard: a component never merges two registry persons. Pairs between two records
matched to *different* registry persons are ignored, and when an unmatched record's pairs would
still bridge two registry persons, the unmatched records of that component are clustered among
themselves only (they are not attached to either person): a reviewer sees them as separate
beneficiaries rather than a silent merge.

Beneficiary keys: ``P<person_id>`` for a person found in the registry; otherwise the key of the
previous run's cluster sharing most members (each old key used once), else ``B`` + 12 hex digits
of a SHA-1 of the sorted member ids — the same from one run to the next while the members stay.
"""

from __future__ import annotations

import hashlib
from typing import Final

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

CLUSTER_COLUMNS: Final[tuple[str, ...]] = (
    "source",
    "record_id",
    "cluster_id",
    "beneficiary_key",
    "cluster_size",
    "via",
)


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _member_key(members: list[str]) -> str:
    digest = hashlib.sha1("\n".join(sorted(members)).encode("utf-8")).hexdigest()
    return "B" + digest[:12]


def _inherit(frame: pl.DataFrame, previous_keys: pl.DataFrame, taken: set[str]) -> dict[int, str]:
    """cluster_id → previous key, the old cluster sharing most members, each key used once."""
    overlap = (
        frame.join(
            previous_keys.select("source", "record_id", old_key="beneficiary_key"),
            on=["source", "record_id"],
        )
        .filter(~pl.col("old_key").is_in(list(taken)))
        .group_by("cluster_id", "old_key")
        .len()
        .sort(["len", "old_key", "cluster_id"], descending=[True, False, False])
    )
    chosen: dict[int, str] = {}
    used: set[str] = set()
    for cid, key, _n in overlap.iter_rows():
        if cid in chosen or key in used:
            continue
        chosen[cid] = key
        used.add(key)
    return chosen


def cluster(
    links: pl.DataFrame,
    dedupe_pairs: pl.DataFrame,
    left: pl.DataFrame,
    *,
    threshold: float,
    previous_keys: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per partner record: its cluster (person) and beneficiary key.

    Args:
        links: decisions ``{source, record_id, person_id, decision}``; ``match`` rows join
            records through their registry person.
        dedupe_pairs: scored record pairs ``{source_l, record_id_l, source_r, record_id_r,
            match_probability}`` (within and across lists).
        left: every partner record (``source, record_id``), in output order.
        threshold: probability at or above which a record pair is the same person.
        previous_keys: a previous run's ``{source, record_id, beneficiary_key}``.

    Returns:
        ``{source, record_id, cluster_id, beneficiary_key, cluster_size, via}`` where ``via``
        is ``registry``, ``within_list`` or ``singleton``.
    """
    ids = left.select("source", "record_id").with_row_index("node")
    n = ids.height
    matched = (
        ids.join(
            links.filter(pl.col("decision") == "match").select("source", "record_id", "person_id"),
            on=["source", "record_id"],
            how="left",
        )
        .sort("node")
        .get_column("person_id")
    )
    edges = (
        dedupe_pairs.filter(pl.col("match_probability") >= threshold)
        .join(
            ids.rename({"source": "source_l", "record_id": "record_id_l", "node": "a"}),
            on=["source_l", "record_id_l"],
        )
        .join(
            ids.rename({"source": "source_r", "record_id": "record_id_r", "node": "b"}),
            on=["source_r", "record_id_r"],
        )
        .select("a", "b")
    )
    a = edges["a"].to_numpy().astype(np.int64)
    b = edges["b"].to_numpy().astype(np.int64)
    person = matched.to_numpy()
    has_p = matched.is_not_null().to_numpy()
    # never join two records matched to registry persons through a record pair
    keep = ~(has_p[a] & has_p[b]) if len(a) else np.zeros(0, dtype=bool)
    a, b = a[keep], b[keep]
    # one node per registry person; matched records hang on it
    persons, p_index = np.unique(person[has_p].astype(str), return_inverse=True)
    rec_nodes = np.flatnonzero(has_p)
    pa = np.concatenate([a, rec_nodes])
    pb = np.concatenate([b, n + p_index])
    comp = _components(n + len(persons), pa, pb)[:n]
    # chaining guard: components holding two or more registry persons
    frame = pl.DataFrame({"comp": comp, "person_id": matched})
    n_persons = frame.group_by("comp").agg(pl.col("person_id").drop_nulls().n_unique().alias("k"))
    bad = set(n_persons.filter(pl.col("k") > 1)["comp"].to_list())
    if bad:
        in_bad = np.isin(comp, list(bad))
        free = in_bad & ~has_p
        sub = free[a] & free[b]
        sub_comp = _components(n, a[sub], b[sub])
        comp = np.where(free, comp.max() + 1 + sub_comp, comp)
        # matched records of a bad component regroup by person alone
        comp = np.where(in_bad & has_p, comp.max() + 1 + n + _person_rank(person, has_p), comp)
    out = ids.with_columns(
        _comp=pl.Series(comp),
        person_id=matched,
    )
    # dense, deterministic cluster ids in order of first member
    out = out.with_columns(cluster_id=pl.col("_comp").rank("dense").cast(pl.UInt32))
    sizes = out.group_by("cluster_id").agg(
        cluster_size=pl.len().cast(pl.UInt32),
        _person=pl.col("person_id").drop_nulls().first(),
        _members=pl.concat_str(["source", "record_id"], separator="|"),
    )
    keys: dict[int, str] = {}
    taken: set[str] = set()
    for cid, person_id in sizes.select("cluster_id", "_person").iter_rows():
        if person_id is not None:
            keys[cid] = f"P{person_id}"
            taken.add(keys[cid])
    if previous_keys is not None and previous_keys.height:
        rest = out.filter(~pl.col("cluster_id").is_in(list(keys)))
        keys.update(_inherit(rest, previous_keys, taken))
    for cid, members in sizes.select("cluster_id", "_members").iter_rows():
        if cid not in keys:
            keys[cid] = _member_key(members)
    key_frame = pl.DataFrame(
        {"cluster_id": list(keys), "beneficiary_key": list(keys.values())},
        schema={"cluster_id": pl.UInt32, "beneficiary_key": pl.Utf8},
    )
    out = (
        out.join(sizes.select("cluster_id", "cluster_size", "_person"), on="cluster_id")
        .join(key_frame, on="cluster_id")
        .with_columns(
            via=pl.when(pl.col("_person").is_not_null())
            .then(pl.lit("registry"))
            .when(pl.col("cluster_size") > 1)
            .then(pl.lit("within_list"))
            .otherwise(pl.lit("singleton"))
        )
        .sort("node")
    )
    return out.select(CLUSTER_COLUMNS)


def _person_rank(person: np.ndarray, has_p: np.ndarray) -> np.ndarray:
    ranks = np.zeros(len(person), dtype=np.int64)
    if has_p.any():
        _, inv = np.unique(person[has_p].astype(str), return_inverse=True)
        ranks[has_p] = inv
    return ranks
