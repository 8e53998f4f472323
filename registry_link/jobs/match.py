"""The ``match`` workflow: a whole job from its input files to its written outputs."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from registry_link.errors import InputError, RegistryLinkError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from registry_link.db.recording import RecordedInputs
    from registry_link.standardise.pipeline import StandardisedList

#: The shipped model config (blocking rules, comparisons, thresholds): the default of every job.
SHIPPED_MODEL_CONFIG: Path = Path(__file__).resolve().parents[1] / "configs" / "model.yaml"

#: The shipped sample lists and their configs (``demo``).
SAMPLE_PARTNERS: tuple[tuple[str, str], ...] = (
    ("partner_coop_ar.csv", "partner_coop_ar.yaml"),
    ("partner_chambre_fr.csv", "partner_chambre_fr.yaml"),
    ("partner_ordre_fullname.xlsx", "partner_ordre_fullname.yaml"),
)

#: Called with a line of progress ("reading …", "registry: 50,000 persons …").
EventCallback = Callable[[str], None]
#: Called with a finished pipeline stage and its seconds.
StageCallback = Callable[[str, float], None]


def quiet(_: str) -> None:
    """An event callback that says nothing."""


def sample_dir() -> Path:
    """The folder holding the shipped ``sample_data/`` and ``configs/``.

    The current folder when it holds them, else the checkout this package was installed from.

    Raises:
        UsageError: neither holds them (an installed package without its checkout).
    """
    for candidate in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if (candidate / "sample_data").is_dir() and (candidate / "configs").is_dir():
            return candidate.resolve()
    raise UsageError(
        "cannot find the shipped sample_data/ and configs/ folders; run this from the "
        "registry-link checkout (git clone …; pip install -e .)"
    )


def resolve_registry_config(registry: Path, registry_config: Path | None) -> Path:
    """The source config of a registry extract: the one given, or the sample's for the sample.

    Raises:
        UsageError: none was given and ``registry`` is not the shipped sample registry.
    """
    if registry_config is not None:
        return registry_config
    try:
        base = sample_dir()
    except UsageError:
        base = None
    if base is not None and registry.resolve() == base / "sample_data" / "registry.csv":
        return base / "configs" / "registry.yaml"
    raise UsageError(
        f"no registry config for {registry}: give --registry-config FILE, the source config "
        "(kind: registry) that maps this extract's columns (docs/source-config.md; "
        "`registry-link fields` lists the fields); only the shipped sample_data/registry.csv "
        "has a default"
    )


@dataclass(frozen=True)
class MatchJob:
    """What one ``match`` run reads and where it writes.

    ``db_url`` records the run (with its links and review queue) and applies earlier reviewer
    decisions; None: nothing is recorded. ``truth``: a ground-truth CSV (``source, record_id,
    person_id, …``) to score the run against, written as ``evaluation.json``.
    """

    registry: Path
    partners: tuple[Path, ...]
    configs: tuple[Path, ...]
    out_dir: Path
    registry_config: Path | None = None
    model_config: Path = SHIPPED_MODEL_CONFIG
    model: Path | None = None
    previous: Path | None = None
    db_url: str | None = None
    operator: str | None = None
    truth: Path | None = None
    #: the recorded run this job runs again (:func:`rerun_after_review`): its inputs are
    #: recorded as they were, its beneficiary keys kept, and it becomes the new run's parent.
    rerun_of: RecordedInputs | None = None


@dataclass
class MatchOutcome:
    """What a run gave: the link result, the summary as written, the files, the recorded run."""

    result: Any  # registry_link.linker.LinkResult
    summary: dict[str, Any]
    written: dict[str, Path]
    recorded: Any = None  # registry_link.db.recording.RecordedRun, when the run was recorded
    evaluation: dict[str, Any] | None = None
    inputs: dict[str, Any] = field(default_factory=dict)


def sample_job(out_dir: Path) -> MatchJob:
    """The ``demo`` job: the shipped registry and partner lists, scored against their truth."""
    base = sample_dir()
    data, configs = base / "sample_data", base / "configs"
    truth = data / "ground_truth.csv"
    return MatchJob(
        registry=data / "registry.csv",
        registry_config=configs / "registry.yaml",
        partners=tuple(data / f for f, _ in SAMPLE_PARTNERS),
        configs=tuple(configs / c for _, c in SAMPLE_PARTNERS),
        model_config=SHIPPED_MODEL_CONFIG,
        out_dir=out_dir,
        truth=truth if truth.exists() else None,
    )


def _described_inputs(job: MatchJob, registry_config: Path | None) -> dict[str, Any]:
    """The run's inputs as resolved absolute paths with their SHA-256 (for the summary)."""

    def item(path: Path | None) -> dict[str, str] | None:
        if path is None:
            return None
        from registry_link.db.repository import sha256_file

        resolved = path.resolve()
        return {"path": str(resolved), "sha256": sha256_file(resolved)}

    return {
        "registry": item(job.registry),
        "registry_config": item(registry_config),
        "partners": [item(p) for p in job.partners],
        "configs": [item(c) for c in job.configs],
        "model_config": item(job.model_config),
        "model": item(job.model),
        "truth": item(job.truth),
    }


