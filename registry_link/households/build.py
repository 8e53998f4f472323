"""Beneficiary households: each worker with the dependants they declared, tied to the registry.

A worker (a record with no ``principal_record_id``: role ``principal``) and the records of the
same list naming them as principal form a declared household. Declared households whose
workers are the same person (one beneficiary key, e.g. one worker in two lists) are one
household. A household is tied to the registry household most of its matched members (counted
as persons) live in; ties go to the worker's own registry household, then to the smallest id.

``household_key`` is stable from one run to the next: ``H`` + the registry household id when
tied — so two workers of one registry household (a couple both declaring) meet in one
household — else ``H`` + the worker's beneficiary key; dependants whose worker is not in the list
form a household keyed ``HM`` + 12 hex digits of the SHA-1 of ``source|principal_record_id``.

Conflicts are flagged on the member rows, never hidden (:data:`HOUSEHOLD_FLAGS`). A member's
``person_id`` is its registry person when its decision is ``match``, else null.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Final

import polars as pl

from registry_link.errors import UsageError

#: Flags a household member row may carry, with their meaning in words.
HOUSEHOLD_FLAGS: Final[dict[str, str]] = {
    "dependant_declared_twice": (
        "the same person (one beneficiary key) is declared as a dependant by two different workers"
    ),
    "person_in_two_households": "the same person appears in two beneficiary households",
    "spouse_in_other_registry_household": (
        "the declared spouse lives in another registry household than the household's"
    ),
    "member_in_other_registry_household": (
        "the declared child or other dependant lives in another registry household than the "
        "household's"
    ),
    "member_not_in_registry": "the member was not found in the registry (decision non_match)",
    "member_awaiting_review": "the member's registry person awaits a reviewer (decision review)",
    "principal_missing": "the dependant names a worker who is not in the list",
    "relationship_mismatch": (
        "the declared relationship contradicts the registry's relations to the household head "
        "(e.g. declared child but the registry says spouse)"
    ),
}

HOUSEHOLD_COLUMNS: Final[tuple[str, ...]] = (
    "household_key",
    "registry_household_id",
    "source",
    "record_id",
    "person_id",
    "beneficiary_key",
    "role",
    "flags",
)

#: Registry relation to head a declared dependant should have, by the worker's own relation.
_EXPECTED: Final[dict[tuple[str, str], str]] = {
    ("head", "spouse"): "spouse",
    ("head", "child"): "child",
    ("spouse", "spouse"): "head",
    ("spouse", "child"): "child",
}

_KEYS: Final[list[str]] = ["source", "record_id"]


def describe_flags(flags: list[str] | None) -> str:
    """The flags of one member in words, joined with ``; `` (empty for none)."""
    return "; ".join(HOUSEHOLD_FLAGS.get(f, f) for f in flags or [])


def with_flags(frame: pl.DataFrame, conditions: Mapping[str, pl.Expr]) -> pl.DataFrame:
    """``frame`` with ``flags`` (List[str]): per row the names of ``conditions`` that hold, in
    the order given (a null condition does not hold; no flag: an empty list).

    The conditions are packed into one integer per row and each distinct integer is spelt
    once, then joined on (a list of a string or null per condition for every row, its nulls
    then dropped, cost 25 times more: 100k members, 0.25 CPU s).
    """
    names = list(conditions)
    if len(names) > 32:
        raise ValueError(f"at most 32 flags are packed into one integer, got {len(names)}")
    bits = [
        pl.when(condition).then(pl.lit(1 << i, pl.UInt32)).otherwise(pl.lit(0, pl.UInt32))
        for i, condition in enumerate(conditions.values())
    ]
    packed = frame.with_columns(_flag_bits=pl.sum_horizontal(pl.lit(0, pl.UInt32), *bits))
    seen = packed.get_column("_flag_bits").unique().sort().to_list()
    spelt = pl.DataFrame(
        {
            "_flag_bits": seen,
            "flags": [[n for i, n in enumerate(names) if b >> i & 1] for b in seen],
        },
        schema={"_flag_bits": pl.UInt32, "flags": pl.List(pl.Utf8)},
    )
    return packed.join(spelt, on="_flag_bits", how="left", maintain_order="left").drop("_flag_bits")


def _require(frame: pl.DataFrame, needed: list[str], what: str) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise UsageError(
            f"the {what} frame lacks column(s) {missing} (it has {frame.columns[:12]}); "
            f"give a frame with {needed}"
        )


def _expected_relation() -> pl.Expr:
    """The registry relation a member should have, from the worker's relation and its role."""
    expr: pl.Expr = pl.lit(None, pl.Utf8)
    for (worker, role), want in _EXPECTED.items():
        expr = (
            pl.when((pl.col("_principal_relation") == worker) & (pl.col("role") == role))
            .then(pl.lit(want))
            .otherwise(expr)
        )
    return expr


