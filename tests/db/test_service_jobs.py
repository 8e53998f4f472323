"""The search service's batch jobs in the database (``service_jobs``, migration 0003), and the
migration from 0002 keeping the API keys (with no callback prefixes)."""

from __future__ import annotations

from sqlalchemy import text

from registry_link.db.access import add_key, list_keys, verify_key
from registry_link.db.engine import (
    current_revision,
    head_revision,
    make_engine,
    prepare_database,
    session_factory,
    transaction,
)
from registry_link.db.models import utcnow
from registry_link.db.repository import (
    abandon_unfinished_jobs,
    get_service_job,
    save_service_job,
)


def test_a_job_is_created_then_updated_and_read_back(db_url: str) -> None:
    factory = prepare_database(db_url)
    with transaction(factory) as session:
        save_service_job(session, "j" * 32, kind="batch", key_id="k1", status="queued")
    finished = utcnow()
    with transaction(factory) as session:
        save_service_job(
            session,
            "j" * 32,
            status="succeeded",
            finished_at=finished,
            stages_done=["block", "compare"],
            files={"links.csv": "/jobs/j/out/links.csv"},
            summary={"records": {"partner": 60}},
        )
    with transaction(factory) as session:
        row = get_service_job(session, "j" * 32)
        assert row is not None
        assert (row.kind, row.key_id, row.status) == ("batch", "k1", "succeeded")
        assert row.stages_done == ["block", "compare"] and row.events == []
        assert row.files == {"links.csv": "/jobs/j/out/links.csv"}
        assert row.summary == {"records": {"partner": 60}}
        assert row.finished_at is not None and row.created_at <= row.finished_at
        assert get_service_job(session, "unknown") is None


def test_unfinished_jobs_are_abandoned_and_finished_ones_kept(db_url: str) -> None:
    factory = prepare_database(db_url)
    with transaction(factory) as session:
        for job_id, status in (("q", "queued"), ("r", "running"), ("s", "succeeded")):
            save_service_job(session, job_id, kind="batch", key_id="k", status=status)
    with transaction(factory) as session:
        assert abandon_unfinished_jobs(session, "stopped") == 2
    with transaction(factory) as session:
        states = {j: get_service_job(session, j) for j in ("q", "r", "s")}
        assert {j: (r.status if r else None) for j, r in states.items()} == {
            "q": "failed",
            "r": "failed",
            "s": "succeeded",
        }
        assert states["q"] is not None and states["q"].error == "stopped"
        assert states["s"] is not None and states["s"].error is None
        assert abandon_unfinished_jobs(session, "again") == 0


def test_migrating_from_0002_keeps_the_keys_without_callbacks(db_url: str) -> None:
    from alembic import command

    from registry_link.db.engine import alembic_config

    engine = make_engine(db_url)
    command.upgrade(alembic_config(engine), "0002")
    with engine.begin() as conn:  # a key as 0002 stored it
        conn.execute(
            text(
                "INSERT INTO api_keys (key_id, key_sha256, partner, scopes, created_at, "
                "created_by) VALUES ('old', :sha, 'CNSS', '[\"search:id\"]', :at, 'x')"
            ),
            {"sha": "0" * 64, "at": utcnow()},
        )
    command.upgrade(alembic_config(engine), "head")
    assert current_revision(engine) == head_revision()
    factory = session_factory(engine)
    with transaction(factory) as session:
        (old,) = list_keys(session)
        assert old.key_id == "old" and old.callback_prefixes == ()
        assert old.public_key is None  # (0004: its envelopes' signatures stay unchecked)
        made = add_key(session, "CMR", ["search:id"], "x", ["https://cmr.example/dci/"])
    with transaction(factory) as session:
        info = verify_key(session, made.key)
        assert info is not None and info.callback_prefixes == ("https://cmr.example/dci/",)
