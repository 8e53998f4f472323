"""Bad input (issue 19): no row lost, every unusable value flagged, the real cause named, and
no personal data in messages.

Every malformed file is built here. A user's mistake is exit 2 and one ``error:`` line naming
the file, the row and the field, the cause and the fix — never a traceback, never another
record's values. Permission cases run the CLI in a child process whose capabilities
``CAP_DAC_OVERRIDE`` and ``CAP_DAC_READ_SEARCH`` are dropped (``prctl(PR_CAPBSET_DROP)``
before ``exec``), so that even root is refused by the operating system for real.
"""

from __future__ import annotations

import codecs
import ctypes
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from registry_link.cli import main
from registry_link.standardise import load_standardised

CONFIG = """\
version: 1
source: t
kind: partner
file: {{encoding: {encoding}, separator: ";"}}
columns:
  record_id: id
  family_name: nom
  given_name: prenom
  cin: cin
  birth_date: ddn
  principal_record_id: principal
  relationship: lien
dependants:
  mode: rows
  relationship_codes:
    principal: [adherent]
    child: [enfant]
"""
HEADER = "id;nom;prenom;cin;ddn;principal;lien;note"


def rows(n: int) -> list[str]:
    """``n`` well-formed synthetic rows (a principal every 4th row, else children)."""
    out = []
    for i in range(1, n + 1):
        principal = i - (i - 1) % 4
        lien = "adherent" if i == principal else "enfant"
        parent = "" if i == principal else f"R{principal:04d}"
        out.append(f"R{i:04d};Nom{chr(96 + i % 26)}x;Prenom{chr(96 + i % 26)}y;"
                   f"BK{100000 + i};{1950 + i}-01-15;{parent};{lien};")  # fmt: skip
    return out


def write(
    tmp_path: Path, text: str | bytes, encoding: str = "auto", name: str = "p.csv"
) -> tuple[Path, Path]:
    data, config = tmp_path / name, tmp_path / "p.yaml"
    data.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    config.write_text(CONFIG.format(encoding=encoding), encoding="utf-8")
    return data, config


def csv_text(lines: list[str]) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


def run_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the CLI, expect exit 2 and one clean error line; return it."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(args)
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert "Traceback" not in err and "error: " in err, err
    message = err[err.index("error: ") :]  # after match's progress lines, if any
    assert err[: err.index("error: ")].count("error") == 0, err
    notes = message.strip().split("\n")[1:]
    assert all(n.startswith("  (") for n in notes), err  # one message, and its notes
    return message


