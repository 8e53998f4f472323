"""Service fixtures: the sample registry's index (built once), a fresh app and keys per test.

The index is the real one (:meth:`registry_link.linker.Linker.index`) on the shipped sample
registry, with a model trained once on the sample partner lists. Tests that change the
registry add persons of their own and remove them again, so the shared index is left as found.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the service tests need registry-link[serve]")

from fastapi.testclient import TestClient

from registry_link.db.access import add_key
from registry_link.db.engine import prepare_database, transaction
from registry_link.db.models import API_SCOPES
from registry_link.jobs import load_job_inputs, sample_job
from registry_link.service import ServiceSettings, create_app


@dataclass(frozen=True)
class Sample:
    """The sample's inputs as the service reads them."""

    registry: Path
    registry_config: Path
    model: Path
    partners: tuple[Path, ...]
    configs: tuple[Path, ...]


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """The shipped sample, with a model trained on its partner lists (saved as JSON)."""
    from registry_link.linker import Linker
    from registry_link.model import save_model

    job = sample_job(tmp_path_factory.mktemp("unused"))
    assert job.registry_config is not None
    registry, lists = load_job_inputs(job, job.registry_config)
    model = Linker.from_config(job.model_config).train(registry, lists)
    path = tmp_path_factory.mktemp("model") / "model.json"
    save_model(model, path)
    return Sample(job.registry, job.registry_config, path, job.partners, job.configs)


def build_index(sample: Sample) -> Any:
    """A new registry index of the sample registry with the sample's model."""
    from registry_link.linker import Linker
    from registry_link.model import load_model
    from registry_link.standardise.pipeline import load_standardised

    registry = load_standardised(sample.registry, sample.registry_config)
    linker = Linker.from_config(sample_job(Path()).model_config)
    return linker.index(registry, load_model(sample.model))


@pytest.fixture(scope="session")
def registry_index(sample: Sample) -> Any:
    """The registry index of the sample (shared: tests leave it as they found it)."""
    return build_index(sample)


@pytest.fixture(scope="session")
def registry_rows(sample: Sample) -> list[dict[str, str]]:
    """The sample registry's raw rows (CSV columns)."""
    import polars as pl

    return pl.read_csv(sample.registry, separator=";", infer_schema=False).to_dicts()


@dataclass
class Service:
    """A running app (in process), its settings and one key per scope set."""

    client: TestClient
    settings: ServiceSettings
    keys: dict[str, str]

    def auth(self, name: str = "all") -> dict[str, str]:
        """The Authorization header of a key."""
        return {"Authorization": f"Bearer {self.keys[name]}"}


#: Keys made for every test: name -> scopes.
KEY_SCOPES: dict[str, tuple[str, ...]] = {
    "all": API_SCOPES,
    "id": ("search:id",),
    "demographic": ("search:demographic",),
    "batch": ("batch",),
    "writer": ("registry:write",),
}


def make_keys(db_url: str) -> dict[str, str]:
    """One key per entry of :data:`KEY_SCOPES` (partner named after it)."""
    factory = prepare_database(db_url)
    keys = {}
    with transaction(factory) as session:
        for name, scopes in KEY_SCOPES.items():
            keys[name] = add_key(session, f"partner-{name}", scopes, "tests").key
    return keys


@pytest.fixture
def make_service(tmp_path: Path, sample: Sample, registry_index: Any) -> Iterator[Any]:
    """Build a service with settings overrides: ``make_service(rate_burst=3)``."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> Service:
        """``index=`` another index than the shared one; the rest: settings."""
        index = overrides.pop("index", registry_index)
        db_url = overrides.pop("db_url", f"sqlite:///{tmp_path / 'service.db'}")
        settings = ServiceSettings(
            registry=sample.registry,
            registry_config=sample.registry_config,
            model=sample.model,
            db_url=db_url,
            jobs_dir=tmp_path / "jobs",
            **overrides,
        )
        keys = make_keys(db_url)
        client = TestClient(create_app(settings, index=index))
        client.__enter__()
        clients.append(client)
        return Service(client, settings, keys)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def service(make_service: Any) -> Service:
    """A service with the default limits."""
    return make_service()


def envelope(*queries: dict[str, Any], transaction_id: str = "txn-1") -> dict[str, Any]:
    """A DCI search envelope of these ``search_criteria`` (reference ids ref-0, ref-1 …)."""
    return {
        "signature": "sig",
        "header": {
            "version": "1.0.0",
            "message_id": "msg-1",
            "message_ts": "2026-12-06T10:00:00+00:00",
            "action": "search",
            "sender_id": "cnss.ma",
            "receiver_id": "registry",
            "total_count": len(queries),
        },
        "message": {
            "transaction_id": transaction_id,
            "search_request": [
                {
                    "reference_id": f"ref-{i}",
                    "timestamp": "2026-12-06T10:00:00+00:00",
                    "search_criteria": criteria,
                    "locale": "fra",
                }
                for i, criteria in enumerate(queries)
            ],
        },
    }


def by_id(id_type: str, value: str, k: int = 5) -> dict[str, Any]:
    """``idtype-value`` search criteria."""
    return {
        "query_type": "idtype-value",
        "query": {"type": id_type, "value": value},
        "pagination": {"page_size": k, "page_number": 1},
    }


def by_predicates(k: int = 5, **attributes: str | int) -> dict[str, Any]:
    """``predicate`` search criteria: every attribute ``eq`` its value, joined by ``and``."""
    return {
        "query_type": "predicate",
        "query": [
            {
                "seq_num": i + 1,
                "expression1": {"attribute_name": name, "operator": "eq", "attribute_value": value},
            }
            for i, (name, value) in enumerate(attributes.items())
        ],
        "pagination": {"page_size": k, "page_number": 1},
    }


def txn_status_envelope(transaction_id: str) -> dict[str, Any]:
    """A DCI transaction-status request for the asynchronous search ``transaction_id``."""
    return {
        "signature": None,
        "header": {**envelope()["header"], "action": "txn-status", "total_count": 1},
        "message": {
            "transaction_id": "txn-status-1",
            "txnstatus_request": {
                "reference_id": "ref-s",
                "txn_type": "search",
                "attribute_type": "transaction_id",
                "attribute_value": transaction_id,
            },
        },
    }


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """The CLI's entry point as a user meets it: exit code, and what it printed."""
    from registry_link.cli import main

    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    printed = capsys.readouterr()
    return code, printed.out + printed.err
