"""Read a source file (CSV, XLSX, Parquet) into raw string columns named by canonical field.

:func:`read_source` returns every mapped column as text (nothing inferred), renamed to its
canonical field, plus ``row_number`` (1-based data row, header excluded). Fully empty rows are
skipped (their row numbers are not reused). UTF-8 CSV and Parquet are scanned lazily;
other encodings are transcoded chunk by chunk to a temporary UTF-8 file first.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from registry_link.config.loader import SourceSettings
from registry_link.errors import DuplicateRecordIdError, InputError, MissingColumnError
from registry_link.io.encoding import (
    detect_encoding,
    read_header_line,
    sniff_separator,
    transcode_to_utf8,
)

ROW_NUMBER = "row_number"

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


def file_format(path: Path, declared: str) -> str:
    """The format to read ``path`` as: the declared one, or from the extension."""
    if declared != "auto":
        return declared
    fmt = _EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(str(path), "cannot tell the file format", expected=_EXPECTED_FORMATS)
    return fmt


def _csv_frame(path: Path, settings: SourceSettings) -> pl.LazyFrame | pl.DataFrame:
    encoding = settings.encoding
    if encoding == "auto":
        encoding = detect_encoding(path)
    separator = settings.separator
    if separator == "auto":
        separator = sniff_separator(read_header_line(path, encoding))
    options = {
        "separator": separator,
        "infer_schema": False,
        "truncate_ragged_lines": True,
        "row_index_name": ROW_NUMBER,
        "row_index_offset": 1,
    }
    if encoding in ("utf-8", "utf-8-sig"):
        lossy = "utf8-lossy" if settings.encoding != "auto" else "utf8"
        return pl.scan_csv(path, encoding=lossy, **options)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory(prefix="registry-link-") as tmp:
        utf8 = Path(tmp) / "transcoded.csv"
        transcode_to_utf8(path, utf8, encoding)
        return pl.read_csv(utf8, **options)  # type: ignore[arg-type]


def _xlsx_frame(path: Path, settings: SourceSettings) -> pl.DataFrame:
    try:
        frame = pl.read_excel(
            path,
            sheet_name=settings.sheet,
            infer_schema_length=0,
            drop_empty_rows=False,
            drop_empty_cols=False,
        )
    except Exception as exc:  # fastexcel raises its own exception types
        sheet = f" (sheet {settings.sheet!r})" if settings.sheet else ""
        raise InputError(
            str(path), f"cannot read the Excel file{sheet}: {exc}", expected="an .xlsx workbook"
        ) from None
    frame = frame.with_columns(pl.all().cast(pl.Utf8))
    return frame.with_row_index(ROW_NUMBER, offset=1)


def _raw_frame(path: Path, settings: SourceSettings) -> pl.LazyFrame | pl.DataFrame:
    if not path.exists():
        raise InputError(str(path), "file not found")
    fmt = file_format(path, settings.file_format)
    if fmt == "csv":
        return _csv_frame(path, settings)
    if fmt == "xlsx":
        return _xlsx_frame(path, settings)
    return pl.scan_parquet(path).with_row_index(ROW_NUMBER, offset=1)


def _match_header(column: str, found: list[str]) -> str | None:
    if column in found:
        return column
    wanted = column.strip().casefold()
    for header in found:
        if header.lstrip("\ufeff").strip().casefold() == wanted:
            return header
    return None


def _map_columns(
    frame: pl.LazyFrame | pl.DataFrame, path: Path, columns: Mapping[str, str]
) -> pl.LazyFrame | pl.DataFrame:
    try:
        found = [c for c in frame.collect_schema().names() if c != ROW_NUMBER]
    except pl.exceptions.PolarsError as exc:
        raise InputError(
            str(path), f"cannot read the file: {exc}", expected=_EXPECTED_FORMATS
        ) from None
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
    fields = [e.meta.output_name() for e in exprs[1:]]
    not_empty = pl.any_horizontal(pl.col(f).str.strip_chars().str.len_chars() > 0 for f in fields)
    return frame.select(exprs).filter(not_empty)


def _collect(frame: pl.LazyFrame | pl.DataFrame, path: str) -> pl.DataFrame:
    try:
        return frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    except pl.exceptions.PolarsError as exc:
        raise InputError(path, f"cannot read the file: {exc}", expected=_EXPECTED_FORMATS) from None


def check_record_ids(frame: pl.LazyFrame | pl.DataFrame, label: str) -> None:
    """Raise when a record_id is empty or repeated (naming the ids and their rows)."""
    ids = _collect(
        frame.lazy().select(
            pl.col("record_id").str.strip_chars().alias("record_id"), pl.col(ROW_NUMBER)
        ),
        label,
    )
    empty = ids.filter(pl.col("record_id").is_null() | (pl.col("record_id") == ""))
    if empty.height:
        rows = empty[ROW_NUMBER].head(10).to_list()
        raise InputError(
            label,
            f"{empty.height} row(s) have no record_id, first at rows {rows}",
            row=rows[0],
            field="record_id",
            expected="a record_id on every row",
        )
    dups = (
        ids.filter(pl.col("record_id").is_duplicated())
        .group_by("record_id")
        .agg(pl.col(ROW_NUMBER).sort())
        .filter(pl.col(ROW_NUMBER).list.len() > 1)
        .sort(pl.col(ROW_NUMBER).list.first())
    )
    if dups.height:
        raise DuplicateRecordIdError(
            label, dict(zip(dups["record_id"].to_list(), dups[ROW_NUMBER].to_list(), strict=True))
        )


def read_mapped(
    path: str | Path, settings: SourceSettings, columns: Mapping[str, str] | None = None
) -> pl.LazyFrame | pl.DataFrame:
    """Read one file and rename its mapped columns to canonical fields (no id checks)."""
    path = Path(path)
    frame = _raw_frame(path, settings)
    return _map_columns(frame, path, settings.columns if columns is None else columns)


def read_source(path: str | Path, settings: SourceSettings) -> pl.DataFrame:
    """Read a source file as raw string columns named by canonical field, plus ``row_number``.

    The file is scanned once (UTF-8 CSV and Parquet lazily, other encodings after chunked
    transcoding) into a frame of text columns, then its record ids are checked. With
    ``dependants.mode: file`` the dependants file is read with its own mapping and appended.
    Raises :class:`InputError` (unreadable file, wrong format, empty record_id),
    :class:`MissingColumnError` and :class:`DuplicateRecordIdError`.
    """
    path = Path(path)
    frame = _collect(read_mapped(path, settings), str(path))
    check_record_ids(frame, str(path))
    if settings.dependants_mode != "file" or settings.dependants_file is None:
        return frame
    dep_path = dependants_path(path, settings.dependants_file)
    dep_settings = _auto_format(settings)
    dependants = _collect(
        read_mapped(dep_path, dep_settings, settings.dependants_columns), str(dep_path)
    )
    check_record_ids(dependants, str(dep_path))
    _check_collisions(frame, dependants, f"{path} + dependants file {dep_path}")
    if settings.dependants_source is not None:  # their own source name (the workers': null)
        dependants = dependants.with_columns(source=pl.lit(settings.dependants_source))
    return pl.concat([frame, dependants], how="diagonal_relaxed")


def _auto_format(settings: SourceSettings) -> SourceSettings:
    from dataclasses import replace

    return replace(settings, file_format="auto", sheet=None)


def _check_collisions(
    main: pl.LazyFrame | pl.DataFrame, dependants: pl.LazyFrame | pl.DataFrame, label: str
) -> None:
    left = main.lazy().select("record_id", ROW_NUMBER)
    right = dependants.lazy().select("record_id", pl.col(ROW_NUMBER).alias("dep_row"))
    both = _collect(left.join(right, on="record_id", how="inner").sort(ROW_NUMBER), label)
    if both.height:
        raise DuplicateRecordIdError(
            label,
            {
                rid: [a, b]
                for rid, a, b in both.select("record_id", ROW_NUMBER, "dep_row").iter_rows()
            },
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
