"""Load a source config: YAML -> pydantic validation -> frozen :class:`SourceSettings`.

Every problem of a file is collected and raised at once as one
:class:`registry_link.errors.ConfigError`, each problem with its key path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from registry_link.config.codes import (
    BUILTIN_RELATIONSHIP_CODES,
    BUILTIN_SEX_CODES,
    code_key,
    merge_codes,
)
from registry_link.config.models import (
    SUPPORTED_VERSIONS,
    DependantsModel,
    FileModel,
    FormatsModel,
    SourceConfigModel,
)
from registry_link.errors import ConfigError, ConfigProblem
from registry_link.schema import CANONICAL_FIELDS, NAME_FIELDS, REGISTRY_FIELDS


@dataclass(frozen=True)
class SourceSettings:
    """A validated source config, resolved and ready for the readers and the standardiser."""

    source: str
    kind: str
    columns: Mapping[str, str]
    description: str | None = None
    config_path: Path | None = None
    file_format: str = "auto"
    encoding: str = "auto"
    separator: str = "auto"
    sheet: str | None = None
    birth_date_format: str = "auto"
    full_name_order: str = "auto"
    reference_year: int = field(default_factory=lambda: dt.date.today().year)
    sex_codes: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType(merge_codes(BUILTIN_SEX_CODES, {}))
    )
    relationship_codes: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType(merge_codes(BUILTIN_RELATIONSHIP_CODES, {}))
    )
    dependants_mode: str = "none"
    dependants_file: Path | None = None
    dependants_columns: Mapping[str, str] | None = None
    #: the source name of the records read from the dependants file (None: ``source``)
    dependants_source: str | None = None

    @property
    def record_id_field(self) -> str:
        """The canonical field holding the record id (``person_id`` stands in for registries)."""
        if "record_id" not in self.columns and self.kind == "registry":
            return "person_id"
        return "record_id"


def valid_fields(kind: str) -> list[str]:
    """Canonical fields a config of this kind may map."""
    fields = list(CANONICAL_FIELDS)
    if kind == "registry":
        fields += list(REGISTRY_FIELDS)
    return fields


def _loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _valid_keys(parent: tuple[Any, ...]) -> str:
    models: dict[tuple[Any, ...], type[BaseModel]] = {
        (): SourceConfigModel,
        ("file",): FileModel,
        ("formats",): FormatsModel,
        ("dependants",): DependantsModel,
    }
    model = models.get(tuple(parent))
    return ", ".join(model.model_fields) if model else "see docs/source-config.md"


def _pydantic_problems(exc: ValidationError) -> list[ConfigProblem]:
    problems = []
    for err in exc.errors():
        path = _loc(err["loc"])
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {err['loc'][-1]!r}; valid keys: {_valid_keys(err['loc'][:-1])}"
            problems.append(ConfigProblem(path, msg))
        elif err["type"] == "missing":
            problems.append(ConfigProblem(path, "required key is missing"))
        else:
            value = err.get("input")
            shown = f" (got {value!r})" if not isinstance(value, dict | list) else ""
            problems.append(ConfigProblem(path, f"{err['msg']}{shown}"))
    return problems


def _column_problems(prefix: str, columns: Any, kind: str) -> list[ConfigProblem]:
    if not isinstance(columns, dict):
        return []
    valid = valid_fields(kind)
    problems = []
    for key in columns:
        if key not in valid:
            extra = ""
            if key in REGISTRY_FIELDS:
                extra = " (registry-only field: set kind: registry)"
            problems.append(
                ConfigProblem(
                    f"{prefix}.{key}",
                    f"unknown field {key!r}{extra}; valid fields: {', '.join(valid)}",
                )
            )
    return problems


def _code_conflicts(prefix: str, codes: Any) -> list[ConfigProblem]:
    if not isinstance(codes, dict):
        return []
    seen: dict[str, str] = {}
    problems = []
    for value, items in codes.items():
        for code in items if isinstance(items, list) else []:
            key = code_key(str(code))
            if key in seen and seen[key] != value:
                problems.append(
                    ConfigProblem(
                        f"{prefix}.{value}",
                        f"code {code!r} is also listed under {seen[key]!r}; keep it under one",
                    )
                )
            seen[key] = value
    return problems


def _semantic_problems(data: dict[str, Any], base_dir: Path | None) -> list[ConfigProblem]:
    """Cross-field rules, checked on the raw mapping so they add to pydantic's problems."""
    problems: list[ConfigProblem] = []
    kind = str(data["kind"]) if data.get("kind") in ("partner", "registry") else "partner"
    version = data.get("version")
    if isinstance(version, int) and version not in SUPPORTED_VERSIONS:
        problems.append(
            ConfigProblem(
                "version",
                f"config version {version} is not supported by this registry-link "
                f"(supported: {', '.join(map(str, SUPPORTED_VERSIONS))}); "
                "upgrade registry-link or write the config in a supported version",
            )
        )
    columns = data.get("columns")
    problems += _column_problems("columns", columns, kind)
    if isinstance(columns, dict):
        if "record_id" not in columns and not (kind == "registry" and "person_id" in columns):
            need = "record_id (or person_id for a registry)" if kind == "registry" else "record_id"
            problems.append(ConfigProblem("columns.record_id", f"{need} must be mapped"))
        if not any(f in columns for f in NAME_FIELDS):
            problems.append(
                ConfigProblem(
                    "columns",
                    f"no name field mapped; map at least one of {', '.join(NAME_FIELDS)}",
                )
            )
    formats = data.get("formats")
    if isinstance(formats, dict):
        fmt = formats.get("birth_date")
        if isinstance(fmt, str) and fmt != "auto" and "%" not in fmt:
            problems.append(
                ConfigProblem(
                    "formats.birth_date",
                    f"{fmt!r} is neither 'auto' nor a strftime format such as '%d/%m/%Y'",
                )
            )
        problems += _code_conflicts("formats.sex", formats.get("sex"))
    deps = data.get("dependants")
    if isinstance(deps, dict):
        problems += _code_conflicts("dependants.relationship_codes", deps.get("relationship_codes"))
        problems += _dependants_problems(deps, columns, kind, base_dir)
    return problems


