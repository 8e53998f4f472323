"""Pydantic models of a source config file (see docs/source-config.md).

These models only check shapes and types; cross-field rules (canonical field names, required
fields, dependants mode) are checked in :mod:`registry_link.config.loader` so that every
problem of a file is reported at once.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: Config format versions this release understands.
SUPPORTED_VERSIONS: tuple[int, ...] = (1,)

FileFormat = Literal["auto", "csv", "xlsx", "parquet"]
Encoding = Literal["auto", "utf-8", "utf-8-sig", "cp1256", "latin-1"]
Separator = Literal["auto", ";", ",", "\t", "|"]
FullNameOrder = Literal["auto", "family_first", "given_first"]
#: none: workers only; rows: dependants are rows of the same file; file: they come in a second
#: file; only: the file holds dependants alone, whose principals are in another list.
DependantsMode = Literal["none", "rows", "file", "only"]
SexCode = Literal["M", "F"]
RelationshipCode = Literal["principal", "spouse", "child", "other"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileModel(_Strict):
    """The ``file:`` section: how to read the data file."""

    format: FileFormat = "auto"
    encoding: Encoding = "auto"
    separator: Separator = "auto"
    sheet: str | None = None


class FormatsModel(_Strict):
    """The ``formats:`` section: how to read dates, sex codes and full names."""

    birth_date: str = "auto"
    sex: dict[SexCode, list[str]] = Field(default_factory=dict)
    full_name_order: FullNameOrder = "auto"
    #: Year used as "now" for the 2-digit-year pivot and the future-date check
    #: (default: the current year).
    reference_year: int | None = Field(default=None, ge=1900, le=2200)


class DependantsModel(_Strict):
    """The ``dependants:`` section."""

    mode: DependantsMode = "none"
    relationship_codes: dict[RelationshipCode, list[str]] = Field(default_factory=dict)
    file: str | None = None
    columns: dict[str, str] | None = None
    #: mode file: the source name the dependants' records carry (default: the workers' source)
    source: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_-]+$", min_length=1, max_length=64
    )


class SourceConfigModel(_Strict):
    """A whole source config file."""

    version: int
    source: str = Field(pattern=r"^[A-Za-z0-9_-]+$", min_length=1, max_length=64)
    kind: Literal["partner", "registry"]
    description: str | None = None
    file: FileModel = Field(default_factory=FileModel)
    columns: dict[str, str]
    formats: FormatsModel = Field(default_factory=FormatsModel)
    dependants: DependantsModel = Field(default_factory=DependantsModel)
