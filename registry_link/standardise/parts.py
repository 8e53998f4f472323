"""Standardise a few records part by part, each part's result kept per value (the search path).

:func:`~registry_link.standardise.pipeline.standardise` costs about the same for one row as
for a thousand: tens of polars calls (its stages, each per-value rule). A registry search
standardises one record at a time, and most of a record's values were seen before (names,
birth dates, communes, codes), only its identifiers are new. :func:`standardise_by_parts`
gives the frame ``standardise`` gives, from:

* the **parts** (:data:`PARTS`): groups of raw fields whose standardised columns depend on
  those fields only (the names together, the birth date, each place, each code). Each part's
  columns and flags are kept per tuple of its raw values (:class:`PartsMemo`); a part not
  seen before is read in Python (:func:`~registry_link.standardise.one.part_in_python`: the
  stages ``standardise`` runs on a row holding that part alone, from the same rule tables,
  tens of microseconds a part); what that reading leaves (a birth date only polars reads
  under a declared format), and the baseline, by ``standardise`` itself (all in one call).
  A record whose parts were all seen costs no polars call for them.
* the **identifiers** (:data:`ID_FIELDS`: record ids, CIN, CNSS and registry numbers), new
  in nearly every record: read in Python
  (:func:`~registry_link.standardise.one.identifiers_in_python`), or (a character newer than
  Python's Unicode database) by the batch's own row-wise stages on them (its clean stage,
  :func:`~registry_link.standardise.ids.clean_id_columns`, the identifier flags' conditions of
  :func:`~registry_link.standardise.pipeline.flag_conditions` and the source columns) in
  one lazy query; kept per tuple of values.

**Flags.** A part standardised alone raises the flags of its own values, and those raised by
the absence of the other parts' values (``no_name`` on a row without names,
``relationship_unknown`` without a relationship). The flags an all-empty row raises (the
*baseline*, standardised once) are of that second kind: a record has one when every part
standardised alone has it; any other flag when some part (or the identifiers) raises it.

Only for records read without dependants (``dependants_mode: none``, as queries are: the
principal check and the relationship rule then read no other field); any other settings go
through ``standardise`` as a whole. ``tests/standardise/test_parts.py`` checks the frames
equal ``standardise``'s on every row of the sample's lists and on generated records;
``tests/standardise/test_one.py`` each Python reading equal to polars'.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from registry_link.config.loader import SourceSettings
from registry_link.io.readers import ROW_NUMBER
from registry_link.names.rewrite import NewerUnicode
from registry_link.schema import FLAG_CODES, NAME_PART_FIELDS, STANDARDISED_SCHEMA
from registry_link.standardise.distinct import ValueMemo, remembered_values
from registry_link.standardise.ids import clean_id_columns
from registry_link.standardise.one import identifiers_in_python, part_in_python
from registry_link.standardise.pipeline import (
    _ALL_FIELDS,
    _FLAG_MASK,
    _ID_FIELDS,
    _clean_exprs,
    flag_conditions,
    flag_mask_expr,
    source_columns,
    standardise,
)
from registry_link.standardise.text import has_control_expr

__all__ = ["ID_FIELDS", "PARTS", "Part", "PartsMemo", "standardise_by_parts"]


@dataclass(frozen=True)
class Part:
    """Raw ``fields`` whose standardised ``columns`` depend on them alone."""

    name: str
    fields: tuple[str, ...]
    columns: tuple[str, ...]


#: The parts kept per value.
PARTS: tuple[Part, ...] = (
    Part(
        "names",
        NAME_PART_FIELDS,
        (
            *NAME_PART_FIELDS,
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
            "name_token_keys",
            "name_tokens_key",
        ),
    ),
    Part("sex", ("sex",), ("sex",)),
    Part(
        "birth_date",
        ("birth_date",),
        ("birth_date", "birth_year", "birth_date_precision", "birth_date_raw"),
    ),
    Part("birth_place", ("birth_place",), ("birth_place", "birth_place_raw")),
    Part("residence", ("residence",), ("residence", "residence_raw")),
    Part("relationship", ("relationship",), ("relationship",)),
    Part("relation_to_head", ("relation_to_head",), ("relation_to_head",)),
)

#: The identifier fields, standardised row by row.
ID_FIELDS: tuple[str, ...] = ("record_id", "principal_record_id", *_ID_FIELDS)
_ID_COLUMNS: tuple[str, ...] = (
    "source",
    "row_number",
    "principal_source",
    *ID_FIELDS,
)
#: The flags the identifiers raise.
_ID_FLAGS: tuple[str, ...] = (
    "cin_malformed",
    "cnss_malformed",
    "registry_id_malformed",
    "id_invisible_characters",
    "control_characters",
)
_CODES = list(FLAG_CODES)
_PART_FIELDS = tuple(f for p in PARTS for f in p.fields)

_covered = [c for p in PARTS for c in p.columns] + list(_ID_COLUMNS)
if sorted(_covered) != sorted(c for c in STANDARDISED_SCHEMA if c != "flags"):  # pragma: no cover
    raise AssertionError("the parts must cover each standardised column once")


def prepare_python_rules() -> None:
    """Compile the rule tables the per-value rules read in Python (:class:`PerValueRule`), once
    per process: a search's first new value then pays none of it."""
    from registry_link.names import arabic, keys, latin, translit
    from registry_link.names.rewrite import compile_chain
    from registry_link.standardise import places

    for chain in (
        latin.CLEAN + latin.NAME_RULES,
        arabic.NORMALISE + translit.TO_LATIN,
        keys.KEY,
        places._ALIAS_KEY,
    ):
        compile_chain(chain)


