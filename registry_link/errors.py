"""One exception tree for registry-link.

Every error a *user* can cause (a bad file, a bad config, a bad option) derives from
:class:`RegistryLinkError`. Its message says what was wrong, the offending value and the fix;
the CLI turns it into one clean line on stderr and a non-zero exit, never a traceback.
Anything else escaping the library is a bug.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


class RegistryLinkError(Exception):
    """Base class of every error a user of registry-link can cause."""

    exit_code: int = 2

    def __str__(self) -> str:  # pragma: no cover - trivial
        return super().__str__()


@dataclass(frozen=True)
class ConfigProblem:
    """One problem found while validating a config file."""

    key_path: str
    message: str

    def describe(self) -> str:
        """The problem as ``key.path: message``."""
        return f"{self.key_path}: {self.message}" if self.key_path else self.message


class ConfigError(RegistryLinkError):
    """A config file (YAML) is missing, unreadable or invalid.

    All problems of one file are reported at once.
    """

    def __init__(self, file: str, problems: Sequence[ConfigProblem]) -> None:
        self.file = file
        self.problems = list(problems)
        lines = [f"invalid config {file} ({len(self.problems)} problem(s)):"]
        lines += [f"  - {p.describe()}" for p in self.problems]
        super().__init__("\n".join(lines))


class InputError(RegistryLinkError):
    """An input data file cannot be used as it is.

    Names the file, and where known the row (1-based data row, header excluded),
    the field and what was expected.
    """

    def __init__(
        self,
        file: str,
        message: str,
        *,
        row: int | None = None,
        field: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.field = field
        self.expected = expected
        where = file
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field '{field}'"
        text = f"{where}: {message}"
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)


class MissingColumnError(InputError):
    """A column the config maps is not in the file."""

    def __init__(self, file: str, column: str, field: str, found: Sequence[str]) -> None:
        # a file without a header shows its first record here: identifiers and dates masked
        shown = ", ".join(
            repr(mask_identifier(c) if re.search(r"\d{3}", c) else c) for c in list(found)[:40]
        )
        super().__init__(
            file,
            f"column {column!r} (mapped to field '{field}') is not in the file; "
            f"columns found: {shown}",
            field=field,
            expected="the header named in the config's 'columns' section",
        )
        self.column = column
        self.found = list(found)


def mask_identifier(value: object) -> str:
    """An identifier shown without giving it away: its first two and last two characters
    (``AB123445`` -> ``AB…45``); values of four characters or fewer become ``…``.

    Messages and console output name the rows of a problem, and mask the identifiers in it.
    """
    text = str(value)
    return f"{text[:2]}…{text[-2:]}" if len(text) > 4 else "…"


class DuplicateRecordIdError(InputError):
    """Two or more rows share a record_id (ids masked in the message: rows say where)."""

    def __init__(self, file: str, duplicates: dict[str, list[int]], note: str = "") -> None:
        items = list(duplicates.items())
        shown = "; ".join(f"{mask_identifier(rid)} at rows {rows[:5]}" for rid, rows in items[:10])
        more = f" and {len(items) - 10} more" if len(items) > 10 else ""
        super().__init__(
            file,
            f"{len(items)} duplicated record_id value(s): {shown}{more}{note}",
            field="record_id",
            expected="one row per record_id",
        )
        self.duplicates = duplicates


class EncodingMismatchError(InputError):
    """A text file is not in the encoding its config names."""

    def __init__(self, file: str, configured: str, found: str, detail: str = "") -> None:
        super().__init__(
            file,
            f"the file is not in the configured encoding {configured!r}: it reads as {found!r}"
            f"{detail}; set file.encoding: auto in the config (or the file's encoding), or save "
            f"the file as {configured}",
            field="file.encoding",
            expected=f"a file in {configured}",
        )
        self.configured = configured
        self.found = found


class OutputError(RegistryLinkError):
    """An output file or folder cannot be written."""

    def __init__(self, path: str, cause: str, fix: str) -> None:
        super().__init__(f"cannot write {path}: {cause}; {fix}")
        self.path = path


def os_error_cause(exc: OSError) -> str:
    """The cause of an operating-system error in words (no traceback, no errno jargon)."""
    causes = {
        "PermissionError": "permission denied",
        "FileExistsError": "a file is in the way (a folder was expected there)",
        "NotADirectoryError": "a part of the path is a file, not a folder",
        "IsADirectoryError": "it is a folder, not a file",
        "FileNotFoundError": "no such file or folder",
    }
    return causes.get(type(exc).__name__, exc.strerror or type(exc).__name__)


class ModelError(RegistryLinkError):
    """A trained model file cannot be loaded or does not fit the data."""


class LinkageError(RegistryLinkError):
    """The linkage cannot run as configured (e.g. a blocking rule is far too wide)."""


class UsageError(RegistryLinkError):
    """An option or argument combination makes no sense."""


class SignatureError(RegistryLinkError):
    """A DCI envelope's signature is missing, malformed, expired or does not verify."""


class QueryError(UsageError):
    """A search query (one record) cannot be read: an unknown field, a value of the wrong type."""
