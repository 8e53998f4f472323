"""Read a source file (CSV, XLSX, Parquet) into raw string columns named by canonical field.

:func:`read_source` returns every mapped column as text (nothing inferred), renamed to its
canonical field, plus ``row_number`` (1-based data row, header excluded) and ``read_flags``
(reason codes of the reading itself: ``row_short``, ``row_long``, ``excel_error``). Rows blank
in *every* column are skipped and counted (:class:`ReadCounts`; their row numbers are not
reused); a row with text only in unmapped columns is kept. Nothing else is dropped: a stray
quote that would swallow the following rows, an unparseable line, a file in another encoding
than configured, an unreadable file or a header without rows is one :class:`InputError`
naming the file, the row and the field — never a record's values.
"""

from __future__ import annotations

import csv
import html
import re
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from registry_link.config.loader import SourceSettings
from registry_link.errors import (
    DuplicateRecordIdError,
    InputError,
    MissingColumnError,
    os_error_cause,
)
from registry_link.io.encoding import (
    cr_only_line_ends,
    read_header_line,
    resolve_encoding,
    sniff_separator,
    transcode_to_utf8,
)
from registry_link.standardise.text import clean_id_text_expr

ROW_NUMBER = "row_number"
READ_FLAGS = "read_flags"

_EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_EXPECTED_FORMATS = "a .csv/.txt/.tsv, .xlsx/.xls or .parquet file (or set file.format)"
_BLANK = "_blank_row"
_MULTILINE = "_multiline_field"


@dataclass(frozen=True)
class ReadCounts:
    """Rows of one file: ``rows`` kept (every row with text in some column) and
    ``blank_rows`` skipped (blank in every column, e.g. empty lines or ``;;;;``)."""

    rows: int
    blank_rows: int


def file_format(path: Path, declared: str) -> str:
    """The format to read ``path`` as: the declared one, or from the extension."""
    if declared != "auto":
        return declared
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(str(path), "cannot tell the file format", expected=_EXPECTED_FORMATS)
    return fmt


@contextmanager
def _os_errors(path: Path) -> Iterator[None]:
    """Turn an operating-system error while reading ``path`` into one clean InputError."""
    try:
        yield
    except OSError as exc:
        raise InputError(
            str(path),
            f"cannot read the file: {os_error_cause(exc)}",
            expected="a readable file (check its permissions, and give a file, not a folder)",
        ) from None


# ------------------------------------------------------------------------------------ CSV


def _csv_options(separator: str) -> dict[str, object]:
    return {
        "separator": separator,
        "infer_schema": False,
        "truncate_ragged_lines": True,
        "row_index_name": ROW_NUMBER,
        "row_index_offset": 1,
    }


def _header_fields(path: Path, separator: str) -> list[str]:
    """The header's fields as the csv module splits them (a UTF-8 file)."""
    line = read_header_line(path, "utf-8")
    return next(csv.reader([line], delimiter=separator), [])


def row_shapes(path: Path, separator: str, n_fields: int) -> dict[int, list[str]]:
    """Data rows (1-based) with fewer (``row_short``) or more (``row_long``) fields than the
    header; blank rows are not counted short. A file without any double quote is counted with
    array operations (a row is a line: its fields are its separators + 1); otherwise it is read
    with the csv module (quotes and line breaks inside quotes as polars reads them)."""
    data = np.fromfile(path, dtype=np.uint8)
    if not (data == ord('"')).any():
        return _unquoted_row_shapes(data, ord(separator), n_fields)
    csv.field_size_limit(sys.maxsize)
    shapes: dict[int, list[str]] = {}
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=separator)
        next(reader, None)
        try:
            for row_number, row in enumerate(reader, start=1):
                n = len(row)
                if n == n_fields or not any(cell.strip() for cell in row):
                    continue
                shapes[row_number] = ["row_short" if n < n_fields else "row_long"]
        except csv.Error:  # polars' own parse error is reported where it happens
            pass
    return shapes


