"""Encoding detection, separator sniffing and chunked transcoding."""

from __future__ import annotations

from pathlib import Path

import pytest

from registry_link.io import encoding as enc

ARABIC_TEXT = "id;الاسم العائلي;الاسم الشخصي\n1;العلوي;محمد\n2;بناني;فاطمة الزهراء\n"
FRENCH_TEXT = "id;Nom;Prénom\n1;ÉLALAOUI;Hélène\n2;Benâli;Saïd\n"


@pytest.mark.parametrize(
    ("text", "encoding", "expected"),
    [
        (ARABIC_TEXT, "utf-8", "utf-8"),
        (ARABIC_TEXT, "utf-8-sig", "utf-8-sig"),
        (ARABIC_TEXT, "cp1256", "cp1256"),
        (FRENCH_TEXT, "latin-1", "latin-1"),
        (FRENCH_TEXT, "utf-8", "utf-8"),
        ("id;nom\n1;alaoui\n", "ascii", "utf-8"),
    ],
)
def test_detect_encoding(tmp_path: Path, text: str, encoding: str, expected: str) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(text.encode(encoding))
    assert enc.detect_encoding(path) == expected


def test_invalid_utf8_late_in_file_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enc, "CHUNK_BYTES", 64)
    path = tmp_path / "f.csv"
    path.write_bytes(("a;b\n" * 100).encode() + "1;é\n".encode("latin-1"))
    assert not enc.is_valid_utf8(path)
    assert enc.detect_encoding(path) == "latin-1"


def test_transcode_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(enc, "CHUNK_BYTES", 7)  # split multi-byte sequences across chunks
    src, dst = tmp_path / "a.csv", tmp_path / "b.csv"
    src.write_bytes(ARABIC_TEXT.encode("cp1256"))
    enc.transcode_to_utf8(src, dst, "cp1256")
    assert dst.read_text(encoding="utf-8") == ARABIC_TEXT


@pytest.mark.parametrize(
    ("header", "sep"),
    [
        ("id;nom;prenom", ";"),
        ("id,nom,prenom", ","),
        ("id\tnom\tprenom", "\t"),
        ("id|nom|prenom", "|"),
        ('"a,b";c;d', ";"),
        ("id", ","),
    ],
)
def test_sniff_separator(header: str, sep: str) -> None:
    assert enc.sniff_separator(header) == sep