def _with_note(exc: RegistryLinkError, note: str) -> RegistryLinkError:
    exc.add_note(note)
    return exc


def check_partner_configs(job: MatchJob) -> None:
    """One config per partner list.

    Raises:
        UsageError: the counts differ.
    """
    if len(job.partners) != len(job.configs):
        raise UsageError(
            f"{len(job.partners)} --partner file(s) but {len(job.configs)} --config file(s); "
            "give one --config per --partner, in the same order"
        )


def check_output_folder(folder: Path) -> None:
    """Create the output folder if absent and prove it writable, before any work is done.

    Raises:
        OutputError: it cannot be created or written (names the cause and the fix).
    """
    from registry_link.errors import OutputError, os_error_cause

    probe = folder / ".registry-link-write-check"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(str(folder), os_error_cause(exc), "give another --out") from None


def load_job_inputs(
    job: MatchJob, registry_config: Path, on_event: EventCallback = quiet
) -> tuple[StandardisedList, list[StandardisedList]]:
    """Read and standardise the registry and every partner list of a job.

    Every config is validated before any data file is read. An input error names the config
    and the option that gave it, besides the file, row and field.
    """
    from registry_link.config.loader import load_source_config
    from registry_link.standardise.pipeline import load_standardised

    check_partner_configs(job)
    load_source_config(registry_config)
    for config in job.configs:
        load_source_config(config)
    on_event(f"reading and standardising the registry {job.registry} …")
    try:
        registry = load_standardised(job.registry, registry_config)
    except InputError as exc:
        raise _with_note(
            exc, f"the registry's columns are mapped by {registry_config} (--registry-config)"
        ) from None
    blank = registry.report.blank_rows
    on_event(
        f"registry: {registry.frame.height:,} persons from {job.registry}"
        + (f" ({blank:,} blank row(s) skipped)" if blank else "")
    )
    return registry, load_partner_lists(job, on_event)


def load_partner_lists(job: MatchJob, on_event: EventCallback = quiet) -> list[StandardisedList]:
    """Read and standardise every partner list of a job (every config validated first)."""
    from registry_link.config.loader import load_source_config
    from registry_link.standardise.pipeline import load_standardised

    check_partner_configs(job)
    for config in job.configs:
        load_source_config(config)
    lists = []
    for path, config in zip(job.partners, job.configs, strict=True):
        on_event(f"reading and standardising {path} …")
        try:
            lst = load_standardised(path, config)
        except InputError as exc:
            raise _with_note(exc, f"the list's columns are mapped by {config} (--config)") from None
        flagged = lst.frame.filter(lst.frame["flags"].list.len() > 0).height
        blank = lst.report.blank_rows
        on_event(
            f"partner list {lst.settings.source}: {lst.frame.height:,} records from {path} "
            f"({flagged:,} flagged, none dropped"
            + (f"; {blank:,} blank row(s) skipped" if blank else "")
            + ")"
        )
        lists.append(lst)
    return lists


def read_previous_keys(folder: Path) -> pl.DataFrame:
    """The ``source, record_id, beneficiary_key`` of an earlier run's ``households.parquet``."""
    path = folder / "households.parquet"
    if not path.exists():
        raise InputError(
            str(path),
            "no households.parquet in the --previous folder",
            expected="the --out folder of an earlier `registry-link match` run",
        )
    frame = pl.read_parquet(path)
    missing = {"source", "record_id", "beneficiary_key"} - set(frame.columns)
    if missing:
        raise InputError(
            str(path),
            f"lacks the columns {sorted(missing)}",
            expected="households.parquet written by `registry-link match`",
        )
    return frame.select("source", "record_id", "beneficiary_key").unique(["source", "record_id"])