def _dependants_problems(
    deps: dict[str, Any], columns: Any, kind: str, base_dir: Path | None
) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    mode = deps.get("mode", "none")
    if mode in ("rows", "only") and isinstance(columns, dict):
        for name in ("principal_record_id", "relationship"):
            if name not in columns:
                problems.append(
                    ConfigProblem(
                        f"columns.{name}", f"must be mapped when dependants.mode is {mode}"
                    )
                )
    if mode == "file":
        file = deps.get("file")
        if not file:
            problems.append(
                ConfigProblem("dependants.file", "required when dependants.mode is file")
            )
        elif (
            isinstance(file, str)
            and Path(file).is_absolute()
            and "{stem}" not in file
            and not Path(file).exists()
        ):
            problems.append(ConfigProblem("dependants.file", f"file not found: {file}"))
        dep_cols = deps.get("columns")
        if not isinstance(dep_cols, dict):
            problems.append(
                ConfigProblem("dependants.columns", "required when dependants.mode is file")
            )
        else:
            problems += _column_problems("dependants.columns", dep_cols, kind)
            for name in ("record_id", "principal_record_id"):
                if name not in dep_cols:
                    problems.append(ConfigProblem(f"dependants.columns.{name}", "must be mapped"))
    elif mode in ("none", "rows", "only"):
        for key in ("file", "columns", "source"):
            if deps.get(key) is not None:
                problems.append(
                    ConfigProblem(f"dependants.{key}", "only used when dependants.mode is file")
                )
    return problems


def settings_from_dict(
    data: Any, *, name: str = "<config>", base_dir: Path | None = None
) -> SourceSettings:
    """Validate a config mapping (as read from YAML) and resolve it into :class:`SourceSettings`.

    Raises :class:`ConfigError` naming ``name`` with every problem found.
    """
    if not isinstance(data, dict):
        raise ConfigError(
            name,
            [
                ConfigProblem(
                    "", f"expected a mapping of keys at the top, got {type(data).__name__}"
                )
            ],
        )
    problems: list[ConfigProblem] = []
    model: SourceConfigModel | None = None
    try:
        model = SourceConfigModel.model_validate(data)
    except ValidationError as exc:
        problems += _pydantic_problems(exc)
    problems += _semantic_problems(data, base_dir)
    if problems or model is None:
        raise ConfigError(name, problems)
    return _resolve(model, Path(name) if name != "<config>" else None, base_dir)


def _resolve(model: SourceConfigModel, path: Path | None, base_dir: Path | None) -> SourceSettings:
    deps = model.dependants
    dep_file: Path | None = None
    if deps.file:
        # kept as written: a relative path (and {stem}) is resolved against the main data file
        # when it is read (registry_link.io.readers.dependants_path), not against the config
        dep_file = Path(deps.file)
    ref_year = model.formats.reference_year or dt.date.today().year
    return SourceSettings(
        source=model.source,
        kind=model.kind,
        description=model.description,
        config_path=path,
        columns=MappingProxyType(dict(model.columns)),
        file_format=model.file.format,
        encoding=model.file.encoding,
        separator=model.file.separator,
        sheet=model.file.sheet,
        birth_date_format=model.formats.birth_date,
        full_name_order=model.formats.full_name_order,
        reference_year=ref_year,
        sex_codes=MappingProxyType(merge_codes(BUILTIN_SEX_CODES, model.formats.sex)),
        relationship_codes=MappingProxyType(
            merge_codes(BUILTIN_RELATIONSHIP_CODES, deps.relationship_codes)
        ),
        dependants_mode=deps.mode,
        dependants_file=dep_file,
        dependants_columns=MappingProxyType(dict(deps.columns)) if deps.columns else None,
        dependants_source=deps.source,
    )


def load_source_config(path: str | Path) -> SourceSettings:
    """Read and validate a YAML source config (docs/source-config.md).

    Raises :class:`ConfigError` when the file is missing, is not valid YAML (with the line) or
    breaks any rule (all problems at once, each with its key path).
    """
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(name, [ConfigProblem("", f"config file not found: {name}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(name, [ConfigProblem("", f"cannot read the file: {exc}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            name, [ConfigProblem("", f"YAML syntax error at {where}{problem}")]
        ) from None
    return settings_from_dict(data, name=name, base_dir=path.parent)
