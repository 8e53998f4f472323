"""The standardise pipeline: schema contract, name handling, flags, dependants, registry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.config import settings_from_dict
from registry_link.schema import FLAG_CODES, STANDARDISED_SCHEMA
from registry_link.standardise import load_standardised, standardise

_FUZZ_FIELDS = (
    "family_name",
    "given_name",
    "family_name_ar",
    "given_name_ar",
    "full_name",
    "cin",
    "sex",
    "birth_date",
    "residence",
    "principal_record_id",
    "relationship",
)


def make_settings(columns: list[str], **extra: Any) -> Any:
    return settings_from_dict(
        {
            "version": 1,
            "source": "test_src",
            "kind": extra.pop("kind", "partner"),
            "columns": {c: c for c in columns},
            "formats": {"reference_year": 2025, **extra.pop("formats", {})},
            **extra,
        }
    )


def run(rows: list[dict[str, str | None]], **extra: Any) -> pl.DataFrame:
    columns = sorted({k for r in rows for k in r})
    raw = pl.DataFrame(rows, schema={c: pl.Utf8 for c in columns})
    return standardise(raw, make_settings(columns, **extra))


def one(row: dict[str, str | None], **extra: Any) -> dict[str, Any]:
    return run([{"record_id": "1", **row}], **extra).row(0, named=True)


def test_output_matches_schema_exactly() -> None:
    out = run([{"record_id": "1", "family_name": "Alaoui"}])
    assert list(out.schema.items()) == list(STANDARDISED_SCHEMA.items())


def test_empty_input_matches_schema() -> None:
    raw = pl.DataFrame(schema={"record_id": pl.Utf8, "family_name": pl.Utf8})
    out = standardise(raw, make_settings(["record_id", "family_name"]))
    assert out.height == 0
    assert list(out.schema.items()) == list(STANDARDISED_SCHEMA.items())


def test_lazy_input_and_row_numbers() -> None:
    raw = pl.LazyFrame({"record_id": ["a", "b"], "family_name": ["X", None]})
    out = standardise(raw, make_settings(["record_id", "family_name"]))
    assert out["row_number"].to_list() == [1, 2]
    assert out["source"].to_list() == ["test_src", "test_src"]


def test_rows_are_never_dropped_and_flags_known() -> None:
    rows = [
        {"record_id": "1", "family_name": None, "birth_date": "31/02/1980", "cin": "??X"},
        {"record_id": "2", "family_name": "Alaoui", "birth_date": "1850", "sex": "Q"},
        {"record_id": "3", "family_name": "Bennani", "birth_date": "01/01/1970"},
    ]
    out = run(rows)
    assert out["record_id"].to_list() == ["1", "2", "3"]
    flags = out["flags"].to_list()
    assert set(flags[0]) == {"no_name", "birth_date_unparseable", "cin_malformed"}
    assert set(flags[1]) == {"birth_date_out_of_range", "sex_unknown"}
    assert flags[2] == ["birth_date_day_or_year"]
    assert all(f in FLAG_CODES for fl in flags for f in fl)
    # in FLAG_CODES order
    order = list(FLAG_CODES)
    assert all(fl == sorted(fl, key=order.index) for fl in flags)


def test_display_values_trimmed_and_kept() -> None:
    r = one({"family_name": "  El  Alaoui ", "given_name": "Mohamed", "birth_date": " 1956 "})
    assert r["family_name"] == "El Alaoui"
    assert r["birth_date_raw"] == "1956"
    assert r["birth_year"] == 1956 and r["birth_date"] is None
    assert r["birth_date_precision"] == "year"


def test_latin_and_arabic_forms() -> None:
    r = one(
        {
            "family_name": "El Alaoui",
            "given_name": "Mohamed",
            "family_name_ar": "العلوي",
            "given_name_ar": "محمد",
            "father_given_name": "أحمد",
        }
    )
    assert r["family_lat"] and r["given_lat"]
    assert r["family_ar"] and r["given_ar"] and r["father_ar"]
    assert r["father_lat"] and r["father_key"]
    assert r["family_key"] and r["family_key_ar"]
    assert r["name_token_keys"] == sorted(set(r["name_token_keys"]))
    assert r["flags"] == []


def test_arabic_only_names_are_transliterated() -> None:
    r = one({"family_name_ar": "العلوي", "given_name_ar": "محمد"})
    assert r["family_lat"] is not None and r["given_lat"] is not None
    assert r["family_key"] == r["family_key_ar"]
    assert r["family_name"] is None


def test_arabic_in_latin_field_is_moved() -> None:
    r = one({"family_name": "العلوي", "given_name": "Mohamed"})
    assert r["family_name"] is None and r["family_name_ar"] == "العلوي"
    assert r["family_ar"] is not None
    assert "mixed_script_name" not in r["flags"]


def test_latin_in_arabic_field_is_moved() -> None:
    r = one({"given_name_ar": "Fatima", "family_name_ar": "بناني"})
    assert r["given_name"] == "Fatima" and r["given_name_ar"] is None


def test_mixed_script_flagged() -> None:
    r = one({"family_name": "Alaoui العلوي"})
    assert "mixed_script_name" in r["flags"]


def test_full_name_only_auto() -> None:
    r = one({"full_name": "ALAOUI Mohamed"})
    assert r["flags"] == ["full_name_only"]
    assert r["family_lat"] is None and r["given_lat"] is None
    assert len(r["name_token_keys"]) == 2


@pytest.mark.parametrize(
    ("order", "full", "family", "given"),
    [
        ("family_first", "ALAOUI Mohamed Amine", "ALAOUI", "Mohamed Amine"),
        ("family_first", "EL ALAOUI Mohamed", "EL ALAOUI", "Mohamed"),
        ("family_first", "Ben El Haj Ali", "Ben El Haj", "Ali"),
        ("given_first", "Mohamed Amine ALAOUI", "ALAOUI", "Mohamed Amine"),
        ("given_first", "Fatima Ait Taleb", "Ait Taleb", "Fatima"),
        ("family_first", "ALAOUI", "ALAOUI", None),
    ],
)
def test_full_name_split(order: str, full: str, family: str, given: str | None) -> None:
    r = one({"full_name": full}, formats={"full_name_order": order})
    assert (r["family_name"], r["given_name"]) == (family, given)
    assert r["family_lat"] is not None
    assert "full_name_only" in r["flags"]


def test_arabic_full_name_split_fills_arabic_fields() -> None:
    r = one({"full_name": "بن علي محمد"}, formats={"full_name_order": "family_first"})
    assert (r["family_name_ar"], r["given_name_ar"]) == ("بن علي", "محمد")
    assert r["family_ar"] is not None


def test_full_name_not_split_when_split_names_exist() -> None:
    r = one(
        {"full_name": "X Y", "family_name": "Alaoui", "given_name": "Ali"},
        formats={"full_name_order": "family_first"},
    )
    assert (r["family_name"], r["given_name"]) == ("Alaoui", "Ali")
    assert "full_name_only" not in r["flags"]


def test_ids_and_codes() -> None:
    r = one(
        {
            "family_name": "A",
            "cin": "bk 123-456",
            "cnss_number": "123 456 789",
            "registry_person_id": "12345",
            "sex": "Femme",
        }
    )
    assert (r["cin"], r["cnss_number"], r["registry_person_id"]) == (
        "BK123456",
        "123456789",
        "12345",
    )
    assert r["sex"] == "F"
    assert r["flags"] == ["registry_id_malformed"]


def test_declared_date_format() -> None:
    r = one({"family_name": "A", "birth_date": "03/05/1980"}, formats={"birth_date": "%m/%d/%Y"})
    assert r["birth_date"] == dt.date(1980, 3, 5)


def test_places_match_across_scripts_and_spellings() -> None:
    out = run(
        [
            {"record_id": "1", "family_name": "A", "residence": "Kénitra"},
            {"record_id": "2", "family_name": "A", "residence": "KENITRA"},
            {"record_id": "3", "family_name": "A", "residence": "N/A"},
        ]
    )
    res = out["residence"].to_list()
    assert res[0] == res[1] and res[0] is not None
    assert res[2] is None


def test_dependants_rows_mode() -> None:
    rows = [
        {"record_id": "W1", "family_name": "A", "principal_record_id": None, "relationship": None},
        {
            "record_id": "D1",
            "family_name": "A",
            "principal_record_id": "W1",
            "relationship": "épouse",
        },
        {
            "record_id": "D2",
            "family_name": "A",
            "principal_record_id": "W1",
            "relationship": "fils",
        },
        {
            "record_id": "D3",
            "family_name": "A",
            "principal_record_id": "W9",
            "relationship": "fille",
        },
        {"record_id": "D4", "family_name": "A", "principal_record_id": "W1", "relationship": "??"},
    ]
    out = run(rows, dependants={"mode": "rows"})
    assert out["relationship"].to_list() == ["principal", "spouse", "child", "child", None]
    flags = out["flags"].to_list()
    assert flags[3] == ["principal_missing"]
    assert flags[4] == ["relationship_unknown"]
    assert flags[0] == flags[1] == flags[2] == []


def test_a_file_of_dependants_only_is_not_flagged_for_principals_it_cannot_hold() -> None:
    rows = [
        {
            "record_id": "D1",
            "family_name": "A",
            "principal_record_id": "W1",
            "relationship": "épouse",
        },
        {
            "record_id": "D2",
            "family_name": "A",
            "principal_record_id": "W1",
            "relationship": "fils",
        },
    ]
    as_rows = run(rows, dependants={"mode": "rows"})
    assert as_rows["flags"].to_list() == [["principal_missing"], ["principal_missing"]]
    only = run(rows, dependants={"mode": "only"})
    assert only["flags"].to_list() == [[], []]
    assert only["relationship"].to_list() == ["spouse", "child"]
    assert only["principal_record_id"].to_list() == ["W1", "W1"]


def test_registry_kind() -> None:
    rows = [
        {
            "person_id": "1234567890",
            "household_id": "77.0",
            "relation_to_head": "CHEF",
            "family_name": "A",
        },
        {
            "person_id": "123",
            "household_id": "77",
            "relation_to_head": "voisin",
            "family_name": "B",
        },
    ]
    raw = pl.DataFrame(rows).with_columns(record_id=pl.col("person_id"))
    s = make_settings(
        ["person_id", "household_id", "relation_to_head", "family_name"], kind="registry"
    )
    out = standardise(raw, s)
    assert out["relation_to_head"].to_list() == ["head", None]
    assert out["household_id"].to_list() == ["77", "77"]
    assert out["relationship"].to_list() == [None, None]
    assert out["flags"].to_list() == [[], ["registry_id_malformed", "relationship_unknown"]]


def test_encoding_suspect() -> None:
    r = one({"family_name": "BÃ©nani"})
    assert "encoding_suspect" in r["flags"]


def test_load_standardised(tmp_path: Path) -> None:
    (tmp_path / "list.csv").write_text(
        "id;nom;prenom;ddn\n1;Alaoui;Mohamed;1980\n2;Bennani;Fatima;31/02/1980\n", encoding="utf-8"
    )
    (tmp_path / "c.yaml").write_text(
        "version: 1\nsource: s\nkind: partner\n"
        "columns: {record_id: id, family_name: nom, given_name: prenom, birth_date: ddn}\n",
        encoding="utf-8",
    )
    result = load_standardised(tmp_path / "list.csv", tmp_path / "c.yaml")
    assert result.frame.height == 2
    assert result.settings.source == "s"
    assert result.report.rows == 2
    assert result.report.flags["birth_date_unparseable"] == 1


def test_batches_give_the_same_result() -> None:
    rows = [
        {
            "record_id": "W1",
            "family_name": "Alaoui",
            "principal_record_id": None,
            "relationship": None,
        },
        {
            "record_id": "D1",
            "family_name": "Alaoui",
            "principal_record_id": "W2",
            "relationship": "fils",
        },
        {
            "record_id": "W2",
            "family_name": "Idrissi",
            "principal_record_id": None,
            "relationship": None,
        },
        {
            "record_id": "D2",
            "family_name": "Idrissi",
            "principal_record_id": "W9",
            "relationship": "x",
        },
        {
            "record_id": "D3",
            "family_name": "بناني",
            "principal_record_id": "W1",
            "relationship": "زوجة",
        },
    ]
    raw = pl.DataFrame(rows, schema={k: pl.Utf8 for k in rows[0]})
    s = make_settings(list(rows[0]), dependants={"mode": "rows"})
    whole = standardise(raw, s)
    batched = standardise(raw, s, batch_rows=2)
    assert batched.equals(whole)
    # the principal of D1 (W2) is in another batch: not flagged missing
    assert batched["flags"].to_list()[1] == []
    assert batched["flags"].to_list()[3] == ["relationship_unknown", "principal_missing"]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {f: st.one_of(st.none(), st.text(max_size=15)) for f in _FUZZ_FIELDS}
        ),
        min_size=1,
        max_size=6,
    )
)
def test_never_raises_on_arbitrary_text(rows: list[dict[str, str | None]]) -> None:
    for i, row in enumerate(rows):
        row["record_id"] = str(i)
    out = run(rows, dependants={"mode": "rows"}, formats={"full_name_order": "family_first"})
    assert out.height == len(rows)
    assert list(out.schema.items()) == list(STANDARDISED_SCHEMA.items())
