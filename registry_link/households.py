"""Beneficiary households: each worker with the dependants they declared, tied to the registry.

A worker (relationship ``principal``) and the records that name them as principal form a
declared household. Declared households whose workers are the same person (one beneficiary
key) are one household. A household is tied to the registry household that most of its matched
members live in (ties: the worker's own). Its key is ``H`` + the registry household id when tied
— so two workers of one registry household (a couple both declaring) meet in one household —
else ``H`` + the worker's beneficiary key.

Conflicts are flagged on the member rows, never hidden (see :data:`HOUSEHOLD_FLAGS`).
"""

from __future__ import annotations

from typing import Final

import polars as pl

#: Flags a household member row may carry, with their meaning in words.
HOUSEHOLD_FLAGS: Final[dict[str, str]] = {
    "dependant_declared_twice": "the same person is declared as a dependant by two workers",
    "person_in_two_households": "the same person appears in two beneficiary households",
    "spouse_in_other_registry_household": (
        "the declared spouse lives in another registry household than the worker's"
    ),
    "member_not_in_registry": "the member was not matched to a registry person",
    "principal_missing": "the dependant names a worker who is not in the list",
    "relationship_mismatch": (
        "the declared relationship differs from the registry's (worker is household head)"
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


def _flag(name: str, condition: pl.Expr) -> pl.Expr:
    return pl.when(condition).then(pl.lit(name)).otherwise(pl.lit(None, pl.Utf8))


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
        ``HOUSEHOLD_COLUMNS``, in the order of ``left``.
    """
    reg = registry.select(
        "person_id", reg_household="household_id", reg_relation="relation_to_head"
    )
    matched = links.filter(pl.col("decision") == "match").select("source", "record_id", "person_id")
    rec = (
        left.select("source", "record_id", "relationship", "principal_record_id")
        .with_row_index("_order")
        .join(matched, on=["source", "record_id"], how="left")
        .join(clusters.select("source", "record_id", "beneficiary_key"), on=["source", "record_id"])
        .join(reg, on="person_id", how="left")
        .with_columns(
            role=pl.when(pl.col("principal_record_id").is_null())
            .then(pl.lit("principal"))
            .otherwise(pl.col("relationship").fill_null("other")),
            _principal_rid=pl.coalesce("principal_record_id", "record_id"),
        )
    )
    principals = rec.filter(pl.col("role") == "principal").select(
        "source",
        _principal_rid="record_id",
        _principal_key="beneficiary_key",
        _principal_household="reg_household",
        _principal_relation="reg_relation",
    )
    rec = rec.join(principals, on=["source", "_principal_rid"], how="left").with_columns(
        _principal_missing=pl.col("_principal_key").is_null(),
        # a dependant whose worker is absent keeps a household of its own
        _group=pl.coalesce("_principal_key", "beneficiary_key"),
    )
    # registry household: the one most matched members live in; ties → the worker's own
    votes = (
        rec.filter(pl.col("reg_household").is_not_null())
        .group_by("_group", "reg_household")
        .agg(
            n=pl.col("beneficiary_key").n_unique(),
            own=(pl.col("reg_household") == pl.col("_principal_household")).any(),
        )
        .sort(["_group", "n", "own", "reg_household"], descending=[False, True, True, False])
        .group_by("_group", maintain_order=True)
        .first()
        .select("_group", registry_household_id="reg_household")
    )
    rec = rec.join(votes, on="_group", how="left").with_columns(
        household_key=pl.when(pl.col("registry_household_id").is_not_null())
        .then(pl.format("H{}", pl.col("registry_household_id")))
        .otherwise(pl.format("H{}", pl.col("_group")))
    )
    rec = rec.with_columns(
        _n_declarers=pl.col("_group")
        .filter(pl.col("role") != "principal")
        .n_unique()
        .over("beneficiary_key")
        .fill_null(0),
        _n_households=pl.col("household_key").n_unique().over("beneficiary_key"),
    )
    flags = pl.concat_list(
        _flag(
            "dependant_declared_twice",
            (pl.col("role") != "principal") & (pl.col("_n_declarers") > 1),
        ),
        _flag("person_in_two_households", pl.col("_n_households") > 1),
        _flag(
            "spouse_in_other_registry_household",
            (pl.col("role") == "spouse")
            & pl.col("reg_household").is_not_null()
            & pl.col("registry_household_id").is_not_null()
            & (pl.col("reg_household") != pl.col("registry_household_id")),
        ),
        _flag("member_not_in_registry", pl.col("person_id").is_null()),
        _flag("principal_missing", pl.col("_principal_missing")),
        _flag(
            "relationship_mismatch",
            (pl.col("_principal_relation") == "head")
            & (pl.col("reg_household") == pl.col("_principal_household"))
            & pl.col("role").is_in(["spouse", "child"])
            & (pl.col("reg_relation") != pl.col("role")),
        ),
    ).list.drop_nulls()
    return rec.with_columns(flags=flags).sort("_order").select(HOUSEHOLD_COLUMNS)
