"""Source config loading: YAML -> validated, frozen settings; every problem reported at once."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from registry_link.config import code_key, load_source_config, settings_from_dict
from registry_link.errors import ConfigError

GOOD = """\
version: 1
source: coop_ar
kind: partner
description: "test"
file: {format: csv, encoding: auto, separator: ","}
columns:
  record_id: "رقم التسجيل"
  family_name_ar: "الاسم العائلي"
  given_name_ar: "الاسم الشخصي"
  sex: "الجنس"
  birth_date: "تاريخ الازدياد"
  principal_record_id: "رقم المصرح"
  relationship: "صلة القرابة"
formats:
  birth_date: "%d/%m/%Y"
  sex: {M: ["رجل"], F: ["امرأة"]}
  full_name_order: family_first
  reference_year: 2025
dependants:
  mode: rows
  relationship_codes: {child: ["ولد"], spouse: ["الزوجة"]}
"""


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(exc: ConfigError) -> dict[str, str]:
    return {p.key_path: p.message for p in exc.problems}


def test_good_config_resolves(tmp_path: Path) -> None:
    s = load_source_config(write(tmp_path, GOOD))
    assert s.source == "coop_ar" and s.kind == "partner"
    assert s.columns["record_id"] == "رقم التسجيل"
    assert s.birth_date_format == "%d/%m/%Y"
    assert s.full_name_order == "family_first"
    assert s.reference_year == 2025
    assert s.dependants_mode == "rows"
    # config codes added to the built-in ones
    assert s.sex_codes[code_key("رجل")] == "M"
    assert s.sex_codes[code_key("Homme")] == "M"
    assert s.relationship_codes[code_key("ولد")] == "child"
    assert s.relationship_codes[code_key("Conjointe")] == "spouse"


def test_settings_are_frozen(tmp_path: Path) -> None:
    s = load_source_config(write(tmp_path, GOOD))
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.source = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.columns["cin"] = "x"  # type: ignore[index]


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    text = (
        GOOD.replace('birth_date: "تاريخ', 'birth_dte: "تاريخ')
        .replace("kind: partner", "kind: partner\nfoo: 1")
        .replace("encoding: auto", "encoding: utf-16")
    )
    with pytest.raises(ConfigError) as info:
        load_source_config(write(tmp_path, text))
    problems = problems_of(info.value)
    assert "unknown field 'birth_dte'" in problems["columns.birth_dte"]
    assert "valid fields: record_id, cin" in problems["columns.birth_dte"]
    assert "unknown key 'foo'" in problems["foo"]
    assert "file.encoding" in problems
    assert str(tmp_path / "c.yaml") in str(info.value)


@pytest.mark.parametrize(
    ("change", "key_path", "words"),
    [
        (("version: 1", "version: 7"), "version", "not supported"),
        (("version: 1\n", ""), "version", "required"),
        (("source: coop_ar", "source: 'coop ar'"), "source", "pattern"),
        (("kind: partner", "kind: bank"), "kind", "partner"),
        (('  record_id: "رقم التسجيل"\n', ""), "columns.record_id", "must be mapped"),
        (('  relationship: "صلة القرابة"\n', ""), "columns.relationship", "mode is rows"),
        (('birth_date: "%d/%m/%Y"', "birth_date: dd/mm"), "formats.birth_date", "strftime"),
        (('F: ["امرأة"]', 'F: ["رجل"]'), "formats.sex.F", "also listed"),
        (("mode: rows", "mode: file"), "dependants.file", "required"),
        (
            ("mode: rows\n", "mode: rows\n  source: coop_ayants_droit\n"),
            "dependants.source",
            "only used when dependants.mode is file",
        ),
        (
            ("mode: rows\n", "mode: only\n  file: x.csv\n"),
            "dependants.file",
            "only used when dependants.mode is file",
        ),
        (
            ("full_name_order: family_first", "full_name_order: sideways"),
            "formats.full_name_order",
            "",
        ),
    ],
)
def test_each_rule(tmp_path: Path, change: tuple[str, str], key_path: str, words: str) -> None:
    assert change[0] in GOOD
    with pytest.raises(ConfigError) as info:
        load_source_config(write(tmp_path, GOOD.replace(change[0], change[1])))
    problems = problems_of(info.value)
    assert key_path in problems, problems
    assert words in problems[key_path]


def test_a_file_of_dependants_only_needs_their_principals_and_relationships(
    tmp_path: Path,
) -> None:
    text = GOOD.replace("mode: rows", "mode: only").replace('  relationship: "صلة القرابة"\n', "")
    with pytest.raises(ConfigError) as info:
        load_source_config(write(tmp_path, text))
    assert "mode is only" in problems_of(info.value)["columns.relationship"]
    settings = load_source_config(write(tmp_path, GOOD.replace("mode: rows", "mode: only")))
    assert settings.dependants_mode == "only"


def test_no_name_field(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from_dict(
            {"version": 1, "source": "s", "kind": "partner", "columns": {"record_id": "id"}}
        )
    assert "no name field mapped" in problems_of(info.value)["columns"]


def test_registry_fields_need_registry_kind() -> None:
    base = {"version": 1, "source": "s", "columns": {"person_id": "id", "full_name": "n"}}
    with pytest.raises(ConfigError) as info:
        settings_from_dict({**base, "kind": "partner"})
    assert "registry-only" in problems_of(info.value)["columns.person_id"]
    s = settings_from_dict({**base, "kind": "registry"})
    assert s.record_id_field == "person_id"


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_source_config(write(tmp_path, "version: 1\ncolumns: [a, b\nsource: x\n"))
    assert "line" in str(info.value) and "YAML syntax error" in str(info.value)


def test_missing_file_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_source_config(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(info.value) and "not found" in str(info.value)


def test_top_level_not_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_source_config(write(tmp_path, "- a\n- b\n"))


def test_dependants_file_mode(tmp_path: Path) -> None:
    (tmp_path / "deps.csv").write_text("id,pid\n", encoding="utf-8")
    text = GOOD.replace(
        "  mode: rows\n",
        "  mode: file\n  file: deps.csv\n  columns: {record_id: id, principal_record_id: pid}\n",
    )
    s = load_source_config(write(tmp_path, text))
    # kept as written: resolved against the main data file when it is read
    assert s.dependants_file == Path("deps.csv")
    assert s.dependants_columns == {"record_id": "id", "principal_record_id": "pid"}
    missing = str(tmp_path / "missing.csv")
    with pytest.raises(ConfigError) as info:
        load_source_config(write(tmp_path, text.replace("deps.csv", missing)))
    assert "file not found" in problems_of(info.value)["dependants.file"]


@pytest.mark.parametrize(
    ("a", "b"),
    [("Féminin", "feminin"), (" H ", "h"), ("أنثى", "انثى"), ("Chef de ménage", "chefdemenage")],
)
def test_code_key(a: str, b: str) -> None:
    assert code_key(a) == code_key(b)
