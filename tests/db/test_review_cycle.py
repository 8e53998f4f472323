"""The whole cycle through the CLI: match recorded → reviewer decisions → households --run.

A pair a reviewer rejected is never matched again (neither by `households --run` nor by the
next `match`), an accepted one is matched, and the refreshed run is recorded with its parent.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from registry_link.cli import main
from registry_link.db.engine import open_database, transaction
from registry_link.db.models import Run
from registry_link.db.queue import ReviewQueue

ROOT = Path(__file__).resolve().parents[2]


def _match(data: Path, db_url: str, out: Path) -> None:
    main(
        [
            "match",
            "--registry", str(data / "registry.csv"),
            "--registry-config", str(ROOT / "configs/registry.yaml"),
            "--model-config", str(ROOT / "configs/model.yaml"),
            "--partner", str(data / "partner_coop_ar.csv"),
            "--config", str(ROOT / "configs/partner_coop_ar.yaml"),
            "--db", db_url,
            "--out", str(out),
        ]
    )  # fmt: skip


@pytest.mark.slow
def test_decisions_carry_into_households_run_and_the_next_match(
    db_url: str, tmp_path: Path
) -> None:
    data = ROOT / "sample_data"  # the shipped sample leaves a few records to review
    main(["init", "--db", db_url])
    _match(data, db_url, tmp_path / "run1")
    queue = ReviewQueue(open_database(db_url))
    first = queue.claim_next("amina")
    assert first is not None, "the synthetic list should leave something to review"
    queue.decide(first.id, "amina", "reject", note="different father")
    second = queue.claim_next("amina")
    assert second is not None
    queue.decide(second.id, "amina", "accept")

    main(["households", "--run", "1", "--out", str(tmp_path / "run2"), "--db", db_url])
    with transaction(open_database(db_url)) as session:
        runs = {r.id: r for r in session.query(Run).all()}
    assert set(runs) == {1, 2} and runs[2].parent_run_id == 1

    for out in (tmp_path / "run2",):
        links = pl.read_parquet(out / "links.parquet")
        rejected = links.filter(
            (pl.col("record_id") == first.record_id) & (pl.col("decision") == "match")
        )
        assert (rejected["person_id"] != first.person_id).all()
        accepted = links.filter(pl.col("record_id") == second.record_id).row(0, named=True)
        assert accepted["person_id"] == second.person_id and accepted["decision"] == "match"

    _match(data, db_url, tmp_path / "run3")  # the next month's match applies them too
    links = pl.read_parquet(tmp_path / "run3" / "links.parquet")
    row = links.filter(pl.col("record_id") == first.record_id).row(0, named=True)
    assert not (row["person_id"] == first.person_id and row["decision"] == "match")
    row = links.filter(pl.col("record_id") == second.record_id).row(0, named=True)
    assert row["person_id"] == second.person_id and row["decision"] == "match"