def _unquoted_row_shapes(data: np.ndarray, separator: int, n_fields: int) -> dict[int, list[str]]:
    """:func:`row_shapes` of a file without quotes, from its bytes (UTF-8: a separator byte is
    never part of a multi-byte character)."""
    ends = np.flatnonzero(data == ord("\n"))
    if ends.size == 0 or ends[-1] != data.size - 1:
        ends = np.append(ends, data.size)  # a last line without its line break
    starts = np.concatenate(([0], ends[:-1] + 1))
    data = np.append(data, np.uint8(ord("\n")))  # reduceat reads one past a final empty line
    seps = np.add.reduceat(data == separator, starts, dtype=np.int32)
    # text: any byte but the separator, spaces and control characters (tab, CR, LF)
    filled = np.add.reduceat((data > 32) & (data != separator), starts, dtype=np.int32)
    empty = ends == starts  # reduceat gives the element at start for an empty range
    seps[empty], filled[empty] = 0, 0
    fields = seps + 1
    bad = np.flatnonzero((fields != n_fields) & (filled > 0))
    return {
        int(i): ["row_short" if fields[i] < n_fields else "row_long"]
        for i in bad
        if i > 0  # line 0 is the header; data row i is line i
    }


def _first_bad_line(path: Path, separator: str) -> tuple[int, str] | None:
    """(data row, cause) of the first line the csv module cannot parse strictly, if any."""
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=separator, strict=True)
        rows_read = 0
        try:
            for _ in reader:
                rows_read += 1
        except csv.Error as exc:
            return max(rows_read, 1), str(exc)  # the header is row 0
    return None


def _parse_error(path: Path, shown: Path, separator: str) -> InputError:
    """The InputError for a CSV polars cannot parse: the first bad row, no cell values."""
    bad = _first_bad_line(path, separator)
    fix = (
        'quotes in pairs around a whole field: a field starting with " must end with " '
        'before the separator; write a quote inside a quoted field as ""'
    )
    if bad is None:
        return InputError(
            str(shown), "cannot parse the file as CSV (a malformed quote)", expected=fix
        )
    row, cause = bad
    return InputError(
        str(shown), f"cannot parse this row as CSV: {cause} (a malformed quote)", row=row,
        expected=fix,
    )  # fmt: skip


@dataclass(frozen=True)
class _CsvText:
    """A CSV file as UTF-8 text polars can scan: the file itself or a transcoded copy."""

    path: Path
    separator: str


def _utf8_text(path: Path, settings: SourceSettings, tmp: Path) -> _CsvText:
    encoding = resolve_encoding(path, settings.encoding)
    cr_only = cr_only_line_ends(path)
    if encoding not in ("utf-8", "utf-8-sig") or cr_only:
        utf8 = tmp / "transcoded.csv"
        transcode_to_utf8(path, utf8, encoding, cr_to_lf=cr_only)
        path = utf8
    separator = settings.separator
    if separator == "auto":
        separator = sniff_separator(read_header_line(path, "utf-8"))
    return _CsvText(path, separator)


def _swallowed_rows_expr(columns: list[str], separator: str) -> pl.Expr:
    """Name of the first column holding a line break followed by a whole row's worth of
    separators (a stray quote read the next rows into this field), else null."""
    k = max(len(columns) - 1, 2)
    pattern = rf"\n(?:[^\n]*{re.escape(separator)}){{{k}}}"
    return pl.coalesce(
        [pl.when(pl.col(c).str.contains(pattern)).then(pl.lit(c)) for c in columns]
        + [pl.lit(None, dtype=pl.Utf8)]
    )


def _csv_frame(
    path: Path, settings: SourceSettings, columns: Mapping[str, str]
) -> tuple[pl.DataFrame, int]:
    with tempfile.TemporaryDirectory(prefix="registry-link-") as tmp:
        text = _utf8_text(path, settings, Path(tmp))
        options = _csv_options(text.separator)
        lazy = pl.scan_csv(text.path, encoding="utf8-lossy", **options)  # type: ignore[arg-type]
        try:
            found = [c for c in lazy.collect_schema().names() if c != ROW_NUMBER]
        except pl.exceptions.PolarsError:
            raise _parse_error(text.path, path, text.separator) from None
        lazy = lazy.with_columns(_swallowed_rows_expr(found, text.separator).alias(_MULTILINE))
        frame, blank = _mapped_frame(lazy, path, columns, found, text.path, text.separator)
        swallowed = frame.filter(pl.col(_MULTILINE).is_not_null())
        if swallowed.height:
            row, column = swallowed.select(ROW_NUMBER, _MULTILINE).row(0)
            field = next((f for f, c in columns.items() if c == column), column)
            raise InputError(
                str(path),
                'a double quote (") opens this field and is not closed where the field ends, '
                "so the next rows of the file were read into it as text",
                row=int(row),
                field=field,
                expected='quotes in pairs around a whole field: remove the stray " or write '
                'it as ""',
            )
        shapes = row_shapes(text.path, text.separator, len(found))
    frame = frame.drop(_MULTILINE).with_columns(_read_flags_expr(shapes))
    return frame, blank


