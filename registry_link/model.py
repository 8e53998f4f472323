"""Model config (YAML → pydantic → frozen :class:`ModelSettings`) and trained-model files (JSON).

**Model config** (``configs/model.yaml``)::

    version: 1
    description: ...
    blocking_rules:            # candidate pairs: the union of the rules
      - {name: cin, columns: [cin], max_block_size: 10000, max_pairs: 50000000}
    comparisons:               # each {name, kind, <kind parameters>}; kinds: comparison library
      - {name: given, kind: name, field: given, tf: true}
    thresholds: {match: 0.9, review: 0.5}
    close_second_margin: 5.0     # bits of match weight
    training: {u_sample_size: 1000000, seed: 42, max_iterations: 100, tolerance: 0.0001,
               tf_minimum_frequency: 0.00001, em_rules: null, levels_not_ordered: []}
    household_context:         # optional second pass (registry_link.households.context)
      {enabled: true, hint_column: household_hint, comparison: household, max_block_size: 10000}

Term-frequency adjusted columns are those of the comparisons' levels marked ``tf: true``.
Every problem of a file is reported at once in one :class:`~registry_link.errors.ConfigError`.

**Trained model** (JSON, never pickle): ``format: registry-link-model``, ``version``, the
comparisons with level labels and their m and u, the prior, term-frequency tables and training
metadata. :func:`load_model` dispatches on ``version`` so older files keep loading.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from registry_link.block.candidates import BlockingRule
from registry_link.compare import Comparison, build_comparison, comparison_problems
from registry_link.errors import ConfigError, ConfigProblem, ModelError
from registry_link.train.em import FSParams

MODEL_FORMAT = "registry-link-model"
MODEL_VERSION = 1

#: A saved model keeps the term frequency of a name or place only when at least this many
#: registry persons share it: a rarer value (a name held by one family) is left out of
#: ``model.json`` and scored as rare. The trained model in memory keeps every value.
TF_MIN_PERSONS = 10

#: What personal data a saved model holds (the ``personal_data`` entry at its top).
PERSONAL_DATA_NOTE = (
    "term frequencies of the registry's names and places (term_frequencies.tables): each value "
    "kept is shared by at least {k} registry persons, rarer values are left out; no record, "
    "identifier, birth date or name held by fewer persons. Share it as you would aggregate "
    "statistics of the registry."
)
_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"

# ------------------------------------------------------------------ model config (pydantic)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BlockingRuleModel(_Strict):
    """One blocking rule: records are candidates when all ``columns`` are equal."""

    name: str = Field(pattern=_NAME)
    columns: list[str] = Field(min_length=1)
    max_block_size: int | None = Field(default=None, ge=1)
    max_pairs: int | None = Field(default=None, ge=1)
    max_candidates: int | None = Field(default=None, ge=1)
    near: list[str] = Field(
        default_factory=list,
        description="integer columns of columns (a birth year) that need only be within one",
    )

    @model_validator(mode="after")
    def _near_in_columns(self) -> BlockingRuleModel:
        stray = [c for c in self.near if c not in self.columns]
        if stray:
            raise ValueError(f"near names {stray}, not among columns {self.columns}")
        return self


class ThresholdsModel(_Strict):
    """Match probability at or above which a pair is a match / goes to review."""

    match: float = Field(default=0.9, gt=0.0, lt=1.0)
    review: float = Field(default=0.5, gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdsModel:
        if self.review > self.match:
            raise ValueError(f"review ({self.review}) must not exceed match ({self.match})")
        return self


class TrainingModel(_Strict):
    """Training settings (u sampling, EM, term frequencies)."""

    u_sample_size: int = Field(default=1_000_000, ge=100, le=100_000_000)
    seed: int = 42
    max_iterations: int = Field(default=100, ge=1, le=10_000)
    tolerance: float = Field(default=1e-4, gt=0.0, lt=1.0)
    tf_minimum_frequency: float = Field(default=1e-5, gt=0.0, lt=1.0)
    em_rules: list[str] | None = Field(
        default=None, description="blocking rules to run EM sessions on; default all"
    )
    levels_not_ordered: list[str] = Field(
        default_factory=list,
        description="comparisons whose levels are not an order of closeness: their estimated "
        "weights are kept as they are (the others' are made monotone, registry_link.train."
        "monotone)",
    )


class HouseholdContextModel(_Strict):
    """Second pass linking dependants through their worker's registry household (optional).

    See :mod:`registry_link.households.context`.
    """

    enabled: bool = True
    hint_column: str = Field(default="household_hint", pattern=_NAME)
    comparison: str = Field(default="household", pattern=_NAME)
    max_block_size: int | None = Field(default=10_000, ge=1)
    not_when_all_different: list[str] = Field(default_factory=list)


class ModelConfigModel(_Strict):
    """The whole model config file."""

    version: int = 1
    description: str | None = None
    blocking_rules: list[BlockingRuleModel] = Field(min_length=1)
    comparisons: list[dict[str, Any]] = Field(min_length=1)
    thresholds: ThresholdsModel = Field(default_factory=ThresholdsModel)
    close_second_margin: float = Field(default=5.0, ge=0.0)
    training: TrainingModel = Field(default_factory=TrainingModel)
    household_context: HouseholdContextModel | None = None


# ------------------------------------------------------------------ frozen settings


@dataclass(frozen=True)
class TrainingSettings:
    """Validated training settings (see :class:`TrainingModel`)."""

    u_sample_size: int = 1_000_000
    seed: int = 42
    max_iterations: int = 100
    tolerance: float = 1e-4
    tf_minimum_frequency: float = 1e-5
    em_rules: tuple[str, ...] | None = None
    #: comparisons whose weights are not made monotone down their levels (see
    #: :mod:`registry_link.train.monotone`); every other comparison's are.
    levels_not_ordered: tuple[str, ...] = ()


@dataclass(frozen=True)
class HouseholdContextSettings:
    """Validated household-context settings (see :class:`HouseholdContextModel`).

    ``hint_column`` is the record column the linker adds (the worker's registry household on
    the partner side, ``household_id`` on the registry side); ``comparison`` names the
    comparison and the blocking rule on it.
    """

    hint_column: str = "household_hint"
    comparison: str = "household"
    max_block_size: int | None = 10_000
    #: comparisons that, all at their "different" level (gamma 0), make the household context
    #: not count for a pair (its household level is then "missing"): a child absent from the
    #: registry is not lifted onto a sibling or the father by the household alone.
    not_when_all_different: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelSettings:
    """A validated model config: blocking rules and comparisons built, thresholds, training.

    ``raw`` is the validated config as plain data (stored in the trained model file).
    """

    blocking_rules: tuple[BlockingRule, ...]
    comparisons: tuple[Comparison, ...]
    match_threshold: float = 0.9
    review_threshold: float = 0.5
    close_second_margin: float = 5.0
    training: TrainingSettings = field(default_factory=TrainingSettings)
    description: str | None = None
    config_path: Path | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)
    #: The household-context second pass, ``None`` when off (absent or ``enabled: false``).
    household_context: HouseholdContextSettings | None = None

    def tf_columns(self) -> tuple[str, ...]:
        """Record columns with a term-frequency adjusted level, in comparison order."""
        cols = [c for comp in self.comparisons for c in comp.tf_columns().values()]
        return tuple(dict.fromkeys(cols))

    def em_rules(self) -> tuple[BlockingRule, ...]:
        """The blocking rules EM sessions run on (``training.em_rules``, default all)."""
        if self.training.em_rules is None:
            return self.blocking_rules
        wanted = set(self.training.em_rules)
        return tuple(r for r in self.blocking_rules if r.name in wanted)


def _loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc)


def _duplicates(items: list[Any], what: str, key: str) -> list[ConfigProblem]:
    names = [i.get("name") if isinstance(i, Mapping) else None for i in items]
    seen: set[Any] = set()
    out: list[ConfigProblem] = []
    for i, n in enumerate(names):
        if n is not None and n in seen:
            out.append(ConfigProblem(f"{key}.{i}.name", f"{what} name {n!r} is used twice"))
        seen.add(n)
    return out


def model_config_problems(data: Any) -> list[ConfigProblem]:
    """Every problem of a model config mapping, with key paths; [] when valid."""
    if not isinstance(data, Mapping):
        return [ConfigProblem("", f"expected a mapping at the top, got {type(data).__name__}")]
    problems: list[ConfigProblem] = []
    parsed: ModelConfigModel | None = None
    try:
        parsed = ModelConfigModel.model_validate(dict(data))
    except ValidationError as exc:
        problems += [ConfigProblem(_loc(e["loc"]), e["msg"]) for e in exc.errors()]
    comps = data.get("comparisons")
    if isinstance(comps, list):
        for i, spec in enumerate(comps):
            problems += comparison_problems(spec, key_path=f"comparisons.{i}")
        problems += _duplicates(comps, "comparison", "comparisons")
    rules = data.get("blocking_rules")
    if isinstance(rules, list):
        problems += _duplicates(rules, "blocking rule", "blocking_rules")
    if parsed is not None:
        if parsed.version != 1:
            problems.append(
                ConfigProblem(
                    "version", f"unsupported model config version {parsed.version}; use 1"
                )
            )
        known = {r.name for r in parsed.blocking_rules}
        hc = parsed.household_context
        if hc is not None and hc.enabled:
            comp_names = {c.get("name") for c in parsed.comparisons if isinstance(c, Mapping)}
            if hc.comparison in comp_names or hc.comparison in known:
                problems.append(
                    ConfigProblem(
                        "household_context.comparison",
                        f"{hc.comparison!r} is already a comparison or blocking rule name; "
                        f"give the household comparison a name of its own",
                    )
                )
            for i, name in enumerate(hc.not_when_all_different):
                if name not in comp_names:
                    problems.append(
                        ConfigProblem(
                            f"household_context.not_when_all_different.{i}",
                            f"no comparison named {name!r}; known: "
                            f"{sorted(str(n) for n in comp_names)}",
                        )
                    )
        comparison_names = {c.get("name") for c in parsed.comparisons if isinstance(c, Mapping)}
        for i, name in enumerate(parsed.training.levels_not_ordered):
            if name not in comparison_names:
                problems.append(
                    ConfigProblem(
                        f"training.levels_not_ordered.{i}",
                        f"no comparison named {name!r}; known: "
                        f"{sorted(str(n) for n in comparison_names)}",
                    )
                )
        for i, name in enumerate(parsed.training.em_rules or []):
            if name not in known:
                problems.append(
                    ConfigProblem(
                        f"training.em_rules.{i}",
                        f"no blocking rule named {name!r}; known: {sorted(known)}",
                    )
                )
    return problems


def settings_from_dict(
    data: Any, *, file: str = "<model config>", path: Path | None = None
) -> ModelSettings:
    """Validate a model config mapping and build the frozen settings.

    Raises:
        ConfigError: listing every problem with its key path.
    """
    problems = model_config_problems(data)
    if problems:
        raise ConfigError(file, problems)
    cfg = ModelConfigModel.model_validate(dict(data))
    t = cfg.training
    return ModelSettings(
        blocking_rules=tuple(
            BlockingRule(
                r.name,
                tuple(r.columns),
                r.max_block_size,
                r.max_pairs,
                r.max_candidates,
                tuple(r.near),
            )
            for r in cfg.blocking_rules
        ),
        comparisons=tuple(build_comparison(spec) for spec in cfg.comparisons),
        match_threshold=cfg.thresholds.match,
        review_threshold=cfg.thresholds.review,
        close_second_margin=cfg.close_second_margin,
        training=TrainingSettings(
            u_sample_size=t.u_sample_size,
            seed=t.seed,
            max_iterations=t.max_iterations,
            tolerance=t.tolerance,
            tf_minimum_frequency=t.tf_minimum_frequency,
            em_rules=tuple(t.em_rules) if t.em_rules is not None else None,
            levels_not_ordered=tuple(t.levels_not_ordered),
        ),
        description=cfg.description,
        config_path=path,
        raw=_raw(cfg),
        household_context=_household_settings(cfg.household_context),
    )


def _raw(cfg: ModelConfigModel) -> dict[str, Any]:
    raw = cfg.model_dump(mode="json")
    if raw.get("household_context") is None:
        raw.pop("household_context", None)  # configs without the section store as before
    return raw


def _household_settings(hc: HouseholdContextModel | None) -> HouseholdContextSettings | None:
    if hc is None or not hc.enabled:
        return None
    return HouseholdContextSettings(
        hint_column=hc.hint_column,
        comparison=hc.comparison,
        max_block_size=hc.max_block_size,
        not_when_all_different=tuple(hc.not_when_all_different),
    )


def load_model_config(path: str | Path) -> ModelSettings:
    """Read and validate a model config YAML file.

    Raises:
        ConfigError: the file is missing, not YAML, or invalid (every problem listed).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(p), [ConfigProblem("", f"cannot read the file: {exc}")]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(str(p), [ConfigProblem("", f"not valid YAML: {exc}")]) from exc
    return settings_from_dict(data, file=str(p), path=p)


