"""Workflows: a whole job from its input files to its written outputs, in one place.

The CLI commands and integration code call the same functions; a command only parses its
options and prints what comes back:

* :func:`run_match` — ``match`` and ``demo`` (:func:`sample_job`): read, link, record, write;
* :func:`rerun_after_review` — ``households --run``: a recorded run again, with the reviewer
  decisions made since, through :func:`run_match`;
* :func:`evaluate_run` — ``evaluate``: a run folder scored against a ground truth;
* :func:`load_registry_file` — ``registry load``: an extract standardised and stored.

::

    from registry_link.jobs import MatchJob, run_match

    outcome = run_match(MatchJob(
        registry=Path("sample_data/registry.csv"),
        partners=(Path("sample_data/partner_coop_ar.csv"),),
        configs=(Path("configs/partner_coop_ar.yaml"),),
        out_dir=Path("out/coop"),
    ))
    outcome.summary["decisions"], outcome.written["links.csv"]

The order of a job is the order in which a mistake should be found: the database (connect,
migrate or refuse, writable) before any input is read; every config before any data file; the
inputs before linking; the outputs before the run is recorded.
"""

from registry_link.jobs.evaluate import evaluate_run
from registry_link.jobs.match import (
    SAMPLE_PARTNERS,
    SHIPPED_MODEL_CONFIG,
    EventCallback,
    MatchJob,
    MatchOutcome,
    StageCallback,
    check_output_folder,
    check_partner_configs,
    evaluation_rows,
    households_reproduced_text,
    load_job_inputs,
    load_partner_lists,
    outcome_rows,
    read_previous_keys,
    rerun_after_review,
    resolve_registry_config,
    run_match,
    sample_dir,
    sample_job,
    summary_for_json,
)
from registry_link.jobs.registry import load_registry_file
from registry_link.report.evaluation import SLICES

__all__ = [
    "SAMPLE_PARTNERS",
    "SHIPPED_MODEL_CONFIG",
    "SLICES",
    "EventCallback",
    "MatchJob",
    "MatchOutcome",
    "StageCallback",
    "check_output_folder",
    "check_partner_configs",
    "evaluate_run",
    "evaluation_rows",
    "households_reproduced_text",
    "load_job_inputs",
    "load_partner_lists",
    "load_registry_file",
    "outcome_rows",
    "read_previous_keys",
    "rerun_after_review",
    "resolve_registry_config",
    "run_match",
    "sample_dir",
    "sample_job",
    "summary_for_json",
]
