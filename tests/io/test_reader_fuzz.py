"""Fuzz test of the CSV reader (issue 19): random bytes and random quoting either read (every
row with text kept, blank rows counted) or give one :class:`InputError` — never another
exception, never a row silently lost."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry_link.config.loader import settings_from_dict
from registry_link.errors import RegistryLinkError
from registry_link.io.readers import read_source_counted

SETTINGS = settings_from_dict(
    {
        "version": 1,
        "source": "fuzz",
        "kind": "partner",
        "columns": {"record_id": "id", "family_name": "nom", "given_name": "prenom"},
    }
)
_FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read(content: bytes) -> tuple[int, int] | None:
    """(rows, blank rows) read from ``content``, or None for a clean user error."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        path.write_bytes(content)
        try:
            frame, counts = read_source_counted(path, SETTINGS)
        except RegistryLinkError:
            return None
        numbers = frame["row_number"].to_list()
        assert numbers == sorted(set(numbers))  # one row per number, in file order
        assert counts.rows == frame.height
        return counts.rows, counts.blank_rows


@_FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(content: bytes) -> None:
    _read(b"id;nom;prenom\n" + content)
    _read(content)


_CELL = st.text(
    st.one_of(
        st.sampled_from(list("\"'\r\n;,  \t\x00\ufeff")),
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.characters(min_codepoint=0x0621, max_codepoint=0x064A),
    ),
    max_size=8,
)


@st.composite
def quoted_rows(draw: st.DrawFn) -> tuple[str, list[list[str]]]:
    """A separator and rows of random cells, some wrapped in quotes, some with stray quotes."""
    sep = draw(st.sampled_from([";", ",", "\t"]))
    rows = []
    for i in range(draw(st.integers(0, 8))):
        cells = [f"r{i}", draw(_CELL), draw(_CELL)]
        cells += [draw(_CELL) for _ in range(draw(st.integers(-1, 2)))]
        rows.append([f'"{c}"' if draw(st.booleans()) and '"' not in c else c for c in cells])
    return sep, rows


@_FUZZ
@given(quoted_rows(), st.sampled_from(["\n", "\r\n", "\r"]), st.sampled_from(["utf-8", "cp1256"]))
def test_random_quoting(case: tuple[str, list[list[str]]], eol: str, encoding: str) -> None:
    sep, rows = case
    text = eol.join([sep.join(["id", "nom", "prenom"]), *(sep.join(r) for r in rows)]) + eol
    content = text.encode(encoding, errors="replace")
    result = _read(content)
    plain = not any(ch in c for r in rows for c in r for ch in '"\r\n')
    if result is not None and plain and "\x00" not in text:
        # no quoting and no line break inside a cell: every line is a row, kept or counted
        kept, blank = result
        assert kept + blank == len(rows)


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_every_line_is_a_row_or_counted_blank(eol: str) -> None:
    lines = ["id;nom;prenom", "1;A;B", ";;", "", "2;C;D", ";x;", "3;E;F"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        path.write_text(eol.join(lines) + eol, encoding="utf-8")
        with pytest.raises(RegistryLinkError, match=r"row 5 .*no record_id|rows \[5\]"):
            read_source_counted(path, SETTINGS)
        path.write_text(eol.join(lines[:5] + lines[6:]) + eol, encoding="utf-8")
        frame, counts = read_source_counted(path, SETTINGS)
    assert frame["record_id"].to_list() == ["1", "2", "3"] and counts.blank_rows == 2
