"""``registry-link fields``: the reference on stdout in each format, a clean error otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from registry_link.cli import main
from registry_link.schema import CANONICAL_FIELDS, REGISTRY_FIELDS

ROOT = Path(__file__).resolve().parents[2]
MODEL = str(ROOT / "configs" / "model.yaml")


def test_json_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    main(["fields", "--model-config", MODEL, "--format", "json"])
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert [d["field"] for d in data] == [*CANONICAL_FIELDS, *REGISTRY_FIELDS]
    assert captured.err == ""


def test_markdown_and_csv(capsys: pytest.CaptureFixture[str]) -> None:
    main(["fields", "--model-config", MODEL, "--format", "markdown"])
    markdown = capsys.readouterr().out
    assert markdown.startswith("| field | applies to | required |")
    assert "| `full_name` |" in markdown
    main(["fields", "--model-config", MODEL, "--format", "csv"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("field,applies_to,required,")
    assert len(lines) == 1 + len(CANONICAL_FIELDS) + len(REGISTRY_FIELDS)


def test_table_names_fields_and_readers(capsys: pytest.CaptureFixture[str]) -> None:
    main(["fields", "--model-config", MODEL])
    out = capsys.readouterr().out
    assert "Canonical fields" in out
    for field in ("cnss_number", "father_given_name", "relation_to_head"):
        assert field in out
    assert "tokens_birth_year" in out


def test_bad_model_config_is_one_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "model.yaml"
    bad.write_text("version: 1\nblocking_rules: []\ncomparisons: []\n", encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["fields", "--model-config", str(bad)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "blocking_rules" in err
    assert "Traceback" not in err


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    main(["fields", "--help"])  # click prints the help and returns
    out = capsys.readouterr().out
    assert "Example:" in out and "registry-link fields --format csv" in out