def standardise_error(data: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> str:
    return run_error(
        ["standardise", str(data), "--config", str(config), "--out", str(data.with_suffix(".pq"))],
        capsys,
    )


def standardised(data: Path, config: Path) -> pl.DataFrame:
    return load_standardised(data, config).frame


def flags_of(frame: pl.DataFrame, record_id: str) -> list[str]:
    return frame.filter(pl.col("record_id") == record_id)["flags"].to_list()[0]


# ------------------------------------------------------------ refusals of the operating system

_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _drop_file_override() -> None:
    """In the child, before exec: lose root's power to ignore file modes."""
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if _LIBC.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and os.geteuid() == 0:
            raise OSError(ctypes.get_errno(), "cannot drop a capability")


def run_refused(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``registry-link ARGS`` in a child process that file modes bind (root included)."""
    code = "import sys; from registry_link.cli import main; main(sys.argv[1:])"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        preexec_fn=_drop_file_override,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_clean_refusal(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error: "), proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr


@pytest.fixture()
def refusable(tmp_path: Path) -> Path:
    """A folder the child process may read but not write, checked to refuse for real."""
    folder = tmp_path / "locked"
    folder.mkdir()
    probe = run_refused_probe(folder)
    if probe:
        pytest.skip(probe)
    return folder


def run_refused_probe(folder: Path) -> str:
    folder.chmod(0o555)
    proc = subprocess.run(
        [sys.executable, "-c", f"open({str(folder / 'x')!r}, 'w')"],
        preexec_fn=_drop_file_override,
        capture_output=True,
        text=True,
    )
    folder.chmod(0o755)
    return "" if "PermissionError" in proc.stderr else "the OS does not refuse here"


def test_out_into_a_read_only_folder(tmp_path: Path, refusable: Path) -> None:
    data, config = write(tmp_path, csv_text(rows(4)))
    refusable.chmod(0o555)
    try:
        proc = run_refused(
            ["standardise", str(data), "--config", str(config), "--out", str(refusable / "o.pq")]
        )
    finally:
        refusable.chmod(0o755)
    assert_clean_refusal(proc, str(refusable / "o.pq"), "permission denied", "--out")


def test_default_output_beside_a_read_only_input(tmp_path: Path, refusable: Path) -> None:
    data, config = write(refusable, csv_text(rows(4)))
    refusable.chmod(0o555)
    try:
        proc = run_refused(["standardise", str(data), "--config", str(config)])
    finally:
        refusable.chmod(0o755)
    assert_clean_refusal(proc, "p.standardised.parquet", "permission denied", "beside the input")


def test_out_under_an_existing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, config = write(tmp_path, csv_text(rows(4)))
    blocker = tmp_path / "taken"
    blocker.write_text("x")
    err = run_error(
        ["standardise", str(data), "--config", str(config), "--out", str(blocker / "o.pq")],
        capsys,
    )
    assert str(blocker / "o.pq") in err
    assert "a part of the path is a file" in err or "a file is in the way" in err


DEPENDANTS_CONFIG = """\
version: 1
source: t
kind: partner
file: {separator: ";"}
columns: {record_id: id, family_name: nom}
dependants:
  mode: file
  file: deps.csv
  columns: {record_id: id, principal_record_id: principal, family_name: nom}
"""


def _dependants_files(folder: Path) -> tuple[Path, Path]:
    data, config = folder / "main.csv", folder / "main.yaml"
    data.write_text("id;nom\n1;Alaoui\n", encoding="utf-8")
    config.write_text(DEPENDANTS_CONFIG, encoding="utf-8")
    return data, config


def test_dependants_file_without_read_permission(tmp_path: Path, refusable: Path) -> None:
    data, config = _dependants_files(tmp_path)
    deps = tmp_path / "deps.csv"
    deps.write_text("id;principal;nom\nd1;1;Alaoui\n", encoding="utf-8")
    deps.chmod(0o000)
    try:
        proc = run_refused(
            ["standardise", str(data), "--config", str(config), "--out", str(tmp_path / "o.pq")]
        )
    finally:
        deps.chmod(0o644)
    assert_clean_refusal(proc, str(deps), "permission denied", "readable file")


def test_dependants_path_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, config = _dependants_files(tmp_path)
    (tmp_path / "deps.csv").mkdir()
    err = standardise_error(data, config, capsys)
    assert "deps.csv" in err and "it is a folder" in err


# ------------------------------------------------------------------------------ rows kept


def test_stray_quote_that_swallows_rows_is_an_error_naming_row_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = rows(20)
    lines[4] = lines[4].replace(";Prenom", ';"Prenom', 1)  # opens a quote in row 5
    lines[8] = lines[8].replace("y;BK", 'y";BK', 1)  # closes it at the end of a field, row 9
    data, config = write(tmp_path, csv_text(lines))
    err = standardise_error(data, config, capsys)
    assert "row 5" in err and "field 'given_name'" in err and "double quote" in err
    assert "remove the stray" in err
    assert "BK100006" not in err and "R0007" not in err  # no record's values


def test_rows_with_text_only_in_unmapped_columns_are_not_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = rows(18)
    lines[3:3] = [";;;;;;;note only", ";;;;;;;total 18"]
    lines.append(";;;;;;;")  # blank in every column: skipped, counted
    data, config = write(tmp_path, csv_text(lines))
    err = standardise_error(data, config, capsys)
    assert "2 row(s) have no record_id, first at rows [4, 5]" in err
    assert "unmapped columns" in err


def test_blank_rows_are_counted(tmp_path: Path) -> None:
    data, config = write(tmp_path, csv_text([*rows(3), ";;;;;;;", "", *rows(6)[3:]]))
    result = load_standardised(data, config)
    assert result.frame.height == 6 and result.report.blank_rows == 2
    assert result.counts is not None and result.counts.rows == 6
    assert result.frame["row_number"].to_list() == [1, 2, 3, 6, 7, 8]


# ------------------------------------------------------------------ values flagged, not lost


@pytest.mark.parametrize(
    "name",
    ["\u0640\u0640\u0640", "\u064e\u0650\u0651", "😀😀", "---", "12345", "؟؟"],
    ids=["tatweel", "diacritics", "emoji", "dashes", "digits", "arabic-question-marks"],
)
def test_names_without_letters_are_flagged_no_name(tmp_path: Path, name: str) -> None:
    lines = rows(2)
    lines[1] = f"R0002;{name};{name};BK100002;1952-01-15;R0001;enfant;"
    frame = standardised(*write(tmp_path, csv_text(lines)))
    assert {"no_name", "name_unusable"} <= set(flags_of(frame, "R0002"))
    assert "no_name" not in flags_of(frame, "R0001")


def test_one_letterless_name_field_is_flagged_name_unusable(tmp_path: Path) -> None:
    lines = rows(1)
    lines[0] = "R0001;Alaoui;---;BK100001;1951-01-15;;adherent;"
    frame = standardised(*write(tmp_path, csv_text(lines)))
    assert flags_of(frame, "R0001") == ["name_unusable"]


def test_arabic_presentation_forms_and_ligatures_are_matched(tmp_path: Path) -> None:
    from registry_link import name_similarity
    from registry_link.names.matcher import matching_form

    assert name_similarity("ﻣﺤﻤﺪ", "محمد") == 1.0
    assert matching_form("عبدﷲ") == matching_form("عبدالله")
    assert matching_form("ﺍﻟﻌﻠﻮﻱ ﻣﺤﻤﺪ") == matching_form("العلوي محمد")
    lines = rows(2)
    lines[1] = "R0002;ﺍﻟﻌﻠﻮﻱ;ﻣﺤﻤﺪ;BK100002;1952-01-15;R0001;enfant;"
    frame = standardised(*write(tmp_path, csv_text(lines)))
    row = frame.filter(pl.col("record_id") == "R0002").row(0, named=True)
    typed = [lines[0], "R0002;العلوي;محمد;BK1;1952;R0001;enfant;"]
    plain = standardised(*write(tmp_path, csv_text(typed)))
    expected = plain.filter(pl.col("record_id") == "R0002").row(0, named=True)
    assert row["given_key"] and row["given_key"] == expected["given_key"]
    assert row["family_key"] == expected["family_key"]
    assert row["flags"] == []


def test_invisible_characters_in_ids_are_removed_and_flagged(tmp_path: Path) -> None:
    lines = rows(3)
    lines[0] = "\ufeff" + lines[0]  # a BOM in the middle of a file: on the first data row
    lines[1] = lines[1].replace("R0002", "R\u200b0002").replace("BK100002", "BK100\u202b002")
    lines[2] = lines[2].replace(";R0001;", ";R00\u200b01;")  # its principal, id with a ZWSP
    frame = standardised(*write(tmp_path, csv_text(lines)))
    assert frame["record_id"].to_list() == ["R0001", "R0002", "R0003"]
    assert frame["cin"].to_list()[1] == "BK100002"
    assert "id_invisible_characters" in flags_of(frame, "R0002")
    assert flags_of(frame, "R0003") == ["id_invisible_characters"]  # principal found
    assert frame["principal_record_id"].to_list()[2] == "R0001"


def test_ids_that_collide_once_invisible_characters_go_name_both_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = rows(3)
    lines[2] = lines[2].replace("R0003", "R0001\u200f")
    err = standardise_error(*write(tmp_path, csv_text(lines)), capsys)
    assert "at rows [1, 3]" in err and "invisible characters" in err
    assert "R0001" not in err  # masked: R0…01


def test_an_id_of_only_invisible_characters_is_a_missing_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = rows(3)
    lines[1] = lines[1].replace("R0002", "\u200b\u200e")
    err = standardise_error(*write(tmp_path, csv_text(lines)), capsys)
    assert "row 2" in err and "no record_id" in err and "invisible" in err


def test_a_nul_byte_does_not_split_a_name(tmp_path: Path) -> None:
    lines = rows(2)
    lines[1] = lines[1].replace("Prenom", "Pre\x00nom")
    frame = standardised(*write(tmp_path, csv_text(lines)))
    row = frame.filter(pl.col("record_id") == "R0002").row(0, named=True)
    assert " " not in row["given_lat"] and "control_characters" in row["flags"]


def test_a_truncated_row_is_flagged_not_silently_a_principal(tmp_path: Path) -> None:
    lines = rows(4)
    lines[1] = "R0002;Nomx;Prenomy;BK100002;1952-01-15"  # principal and relationship cut off
    frame = standardised(*write(tmp_path, csv_text(lines)))
    assert "row_short" in flags_of(frame, "R0002")
    assert all("row_short" not in flags_of(frame, r) for r in ("R0001", "R0003", "R0004"))


def test_extra_fields_of_a_ragged_row_are_flagged(tmp_path: Path) -> None:
    lines = rows(3)
    lines[2] = lines[2] + ";extra;more"
    frame = standardised(*write(tmp_path, csv_text(lines)))
    assert flags_of(frame, "R0003") == ["row_long"]
    assert frame.height == 3


def test_excel_error_cells_are_flagged(tmp_path: Path) -> None:
    xlsxwriter = pytest.importorskip("xlsxwriter")
    path = tmp_path / "p.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet()
    ws.write_row(0, 0, HEADER.split(";"))
    ws.write_row(1, 0, ["R0001", "Alaoui", "Mohamed", "BK1", "1950"])
    ws.write_row(2, 0, ["R0002", "Bennani"])
    ws.write_formula(2, 2, "=1/0", None, "#DIV/0!")
    wb.close()
    config = tmp_path / "p.yaml"
    config.write_text(CONFIG.format(encoding="auto").replace('separator: ";"', "format: xlsx"))
    frame = standardised(path, config)
    assert flags_of(frame, "R0002") == ["excel_error"] and flags_of(frame, "R0001") == []


def test_merged_excel_cells_are_flagged(tmp_path: Path) -> None:
    xlsxwriter = pytest.importorskip("xlsxwriter")
    path = tmp_path / "p.xlsx"
    wb = xlsxwriter.Workbook(path)
    ws = wb.add_worksheet("Liste")
    ws.write_row(0, 0, HEADER.split(";"))
    for i, name in enumerate(["Alaoui", "Bennani", "Idrissi", "Tazi"], start=1):
        ws.write_row(i, 0, [f"R{i}", name, "Fatima"])
    ws.merge_range(2, 6, 4, 6, "enfant")  # relationship of rows 2-4 in one merged cell
    wb.close()
    config = tmp_path / "p.yaml"
    text = CONFIG.format(encoding="auto").replace('separator: ";"', "sheet: Liste")
    config.write_text(text.replace("dependants:\n  mode: rows", "dependants:\n  mode: none"))
    frame = standardised(path, config)
    assert frame["flags"].to_list() == [[], [], ["excel_merged_cell"], ["excel_merged_cell"]]


@pytest.mark.parametrize("raw", ["00/00/0000", "0", "0000-00-00"])
def test_zero_dates_are_flagged_unparseable(tmp_path: Path, raw: str) -> None:
    lines = rows(1)
    lines[0] = f"R0001;Alaoui;Mohamed;BK1;{raw};;adherent;"
    frame = standardised(*write(tmp_path, csv_text(lines)))
    assert flags_of(frame, "R0001") == ["birth_date_unparseable"]
    assert frame["birth_date_raw"].to_list() == [raw]


# --------------------------------------------------------------------- the real cause named

ARABIC = "id;nom;prenom;cin;ddn;principal;lien;note\nR1;العلوي;محمد;BK1;1950;;adherent;\n"


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (ARABIC.encode("utf-16"), "'utf-16'"),
        (ARABIC.encode("cp1256"), "'cp1256'"),
        (codecs.BOM_UTF8 + ARABIC.encode("cp1256"), "after a UTF-8 byte-order mark"),
    ],
    ids=["utf-16", "cp1256", "bom+cp1256"],
)
def test_a_file_in_another_encoding_is_an_encoding_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, found: str
) -> None:
    data, config = write(tmp_path, content, encoding="utf-8")
    err = standardise_error(data, config, capsys)
    assert "configured encoding 'utf-8'" in err and found in err
    assert "file.encoding" in err and "columns found" not in err


@pytest.mark.parametrize(
    "content",
    [ARABIC.encode("utf-16"), ARABIC.encode("cp1256"), codecs.BOM_UTF8 + ARABIC.encode("cp1256")],
    ids=["utf-16", "cp1256", "bom+cp1256"],
)
def test_auto_encoding_reads_them(tmp_path: Path, content: bytes) -> None:
    frame = standardised(*write(tmp_path, content, encoding="auto"))
    assert frame["family_name_ar"].to_list() == ["العلوي"] and frame["flags"].to_list() == [[]]


def test_a_cr_only_file_is_read_as_rows(tmp_path: Path) -> None:
    frame = standardised(*write(tmp_path, csv_text(rows(5)).replace("\n", "\r")))
    assert frame["record_id"].to_list() == [f"R000{i}" for i in range(1, 6)]


def test_a_malformed_quote_names_its_row_without_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = rows(30)
    lines[11] = lines[11].replace(";Prenom", ';"Pre"nom', 1)
    err = standardise_error(*write(tmp_path, csv_text(lines)), capsys)
    assert "row 12" in err and "malformed quote" in err
    assert "infer_schema_length" not in err
    assert not any(f"BK1000{i:02d}" in err for i in range(1, 31))  # no record printed


@pytest.mark.parametrize("kind", ["partner", "registry"])
def test_a_header_only_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    data, config = write(tmp_path, HEADER + "\n")
    config.write_text(config.read_text().replace("kind: partner", f"kind: {kind}"))
    err = standardise_error(data, config, capsys)
    assert "no data rows (only a header)" in err and "candidate pairs" not in err


# ------------------------------------------------------------------ quality summary and outputs


def test_every_new_reason_code_is_counted_by_the_quality_summary(tmp_path: Path) -> None:
    lines = rows(6)
    lines[0] = lines[0].replace("Prenom", "Pre\x00nom")
    lines[1] = "R0002;---;---;BK100002;0;R0001;enfant;"
    lines[2] = lines[2].replace("R0003", "R\u200b0003")
    lines[3] = "R0004;Nomx;Prenomy;BK100004"
    lines[4] = lines[4] + ";extra"
    result = load_standardised(*write(tmp_path, csv_text(lines)))
    flags = result.report.flags
    assert flags["control_characters"] == 1 and flags["no_name"] == 1
    assert flags["name_unusable"] == 1 and flags["birth_date_unparseable"] == 1
    assert flags["id_invisible_characters"] == 1
    assert flags["row_short"] == 1 and flags["row_long"] == 1


def test_a_file_without_header_does_not_print_its_first_record_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, config = write(tmp_path, "\n".join(rows(3)) + "\n")  # no header line
    err = standardise_error(data, config, capsys)
    assert "column 'id'" in err and "columns found" in err
    assert "R0001" not in err and "BK100001" not in err and "1951-01-15" not in err
    assert "'R0…01'" in err and "'BK…01'" in err


def test_match_with_a_header_only_registry_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = Path(__file__).resolve().parents[2]
    header = (project / "sample_data" / "registry.csv").read_bytes().split(b"\n")[0]
    registry = tmp_path / "registry.csv"
    registry.write_bytes(header + b"\n")
    data, config = write(tmp_path, csv_text(rows(4)))
    err = run_error(
        [
            "match",
            "--registry",
            str(registry),
            "--registry-config",
            str(project / "configs" / "registry.yaml"),
            "--partner",
            str(data),
            "--config",
            str(config),
            "--out",
            str(tmp_path / "out"),
        ],
        capsys,
    )
    assert "registry.csv" in err and "no data rows (only a header)" in err
    assert "candidate pairs" not in err
