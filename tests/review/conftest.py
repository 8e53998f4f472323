"""A tiny review queue in a fresh database (synthetic people only).

Every test taking ``empty_url``/``db_url`` runs on SQLite and on PostgreSQL. PostgreSQL needs
``REGISTRY_LINK_TEST_PG`` (printed by ``.ci/postgres.sh``), else those cases skip. They use a
schema of their own (:data:`PG_SCHEMA`, emptied before each test) through the connection's
``search_path``, so they never touch the tables other test modules use in ``public``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from registry_link.db.engine import open_database, transaction
from registry_link.db.models import ReviewItem, Run, utcnow


def payload(
    partner: dict[str, Any], registry: dict[str, Any], bf: dict[str, Any]
) -> dict[str, Any]:
    """An item payload as :mod:`registry_link.db.recording` writes it."""
    words = [f"{k}: {v:+.1f}" for k, v in bf.items() if v is not None]
    return {"partner": partner, "registry": registry, "bf": bf, "words": words, "link_reason": ""}


#: (record_id, person_id, rank, probability, payload) — record C1 has two candidates.
ITEMS: list[tuple[str, str, int, float, dict[str, Any]]] = [
    (
        "C1",
        "1000000001",
        1,
        0.81,
        payload(
            {
                "record_id": "C1",
                "cin": "BK123456",
                "family_name": "EL ALAOUI",
                "given_name": "Fatima Zahra",
                "sex": "F",
                "birth_date_raw": "1985",
            },
            {
                "record_id": "1000000001",
                "cin": "BK123465",
                "family_name_ar": "العلوي",
                "given_name_ar": "فاطمة الزهراء",
                "sex": "F",
                "birth_date_raw": "12/03/1985",
            },
            {"family": 6.2, "given": 5.1, "cin": -1.5, "birth_date": 1.3, "sex": 0.4},
        ),
    ),
    (
        "C1",
        "1000000002",
        2,
        0.64,
        payload(
            {
                "record_id": "C1",
                "cin": "BK123456",
                "family_name": "EL ALAOUI",
                "given_name": "Fatima Zahra",
                "sex": "F",
                "birth_date_raw": "1985",
            },
            {
                "record_id": "1000000002",
                "family_name": "ALAOUI",
                "given_name": "Fatima",
                "sex": "F",
                "birth_date_raw": "1986",
            },
            {"family": 5.0, "given": 2.0, "cin": None, "birth_date": -0.5, "sex": 0.4},
        ),
    ),
    (
        "C2",
        "1000000003",
        1,
        0.55,
        payload(
            {"record_id": "C2", "family_name": "BENNANI", "given_name": "Youssef", "sex": "M"},
            {
                "record_id": "1000000003",
                "family_name_ar": "بناني",
                "given_name_ar": "يوسف",
                "sex": "M",
            },
            {"family": 4.0, "given": 4.4, "sex": 0.4},
        ),
    ),
    (
        "C3",
        "1000000004",
        1,
        0.52,
        payload(
            {"record_id": "C3", "family_name": "TAZI", "given_name": "Omar", "sex": "M"},
            {"record_id": "1000000004", "family_name": "TAZI", "given_name": "Omar", "sex": "M"},
            {"family": 3.0, "given": 3.2, "sex": 0.4},
        ),
    ),
]


PG_ENV = "REGISTRY_LINK_TEST_PG"
PG_SCHEMA = "review_tests"


def build_queue_db(url: str, extra_records: int = 0) -> str:
    """Create the schema at ``url`` with one run and the :data:`ITEMS` (plus ``extra_records``
    one-candidate records ``X000``…); returns the URL."""
    factory = open_database(url, create=True)
    with transaction(factory) as s:
        run = Run(run_key="test-run", operator="tester", finished_at=utcnow(), status="finished")
        s.add(run)
        s.flush()
        extra = [
            (
                f"X{i:03d}",
                f"20000{i:05d}",
                1,
                0.6,
                payload(
                    {"record_id": f"X{i:03d}", "family_name": "IDRISSI", "given_name": "Said"},
                    {
                        "record_id": f"20000{i:05d}",
                        "family_name_ar": "الإدريسي",
                        "given_name_ar": "سعيد",
                    },
                    {"family": 5.0, "given": 4.0},
                ),
            )
            for i in range(extra_records)
        ]
        for record_id, person_id, rank, prob, data in [*ITEMS, *extra]:
            s.add(
                ReviewItem(
                    run_id=run.id,
                    source="coop",
                    record_id=record_id,
                    person_id=person_id,
                    rank=rank,
                    probability=prob,
                    weight=1.5,
                    fingerprint=f"fp-{record_id}",
                    payload=data,
                )
            )
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database: a new SQLite file, or an emptied PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'review.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need ${PG_ENV} (run .ci/postgres.sh); not set here")
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    engine.dispose()
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{PG_SCHEMA}"


@pytest.fixture
def db_url(empty_url: str) -> str:
    """URL of a fresh database holding the tiny queue."""
    return build_queue_db(empty_url)


@pytest.fixture
def factory(db_url: str) -> sessionmaker[Session]:
    """Session factory of the tiny queue's database."""
    return open_database(db_url)