def run_match(
    job: MatchJob,
    *,
    on_event: EventCallback = quiet,
    on_stage: StageCallback | None = None,
) -> MatchOutcome:
    """Run one match job: link, deduplicate, build households, write the outputs, record the run.

    Writes ``links``, ``review``, ``households`` (Parquet and CSV), ``summary.json``,
    ``model.json`` (unless a model was given), with a truth file ``evaluation.json``, and last
    the run report ``report.html`` into ``job.out_dir``.

    The output folder and the database are checked first (the database connected, created or
    migrated, refused when newer than this code, proved writable), then every config, then
    the inputs are read; the run is recorded before any output is written, so a run that
    cannot be recorded leaves no outputs behind.

    Raises:
        RegistryLinkError: a user's mistake (a file, a config, the database), before anything
            is written where it can be found before.
    """
    from registry_link.db.engine import prepare_database, transaction
    from registry_link.db.models import utcnow
    from registry_link.db.recording import RunInputs, previous_keys, prior_decisions, record_run
    from registry_link.households.build import links_with_roles
    from registry_link.linker import Linker
    from registry_link.model import load_model, save_model
    from registry_link.report import write_report
    from registry_link.report.evaluation import evaluate, write_evaluation
    from registry_link.report.outputs import write_outputs

    rerun = job.rerun_of
    from_snapshot = rerun is not None and rerun.snapshot is not None
    registry_config = (
        None if from_snapshot else resolve_registry_config(job.registry, job.registry_config)
    )
    check_partner_configs(job)
    check_output_folder(job.out_dir)
    factory = prepare_database(job.db_url) if job.db_url else None
    linker = Linker.from_config(job.model_config, on_stage=on_stage)
    model = load_model(job.model) if job.model else None
    previous = read_previous_keys(job.previous) if job.previous else None
    if previous is None and rerun is not None and factory is not None:
        previous = previous_keys(factory, rerun.run_id)
    truth = pl.read_csv(job.truth, infer_schema=False) if job.truth else None
    registry: StandardisedList | pl.DataFrame
    if registry_config is None:  # a re-run of a run that linked the database's snapshot
        lists = load_partner_lists(job, on_event)
        registry = pl.read_parquet(job.registry)
        on_event(f"registry: {registry.height:,} persons from the database's snapshot")
    else:
        registry, lists = load_job_inputs(job, registry_config, on_event)
    started = utcnow()
    prior = None
    if factory is not None:
        with transaction(factory) as session:
            prior = prior_decisions(session, lists)
        if prior.height:
            on_event(f"applying {prior.height:,} earlier reviewer decision(s)")
    on_event("linking:")
    result = linker.link(
        registry, lists, model=model, previous_keys=previous, prior_decisions=prior
    )
    recorded = None
    run_ids: dict[str, int] = {}
    if factory is not None:
        recorded = record_run(
            factory,
            result,
            partners=lists,
            registry=registry,
            inputs=replace(rerun.inputs, out_dir=job.out_dir.resolve())
            if rerun is not None
            else RunInputs(
                partners=tuple(p.resolve() for p in job.partners),
                configs=tuple(c.resolve() for c in job.configs),
                registry=job.registry.resolve(),
                registry_config=registry_config.resolve() if registry_config else None,
                model_config=job.model_config.resolve(),
                model=job.model.resolve() if job.model else None,
                out_dir=job.out_dir.resolve(),
            ),
            prior=prior,
            operator=job.operator,
            started_at=started,
            parent_run_id=rerun.run_id if rerun is not None else None,
        )
        run_ids["run_id"] = recorded.run_id
        if rerun is not None:
            run_ids["parent_run_id"] = rerun.run_id
    inputs = _described_inputs(job, registry_config)
    partner_records = pl.concat(
        [
            lst.frame.select("source", "record_id", "relationship", "principal_record_id")
            for lst in lists
        ]
    )
    written = write_outputs(
        job.out_dir,
        links_with_roles(result.links, partner_records),
        result.review,
        result.households,
        {**result.summary, **run_ids, "inputs": inputs},
    )
    if job.model is None:
        save_model(result.model, job.out_dir / "model.json")
        written["model.json"] = job.out_dir / "model.json"
    scores = None
    if truth is not None:
        scores = evaluate(
            result.links,
            result.clusters,
            result.households,
            truth,
            partners=pl.concat([lst.frame for lst in lists], how="diagonal_relaxed"),
            registry=registry if isinstance(registry, pl.DataFrame) else registry.frame,
        )
        written["evaluation.json"] = write_evaluation(scores, job.out_dir)
    on_event("writing the run report …")
    written["report.html"] = write_report(job.out_dir, truth=job.truth)
    summary = json.loads((job.out_dir / "summary.json").read_text(encoding="utf-8"))
    return MatchOutcome(
        result=result,
        summary=summary,
        written=written,
        recorded=recorded,
        evaluation=scores,
        inputs=inputs,
    )


