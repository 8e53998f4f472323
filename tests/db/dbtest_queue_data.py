"""A synthetic review queue written straight into the tables (no linkage needed)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from registry_link.db.engine import open_database
from registry_link.db.models import ReviewItem, Run


def make_queue(url: str, records: int = 6, candidates: int = 2) -> sessionmaker[Session]:
    """Initialise the database and add one run with ``records`` × ``candidates`` items."""
    factory = open_database(url, create=True)
    with factory() as s:
        run = Run(run_key=f"k{records}x{candidates}", operator="test", status="finished")
        s.add(run)
        s.flush()
        for r in range(records):
            for c in range(candidates):
                s.add(
                    ReviewItem(
                        run_id=run.id,
                        source="coop",
                        record_id=f"R{r:03d}",
                        person_id=f"P{r:03d}{c}",
                        rank=c + 1,
                        probability=0.8 - 0.1 * c,
                        weight=2.0 - c,
                        fingerprint=f"fp{r}",
                        payload={"partner": {"given_name": "محمد"}, "words": ["x"]},
                    )
                )
        s.commit()
    return factory