# ------------------------------------------------------------------ trained model


@dataclass(frozen=True)
class TrainedModel:
    """A trained Fellegi–Sunter model.

    Attributes:
        comparisons: the comparisons, in order (their names key ``params.m``/``params.u``).
        params: the prior λ (probability that two random left × right records match; see
            :mod:`registry_link.train.training`), m and u per comparison level.
        tf_tables: per record column, value → relative frequency (right/registry side).
        tf_minimum_frequency: floor of a value's frequency in the adjustment (rare values).
        training: metadata (pairs, iterations, converged, date, data fingerprints ...).
        settings: the model config as plain data (``ModelSettings.raw``), if known.
    """

    comparisons: tuple[Comparison, ...]
    params: FSParams
    tf_tables: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    tf_minimum_frequency: float = 1e-5
    training: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        names = [c.name for c in self.comparisons]
        if set(names) != set(self.params.names):
            raise ModelError(
                f"the model's comparisons {names} and its parameters {list(self.params.names)} "
                f"differ; retrain the model"
            )
        for c in self.comparisons:
            if len(self.params.m[c.name]) != c.n_levels:
                raise ModelError(
                    f"comparison {c.name!r} has {c.n_levels} levels but the model has "
                    f"{len(self.params.m[c.name])} m values; retrain the model"
                )

    @property
    def prior(self) -> float:
        """λ: the probability that two random records match."""
        return self.params.prior

    def comparison(self, name: str) -> Comparison:
        """The comparison of a name."""
        for c in self.comparisons:
            if c.name == name:
                return c
        raise ModelError(f"the model has no comparison {name!r}; it has {list(self.params.names)}")


