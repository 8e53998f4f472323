"""Rows with too few or too many fields: the array count of a file without quotes gives what the
csv module gives (the reference, and the path taken for quoted files)."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from registry_link.io.readers import row_shapes

FIELD = st.text(alphabet=st.sampled_from(list("ab 9éم\t")), max_size=4)
LINE = st.lists(FIELD, min_size=0, max_size=6)


def reference(text: str, separator: str, n_fields: int) -> dict[int, list[str]]:
    rows = list(csv.reader(text.splitlines(keepends=True), delimiter=separator))[1:]
    return {
        i: ["row_short" if len(r) < n_fields else "row_long"]
        for i, r in enumerate(rows, start=1)
        if len(r) != n_fields and any(c.strip() for c in r)
    }


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(LINE, min_size=1, max_size=12),
    separator=st.sampled_from([";", ",", "|"]),
    crlf=st.booleans(),
    final_break=st.booleans(),
)
def test_unquoted_files_are_counted_as_the_csv_module_reads_them(
    lines: list[list[str]], separator: str, crlf: bool, final_break: bool
) -> None:
    header = separator.join(["h1", "h2", "h3"])
    end = "\r\n" if crlf else "\n"
    text = end.join([header, *(separator.join(f) for f in lines)]) + (end if final_break else "")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "list.csv"
        path.write_bytes(text.encode("utf-8"))
        assert row_shapes(path, separator, 3) == reference(text, separator, 3)


def test_a_quoted_file_takes_the_csv_modules_path(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('a;b;c\n"x;y";2;3\n1;2\n', encoding="utf-8")
    assert row_shapes(path, ";", 3) == {2: ["row_short"]}
