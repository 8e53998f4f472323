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


def _submit(service: Service, partner: Path, config: Path) -> str:
    response = service.client.post(
        "/jobs",
        files={
            "partner": (partner.name, partner.read_bytes(), "text/csv"),
            "config": (config.name, config.read_bytes(), "application/yaml"),
        },
        headers=service.auth("batch"),
    )
    assert response.status_code == 202, response.text
    return str(response.json()["job_id"])


def _links_of_run(db_url: str, run_id: int) -> list[tuple[str, str | None, str]]:
    from sqlalchemy import select

    from registry_link.db.engine import open_database, transaction
    from registry_link.db.models import Link

    with transaction(open_database(db_url)) as session:
        rows = session.execute(
            select(Link.record_id, Link.person_id, Link.decision)
            .where(Link.run_id == run_id)
            .order_by(Link.record_id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_with_a_database_the_job_is_a_recorded_run_and_survives_a_restart(
    make_service: Any, sample: Sample, tmp_path: Path
) -> None:
    from registry_link.db.access import key_id_of
    from registry_link.db.engine import open_database, transaction
    from registry_link.db.repository import get_service_job, run_report
    from registry_link.jobs import MatchJob, run_match

    db_url = f"sqlite:///{tmp_path / 'record.db'}"
    service = make_service(db_url=db_url)
    partner, config = _small_list(sample, tmp_path)
    job_id = _submit(service, partner, config)
    job = _wait(service, job_id)
    assert job["status"] == "succeeded", job
    run_id = job["run_id"]
    with transaction(open_database(db_url)) as session:
        report = run_report(session, run_id)
        row = get_service_job(session, job_id)
        assert row is not None
        assert (row.status, row.run_id, row.key_id) == (
            "succeeded",
            run_id,
            key_id_of(service.keys["batch"]),
        )
        assert set(row.files) >= {"links.csv", "summary.json"}
        assert row.stages_done == job["progress"]["stages_done"]
    assert report["operator"] == f"key:{key_id_of(service.keys['batch'])}"
    assert report["status"] == "finished"
    assert sum(report["links_by_decision"].values()) == 60
    # recorded as `registry-link match --db` records the same inputs
    cli_db = f"sqlite:///{tmp_path / 'cli.db'}"
    outcome = run_match(
        MatchJob(
            registry=sample.registry,
            registry_config=sample.registry_config,
            partners=(partner,),
            configs=(config,),
            out_dir=tmp_path / "cli",
            model=sample.model,
            db_url=cli_db,
        )
    )
    assert _links_of_run(db_url, run_id) == _links_of_run(cli_db, outcome.recorded.run_id)
    # a new service on the same database still knows the finished job and serves its files
    restarted = make_service(db_url=db_url)
    again = restarted.client.get(f"/jobs/{job_id}", headers=service.auth("batch"))
    assert again.status_code == 200
    assert {k: again.json()[k] for k in ("status", "run_id", "files", "summary")} == {
        k: job[k] for k in ("status", "run_id", "files", "summary")
    }
    download = restarted.client.get(
        f"/jobs/{job_id}/files/links.csv", headers=service.auth("batch")
    )
    assert download.status_code == 200 and download.content
    assert restarted.client.get(f"/jobs/{job_id}", headers=service.auth("all")).status_code == 404


def test_jobs_a_stopped_service_left_unfinished_are_failed_at_the_next_start(
    make_service: Any, tmp_path: Path
) -> None:
    from registry_link.db.access import key_id_of
    from registry_link.db.engine import prepare_database, transaction
    from registry_link.db.repository import save_service_job

    db_url = f"sqlite:///{tmp_path / 'restart.db'}"
    first = make_service(db_url=db_url)
    owner = key_id_of(first.keys["batch"])
    with transaction(prepare_database(db_url)) as session:
        for job_id, status in (("a" * 32, "running"), ("b" * 32, "queued")):
            save_service_job(session, job_id, kind="batch", key_id=owner, status=status)
    make_service(db_url=db_url)  # the next start
    for job_id in ("a" * 32, "b" * 32):
        job = first.client.get(f"/jobs/{job_id}", headers=first.auth("batch")).json()
        assert job["status"] == "failed" and job["finished_at"]
        assert "submit it again" in job["error"]


def test_without_a_database_of_record_jobs_live_in_memory_only(
    sample: Sample, tmp_path: Path, monkeypatch: Any
) -> None:
    """No --db and no $REGISTRY_LINK_DB: keys in the default database, no run recorded."""
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from registry_link.db.engine import DEFAULT_URL, open_database, transaction
    from registry_link.db.models import Run, ServiceJob
    from registry_link.service import ServiceSettings, create_app
    from tests.service.conftest import make_keys

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REGISTRY_LINK_DB", raising=False)
    settings = ServiceSettings(
        registry=sample.registry,
        registry_config=sample.registry_config,
        model=sample.model,
        jobs_dir=tmp_path / "jobs",
    )
    assert not settings.records_jobs
    keys = make_keys(DEFAULT_URL)
    partner, config = _small_list(sample, tmp_path)
    with TestClient(create_app(settings)) as client:
        service = Service(client, settings, keys)
        deadline = time.monotonic() + 300
        while client.get("/ready").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        job = _wait(service, _submit(service, partner, config))
    assert job["status"] == "succeeded", job
    assert "run_id" not in job
    with transaction(open_database(DEFAULT_URL)) as session:
        assert session.scalar(select(func.count()).select_from(Run)) == 0
        assert session.scalar(select(func.count()).select_from(ServiceJob)) == 0