def applies_to(settings: SourceSettings) -> bool:
    """Whether records read with ``settings`` can be standardised by parts."""
    return settings.dependants_mode == "none"


class PartsMemo:
    """Per part, its standardised columns and flag mask per tuple of raw values; the same for
    the identifiers (``_ids``: a record searched again); the per-value results of the
    ``standardise`` runs (``values``); the baseline. One per source settings; thread-safe; at
    most ``limit`` values per part and identifier tuples (past it, computed, not kept)."""

    def __init__(self, limit: int = 500_000, *, in_python: bool = True) -> None:
        self.limit = limit
        #: New parts and identifiers read in Python (:mod:`~.one`); else by polars.
        self.in_python = in_python
        self.values = ValueMemo()
        self._parts: dict[str, dict[tuple[Any, ...], tuple[tuple[Any, ...], int]]] = {
            p.name: {} for p in PARTS
        }
        self._ids: dict[tuple[Any, ...], tuple[tuple[Any, ...], int]] = {}
        self._baseline: int | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(kept) for kept in self._parts.values())


def _mask(flags: Sequence[str] | None) -> int:
    return sum(1 << _CODES.index(c) for c in flags or ())


def _learn(
    columns: Mapping[str, Sequence[object]],
    todo: list[tuple[Part, tuple[Any, ...]]],
    settings: SourceSettings,
    memo: PartsMemo,
) -> None:
    """Standardise the parts in ``todo`` (each alone on a row) and keep their results: in
    Python (:func:`~.one.part_in_python`) when ``memo.in_python`` and the baseline is known;
    the others, and the baseline (an empty row), with ``standardise`` in one call."""
    if memo.in_python and memo._baseline is not None:
        todo = _learn_in_python(todo, settings, memo, memo._baseline)
        if not todo:
            return
    rows: dict[str, list[object]] = {f: [] for f in dict.fromkeys((*columns, *_PART_FIELDS))}
    for part, key in [*todo, (None, ())]:
        for f in rows:
            rows[f].append(None)
        for f, v in zip(part.fields if part else (), key, strict=True):
            rows[f][-1] = v
    raw = pl.DataFrame(rows, schema=dict.fromkeys(rows, pl.Utf8))
    with remembered_values(memo.values):
        done = standardise(raw, settings)
    flags = done.get_column("flags").to_list()
    values = {p.name: done.select(p.columns).rows() for p in {p for p, _ in todo}}
    with memo._lock:
        for i, (part, key) in enumerate(todo):
            kept = memo._parts[part.name]
            if len(kept) < memo.limit:
                kept[key] = (values[part.name][i], _mask(flags[i]))
        memo._baseline = _mask(flags[-1])


