"""Sex codes and relationship codes."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.config.codes import BUILTIN_RELATIONSHIP_CODES, code_key, merge_codes
from registry_link.standardise.codes import (
    principal_missing_expr,
    relation_to_head_expr,
    relationship_code_expr,
    relationship_expr,
)
from registry_link.standardise.sex import sex_expr, sex_unknown_expr


def sex_of(values: list[str | None], codes: dict[str, str] | None = None) -> list[tuple]:  # type: ignore[type-arg]
    df = pl.DataFrame({"x": values}, schema={"x": pl.Utf8})
    kw = {} if codes is None else {"codes": codes}
    out = df.select(s=sex_expr(pl.col("x"), **kw), u=sex_unknown_expr(pl.col("x"), **kw))
    return list(out.iter_rows())


@pytest.mark.parametrize(
    ("raw", "sex", "unknown"),
    [
        ("M", "M", False),
        ("m", "M", False),
        ("H", "M", False),
        ("Homme", "M", False),
        (" MASCULIN ", "M", False),
        ("1", "M", False),
        ("ذكر", "M", False),
        ("F", "F", False),
        ("Femme", "F", False),
        ("Féminin", "F", False),
        ("feminin", "F", False),
        ("2", "F", False),
        ("أنثى", "F", False),
        ("انثى", "F", False),
        ("Z", None, True),
        ("3", None, True),
        ("", None, False),
        ("-", None, False),
        ("N/A", None, False),
        (None, None, False),
    ],
)
def test_sex(raw: str | None, sex: str | None, unknown: bool) -> None:
    assert sex_of([raw]) == [(sex, unknown)]


@pytest.mark.parametrize(
    ("raw", "sex"),
    [
        ("M.", "M"),
        ("M", "M"),
        ("Mr", "M"),
        ("Monsieur", "M"),
        ("monsieur ", "M"),
        ("السيد", "M"),
        ("Mme", "F"),
        ("MME.", "F"),
        ("Madame", "F"),
        ("Mlle", "F"),
        ("Mlle.", "F"),
        ("Melle", "F"),
        ("Mademoiselle", "F"),
        ("السيدة", "F"),
        ("الآنسة", "F"),
        ("Dr", None),  # a title that says nothing of sex stays unknown
    ],
)
def test_civility_codes_are_sex_codes(raw: str, sex: str | None) -> None:
    assert sex_of([raw]) == [(sex, sex is None)]


def test_config_overrides_a_civility_code() -> None:
    from registry_link.config.codes import BUILTIN_SEX_CODES

    codes = merge_codes(BUILTIN_SEX_CODES, {"M": ["Mme"]})  # a config may say otherwise
    assert sex_of(["Mme", "Mlle"], codes) == [("M", False), ("F", False)]


def test_config_codes_extend_builtins() -> None:
    from registry_link.config.codes import BUILTIN_SEX_CODES

    codes = merge_codes(BUILTIN_SEX_CODES, {"M": ["G"], "F": ["1"]})  # config overrides
    assert sex_of(["G", "1", "H"], codes) == [("M", False), ("F", False), ("M", False)]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=12)), max_size=15))
def test_sex_never_raises_and_is_idempotent(values: list[str | None]) -> None:
    df = pl.DataFrame({"x": values}, schema={"x": pl.Utf8})
    once = df.select(s=sex_expr(pl.col("x")))
    assert once.select(s=sex_expr(pl.col("s")))["s"].to_list() == once["s"].to_list()


@pytest.mark.parametrize(
    ("code", "pid", "expected"),
    [
        (None, None, "principal"),
        ("adhérent", None, "principal"),
        ("Conjointe", "P1", "spouse"),
        ("épouse", "P1", "spouse"),
        ("زوجة", "P1", "spouse"),
        ("ENFANT", "P1", "child"),
        ("ابن", "P1", "child"),
        ("autre", "P1", "other"),
        ("cousin", "P1", None),
        (None, "P1", None),
    ],
)
def test_relationship(code: str | None, pid: str | None, expected: str | None) -> None:
    df = pl.DataFrame({"c": [code], "p": [pid]}, schema={"c": pl.Utf8, "p": pl.Utf8})
    out = df.select(r=relationship_expr(relationship_code_expr(pl.col("c")), pl.col("p")))
    assert out["r"].to_list() == [expected]


def test_relationship_config_codes() -> None:
    codes = merge_codes(BUILTIN_RELATIONSHIP_CODES, {"spouse": ["CJ"], "child": ["ENF"]})
    df = pl.DataFrame({"c": ["CJ", "enf", "ENFANT"]})
    out = df.select(relationship_code_expr(pl.col("c"), codes))
    assert out.to_series().to_list() == ["spouse", "child", "child"]


def test_without_principal_column_everyone_is_principal() -> None:
    df = pl.DataFrame({"c": [None, "fils"]}, schema={"c": pl.Utf8})
    out = df.select(relationship_expr(relationship_code_expr(pl.col("c")), None))
    assert out.to_series().to_list() == ["principal", "child"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("CHEF", "head"),
        ("Chef de ménage", "head"),
        ("رب الأسرة", "head"),
        ("EPOUSE", "spouse"),
        ("FILS", "child"),
        ("FILLE", "child"),
        ("PERE", "other"),
        ("PETITE-FILLE", "other"),
        ("SOEUR", "other"),
        ("voisin", None),
    ],
)
def test_relation_to_head(raw: str, expected: str | None) -> None:
    out = pl.DataFrame({"x": [raw]}).select(relation_to_head_expr(pl.col("x")))
    assert out.to_series().to_list() == [expected]


def test_principal_missing() -> None:
    df = pl.DataFrame(
        {"rid": ["1", "2", "3", "4"], "pid": [None, "1", "9", " 2 "]},
    )
    out = df.select(principal_missing_expr(pl.col("pid"), pl.col("rid")))
    assert out.to_series().to_list() == [False, False, True, False]


def test_code_key_matches_expression() -> None:
    values = ["Féminin", " Chef de Ménage ", "أنثى", "PETIT-FILS", "N/A"]
    from registry_link.standardise.text import code_key_expr

    out = pl.DataFrame({"x": values}).select(code_key_expr(pl.col("x"))).to_series().to_list()
    assert out == [code_key(v) for v in values]
