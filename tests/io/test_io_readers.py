"""Readers: CSV (encodings, separators), XLSX, Parquet, dependants, and their errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from registry_link.config import settings_from_dict
from registry_link.errors import DuplicateRecordIdError, InputError, MissingColumnError
from registry_link.io import read_source

COLUMNS = {"record_id": "ID", "family_name": "Nom", "given_name": "Prénom", "cin": "CIN"}
ROWS = [("1", "EL ALAOUI", "Hélène", "BK123456"), ("2", "BENNANI", "Saïd", "")]


def settings(**extra: Any) -> Any:
    base: dict[str, Any] = {"version": 1, "source": "t", "kind": "partner", "columns": COLUMNS}
    base.update(extra)
    return settings_from_dict(base)


def csv_text(sep: str = ";") -> str:
    lines = [sep.join(["ID", "Nom", "Prénom", "CIN"])] + [sep.join(r) for r in ROWS]
    return "\n".join(lines) + "\n"


def collect(frame: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1256", "latin-1"])
@pytest.mark.parametrize("sep", [";", ",", "\t", "|"])
def test_csv_encodings_and_separators(tmp_path: Path, encoding: str, sep: str) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(csv_text(sep).encode(encoding))
    out = collect(read_source(path, settings()))
    assert out.columns == [
        "row_number",
        "record_id",
        "family_name",
        "given_name",
        "cin",
        "read_flags",
    ]
    assert out["family_name"].to_list() == ["EL ALAOUI", "BENNANI"]
    assert out["given_name"].to_list() == ["Hélène", "Saïd"]
    assert out["row_number"].to_list() == [1, 2]
    assert out.schema["row_number"] == pl.UInt32


def test_declared_encoding_and_separator(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_bytes(csv_text("|").encode("cp1256"))
    s = settings(file={"format": "csv", "encoding": "cp1256", "separator": "|"})
    assert collect(read_source(path, s))["given_name"].to_list() == ["Hélène", "Saïd"]


def test_arabic_cp1256(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes("رقم;الاسم\n7;محمد العلوي\n".encode("cp1256"))
    s = settings_from_dict(
        {
            "version": 1,
            "source": "t",
            "kind": "partner",
            "columns": {"record_id": "رقم", "full_name": "الاسم"},
        }
    )
    assert collect(read_source(path, s))["full_name"].to_list() == ["محمد العلوي"]


def test_values_stay_text_and_blank_lines_skipped(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("ID;Nom;Prénom;CIN\n007;A;B;0123\n\n8;C;D;1.50\n", encoding="utf-8")
    out = collect(read_source(path, settings()))
    assert out["record_id"].to_list() == ["007", "8"]
    assert out["cin"].to_list() == ["0123", "1.50"]
    assert out["row_number"].to_list() == [1, 3]


def test_header_match_tolerates_case_and_spaces(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(" id ;NOM;prénom;cin\n1;A;B;C\n", encoding="utf-8")
    assert collect(read_source(path, settings())).height == 1


def test_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("ID;Nom;CIN\n1;A;B\n", encoding="utf-8")
    with pytest.raises(MissingColumnError) as info:
        read_source(path, settings())
    msg = str(info.value)
    assert "'Prénom'" in msg and "given_name" in msg and "'CIN'" in msg and "p.csv" in msg


def test_duplicate_record_ids(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("ID;Nom;Prénom;CIN\n1;A;B;C\n2;A;B;C\n1;X;Y;Z\n", encoding="utf-8")
    with pytest.raises(DuplicateRecordIdError) as info:
        read_source(path, settings())
    assert info.value.duplicates == {"1": [1, 3]}
    assert "p.csv" in str(info.value)


def test_empty_record_id(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("ID;Nom;Prénom;CIN\n1;A;B;C\n;A;B;C\n", encoding="utf-8")
    with pytest.raises(InputError, match="no record_id"):
        read_source(path, settings())


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("p.doc", b"hello", "cannot tell the file format"),
        ("p.parquet", b"not parquet at all", "cannot read"),
        ("p.xlsx", b"not a workbook", "cannot read the Excel file"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: bytes, words: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=words):
        collect(read_source(path, settings()))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_source(tmp_path / "nope.csv", settings())


def test_xlsx_all_text(tmp_path: Path) -> None:
    xlsxwriter = pytest.importorskip("xlsxwriter")
    path = tmp_path / "p.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Liste")
    ws.write_row(0, 0, ["ID", "Nom", "Prénom", "CIN", "CNSS", "Date"])
    ws.write_row(1, 0, [101, "ALAOUI", "Mohamed", "BK1", 123456789, 29221])
    ws.write_row(3, 0, ["102", "IDRISSI", "Fatima", None, 1234567.0])
    ws.write_datetime(3, 5, dt.datetime(1980, 1, 5), wb.add_format({"num_format": "dd/mm/yyyy"}))
    wb.close()
    s = settings_from_dict(
        {
            "version": 1,
            "source": "t",
            "kind": "partner",
            "file": {"sheet": "Liste"},
            "columns": {**COLUMNS, "cnss_number": "CNSS", "birth_date": "Date"},
        }
    )
    out = collect(read_source(path, s))
    assert out["record_id"].to_list() == ["101", "102"]
    assert out["cnss_number"].to_list() == ["123456789", "1234567"]
    assert out["birth_date"].to_list()[0] == "29221"
    assert out["birth_date"].to_list()[1].startswith("1980-01-05")
    assert out["row_number"].to_list() == [1, 3]
    texts = {n: t for n, t in out.schema.items() if n not in ("row_number", "read_flags")}
    assert all(dtype == pl.Utf8 for dtype in texts.values())


def test_parquet(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pl.DataFrame(
        {"ID": [1, 2], "Nom": ["A", "B"], "Prénom": ["C", "D"], "CIN": ["X1", None]}
    ).write_parquet(path)
    out = collect(read_source(path, settings()))
    assert out["record_id"].to_list() == ["1", "2"]
    assert out.schema["record_id"] == pl.Utf8


def test_dependants_file(tmp_path: Path) -> None:
    (tmp_path / "main.csv").write_text("ID;Nom;Prénom;CIN\n1;A;B;C\n2;D;E;F\n", encoding="utf-8")
    (tmp_path / "deps.csv").write_text("num,parent,lien,nom\nd1,1,fils,A\n", encoding="utf-8")
    s = settings_from_dict(
        {
            "version": 1,
            "source": "t",
            "kind": "partner",
            "columns": COLUMNS,
            "dependants": {
                "mode": "file",
                "file": "deps.csv",
                "columns": {
                    "record_id": "num",
                    "principal_record_id": "parent",
                    "relationship": "lien",
                    "family_name": "nom",
                },
            },
        },
        base_dir=tmp_path,
    )
    out = collect(read_source(tmp_path / "main.csv", s))
    assert out["record_id"].to_list() == ["1", "2", "d1"]
    assert out["principal_record_id"].to_list() == [None, None, "1"]
    (tmp_path / "deps.csv").write_text("num,parent,lien,nom\n2,1,fils,A\n", encoding="utf-8")
    with pytest.raises(DuplicateRecordIdError) as info:
        read_source(tmp_path / "main.csv", s)
    # rows (main file, dependants file) say where; the id itself is not printed
    assert "deps.csv" in str(info.value) and "rows [2, 1]" in str(info.value)
    assert "'2'" not in str(info.value)


def test_dependants_file_follows_the_main_file(tmp_path: Path) -> None:
    """`{stem}` and relative paths resolve beside the main file, not beside the config."""
    month = tmp_path / "2026-11"
    month.mkdir()
    (month / "chambre.csv").write_text("ID;Nom;Prénom;CIN\n1;A;B;C\n", encoding="utf-8")
    (month / "chambre_deps.csv").write_text("num,parent,nom\nd1,1,A\n", encoding="utf-8")
    s = settings_from_dict(
        {
            "version": 1,
            "source": "t",
            "kind": "partner",
            "columns": COLUMNS,
            "dependants": {
                "mode": "file",
                "file": "{stem}_deps.csv",
                "columns": {
                    "record_id": "num",
                    "principal_record_id": "parent",
                    "family_name": "nom",
                },
            },
        },
        base_dir=tmp_path / "configs",
    )
    out = collect(read_source(month / "chambre.csv", s))
    assert out["record_id"].to_list() == ["1", "d1"]
    (month / "other.csv").write_text("ID;Nom;Prénom;CIN\n1;A;B;C\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_source(month / "other.csv", s)
    assert "other_deps.csv" in str(info.value) and "other.csv" in str(info.value)
