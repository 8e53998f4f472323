"""A split name looked up in an unsplit full name (issue 16, OF-026): by name, not by key only,
as one token or two adjacent ones, or as a variant of one."""

from __future__ import annotations

import polars as pl
import pytest

from registry_link.names import matching_form
from registry_link.names.unsplit import (
    IN_UNSPLIT_NONE,
    IN_UNSPLIT_SAME,
    IN_UNSPLIT_VARIANT,
    pairwise_name_in_unsplit,
    unsplit_parts,
)

CASES = [
    # (split name, unsplit full name, how it is found)
    # one token, either script, either order
    ("Azizi", "فاطمة الزهراء العزيزي", IN_UNSPLIT_SAME),
    ("Alaoui", "Mohamed El Alaoui", IN_UNSPLIT_SAME),
    ("محمد", "ALAOUI Mohammed", IN_UNSPLIT_SAME),
    # two adjacent tokens: a compound given name
    ("Fatima Zahra", "فاطمة الزهراء العزيزي", IN_UNSPLIT_SAME),
    ("Fatima Zahra", "ALAOUI Fatima Zahra", IN_UNSPLIT_SAME),
    # a shared key is not the same name: Azzouzi / العزيزي (ou against i)
    ("Azzouzi", "فاطمة الزهراء العزيزي", IN_UNSPLIT_NONE),
    ("Ali", "Youssef Alaoui", IN_UNSPLIT_NONE),
    # a variant of a token: a dropped prefix, a partial compound
    ("Ben Moussa", "MOUSSA Abdellah", IN_UNSPLIT_VARIANT),
    ("Ali", "Fatima Zahra Ben Ali", IN_UNSPLIT_VARIANT),
    ("Fatim Zahra", "AZHARI Zahra", IN_UNSPLIT_VARIANT),
    ("Mohamed Amine", "IDRISSI Amine", IN_UNSPLIT_VARIANT),
    # the common first part of a compound alone is not a variant
    ("Fatima Zahra", "BENNANI Fatima", IN_UNSPLIT_NONE),
    ("Karim", "Fatima Zahra Ben Ali", IN_UNSPLIT_NONE),
]


def _found(name: str | None, full: str | None) -> int | None:
    names = pl.Series([matching_form(name)], dtype=pl.Utf8)
    fulls = pl.Series([matching_form(full)], dtype=pl.Utf8)
    return pairwise_name_in_unsplit(names, fulls).item()


@pytest.mark.parametrize(("name", "full", "expected"), CASES)
def test_name_in_unsplit(name: str, full: str, expected: int) -> None:
    assert _found(name, full) == expected


def test_many_rows_at_once_agree_with_one_by_one() -> None:
    names = pl.Series([matching_form(n) for n, _, _ in CASES] * 2, dtype=pl.Utf8)
    fulls = pl.Series([matching_form(f) for _, f, _ in CASES] * 2, dtype=pl.Utf8)
    got = pairwise_name_in_unsplit(names, fulls)
    assert got.dtype == pl.Int8
    assert got.to_list() == [e for _, _, e in CASES] * 2


def test_nulls_empty_and_lengths() -> None:
    assert _found(None, "Mohamed Alaoui") is None
    assert _found("Mohamed", None) is None
    empty = pl.Series([], dtype=pl.Utf8)
    assert pairwise_name_in_unsplit(empty, empty).len() == 0
    with pytest.raises(ValueError, match="lengths differ"):
        pairwise_name_in_unsplit(pl.Series(["a"]), pl.Series(["a", "b"]))


def test_unsplit_parts_are_tokens_and_adjacent_pairs() -> None:
    parts = unsplit_parts(pl.Series(["fatma zhra ezizi", None, "ali"]))
    assert parts.filter(pl.col("i") == 0)["part"].to_list() == [
        "fatma",
        "zhra",
        "ezizi",
        "fatma zhra",
        "zhra ezizi",
    ]
    assert parts.filter(pl.col("i") == 2)["part"].to_list() == ["ali"]
    assert 1 not in parts["i"].to_list()