def _read_flags_expr(by_row: Mapping[int, list[str]]) -> pl.Expr:
    """``read_flags``: the reading's reason codes of each row (``[]`` for most)."""
    empty = pl.lit([], dtype=pl.List(pl.Utf8))
    if not by_row:
        return empty.alias(READ_FLAGS)
    codes = pl.col(ROW_NUMBER).replace_strict(
        list(by_row), list(by_row.values()), default=None, return_dtype=pl.List(pl.Utf8)
    )
    return codes.fill_null(empty).alias(READ_FLAGS)


# ----------------------------------------------------------------------------------- XLSX

_MERGE = re.compile(rb'<(?:\w+:)?mergeCell ref="[A-Z]+(\d+):[A-Z]+(\d+)"')
_SHEET = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"')
_REL = re.compile(rb'<Relationship\b[^>]*?Id="([^"]*)"[^>]*?Target="([^"]*)"')
_REL_REVERSED = re.compile(rb'<Relationship\b[^>]*?Target="([^"]*)"[^>]*?Id="([^"]*)"')


def _sheet_member(book: zipfile.ZipFile, sheet: str | None) -> str | None:
    """The zip member of a sheet (by name, else the first sheet) of an .xlsx workbook."""
    sheets = _SHEET.findall(book.read("xl/workbook.xml"))
    rels_xml = book.read("xl/_rels/workbook.xml.rels")
    rels = dict(_REL.findall(rels_xml)) | {k: v for v, k in _REL_REVERSED.findall(rels_xml)}
    for name, rid in sheets:
        if sheet is None or html.unescape(name.decode("utf-8")) == sheet:
            target = rels.get(rid, b"").decode("utf-8").lstrip("/")
            return target if target.startswith("xl/") else f"xl/{target}"
    return None


def merged_rows(path: Path, sheet: str | None) -> set[int]:
    """Data rows (1-based, the header on the sheet's first row) that a merged cell covers
    without holding its value (every row of a vertical merge but the first). Read from the
    workbook's XML (fastexcel does not report merges); empty for anything but .xlsx."""
    try:
        with zipfile.ZipFile(path) as book:
            member = _sheet_member(book, sheet)
            if member is None:
                return set()
            rows: set[int] = set()
            with book.open(member) as fh:
                tail = b""
                while chunk := fh.read(1 << 20):
                    text = tail + chunk
                    for first, last in _MERGE.findall(text):
                        rows.update(range(int(first) + 1, int(last) + 1))
                    tail = text[-200:]
            return {r - 1 for r in rows if r > 1}
    except (zipfile.BadZipFile, KeyError):
        return set()


def _xlsx_frame(path: Path, settings: SourceSettings) -> tuple[pl.DataFrame, dict[int, list[str]]]:
    import fastexcel

    try:
        reader = fastexcel.read_excel(path)
        sheet = reader.load_sheet(settings.sheet if settings.sheet else 0, dtypes="string")
        table, errors = sheet.to_arrow_with_errors()
    except Exception as exc:  # fastexcel raises its own exception types
        where = f" (sheet {settings.sheet!r})" if settings.sheet else ""
        cause = os_error_cause(exc) if isinstance(exc, OSError) else type(exc).__name__
        raise InputError(
            str(path), f"cannot read the Excel file{where}: {cause}", expected="an .xlsx workbook"
        ) from None
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    frame = frame.with_columns(pl.all().cast(pl.Utf8)).with_row_index(ROW_NUMBER, offset=1)
    flagged: dict[int, list[str]] = {}
    for e in errors.errors if errors else []:
        flagged[e.offset_position[0] + 1] = ["excel_error"]
    for row in merged_rows(path, settings.sheet):
        flagged[row] = [*flagged.get(row, []), "excel_merged_cell"]
    return frame, flagged


# -------------------------------------------------------------------------------- mapping


def _match_header(column: str, found: list[str]) -> str | None:
    if column in found:
        return column
    wanted = column.strip().casefold()
    for header in found:
        if header.lstrip("\ufeff").strip().casefold() == wanted:
            return header
    return None


