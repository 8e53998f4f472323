"""Batch jobs: upload a partner list and its config, follow the job, download its results;
the links are those of `registry-link match` on the same inputs."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import polars as pl

from tests.service.conftest import Sample, Service


def _wait(service: Service, job_id: str, seconds: float = 300) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        job = service.client.get(f"/jobs/{job_id}", headers=service.auth("batch")).json()
        if job["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.5)


def _small_list(sample: Sample, tmp_path: Path, rows: int = 60) -> tuple[Path, Path]:
    """The first rows of the sample's Arabic cooperative list, and its config."""
    partner = next(p for p in sample.partners if p.name == "partner_coop_ar.csv")
    config = next(c for c in sample.configs if c.name == "partner_coop_ar.yaml")
    lines = partner.read_text(encoding="utf-8-sig").splitlines(keepends=True)[: rows + 1]
    small = tmp_path / "coop_small.csv"
    small.write_text("".join(lines), encoding="utf-8-sig")
    return small, config


def test_batch_job_runs_match_and_serves_its_files(
    service: Service, sample: Sample, tmp_path: Path
) -> None:
    from registry_link.jobs import MatchJob, run_match

    partner, config = _small_list(sample, tmp_path)
    response = service.client.post(
        "/jobs",
        files={
            "partner": ("coop_small.csv", partner.read_bytes(), "text/csv"),
            "config": ("partner_coop_ar.yaml", config.read_bytes(), "application/yaml"),
        },
        headers=service.auth("batch"),
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    job = _wait(service, job_id)
    assert job["status"] == "succeeded", job
    assert (
        job["progress"]["stages_done"]
        and job["progress"]["stage"] == job["progress"]["stages_done"][-1]
    )
    assert any("partner list" in line for line in job["progress"]["events"])
    names = {f["name"] for f in job["files"]}
    assert {"links.csv", "households.csv", "summary.json"} <= names
    download = service.client.get(f"/jobs/{job_id}/files/links.csv", headers=service.auth("batch"))
    assert download.status_code == 200
    served = tmp_path / "served_links.csv"
    served.write_bytes(download.content)
    # the same as `registry-link match` on the same inputs and model
    outcome = run_match(
        MatchJob(
            registry=sample.registry,
            registry_config=sample.registry_config,
            partners=(partner,),
            configs=(config,),
            out_dir=tmp_path / "cli",
            model=sample.model,
        )
    )
    expected = pl.read_csv(outcome.written["links.csv"], infer_schema=False)
    got = pl.read_csv(served, infer_schema=False)
    assert got.select("record_id", "person_id", "decision").equals(
        expected.select("record_id", "person_id", "decision")
    )
    assert job["summary"]["records"]["partner"] == 60
    # other keys cannot see the job; unknown files are 404
    assert service.client.get(f"/jobs/{job_id}", headers=service.auth("all")).status_code == 404
    missing = service.client.get(f"/jobs/{job_id}/files/../../etc", headers=service.auth("batch"))
    assert missing.status_code == 404


def test_a_bad_config_or_file_type_is_refused_at_once(service: Service, sample: Sample) -> None:
    partner = sample.partners[0]
    bad_config = service.client.post(
        "/jobs",
        files={"partner": ("p.csv", partner.read_bytes()), "config": ("c.yaml", b"version: 1\n")},
        headers=service.auth("batch"),
    )
    assert bad_config.status_code == 422
    assert bad_config.json()["error"]["fields"][0]["field"] == "config"
    bad_type = service.client.post(
        "/jobs",
        files={"partner": ("p.exe", b"MZ"), "config": ("c.yaml", b"version: 1\n")},
        headers=service.auth("batch"),
    )
    assert bad_type.status_code == 422
    assert bad_type.json()["error"]["fields"][0]["field"] == "partner"
    missing = service.client.post(
        "/jobs", files={"partner": ("p.csv", b"a\n")}, headers=service.auth("batch")
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"][0]["field"] == "config"