def rerun_after_review(
    run_id: int,
    out_dir: Path,
    *,
    db_url: str | None = None,
    operator: str | None = None,
    on_event: EventCallback = quiet,
    on_stage: StageCallback | None = None,
) -> MatchOutcome:
    """Run a recorded run again with every reviewer decision made since: households regenerated.

    The same partner files, configs and model are read from the absolute paths recorded with the
    run (from any folder), checked unchanged; the registry is the run's file, or the database's
    current snapshot. The run is recorded as a new run whose parent is ``run_id`` (or, when
    nothing changed since, the existing run is returned: ``outcome.recorded.created`` is
    False); its clusters keep the beneficiary keys of ``run_id``. The outputs are written to
    ``out_dir`` as by :func:`run_match`.

    Raises:
        DatabaseError: no such run, a run without recorded files, or an input missing or
            changed since (each named).
    """
    from registry_link.db.engine import prepare_database, resolve_url
    from registry_link.db.recording import recorded_inputs

    url = resolve_url(db_url)
    recorded = recorded_inputs(prepare_database(url), run_id)
    given = recorded.inputs
    registry = given.registry or recorded.snapshot
    if registry is None or given.model_config is None:  # recorded_inputs refuses these
        raise UsageError(f"run {run_id} has no registry or model config recorded")
    job = MatchJob(
        registry=registry,
        partners=given.partners,
        configs=given.configs,
        out_dir=out_dir,
        registry_config=given.registry_config,
        model_config=given.model_config,
        model=recorded.model,
        db_url=url,
        operator=operator,
        rerun_of=recorded,
    )
    return run_match(job, on_event=on_event, on_stage=on_stage)


def outcome_rows(summary: dict[str, Any]) -> list[tuple[str, Any]]:
    """The headline counts of a run's summary, as (label, value) rows for a table."""
    return [
        ("partner records", summary["records"]["partner"]),
        ("candidate pairs", summary["candidate_pairs"]),
        *[(f"decision: {k}", v) for k, v in summary["decisions"].items()],
        *(
            [("no candidate: keys too common", cut)]
            if (cut := summary.get("records_cut_off_by_blocking_limits"))
            else []
        ),
        ("beneficiaries (deduplicated)", summary["beneficiaries"]),
        ("households", summary["households"]),
        *[(f"flag: {k}", v) for k, v in summary.get("household_flags", {}).items()],
    ]


def evaluation_rows(scores: dict[str, Any]) -> list[tuple[str, str]]:
    """The scores of :func:`registry_link.report.evaluation.evaluate` as (label, text) rows."""
    rows = [
        (
            f"links: {r['source']}",
            f"precision {r['precision']:.4f}  recall {r['recall']:.4f}  "
            f"review {r['review_share']:.1%}",
        )
        for r in scores["links"]
    ]
    for what in ("same_person", "same_household"):
        pair = scores[what]["all"]
        rows.append(
            (
                f"pairs: {what.replace('_', ' ')}",
                f"precision {pair['precision']:.4f}  recall {pair['recall']:.4f}  "
                f"({pair['true_pairs']:,} true pairs)",
            )
        )
    exact = scores.get("households_reproduced")
    if exact is not None:
        rows.append(("households reproduced exactly", households_reproduced_text(exact)))
    registry = scores.get("registry_households_reproduced")
    if registry is not None and exact is not None and registry != exact:
        rows.append(("— against the registry's households", households_reproduced_text(registry)))
    return rows


def households_reproduced_text(exact: dict[str, Any]) -> str:
    """:func:`registry_link.report.evaluation.households_reproduced` in words: the share, of
    how many true households, and how the others went wrong."""
    share = "–" if exact["share"] is None else f"{exact['share']:.4f}"
    kind = (
        "registry"
        if exact.get("true_household", "household_id") == "household_id"
        else "beneficiary"
    )
    return (
        f"{share}  ({exact['reproduced']:,} of {exact['true_households']:,} {kind} households "
        f"of ≥ {exact['min_records']} records; {exact['split']:,} split, "
        f"{exact['merged']:,} merged with another)"
    )


def summary_for_json(outcome: MatchOutcome) -> dict[str, Any]:
    """The run as one JSON-safe mapping: the summary, the files written, the recorded run, the
    evaluation (``registry-link match --json``)."""
    recorded = outcome.recorded
    return {
        **outcome.summary,
        "written": {name: str(path) for name, path in outcome.written.items()},
        "recorded_run": None
        if recorded is None
        else {
            "run_id": recorded.run_id,
            "created": recorded.created,
            "links": recorded.links,
            "review_items": recorded.review_items,
            "reopened": recorded.reopened,
        },
        "evaluation": outcome.evaluation,
    }


__all__: Sequence[str] = (
    "SAMPLE_PARTNERS",
    "SHIPPED_MODEL_CONFIG",
    "MatchJob",
    "MatchOutcome",
    "check_output_folder",
    "evaluation_rows",
    "households_reproduced_text",
    "load_job_inputs",
    "outcome_rows",
    "read_previous_keys",
    "resolve_registry_config",
    "run_match",
    "sample_dir",
    "sample_job",
    "summary_for_json",
)
