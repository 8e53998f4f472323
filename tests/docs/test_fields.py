"""The field reference (registry_link.config.fields): measured columns, read off the model
config, and the table in docs/source-config.md equal to the function's Markdown."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import polars as pl
import pytest

from registry_link.config.fields import (
    HOUSEHOLD_INPUTS,
    FieldReference,
    field_reference,
    render,
    standardised_columns_of,
    to_markdown,
)
from registry_link.errors import UsageError
from registry_link.households.build import build_households
from registry_link.model import load_model_config, settings_from_dict
from registry_link.schema import CANONICAL_FIELDS, REGISTRY_FIELDS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "source-config.md"


@pytest.fixture(scope="module")
def shipped() -> dict[str, FieldReference]:
    refs = field_reference(load_model_config(ROOT / "configs" / "model.yaml"))
    return {ref.field: ref for ref in refs}


def test_the_doc_table_is_the_function_output() -> None:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(r"<!-- fields:begin[^\n]*-->\n(.*?)<!-- fields:end -->", text, re.DOTALL)
    assert found, "docs/source-config.md lost its generated fields table markers"
    expected = to_markdown(field_reference(load_model_config(ROOT / "configs" / "model.yaml")))
    assert found.group(1) == expected, (
        "the fields table in docs/source-config.md is stale: run "
        "`python docs/examples/make_examples.py --fields-table` (it writes the output of "
        "`registry-link fields --format markdown` between the markers)"
    )


def test_every_canonical_field_once_in_schema_order(shipped: dict[str, FieldReference]) -> None:
    assert list(shipped) == [*CANONICAL_FIELDS, *REGISTRY_FIELDS]


def test_measured_columns_of_names() -> None:
    feeds = standardised_columns_of()
    # an unsplit full name fills the token keys only, never the given/family keys
    assert {"name_token_keys", "name_tokens_key"} <= set(feeds["full_name"])
    assert not {"given_key", "family_key", "given_lat", "family_lat"} & set(feeds["full_name"])
    # an Arabic given name feeds the Arabic key and, transliterated, the Latin form and key
    assert {"given_ar", "given_key_ar", "given_lat", "given_key"} <= set(feeds["given_name_ar"])
    assert set(feeds["birth_date"]) >= {"birth_date", "birth_year", "birth_date_precision"}
    assert "relationship" in feeds["principal_record_id"]  # no principal: a worker


def test_readers_of_the_shipped_model(shipped: dict[str, FieldReference]) -> None:
    full, given, cin, residence = (
        shipped[f] for f in ("full_name", "given_name", "cin", "residence")
    )
    assert set(full.blocking_rules) == {
        "tokens_birth_year",
        "token_residence_birth_year",
        "tokens_near_year",
        "tokens_residence",
    }
    assert "names_birth_year" in given.blocking_rules
    # the whole unsplit name's key is term-frequency adjusted (issue 16)
    assert full.frequency_adjusted == "yes" and given.frequency_adjusted == "yes"
    assert cin.blocking_rules == ("cin",) and cin.comparisons == ("cin",)
    assert "names_residence" in residence.blocking_rules
    assert shipped["birth_place"].blocking_rules == ()
    assert shipped["registry_person_id"].comparisons == ()
    assert shipped["household_id"].comparisons == ("household",)


def test_readers_follow_the_model_config() -> None:
    settings = settings_from_dict(
        {
            "version": 1,
            "blocking_rules": [{"name": "place_year", "columns": ["birth_place", "birth_year"]}],
            "comparisons": [{"name": "town", "kind": "exact", "column": "birth_place"}],
        }
    )
    refs = {ref.field: ref for ref in field_reference(settings)}
    assert refs["birth_place"].blocking_rules == ("place_year",)
    assert refs["birth_place"].comparisons == ("town",)
    assert refs["birth_date"].blocking_rules == ("place_year",)
    assert refs["cin"].blocking_rules == () and refs["cin"].comparisons == ()
    assert refs["household_id"].comparisons == ()  # no household context in this config


def _household_frames() -> dict[str, pl.DataFrame]:
    return {
        "left": pl.DataFrame(
            {
                "source": ["s"],
                "record_id": ["1"],
                "relationship": ["principal"],
                "principal_record_id": [None],
            },
            schema_overrides={"principal_record_id": pl.Utf8},
        ),
        "links": pl.DataFrame(
            {"source": ["s"], "record_id": ["1"], "person_id": ["9"], "decision": ["match"]}
        ),
        "clusters": pl.DataFrame({"source": ["s"], "record_id": ["1"], "beneficiary_key": ["P9"]}),
        "registry": pl.DataFrame(
            {"person_id": ["9"], "household_id": ["h"], "relation_to_head": ["head"]}
        ),
    }


@pytest.mark.parametrize(
    ("side", "column"),
    [(side, column) for side, columns in HOUSEHOLD_INPUTS.items() for column in columns],
)
def test_household_inputs_are_what_build_households_requires(side: str, column: str) -> None:
    frames = _household_frames()
    assert len(build_households(**frames)) == 1  # all present: it runs
    key = "left" if side == "partner" else "registry"
    frames[key] = frames[key].drop(column)
    with pytest.raises(UsageError, match=column):
        build_households(**frames)


def test_csv_and_json_carry_every_field(shipped: dict[str, FieldReference]) -> None:
    refs = list(shipped.values())
    rows = list(csv.DictReader(io.StringIO(render(refs, "csv"))))
    assert [r["field"] for r in rows] == list(shipped)
    assert rows[list(shipped).index("cin")]["blocking_rules"] == "cin"
    data = json.loads(render(refs, "json"))
    assert [d["field"] for d in data] == list(shipped)
    assert data[list(shipped).index("father_given_name")]["frequency_adjusted"] == "yes"
    assert data[list(shipped).index("cin")]["frequency_adjusted"] == "no"
    with pytest.raises(ValueError, match="unknown format"):
        render(refs, "xml")