def _blank_expr(columns: list[str]) -> pl.Expr:
    """True when every given column is null or blank."""
    if not columns:
        return pl.lit(True)
    return pl.all_horizontal(
        pl.col(c).cast(pl.Utf8).str.strip_chars().fill_null("").str.len_chars() == 0
        for c in columns
    )


def _mapped_frame(
    frame: pl.LazyFrame | pl.DataFrame,
    path: Path,
    columns: Mapping[str, str],
    found: list[str],
    parsed: Path | None = None,
    separator: str = ",",
) -> tuple[pl.DataFrame, int]:
    """The mapped columns renamed to canonical fields, rows blank everywhere removed; and the
    number of those blank rows."""
    exprs = [pl.col(ROW_NUMBER).cast(pl.UInt32)]
    for field, column in columns.items():
        header = _match_header(column, found)
        if header is None:
            raise MissingColumnError(str(path), column, field, found)
        exprs.append(pl.col(header).cast(pl.Utf8).alias(field))
    if "record_id" not in columns and "person_id" in columns:
        header = _match_header(columns["person_id"], found)
        if header is not None:
            exprs.append(pl.col(header).cast(pl.Utf8).alias("record_id"))
    extra = [pl.col(c) for c in (_MULTILINE, READ_FLAGS) if c in frame.collect_schema().names()]
    selected = frame.lazy().select(*exprs, *extra, _blank_expr(found).alias(_BLANK))
    try:
        collected = selected.collect()
    except pl.exceptions.PolarsError:
        if parsed is None:
            raise InputError(
                str(path), "cannot read the file", expected=_EXPECTED_FORMATS
            ) from None
        raise _parse_error(parsed, path, separator) from None
    blank = int(collected[_BLANK].sum())
    return collected.filter(~pl.col(_BLANK)).drop(_BLANK), blank


def _read_file(
    path: Path, settings: SourceSettings, columns: Mapping[str, str]
) -> tuple[pl.DataFrame, int]:
    """(mapped frame with ``read_flags``, blank rows skipped) of one file of any format."""
    if not path.exists():
        raise InputError(str(path), "file not found")
    if path.is_dir():
        raise InputError(
            str(path), "cannot read the file: it is a folder, not a file", expected="a file"
        )
    fmt = file_format(path, settings.file_format)
    with _os_errors(path):
        if fmt == "csv":
            return _csv_frame(path, settings, columns)
        if fmt == "xlsx":
            raw, flagged = _xlsx_frame(path, settings)
            found = [c for c in raw.columns if c != ROW_NUMBER]
            frame, blank = _mapped_frame(raw, path, columns, found)
            return frame.with_columns(_read_flags_expr(flagged)), blank
        try:
            lazy = pl.scan_parquet(path).with_row_index(ROW_NUMBER, offset=1)
            found = [c for c in lazy.collect_schema().names() if c != ROW_NUMBER]
        except pl.exceptions.PolarsError:
            raise InputError(
                str(path), "cannot read the file as Parquet", expected=_EXPECTED_FORMATS
            ) from None
        frame, blank = _mapped_frame(lazy, path, columns, found)
        return frame.with_columns(_read_flags_expr({})), blank


def check_record_ids(frame: pl.LazyFrame | pl.DataFrame, label: str) -> None:
    """Raise when a record_id is empty or repeated (naming the rows; ids masked).

    Ids are compared as the standardiser keeps them: invisible characters (byte-order marks,
    zero-width and bidi controls) removed and spaces trimmed, so two ids that differ only by
    such characters are reported here, with both rows.
    """
    ids = frame.lazy().select(
        clean_id_text_expr(pl.col("record_id")).alias("record_id"),
        pl.col("record_id").alias("_raw"),
        pl.col(ROW_NUMBER),
    )
    try:
        ids_df = ids.collect()
    except pl.exceptions.PolarsError:
        raise InputError(label, "cannot read the record ids", field="record_id") from None
    empty = ids_df.filter(pl.col("record_id").is_null())
    if empty.height:
        rows = empty[ROW_NUMBER].head(10).to_list()
        invisible = empty.filter(pl.col("_raw").str.len_chars() > 0).height
        note = (
            f" ({invisible} of them hold only invisible characters or spaces)" if invisible else ""
        )
        raise InputError(
            label,
            f"{empty.height} row(s) have no record_id, first at rows {rows}{note}",
            row=rows[0],
            field="record_id",
            expected="a record_id on every row (a row with text only in unmapped columns "
            "needs one too, or delete it)",
        )
    dups = (
        ids_df.filter(pl.col("record_id").is_duplicated())
        .group_by("record_id")
        .agg(pl.col(ROW_NUMBER).sort(), pl.col("_raw").n_unique().alias("_forms"))
        .filter(pl.col(ROW_NUMBER).list.len() > 1)
        .sort(pl.col(ROW_NUMBER).list.first())
    )
    if dups.height:
        note = ""
        if (dups["_forms"] > 1).any():
            note = (
                "; some differ only by invisible characters (byte-order mark, zero-width or "
                "bidi controls) or spaces, which are removed"
            )
        raise DuplicateRecordIdError(
            label,
            dict(zip(dups["record_id"].to_list(), dups[ROW_NUMBER].to_list(), strict=True)),
            note,
        )