def _persons_in_table(table: Mapping[str, float], rows: int | None) -> float:
    """The number of persons *n* behind a frequency table (frequency = count / n, over the
    column's non-null values): the smallest n = c / (smallest frequency), c = 1, 2, …, that
    turns every frequency into a whole count (c at most the smallest frequency times the
    registry's ``rows`` when known, else 20); 1 / (smallest frequency) when none does. An n
    found too small only leaves more values out."""
    import numpy as np

    freqs = np.array([f for f in table.values() if f > 0], dtype=np.float64)
    if freqs.size == 0:
        return 0.0
    smallest = float(freqs.min())
    top = max(1, round(smallest * rows)) if rows else 20
    for count in range(1, top + 1):
        counts = freqs * (count / smallest)
        if np.all(np.abs(counts - np.round(counts)) < 1e-6 * np.maximum(1.0, counts)):
            return round(count / smallest)
    return 1.0 / smallest


def shareable_tf_tables(
    tables: Mapping[str, Mapping[str, float]],
    minimum_frequency: float,
    min_persons: int,
    rows: int | None = None,
) -> tuple[dict[str, dict[str, float]], float]:
    """The term-frequency tables without the values fewer than ``min_persons`` persons share,
    and the frequency a left-out value is scored with.

    That frequency is the largest a left-out value can have, (``min_persons`` - 1) / n of the
    smallest table — never below ``minimum_frequency`` — so a left-out rare name still weighs
    like a rare name, a little less than its exact frequency would. ``rows``: the registry
    records the tables were counted on (the model's ``training.right.rows``), if known.
    """
    kept: dict[str, dict[str, float]] = {}
    floor = minimum_frequency
    for col, table in tables.items():
        n = _persons_in_table(table, rows)
        if n <= 0:
            kept[col] = {}
            continue
        cut = min_persons / n
        kept[col] = {v: f for v, f in table.items() if f >= cut - 1e-12}
        if len(kept[col]) < len(table):
            floor = max(floor, (min_persons - 1) / n)
    return kept, floor