def _learn_in_python(
    todo: list[tuple[Part, tuple[Any, ...]]],
    settings: SourceSettings,
    memo: PartsMemo,
    baseline: int,
) -> list[tuple[Part, tuple[Any, ...]]]:
    """Keep the parts of ``todo`` read in Python: a part's flags are those its values raise,
    and the baseline's among those its fields do not decide. The parts left to polars."""
    left = []
    for part, key in todo:
        found = part_in_python(part.name, key, settings)
        if found is None:
            left.append((part, key))
            continue
        values, raised, decided = found
        with memo._lock:
            kept = memo._parts[part.name]
            if len(kept) < memo.limit:
                kept[key] = (values, raised | (baseline & ~decided))
            else:  # (the memo is full: the record is standardised whole)
                left.append((part, key))
    return left


#: The identifier columns but the row number (a record's position in its call).
_ID_VALUES: tuple[str, ...] = tuple(c for c in _ID_COLUMNS if c != "row_number")


def _identifiers(
    columns: Mapping[str, Sequence[object]], settings: SourceSettings, memo: PartsMemo
) -> tuple[dict[str, list[Any]], list[int]]:
    """The identifier columns (:data:`_ID_COLUMNS`) and flag mask of each record: kept per
    tuple of identifier values in ``memo``; the records not kept yet through
    :func:`_identifiers_frame` (one polars query)."""
    height = len(next(iter(columns.values())))
    keys = [
        tuple(columns[f][i] if f in columns else None for f in ID_FIELDS) for i in range(height)
    ]
    new = list(dict.fromkeys(k for k in keys if k not in memo._ids))
    found: dict[tuple[Any, ...], tuple[tuple[Any, ...], int]] = {}
    if new and memo.in_python:
        new = _identifiers_in_python(new, settings, found)
    if new:
        frame = _identifiers_frame(
            {f: [k[j] for k in new] for j, f in enumerate(ID_FIELDS)}, settings
        )
        rows = frame.select(_ID_VALUES).rows()
        found |= dict(
            zip(new, zip(rows, frame.get_column(_FLAG_MASK).to_list(), strict=True), strict=True)
        )
    if found:
        with memo._lock:
            room = memo.limit - len(memo._ids)
            for k in list(found)[: max(room, 0)]:
                memo._ids[k] = found[k]
    out: dict[str, list[Any]] = {c: [] for c in _ID_VALUES}
    masks: list[int] = []
    for k in keys:
        values, mask = found.get(k) or memo._ids[k]
        for c, v in zip(_ID_VALUES, values, strict=True):
            out[c].append(v)
        masks.append(mask)
    out["row_number"] = list(range(1, height + 1))
    return out, masks


def _identifiers_in_python(
    new: list[tuple[Any, ...]],
    settings: SourceSettings,
    found: dict[tuple[Any, ...], tuple[tuple[Any, ...], int]],
) -> list[tuple[Any, ...]]:
    """Read the identifier tuples ``new`` in Python (:func:`~.one.identifiers_in_python`)
    into ``found``; those left to polars (a character newer than Python's Unicode)."""
    left = []
    for k in new:
        try:
            out, mask = identifiers_in_python(dict(zip(ID_FIELDS, k, strict=True)), settings)
        except NewerUnicode:
            left.append(k)
            continue
        found[k] = (tuple(out[c] for c in _ID_VALUES), mask)
    return left


def _identifiers_frame(
    columns: Mapping[str, Sequence[object]], settings: SourceSettings
) -> pl.DataFrame:
    """The identifier columns and flag mask (``_FLAG_MASK``) of each record: the batch's
    clean stage on the identifiers, their cleaning and flag conditions (a few eager calls
    of expressions built once)."""
    height = len(next(iter(columns.values())))
    raw = pl.DataFrame(
        {
            ROW_NUMBER: range(1, height + 1),
            "source": [None] * height,
            **{f: columns.get(f, [None] * height) for f in ID_FIELDS},
        },
        schema={ROW_NUMBER: pl.UInt32, "source": pl.Utf8, **dict.fromkeys(ID_FIELDS, pl.Utf8)},
    )
    key = (settings.kind, settings.source)
    found = _ID_EXPRS.get(key)
    if found is None:
        found = _ID_EXPRS[key] = _id_exprs(settings)
    clean, last = found
    frame = clean_id_columns(raw.with_columns(clean), _ID_FIELDS)
    return frame.select(last)