def principal_source_expr(frame: pl.DataFrame) -> pl.Expr:
    """The source of a record's principal: ``principal_source`` where the frame has it (a
    dependants file may carry a source name of its own), else the record's own ``source``."""
    if "principal_source" in frame.columns:
        return pl.coalesce("principal_source", "source")
    return pl.col("source")


def role_expr() -> pl.Expr:
    """A partner record's role in its declared household: ``principal`` (it has no
    ``principal_record_id``), ``spouse``, ``child`` or ``other``."""
    return (
        pl.when(pl.col("principal_record_id").is_null())
        .then(pl.lit("principal"))
        .when(pl.col("relationship").is_in(["spouse", "child"]))
        .then(pl.col("relationship"))
        .otherwise(pl.lit("other"))
    )


def links_with_roles(links: pl.DataFrame, left: pl.DataFrame) -> pl.DataFrame:
    """``links`` with each record's ``role`` and ``principal_record_id`` after its ``record_id``,
    so that a dependant can be told from a worker without joining the households.

    Args:
        links: one row per partner record ``{source, record_id, ...}``.
        left: the partner records ``{source, record_id, relationship, principal_record_id}``.
    """
    _require(left, [*_KEYS, "relationship", "principal_record_id"], "partner records")
    roles = left.select(*_KEYS, role_expr().alias("role"), "principal_record_id")
    joined = links.join(roles, on=_KEYS, how="left", maintain_order="left")
    first = [*_KEYS, "role", "principal_record_id"]
    return joined.select(*first, *(c for c in links.columns if c not in first))