def read_mapped(
    path: str | Path, settings: SourceSettings, columns: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """Read one file and rename its mapped columns to canonical fields (no id checks)."""
    path = Path(path)
    return _read_file(path, settings, settings.columns if columns is None else columns)[0]


def read_source_counted(
    path: str | Path, settings: SourceSettings
) -> tuple[pl.DataFrame, ReadCounts]:
    """:func:`read_source`, and how many rows were kept and skipped as blank (all files)."""
    path = Path(path)
    frame, blank = _read_file(path, settings, settings.columns)
    if frame.height == 0:
        raise InputError(
            str(path),
            "the file has no data rows"
            + (f" ({blank} blank row(s) under the header)" if blank else " (only a header)"),
            expected="at least one record under the header",
        )
    check_record_ids(frame, str(path))
    if settings.dependants_mode != "file" or settings.dependants_file is None:
        return frame, ReadCounts(frame.height, blank)
    dep_path = dependants_path(path, settings.dependants_file)
    dep_settings = replace(settings, file_format="auto", sheet=None)
    dep_columns = settings.dependants_columns or settings.columns
    dependants, dep_blank = _read_file(dep_path, dep_settings, dep_columns)
    check_record_ids(dependants, str(dep_path))
    _check_collisions(frame, dependants, f"{path} + dependants file {dep_path}")
    if settings.dependants_source is not None:  # their own source name (the workers': null)
        dependants = dependants.with_columns(source=pl.lit(settings.dependants_source))
    both = pl.concat([frame, dependants], how="diagonal_relaxed")
    return both, ReadCounts(both.height, blank + dep_blank)


def read_source(path: str | Path, settings: SourceSettings) -> pl.DataFrame:
    """Read a source file as raw string columns named by canonical field, plus ``row_number``
    and ``read_flags``.

    UTF-8 CSV and Parquet are scanned lazily (only the mapped columns are kept), other
    encodings and lone-CR line ends after chunked transcoding; then its record ids are
    checked. With ``dependants.mode: file`` the dependants file is read with its own mapping
    and appended. Raises :class:`InputError` (unreadable file, wrong format or encoding, a
    malformed quote, no data rows, empty record_id), :class:`MissingColumnError` and
    :class:`DuplicateRecordIdError`.
    """
    return read_source_counted(path, settings)[0]


def _check_collisions(main: pl.DataFrame, dependants: pl.DataFrame, label: str) -> None:
    left = main.lazy().select(clean_id_text_expr(pl.col("record_id")).alias("rid"), ROW_NUMBER)
    right = dependants.lazy().select(
        clean_id_text_expr(pl.col("record_id")).alias("rid"), pl.col(ROW_NUMBER).alias("dep_row")
    )
    both = left.join(right, on="rid", how="inner").sort(ROW_NUMBER).collect()
    if both.height:
        raise DuplicateRecordIdError(
            label,
            {rid: [a, b] for rid, a, b in both.select("rid", ROW_NUMBER, "dep_row").iter_rows()},
        )


def dependants_path(main_file: Path, configured: Path) -> Path:
    """The dependants file of a main file: ``{stem}`` replaced by the main file's stem, a relative
    path taken from the main file's folder (so one config serves every month's pair of files).

    Raises:
        InputError: the dependants file does not exist.
    """
    text = str(configured).replace("{stem}", main_file.stem)
    dep = Path(text)
    if not dep.is_absolute():
        dep = main_file.parent / dep
    if not dep.exists():
        raise InputError(
            str(main_file),
            f"its dependants file {dep} does not exist",
            field="dependants.file",
            expected=f"the file named by the config's dependants.file ({configured}), "
            f"beside {main_file.name}",
        )
    return dep
