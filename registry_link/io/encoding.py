"""Text-file encodings and CSV separators: detection and chunked transcoding to UTF-8.

Detection order: a UTF-16 byte-order mark (or a sample whose every other byte is NUL) ->
``utf-16``; a UTF-8 byte-order mark -> ``utf-8-sig``; strictly valid UTF-8 (checked over the
whole file, in chunks) -> ``utf-8``; otherwise ``cp1256`` when the non-ASCII bytes read as runs of
Arabic letters in Windows-1256, else ``latin-1``. (cp1256 keeps the common lowercase French
accented letters where latin-1 has them, so only Arabic *words* tell the two apart.)

:func:`resolve_encoding` checks a configured encoding against the file *before* its header is
read, and raises :class:`~registry_link.errors.EncodingMismatchError` naming both encodings.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from registry_link.errors import EncodingMismatchError

CHUNK_BYTES = 16 * 1024 * 1024
SAMPLE_BYTES = 1024 * 1024
SEPARATORS: tuple[str, ...] = (";", ",", "\t", "|")

_ARABIC_LETTER = re.compile(r"[\u0621-\u064A\u067E\u0686\u0698\u06A9\u06AF\u06BE\u06C1\u06D2]")
_ARABIC_RUN = re.compile(r"[\u0621-\u064A\u067E\u0686\u0698\u06A9\u06AF\u06BE\u06C1\u06D2]{2,}")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def is_valid_utf8(path: Path) -> bool:
    """Whether the whole file decodes as strict UTF-8 (read in chunks, constant memory)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK_BYTES):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def guess_single_byte_encoding(sample: bytes) -> str:
    """``cp1256`` when the sample's non-ASCII bytes form Arabic words in Windows-1256, else
    ``latin-1``."""
    text = sample.decode("cp1256", errors="replace")
    non_ascii = len(_NON_ASCII.findall(text))
    if non_ascii == 0:
        return "latin-1"
    in_runs = sum(len(m) for m in _ARABIC_RUN.findall(text))
    return "cp1256" if in_runs >= 0.5 * non_ascii else "latin-1"


def _utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when most odd (even) bytes of the sample are NUL."""
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.6 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.6 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def detect_encoding(path: Path) -> str:
    """Detect the encoding of a text file: utf-16, utf-8-sig, utf-8, cp1256 or latin-1."""
    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _utf16_without_bom(head)
    if utf16 is not None:
        return utf16
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig" if is_valid_utf8(path) else guess_single_byte_encoding(head[3:])
    if is_valid_utf8(path):
        return "utf-8"
    return guess_single_byte_encoding(head)


def _found_name(path: Path, found: str) -> tuple[str, str]:
    """(encoding found, detail for a message) of a file whose configured encoding is wrong."""
    with path.open("rb") as fh:
        head = fh.read(len(codecs.BOM_UTF8))
    if head == codecs.BOM_UTF8 and found not in ("utf-8", "utf-8-sig"):
        return found, " after a UTF-8 byte-order mark (the mark and the text disagree)"
    return found, ""


def _has_non_ascii(path: Path) -> bool:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            if not chunk.isascii():
                return True
    return False


def resolve_encoding(path: Path, configured: str) -> str:
    """The encoding to read ``path`` with: detected when ``configured`` is ``auto``, else the
    configured one once the file is checked to be in it.

    Raises:
        EncodingMismatchError: the file is UTF-16 or not valid UTF-8 while the config says
            UTF-8, is UTF-8 text with non-ASCII letters while the config names a single-byte
            encoding, or reads as Arabic cp1256 while the config says latin-1.
    """
    found = detect_encoding(path)
    if configured == "auto":
        return found
    utf8 = ("utf-8", "utf-8-sig")
    mismatch = False
    if found.startswith("utf-16"):
        mismatch = True
    elif configured in utf8:
        mismatch = found not in utf8
    elif found in utf8:
        mismatch = _has_non_ascii(path)  # plain ASCII reads the same in every encoding
    elif configured == "latin-1" and found == "cp1256":
        mismatch = True
    if mismatch:
        name, detail = _found_name(path, found)
        raise EncodingMismatchError(str(path), configured, name, detail)
    if configured == "utf-8" and found == "utf-8-sig":
        return found
    return configured


def has_utf8_bom(path: Path) -> bool:
    """Whether the file starts with a UTF-8 byte-order mark."""
    with path.open("rb") as fh:
        return fh.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8


def cr_only_line_ends(path: Path) -> bool:
    """Whether the file ends its lines with a lone CR (old Mac exports): a CR in the sample
    and no LF."""
    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    return b"\r" in head and b"\n" not in head


def transcode_to_utf8(src: Path, dst: Path, encoding: str, *, cr_to_lf: bool = False) -> None:
    """Rewrite ``src`` (in ``encoding``) as UTF-8 into ``dst``, chunk by chunk.

    Undecodable bytes become U+FFFD (rows containing them are flagged ``encoding_suspect``).
    A UTF-8 byte-order mark in front of a single-byte file is skipped; ``cr_to_lf`` turns
    lone-CR line ends into LF.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    skip_bom = encoding not in ("utf-8", "utf-8-sig") and not encoding.startswith("utf-16")
    with src.open("rb") as fin, dst.open("wb") as fout:
        first = True
        while chunk := fin.read(CHUNK_BYTES):
            if first and skip_bom and chunk.startswith(codecs.BOM_UTF8):
                chunk = chunk[len(codecs.BOM_UTF8) :]
            first = False
            text = decoder.decode(chunk)
            fout.write((text.replace("\r", "\n") if cr_to_lf else text).encode("utf-8"))
        tail = decoder.decode(b"", final=True)
        fout.write((tail.replace("\r", "\n") if cr_to_lf else tail).encode("utf-8"))


def read_header_line(path: Path, encoding: str) -> str:
    """The first line of a text file, decoded (BOM removed)."""
    with path.open("rb") as fh:
        raw = fh.read(SAMPLE_BYTES)
    text = raw.decode(encoding, errors="replace").lstrip("\ufeff")
    return re.split(r"\r\n|\r|\n", text, maxsplit=1)[0]


def sniff_separator(header: str) -> str:
    """The separator of a CSV header line: the candidate (``; , tab |``) occurring most often
    outside double quotes; ``,`` when none occurs."""
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {sep: unquoted.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] > 0 else ","


def looks_arabic(text: str) -> bool:
    """Whether a text contains an Arabic letter."""
    return bool(_ARABIC_LETTER.search(text))