def model_to_dict(model: TrainedModel) -> dict[str, Any]:
    """The model as JSON-safe data in the current format version.

    Term frequencies keep only values :data:`TF_MIN_PERSONS` registry persons share (see
    :func:`shareable_tf_tables`); ``personal_data`` says what personal data the file holds.
    """
    right = model.training.get("right")
    rows = right.get("rows") if isinstance(right, Mapping) else None
    tables, floor = shareable_tf_tables(
        model.tf_tables,
        model.tf_minimum_frequency,
        TF_MIN_PERSONS,
        rows if isinstance(rows, int) else None,
    )
    return {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "personal_data": PERSONAL_DATA_NOTE.format(k=TF_MIN_PERSONS),
        "prior": model.params.prior,
        "comparisons": [
            {
                "comparison": c.to_dict(),
                "m": list(model.params.m[c.name]),
                "u": list(model.params.u[c.name]),
            }
            for c in model.comparisons
        ],
        "term_frequencies": {
            "minimum_frequency": floor,
            "minimum_persons": TF_MIN_PERSONS,
            "tables": tables,
        },
        "training": dict(model.training),
        "model_config": dict(model.settings) if model.settings is not None else None,
    }


def save_model(model: TrainedModel, path: str | Path) -> None:
    """Write the model as versioned JSON (UTF-8)."""
    Path(path).write_text(
        json.dumps(model_to_dict(model), ensure_ascii=False, indent=1), encoding="utf-8"
    )