#: :func:`_id_exprs` by the settings' kind and source (all they read).
_ID_EXPRS: dict[tuple[str, str], tuple[list[pl.Expr], list[pl.Expr]]] = {}


def _id_exprs(settings: SourceSettings) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """:func:`_identifiers`' expressions: the clean stage's checks (control characters in an
    identifier, invisible ones) and cleaning of the identifier fields; then the columns and
    the identifier flags' mask (``flag_conditions`` and ``source_columns``)."""
    checks, cleaned, _ = _clean_exprs()
    control = pl.any_horizontal(has_control_expr(pl.col(f)) for f in ID_FIELDS).alias("_control")
    clean = [control, checks[1], *(cleaned[_ALL_FIELDS.index(f)] for f in ID_FIELDS)]
    conditions = flag_conditions(settings)
    last = [
        *(pl.col(c) for c in _ID_COLUMNS if c not in ("source", "principal_source")),
        *(e.alias(name) for name, e in source_columns(settings).items()),
        flag_mask_expr({c: conditions[c] for c in _ID_FLAGS}).alias(_FLAG_MASK),
    ]
    return clean, last


def standardise_by_parts(
    columns: Mapping[str, Sequence[str | None]], settings: SourceSettings, memo: PartsMemo
) -> pl.DataFrame:
    """What ``standardise`` gives for the raw records ``columns`` (field → one value per
    record; absent fields empty), by parts (see the module docstring).

    Raises:
        ValueError: settings with dependants (see :func:`applies_to`).
    """
    if not applies_to(settings):
        raise ValueError(f"records read with dependants_mode {settings.dependants_mode!r}")
    height = len(next(iter(columns.values()))) if columns else 0
    keys = [
        [tuple(columns[f][i] if f in columns else None for f in p.fields) for p in PARTS]
        for i in range(height)
    ]
    todo = list(
        dict.fromkeys(
            (p, k[j]) for k in keys for j, p in enumerate(PARTS) if k[j] not in memo._parts[p.name]
        )
    )
    if todo or memo._baseline is None:
        _learn(columns, todo, settings, memo)
    baseline = memo._baseline
    assert baseline is not None
    out, id_masks = _identifiers(columns, settings, memo)
    out |= {c: [] for p in PARTS for c in p.columns}
    flags: list[list[str]] = []
    for record, id_mask in zip(keys, id_masks, strict=True):
        present, absent = id_mask, baseline
        for part, key in zip(PARTS, record, strict=True):
            found = memo._parts[part.name].get(key)
            if found is None:  # (the memo is full: standardise this record as a whole)
                return _whole(columns, settings, memo)
            values, mask = found
            present |= mask & ~baseline
            absent &= mask
            for c, v in zip(part.columns, values, strict=True):
                out[c].append(v)
        mask = present | absent
        flags.append([c for j, c in enumerate(_CODES) if mask >> j & 1])
    out["flags"] = flags
    # (by rows: a third of the columns' construction cost on a search's record or few)
    rows = list(zip(*(out[c] for c in STANDARDISED_SCHEMA), strict=True))
    return pl.DataFrame(rows, schema=STANDARDISED_SCHEMA, orient="row")


def _whole(
    columns: Mapping[str, Sequence[str | None]], settings: SourceSettings, memo: PartsMemo
) -> pl.DataFrame:
    """``standardise`` of the records as a whole (through the per-value memo)."""
    raw = pl.DataFrame(dict(columns), schema=dict.fromkeys(columns, pl.Utf8))
    with remembered_values(memo.values):
        return standardise(raw, settings)
