"""Text-file encodings and CSV separators: detection and chunked transcoding to UTF-8.

Detection order: a UTF-8 byte-order mark -> ``utf-8-sig``; strictly valid UTF-8 (checked over
the whole file, in chunks) -> ``utf-8``; otherwise ``cp1256`` when the non-ASCII bytes read as
runs of Arabic letters in Windows-1256, else ``latin-1``. (cp1256 keeps the common lowercase
French accented letters where latin-1 has them, so only Arabic *words* tell the two apart.)
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

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


def detect_encoding(path: Path) -> str:
    """Detect the encoding of a text file: utf-8-sig, utf-8, cp1256 or latin-1."""
    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig" if is_valid_utf8(path) else guess_single_byte_encoding(head[3:])
    if is_valid_utf8(path):
        return "utf-8"
    return guess_single_byte_encoding(head)


def transcode_to_utf8(src: Path, dst: Path, encoding: str) -> None:
    """Rewrite ``src`` (in ``encoding``) as UTF-8 into ``dst``, chunk by chunk.

    Undecodable bytes become U+FFFD (rows containing them are flagged ``encoding_suspect``).
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with src.open("rb") as fin, dst.open("wb") as fout:
        while chunk := fin.read(CHUNK_BYTES):
            fout.write(decoder.decode(chunk).encode("utf-8"))
        fout.write(decoder.decode(b"", final=True).encode("utf-8"))


def read_header_line(path: Path, encoding: str) -> str:
    """The first line of a text file, decoded (BOM removed)."""
    with path.open("rb") as fh:
        raw = fh.readline(SAMPLE_BYTES)
    line = raw.decode(encoding, errors="replace")
    return line.lstrip("\ufeff").rstrip("\r\n")


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
