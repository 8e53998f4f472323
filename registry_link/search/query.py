"""Query records for the registry index: raw mappings of canonical fields → standardised rows.

A query is what one row of a partner list gives, keyed by canonical field name
(``registry-link fields``). It is standardised by the batch standardiser itself
(:func:`registry_link.standardise.pipeline.standardise`), with source settings whose columns
are the canonical fields (:func:`query_settings`), so a searched record and the same row in
a batch list become the same standardised record.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

import polars as pl

from registry_link.config.loader import SourceSettings, settings_from_dict
from registry_link.errors import QueryError
from registry_link.schema import CANONICAL_FIELDS, REGISTRY_FIELDS
from registry_link.standardise.distinct import ValueMemo, remembered_values
from registry_link.standardise.parts import PartsMemo, applies_to, standardise_by_parts
from registry_link.standardise.pipeline import standardise

#: The source name of query records (their ``source`` column).
QUERY_SOURCE = "query"

#: The fields a query may give (those of a partner list).
QUERY_FIELDS: tuple[str, ...] = tuple(CANONICAL_FIELDS)

#: The fields a registry record given to ``upsert`` may give.
REGISTRY_RECORD_FIELDS: tuple[str, ...] = (*CANONICAL_FIELDS, *REGISTRY_FIELDS)


def query_settings(
    *, source: str = QUERY_SOURCE, kind: str = "partner", reference_year: int | None = None
) -> SourceSettings:
    """Source settings that read canonical fields as themselves: ISO dates (``YYYY-MM-DD``)
    or a year alone (the standardiser's automatic date reading), the built-in sex and
    relationship codes."""
    fields = REGISTRY_RECORD_FIELDS if kind == "registry" else QUERY_FIELDS
    data: dict[str, object] = {
        "version": 1,
        "source": source,
        "kind": kind,
        "columns": {f: f for f in fields},
    }
    if reference_year is not None:
        data["formats"] = {"reference_year": reference_year}
    return settings_from_dict(data, name=f"<{kind} query settings>")


def for_queries(settings: SourceSettings) -> SourceSettings:
    """``settings`` for records read one at a time: dependants are not looked for among the
    other rows (a query's principal is given with it, or not at all)."""
    return dataclasses.replace(settings, dependants_mode="none")


def check_fields(
    records: Sequence[Mapping[str, object]], allowed: Sequence[str], what: str = "query"
) -> None:
    """Raise :class:`QueryError` for the first unknown key or non-text value."""
    known = set(allowed)
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise QueryError(
                f"{what} record {i} is a {type(record).__name__}, not a mapping of field names "
                f"to values; give e.g. {{'given_name': 'Mohamed', 'birth_date': '1980'}}"
            )
        for key, value in record.items():
            if key not in known:
                raise QueryError(
                    f"{what} record {i}: unknown field {key!r}; the known fields are "
                    f"{', '.join(allowed)} (registry-link fields lists them)"
                )
            if value is not None and not isinstance(value, str | int | float):
                raise QueryError(
                    f"{what} record {i}: field {key!r} holds a {type(value).__name__}; give "
                    f"text (or a number for a year or an id)"
                )


def raw_columns(
    records: Sequence[Mapping[str, object]], fields: Sequence[str], default_ids: Sequence[str]
) -> dict[str, list[str | None]]:
    """The records as the raw string columns a reader gives (every field, nulls where absent);
    ``record_id`` defaults to ``default_ids``."""
    columns: dict[str, list[str | None]] = {f: [] for f in fields}
    for record, default_id in zip(records, default_ids, strict=True):
        for f in fields:
            value = record.get(f)
            columns[f].append(None if value is None else str(value))
        if columns["record_id"][-1] is None:
            columns["record_id"][-1] = default_id
    return columns


def raw_frame(
    records: Sequence[Mapping[str, object]], fields: Sequence[str], default_ids: Sequence[str]
) -> pl.DataFrame:
    """:func:`raw_columns` as a frame."""
    columns = raw_columns(records, fields, default_ids)
    return pl.DataFrame(columns, schema=dict.fromkeys(fields, pl.Utf8))


def standardise_records(
    records: Sequence[Mapping[str, object]],
    settings: SourceSettings,
    *,
    fields: Sequence[str] = QUERY_FIELDS,
    default_ids: Sequence[str] | None = None,
    memo: ValueMemo | PartsMemo | None = None,
) -> pl.DataFrame:
    """Check and standardise query records (one standardised row each, in order).

    ``memo``: the results of earlier calls with the same ``settings``: per value (see
    :func:`~registry_link.standardise.distinct.remembered_values`), or per part of a record
    (:func:`~registry_link.standardise.parts.standardise_by_parts`, for settings without
    dependants; the per-value memo otherwise).
    """
    check_fields(records, fields, "registry" if "person_id" in fields else "query")
    ids = default_ids if default_ids is not None else [f"q{i}" for i in range(len(records))]
    if isinstance(memo, PartsMemo) and applies_to(settings):
        return standardise_by_parts(raw_columns(records, fields, ids), settings, memo)
    raw = raw_frame(records, fields, ids)
    if memo is None:
        return standardise(raw, settings)
    with remembered_values(memo.values if isinstance(memo, PartsMemo) else memo):
        return standardise(raw, settings)