def build_households(
    left: pl.DataFrame,
    links: pl.DataFrame,
    clusters: pl.DataFrame,
    registry: pl.DataFrame,
) -> pl.DataFrame:
    """One row per household member (every partner record), with household key and flags.

    Args:
        left: partner records ``{source, record_id, relationship, principal_record_id}``.
        links: decisions ``{source, record_id, person_id, decision}``.
        clusters: ``{source, record_id, beneficiary_key}``.
        registry: ``{person_id, household_id, relation_to_head}``.

    Returns:
        :data:`HOUSEHOLD_COLUMNS` (``flags``: List[str], codes of :data:`HOUSEHOLD_FLAGS`), in
        the order of ``left``.
    """
    _require(left, [*_KEYS, "relationship", "principal_record_id"], "partner records")
    _require(links, [*_KEYS, "person_id", "decision"], "links")
    _require(clusters, [*_KEYS, "beneficiary_key"], "clusters")
    _require(registry, ["person_id", "household_id", "relation_to_head"], "registry")
    decided = links.select(
        *_KEYS,
        person_id=pl.when(pl.col("decision") == "match").then(pl.col("person_id")),
        _decision=pl.col("decision"),
    )
    # only the matched persons' rows (the others join no record): a test of each registry
    # row's id, not a copy and a hash table of the whole registry (10 M rows: 1.7 GB)
    matched = decided.get_column("person_id").drop_nulls().unique().implode()
    reg = (
        registry.select("person_id", reg_household="household_id", reg_relation="relation_to_head")
        .filter(pl.col("person_id").is_in(matched))
        .unique("person_id", keep="first")
    )
    rec = (
        left.select(
            *_KEYS,
            "relationship",
            "principal_record_id",
            principal_source_expr(left).alias("_principal_src"),
        )
        .with_row_index("_order")
        .join(decided, on=_KEYS, how="left")
        .join(clusters.select(*_KEYS, "beneficiary_key"), on=_KEYS, how="left")
        .join(reg, on="person_id", how="left")
        .with_columns(
            role=role_expr(),
            _principal_rid=pl.coalesce("principal_record_id", "record_id"),
        )
    )
    principals = rec.filter(pl.col("role") == "principal").select(
        _principal_src="source",
        _principal_rid="record_id",
        _principal_key="beneficiary_key",
        _principal_household="reg_household",
        _principal_relation="reg_relation",
    )
    on_principal = ["_principal_src", "_principal_rid"]
    rec = rec.join(principals, on=on_principal, how="left").with_columns(
        _principal_missing=(pl.col("role") != "principal") & pl.col("_principal_key").is_null(),
    )
    rec = rec.join(_missing_keys(rec), on=on_principal, how="left").with_columns(
        _group=pl.coalesce("_missing_key", "_principal_key")
    )
    votes = (
        rec.filter(pl.col("reg_household").is_not_null())
        .group_by("_group", "reg_household")
        .agg(
            n=pl.col("beneficiary_key").n_unique(),
            own=(pl.col("reg_household") == pl.col("_principal_household")).any(),
        )
        .sort(["_group", "n", "own", "reg_household"], descending=[False, True, True, False])
        .unique("_group", keep="first")
        .select("_group", registry_household_id="reg_household")
    )
    rec = rec.join(votes, on="_group", how="left").with_columns(
        household_key=pl.format("H{}", pl.coalesce("registry_household_id", "_group"))
    )
    is_dep = pl.col("role") != "principal"
    rec = rec.with_columns(
        _n_declarers=pl.col("_group").filter(is_dep).n_unique().over("beneficiary_key"),
        _n_households=pl.col("household_key").n_unique().over("beneficiary_key"),
        _expected=_expected_relation(),
    )
    elsewhere = (
        pl.col("reg_household").is_not_null()
        & pl.col("registry_household_id").is_not_null()
        & (pl.col("reg_household") != pl.col("registry_household_id"))
    )
    flags = {
        "dependant_declared_twice": is_dep & (pl.col("_n_declarers") > 1),
        "person_in_two_households": pl.col("_n_households") > 1,
        "spouse_in_other_registry_household": (pl.col("role") == "spouse") & elsewhere,
        "member_in_other_registry_household": (
            pl.col("role").is_in(["child", "other"]) & elsewhere
        ),
        "member_not_in_registry": pl.col("_decision").fill_null("non_match") == "non_match",
        "member_awaiting_review": pl.col("_decision") == "review",
        "principal_missing": pl.col("_principal_missing"),
        "relationship_mismatch": (
            pl.col("_expected").is_not_null()
            & (pl.col("reg_household") == pl.col("_principal_household"))
            & pl.col("reg_relation").is_not_null()
            & (pl.col("reg_relation") != pl.col("_expected"))
        ),
    }
    return with_flags(rec, flags).sort("_order").select(HOUSEHOLD_COLUMNS)


def _missing_keys(rec: pl.DataFrame) -> pl.DataFrame:
    """``M`` + 12 hex digits of SHA-1(``source|principal_record_id``) per missing worker."""
    missing = (
        rec.filter(pl.col("_principal_missing"))
        .select("_principal_src", "_principal_rid")
        .unique(maintain_order=True)
    )
    keys = [
        "M" + hashlib.sha1(f"{s}|{r}".encode()).hexdigest()[:12]
        for s, r in missing.iter_rows()  # one per missing worker, not per pair
    ]
    return missing.with_columns(_missing_key=pl.Series(keys, dtype=pl.Utf8))


def flag_counts(households: pl.DataFrame) -> dict[str, int]:
    """How many member rows carry each flag (every flag of :data:`HOUSEHOLD_FLAGS`, 0 too)."""
    counts = dict(
        households.select(pl.col("flags").explode().drop_nulls().alias("flag"))
        .group_by("flag")
        .len()
        .iter_rows()
    )
    return {flag: int(counts.get(flag, 0)) for flag in HOUSEHOLD_FLAGS}
