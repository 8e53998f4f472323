"""The field reference: every canonical field, its format, and what reads it in a model config.

:func:`field_reference` answers "which of my columns matter, and for what" for a given model
config. Nothing in it is a hand-kept list that could drift from the code:

* the fields and their formats are :data:`~registry_link.schema.CANONICAL_FIELDS` and
  :data:`~registry_link.schema.REGISTRY_FIELDS`;
* the standardised columns each field feeds are *measured*: :func:`standardised_columns_of`
  standardises one probe record per field through the real standardiser and sees which
  columns its value changes (adding the field to an empty record, and removing it from a full
  one — so both a field's own columns and the ones it shares, such as a name's token keys, are
  found);
* the blocking rules and comparisons that read each field are those of the loaded model config
  (:class:`~registry_link.model.ModelSettings`) whose columns are among the field's columns.

Only the readers outside the model config (the households stage, :data:`HOUSEHOLD_INPUTS`)
are declared here; a test checks them against what ``build_households`` requires.

The CLI's ``registry-link fields`` prints it; ``docs/source-config.md`` carries its Markdown.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from typing import Final

import polars as pl

from registry_link.config.loader import settings_from_dict
from registry_link.model import ModelSettings
from registry_link.schema import CANONICAL_FIELDS, NAME_FIELDS, REGISTRY_FIELDS
from registry_link.standardise.pipeline import standardise

#: One synthetic value per canonical field: the probe the standardiser is run on, and the
#: example shown in the reference (``principal_record_id`` is the id of the probes' first
#: record, so that it names a known principal).
EXAMPLE_VALUES: Final[dict[str, str]] = {
    "record_id": "CMA-000123",
    "cin": "BK123456",
    "cnss_number": "123456789",
    "registry_person_id": "1234567890",
    "family_name": "El Alaoui",
    "given_name": "Fatima Zahra",
    "family_name_ar": "العلوي",
    "given_name_ar": "فاطمة الزهراء",
    "full_name": "Fatima Zahra El Alaoui",
    "sex": "F",
    "birth_date": "05/01/1980",
    "birth_place": "Kénitra",
    "residence": "الدار البيضاء",
    "father_given_name": "Mohamed",
    "principal_record_id": "CMA-000122",
    "relationship": "conjointe",
    "person_id": "1234567890",
    "household_id": "524928556",
    "relation_to_head": "EPOUSE",
}

#: Standardised columns every record has whatever its fields (bookkeeping, not evidence).
_BOOKKEEPING: Final[frozenset[str]] = frozenset({"source", "record_id", "row_number", "flags"})

#: Output formats of :func:`render`.
FORMATS: Final[tuple[str, ...]] = ("table", "csv", "json", "markdown")

_BASELINE_ID = "CMA-000122"

#: Standardised columns the households stage reads, by side (outside the model config:
#: ``registry_link.households.build.build_households`` requires these and names the one missing;
#: tests/docs/test_fields.py checks it).
HOUSEHOLD_INPUTS: Final[dict[str, tuple[str, ...]]] = {
    "partner": ("relationship", "principal_record_id"),
    "registry": ("person_id", "household_id", "relation_to_head"),
}


@dataclass(frozen=True)
class FieldReference:
    """What one canonical field is and what reads it.

    Attributes:
        field: the canonical field (a key of a source config's ``columns``).
        applies_to: ``partner and registry`` or ``registry only``.
        required: ``yes``, ``one name field`` (at least one of the name fields) or ``no``.
        description: its format, from :mod:`registry_link.schema`.
        example: a synthetic example value.
        standardised_columns: the standardised columns its value feeds (measured).
        blocking_rules: the model config's blocking rules reading any of those columns.
        comparisons: the model config's comparisons reading any of those columns.
        frequency_adjusted: ``yes`` when agreeing on a common value weighs less than on a rare
            one (a term-frequency adjusted level reads one of its columns), else ``no``.
        other_readers: other stages that read it: ``links`` (the registry person a record
            links to), ``households``.
    """

    field: str
    applies_to: str
    required: str
    description: str
    example: str
    standardised_columns: tuple[str, ...]
    blocking_rules: tuple[str, ...]
    comparisons: tuple[str, ...]
    frequency_adjusted: str
    other_readers: tuple[str, ...]


def _probe_frames() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Raw probe records, standardised: one per field added to an empty record, and one per
    field removed from a full one; row 0 of each is the empty / the full record."""
    fields = [f for f in (*CANONICAL_FIELDS, *REGISTRY_FIELDS) if f != "record_id"]
    settings = settings_from_dict(
        {
            "version": 1,
            "source": "field_probe",
            "kind": "registry",
            "columns": {f: f for f in ("record_id", *fields)},
            "dependants": {"mode": "rows"},
        },
        name="<field probe>",
    )
    empty: dict[str, str | None] = dict.fromkeys(fields)
    full: dict[str, str | None] = {f: EXAMPLE_VALUES[f] for f in fields}
    added = [empty, *({**empty, f: full[f]} for f in fields)]
    removed = [full, *({**full, f: None} for f in fields)]

    def frame(rows: list[dict[str, str | None]]) -> pl.DataFrame:
        ids = [_BASELINE_ID, *(f"probe-{i}" for i in range(1, len(rows)))]
        raw = pl.DataFrame(rows, schema=dict.fromkeys(fields, pl.Utf8))
        return standardise(raw.with_columns(record_id=pl.Series(ids)), settings)

    return frame(added), frame(removed)


@cache
def standardised_columns_of() -> dict[str, tuple[str, ...]]:
    """Canonical field → the standardised columns its value changes, measured on the probes.

    Computed once per process by running the real standardiser (see the module docstring).
    """
    fields = [f for f in (*CANONICAL_FIELDS, *REGISTRY_FIELDS) if f != "record_id"]
    added, removed = (frame.drop(*_BOOKKEEPING).to_dicts() for frame in _probe_frames())
    out: dict[str, tuple[str, ...]] = {"record_id": ("record_id",)}
    for i, name in enumerate(fields, start=1):
        changed = [
            column
            for column in added[0]
            if added[i][column] != added[0][column] or removed[i][column] != removed[0][column]
        ]
        out[name] = tuple(changed)
    return out


def _required(field: str) -> str:
    if field == "record_id":
        return "yes"
    if field in NAME_FIELDS:
        return "one name field"
    return "no"


def field_reference(settings: ModelSettings) -> list[FieldReference]:
    """Every canonical field with its format and the rules and comparisons reading it.

    Args:
        settings: a loaded model config (``load_model_config`` / ``Linker.settings``).

    Returns:
        One :class:`FieldReference` per field of :data:`~registry_link.schema.CANONICAL_FIELDS`
        then :data:`~registry_link.schema.REGISTRY_FIELDS`, in that order.
    """
    feeds = standardised_columns_of()
    household = settings.household_context
    tf_columns = set(settings.tf_columns())
    refs = []
    for field, description in (*CANONICAL_FIELDS.items(), *REGISTRY_FIELDS.items()):
        cols = set(feeds[field])
        rules = tuple(r.name for r in settings.blocking_rules if cols & set(r.columns))
        comps = tuple(c.name for c in settings.comparisons if cols & set(c.columns))
        others: list[str] = []
        if household is not None and "household_id" in cols:
            # the registry side's household hint (registry_link.households.context)
            rules += (household.comparison,)
            comps += (household.comparison,)
        if field == "person_id":
            others.append("links")
        side = "registry" if field in REGISTRY_FIELDS else "partner"
        if cols & set(HOUSEHOLD_INPUTS[side]):
            others.append("households")
        refs.append(
            FieldReference(
                field=field,
                applies_to="registry only" if field in REGISTRY_FIELDS else "partner and registry",
                required=_required(field),
                description=description,
                example=EXAMPLE_VALUES[field],
                standardised_columns=feeds[field],
                blocking_rules=rules,
                comparisons=comps,
                frequency_adjusted="yes" if cols & tf_columns else "no",
                other_readers=tuple(others),
            )
        )
    return refs


#: Column headings of the rendered reference, by attribute of :class:`FieldReference`.
HEADINGS: Final[dict[str, str]] = {
    "field": "field",
    "applies_to": "applies to",
    "required": "required",
    "description": "format",
    "example": "example",
    "standardised_columns": "standardised columns",
    "blocking_rules": "blocking rules",
    "comparisons": "comparisons",
    "frequency_adjusted": "frequency adjusted",
    "other_readers": "also read by",
}


def reference_frame(refs: Sequence[FieldReference]) -> pl.DataFrame:
    """The reference as a frame, one row per field; list attributes joined with ``, ``."""
    rows = [
        {k: ", ".join(v) if isinstance(v, tuple) else v for k, v in asdict(ref).items()}
        for ref in refs
    ]
    return pl.DataFrame(rows, schema=dict.fromkeys(HEADINGS, pl.Utf8))


def _markdown_cell(value: str) -> str:
    return value.replace("|", "\\|") if value else "—"


def to_markdown(refs: Sequence[FieldReference]) -> str:
    """The reference as a Markdown table (what ``docs/source-config.md`` carries)."""
    keys = list(HEADINGS)
    lines = [
        "| " + " | ".join(HEADINGS[k] for k in keys) + " |",
        "|" + "---|" * len(keys),
    ]
    for row in reference_frame(refs).to_dicts():
        cells = [
            f"`{row[k]}`" if k in ("field", "example") else _markdown_cell(row[k]) for k in keys
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_json(refs: Sequence[FieldReference]) -> str:
    """The reference as a JSON list of objects (lists kept as lists)."""
    return json.dumps([asdict(ref) for ref in refs], ensure_ascii=False, indent=2) + "\n"


def to_csv(refs: Sequence[FieldReference]) -> str:
    """The reference as CSV with a header row (list attributes joined with ``, ``)."""
    return reference_frame(refs).write_csv()


def render(refs: Sequence[FieldReference], fmt: str) -> str:
    """The reference as text in one of :data:`FORMATS` other than ``table`` (see the CLI)."""
    renderers: dict[str, Callable[[Sequence[FieldReference]], str]] = {
        "csv": to_csv,
        "json": to_json,
        "markdown": to_markdown,
    }
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(renderers)}")
    return renderers[fmt](refs)