def _need(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise ModelError(f"{where}: field {key!r} is missing; the file is not a complete model")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ModelError(
            f"{where}: field {key!r} has {type(value).__name__} value {str(value)[:60]!r}, "
            f"expected {getattr(kind, '__name__', kind)}"
        )
    return value


def _from_v1(data: Mapping[str, Any], where: str) -> TrainedModel:
    prior = float(_need(data, "prior", (int, float), where))
    if not 0.0 < prior < 1.0:
        raise ModelError(f"{where}: prior {prior} is not strictly between 0 and 1")
    comps: list[Comparison] = []
    m: dict[str, tuple[float, ...]] = {}
    u: dict[str, tuple[float, ...]] = {}
    for i, entry in enumerate(_need(data, "comparisons", list, where)):
        at = f"{where}, comparisons[{i}]"
        if not isinstance(entry, Mapping):
            raise ModelError(f"{at}: expected an object, got {type(entry).__name__}")
        spec = _need(entry, "comparison", Mapping, at)
        try:
            comp = build_comparison(spec)
        except ConfigError as exc:
            raise ModelError(f"{at}: the comparison cannot be rebuilt: {exc}") from exc
        for key, table in (("m", m), ("u", u)):
            values = _need(entry, key, list, at)
            if len(values) != comp.n_levels or not all(
                isinstance(v, int | float) and 0.0 < v <= 1.0 for v in values
            ):
                raise ModelError(
                    f"{at}: {key} = {values!r} must be {comp.n_levels} probabilities in (0, 1] "
                    f"(one per level {[lvl.label for lvl in comp.levels]})"
                )
            table[comp.name] = tuple(float(v) for v in values)
        comps.append(comp)
    tf = data.get("term_frequencies") or {}
    if not isinstance(tf, Mapping):
        raise ModelError(f"{where}: term_frequencies must be an object")
    tables = tf.get("tables") or {}
    if not isinstance(tables, Mapping) or not all(isinstance(t, Mapping) for t in tables.values()):
        raise ModelError(f"{where}: term_frequencies.tables must map columns to value tables")
    cfg = data.get("model_config")
    return TrainedModel(
        comparisons=tuple(comps),
        params=FSParams(prior=prior, m=m, u=u),
        tf_tables={col: {str(k): float(v) for k, v in t.items()} for col, t in tables.items()},
        tf_minimum_frequency=float(tf.get("minimum_frequency", 1e-5)),
        training=dict(data.get("training") or {}),
        settings=dict(cfg) if isinstance(cfg, Mapping) else None,
    )


#: Loader per format version. Add one per new version; keep the old ones.
_LOADERS: dict[int, Callable[[Mapping[str, Any], str], TrainedModel]] = {1: _from_v1}


def model_from_dict(data: Any, *, where: str = "model") -> TrainedModel:
    """Rebuild a model from its JSON data, dispatching on the format version.

    Raises:
        ModelError: not a registry-link model, unknown version, or a bad field.
    """
    if not isinstance(data, Mapping) or data.get("format") != MODEL_FORMAT:
        found = data.get("format") if isinstance(data, Mapping) else type(data).__name__
        raise ModelError(
            f"{where}: not a registry-link model (format {found!r}, expected {MODEL_FORMAT!r}); "
            f"give a file written by 'registry-link train'"
        )
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelError(f"{where}: version {version!r} is not an integer")
    if version > MODEL_VERSION:
        raise ModelError(
            f"{where}: model format version {version} is newer than this registry-link reads "
            f"(≤ {MODEL_VERSION}); upgrade registry-link"
        )
    loader = _LOADERS.get(version)
    if loader is None:
        raise ModelError(
            f"{where}: unknown model format version {version}; known {sorted(_LOADERS)}"
        )
    return loader(data, where)


def load_model(path: str | Path) -> TrainedModel:
    """Load a trained model JSON file (any supported version).

    Raises:
        ModelError: the file is missing, not JSON, or not a valid model.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(f"cannot read model file {p}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ModelError(
            f"model file {p} is not valid JSON (line {exc.lineno}: {exc.msg}); "
            f"give a file written by 'registry-link train'"
        ) from exc
    return model_from_dict(data, where=f"model file {p}")
