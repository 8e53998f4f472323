"""What several server processes (``serve --workers N``) share through the database, tested
in one process: an index catching up with updates another process recorded, replays decided
by the database's unique key, the settings handed to spawned workers."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from registry_link.cli import cli
from registry_link.db.access import remember_signature
from registry_link.db.engine import prepare_database, reading, transaction
from registry_link.db.journal import extract_sha256, latest_update_id, record_update
from registry_link.service.app import IndexHolder
from registry_link.service.callbacks import CallbackPolicy
from registry_link.service.server import decode_settings, encode_settings
from registry_link.service.settings import ServiceSettings
from tests.service.conftest import Sample, build_index

ROOT = Path(__file__).resolve().parents[2]


def _person(n: int, cin: str) -> dict[str, str]:
    return {
        "person_id": f"97000000{n:02d}",
        "household_id": f"970000{n:03d}",
        "relation_to_head": "CHEF",
        "cin": cin,
        "family_name": "Alaoui",
        "given_name": "Omar",
        "sex": "M",
        "birth_date": "1985-06-01",
        "residence": "Meknès",
    }


def test_an_index_catches_up_with_the_updates_others_recorded(
    sample: Sample, tmp_path: Path
) -> None:
    sessions = prepare_database(f"sqlite:///{tmp_path / 'follow.db'}")
    sha256 = extract_sha256(sample.registry)
    following, alone = IndexHolder(follows_journal=True), IndexHolder()
    index, own = build_index(sample), build_index(sample)
    following.open(index, sample.registry, sessions)
    alone.open(own, sample.registry, sessions)
    size = index.size
    assert following.version() == 0

    def recorded(kind: str, ids: list[str], persons: list[dict[str, str]]) -> int:
        with transaction(sessions) as session:  # (as another process records one)
            return record_update(session, sha256, "k", kind, ids, persons)

    first = recorded("upsert", ["9700000001"], [_person(1, "ZV100001")])
    second = recorded("upsert", ["9700000002"], [_person(2, "ZV100002")])
    following.catch_up(sessions, upto=first)  # (a process recording `second` applies `first`)
    assert following.applied_update == first and index.size == size + 1
    following.catch_up(sessions)  # (before a search: all of them)
    assert following.applied_update == second and following.version() == second
    assert [r["cin"] for r in index.get("9700000002")] == ["ZV100002"]
    third = recorded("remove", ["9700000001"], [])
    following.catch_up(sessions)
    assert index.get("9700000001") == [] and index.size == size + 1
    assert following.version() == third
    with reading(sessions) as session:
        assert latest_update_id(session, sha256) == third
        assert latest_update_id(session, "z" * 64) == 0
    # a process alone applies only its own (its version: the index's count of updates)
    alone.catch_up(sessions)
    assert own.size == size and alone.version() == 0


def test_the_database_decides_a_replay(tmp_path: Path) -> None:
    sessions = prepare_database(f"sqlite:///{tmp_path / 'replay.db'}")
    fingerprint = b"\x01" * 16
    outcomes = []
    for expires, now in ((100, 50), (100, 60), (300, 150)):  # the third: the first expired
        with transaction(sessions) as session:
            outcomes.append(remember_signature(session, "k", fingerprint, expires, now))
    with transaction(sessions) as session:
        outcomes.append(remember_signature(session, "other-key", fingerprint, 300, 150))
    assert outcomes == [True, False, True, True]


def test_settings_reach_a_spawned_worker_unchanged(sample: Sample, tmp_path: Path) -> None:
    settings = ServiceSettings(
        registry=sample.registry,
        model=sample.model,
        registry_config=sample.registry_config,
        db_url="sqlite:///x.db",
        jobs_dir=tmp_path / "jobs",
        rate_per_second=12.5,
        callbacks=CallbackPolicy(attempts=1, timeout=2.0, backoff=0.5),
        signing_key=None,
        gc_freeze=True,
        workers=3,
    )
    assert decode_settings(encode_settings(settings)) == settings


def test_serve_workers_option_picks_the_supervisor(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``--workers 2`` hands its settings to :func:`serve_workers` (no app built in this
    process); the default builds the app here, as before."""
    import registry_link.service as service
    import registry_link.service.server as server

    built: list[ServiceSettings] = []
    supervised: list[ServiceSettings] = []

    class NoServer:
        def run(self) -> None:
            pass

    monkeypatch.setattr(service, "create_app", lambda settings: built.append(settings))
    monkeypatch.setattr(server, "make_server", lambda app, host, port: NoServer())
    monkeypatch.setattr(server, "serve_workers", lambda s, host, port: supervised.append(s))
    model = tmp_path / "model.json"
    model.write_text("{}", encoding="utf-8")
    base = [
        "serve",
        "--registry",
        str(ROOT / "sample_data" / "registry.csv"),
        "--model",
        str(model),
    ]
    assert CliRunner().invoke(cli, [*base, "--workers", "2"]).exit_code == 0
    assert [s.workers for s in supervised] == [2] and built == []
    assert CliRunner().invoke(cli, base).exit_code == 0
    assert [s.workers for s in built] == [1] and len(supervised) == 1
    assert CliRunner().invoke(cli, [*base, "--workers", "0"]).exit_code == 2
