"""Runs recorded from a real link, idempotence, and reviewer decisions applied to the next run.

Data: a 3,000-person synthetic registry and its cooperative list (``synth.generate``, seed 5),
linked once per module; each test records into a fresh database (SQLite and PostgreSQL).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from registry_link.db.engine import open_database
from registry_link.db.models import Link, OutputHousehold, ReviewItem, Run
from registry_link.db.queue import ReviewQueue
from registry_link.db.recording import RunInputs, prior_decisions, record_run
from registry_link.db.repository import load_registry, record_fingerprints, registry_frame
from registry_link.linker import Linker, LinkResult
from registry_link.standardise.pipeline import StandardisedList, load_standardised

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture(scope="module")
def linked(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[StandardisedList, StandardisedList, LinkResult, RunInputs, Linker]:
    from registry_link.synth import generate

    data = tmp_path_factory.mktemp("synth_db")
    generate(3000, 5, data)
    reg = load_standardised(data / "registry.csv", CONFIGS / "registry.yaml")
    coop = load_standardised(data / "partner_coop_ar.csv", CONFIGS / "partner_coop_ar.yaml")
    linker = Linker.from_config(CONFIGS / "model.yaml")
    result = linker.link(reg, [coop])
    inputs = RunInputs(
        partners=(data / "partner_coop_ar.csv",),
        configs=(CONFIGS / "partner_coop_ar.yaml",),
        registry=data / "registry.csv",
        registry_config=CONFIGS / "registry.yaml",
        model_config=CONFIGS / "model.yaml",
    )
    return reg, coop, result, inputs, linker


def test_run_is_recorded_once(db_url: str, linked) -> None:  # type: ignore[no-untyped-def]
    reg, coop, result, inputs, _ = linked
    factory = open_database(db_url, create=True)
    first = record_run(factory, result, partners=[coop], registry=reg, inputs=inputs, operator="op")
    again = record_run(factory, result, partners=[coop], registry=reg, inputs=inputs)
    assert first.created and not again.created and again.run_id == first.run_id
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Run)) == 1
        assert s.scalar(select(func.count()).select_from(Link)) == coop.frame.height
        n_hh = s.scalar(select(func.count()).select_from(OutputHousehold))
        run = s.get(Run, first.run_id)
        assert run is not None
    assert n_hh == result.households.height
    assert first.review_items == result.review.height
    assert run.operator == "op" and run.status == "finished"
    assert set(run.input_hashes) == {str(inputs.registry), str(inputs.partners[0])}
    assert run.counts["decisions"] == result.summary["decisions"]


def test_registry_snapshot_round_trip(db_url: str, linked) -> None:  # type: ignore[no-untyped-def]
    reg, _, _, inputs, _ = linked
    factory = open_database(db_url, create=True)
    done = load_registry(
        factory, reg.frame, source_file=inputs.registry, config_path=inputs.registry_config
    )
    assert not done.unchanged and done.persons == reg.frame.height
    again = load_registry(
        factory, reg.frame, source_file=inputs.registry, config_path=inputs.registry_config
    )
    assert again.unchanged and again.snapshot_id == done.snapshot_id
    back = registry_frame(factory)
    assert back.equals(reg.frame)


def test_fingerprints_change_only_with_the_record(linked) -> None:  # type: ignore[no-untyped-def]
    _, coop, _, _, _ = linked
    frame = coop.frame.head(5)
    fp = record_fingerprints(frame)
    assert fp.n_unique() == 5 and fp.str.len_chars().to_list() == [32] * 5
    moved = frame.with_columns(row_number=pl.col("row_number") + 100)
    assert record_fingerprints(moved).equals(fp)
    changed = frame.with_columns(given_name=pl.lit("Zineb"))
    assert not record_fingerprints(changed).equals(fp)


def test_decisions_carry_over_to_the_next_run(db_url: str, linked) -> None:  # type: ignore[no-untyped-def]
    reg, coop, result, inputs, linker = linked
    factory = open_database(db_url, create=True)
    run1 = record_run(factory, result, partners=[coop], registry=reg, inputs=inputs)
    matched = result.links.filter(pl.col("decision") == "match").sort("record_id")
    m_rec, m_person = matched["record_id"][0], matched["person_id"][0]
    a_rec, a_person = matched["record_id"][1], matched["person_id"][1]
    c_rec, c_person = matched["record_id"][2], matched["person_id"][2]
    fps = dict(zip(coop.frame["record_id"], record_fingerprints(coop.frame), strict=True))
    with factory() as s:  # items for auto-matched pairs, as if a reviewer was asked
        for rid, pid in ((m_rec, m_person), (a_rec, a_person), (c_rec, c_person)):
            s.add(
                ReviewItem(
                    run_id=run1.run_id,
                    source=coop.settings.source,
                    record_id=rid,
                    person_id=pid,
                    rank=1,
                    fingerprint=fps[rid],
                    payload={},
                )
            )
        s.commit()
        ids = {
            r.record_id: r.id
            for r in s.scalars(
                select(ReviewItem).where(ReviewItem.record_id.in_([m_rec, a_rec, c_rec]))
            )
        }
    q = ReviewQueue(factory)
    q.decide(ids[m_rec], "alice", "reject")
    q.decide(ids[a_rec], "alice", "accept")
    q.decide(ids[c_rec], "alice", "accept")
    # the next month's list: record c_rec was corrected by the partner
    frame2 = coop.frame.with_columns(
        given_name=pl.when(pl.col("record_id") == c_rec)
        .then(pl.lit("Corrigé"))
        .otherwise(pl.col("given_name"))
    )
    coop2 = replace(coop, frame=frame2)
    with factory() as s:
        prior = prior_decisions(s, [coop2])
    assert sorted(prior.select("record_id", "decision").rows()) == sorted(
        [(m_rec, "reject"), (a_rec, "accept")]
    )
    result2 = linker.link(reg, [coop2], model=result.model, prior_decisions=prior)
    run2 = record_run(factory, result2, partners=[coop2], registry=reg, inputs=inputs, prior=prior)
    assert run2.created and run2.run_id != run1.run_id and run2.reopened == 1
    links2 = {r["record_id"]: r for r in result2.links.iter_rows(named=True)}
    assert not (
        links2[m_rec]["person_id"] == m_person and links2[m_rec]["decision"] == "match"
    )  # a rejected pair is never auto-matched
    assert (links2[a_rec]["person_id"], links2[a_rec]["decision"]) == (a_person, "match")
    assert "review" in links2[a_rec]["reason"] or "accepted" in links2[a_rec]["reason"]
    back = [i for i in ReviewQueue(factory, run_id=run2.run_id).items() if i.record_id == c_rec]
    assert back and all(i.status == "open" for i in back)
    assert back[0].note is not None and back[0].note.startswith("record changed since")


def test_a_run_reruns_from_any_folder_and_names_the_file_that_changed(  # type: ignore[no-untyped-def]
    db_url: str, linked, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from registry_link.db.engine import DatabaseError, transaction
    from registry_link.jobs import rerun_after_review

    reg, coop, result, inputs, _ = linked
    work = tmp_path / "work"
    work.mkdir()
    for f in (inputs.registry, inputs.partners[0]):
        shutil.copy(f, work / f.name)
    monkeypatch.chdir(work)  # the operator ran `match` with paths relative to this folder
    rel = replace(inputs, registry=Path("registry.csv"), partners=(Path("partner_coop_ar.csv"),))
    factory = open_database(db_url, create=True)
    rec = record_run(factory, result, partners=[coop], registry=reg, inputs=rel)
    with transaction(factory) as s:
        run = s.get(Run, rec.run_id)
        assert run is not None
        assert run.inputs["partners"] == [str(work / "partner_coop_ar.csv")]  # absolute
        assert set(run.input_hashes) == {str(work / "registry.csv"), run.inputs["partners"][0]}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # was: "is missing or changed since the run"
    again = rerun_after_review(rec.run_id, tmp_path / "out", db_url=db_url).recorded
    assert again.run_id == rec.run_id and not again.created  # same inputs, nothing new
    partner = work / "partner_coop_ar.csv"
    partner.write_bytes(partner.read_bytes() + b"\n")
    with pytest.raises(DatabaseError) as err:
        rerun_after_review(rec.run_id, tmp_path / "out", db_url=db_url)
    message = str(err.value)
    assert f"{partner} changed (sha256 now" in message
    assert "registry.csv" not in message  # only the file that changed is named
    (work / "registry.csv").unlink()
    with pytest.raises(DatabaseError, match=f"{work / 'registry.csv'} is missing; {partner}"):
        rerun_after_review(rec.run_id, tmp_path / "out", db_url=db_url)


def test_review_items_of_a_dependant_carry_the_principal() -> None:
    from registry_link.db.recording import with_principals

    left = pl.DataFrame(
        {
            "source": ["cnss", "cnss"],
            "record_id": ["W1", "D1"],
            "given_name": ["Mohamed", "Khadija"],
            "family_name": ["EL IDRISSI", "EL IDRISSI"],
            "given_name_ar": ["محمد", None],
            "family_name_ar": [None, None],
            "full_name": [None, None],
        }
    )
    households = pl.DataFrame(
        {
            "source": ["cnss", "cnss"],
            "record_id": ["W1", "D1"],
            "person_id": ["1000000001", None],
            "household_key": ["H-P1000000001", "H-P1000000001"],
            "registry_household_id": ["HH1", "HH1"],
        }
    )
    review = pl.DataFrame(
        {
            "source": ["cnss", "cnss"],
            "record_id": ["D1", "W1"],
            "p_principal_record_id": ["W1", None],
        }
    )
    out = with_principals(review, left, households).sort("record_id")
    d1 = out.row(0, named=True)
    assert d1["principal_name"] == "Mohamed EL IDRISSI · محمد"
    assert (d1["principal_person_id"], d1["principal_household_key"]) == (
        "1000000001",
        "H-P1000000001",
    )
    assert d1["principal_registry_household_id"] == "HH1"
    assert out.row(1, named=True)["principal_name"] is None  # a worker has no principal


def test_a_dependant_from_a_file_of_its_own_finds_its_principal_in_the_workers_source() -> None:
    from registry_link.db.recording import with_principals

    left = pl.DataFrame(
        {
            "source": ["cnss", "cnss_deps"],
            "record_id": ["W1", "W1"],  # the same id in both sources: the source decides
            "given_name": ["Mohamed", "Khadija"],
            "family_name": ["EL IDRISSI", "EL IDRISSI"],
        }
    )
    households = pl.DataFrame({"source": ["cnss"], "record_id": ["W1"], "household_key": ["H-P1"]})
    review = pl.DataFrame(
        {
            "source": ["cnss_deps"],
            "record_id": ["D1"],
            "p_principal_record_id": ["W1"],
            "p_principal_source": ["cnss"],
        }
    )
    row = with_principals(review, left, households).row(0, named=True)
    assert (row["principal_name"], row["principal_household_key"]) == ("Mohamed EL IDRISSI", "H-P1")


def test_a_run_that_linked_the_snapshot_reruns_on_it(  # type: ignore[no-untyped-def]
    db_url: str, linked, tmp_path: Path
) -> None:
    """A run recorded without a registry file re-runs on the database's registry snapshot,
    through the same job as `match` (outputs written, parent recorded, keys kept)."""
    from registry_link.jobs import rerun_after_review

    reg, coop, result, inputs, _ = linked
    factory = open_database(db_url, create=True)
    load_registry(
        factory, reg.frame, source_file=inputs.registry, config_path=inputs.registry_config
    )
    from_snapshot = replace(inputs, registry=None, registry_config=None)
    rec = record_run(factory, result, partners=[coop], registry=reg, inputs=from_snapshot)
    matched = result.links.filter(pl.col("decision") == "match").sort("record_id")
    rejected, kept = matched.row(0, named=True), matched.row(1, named=True)
    fingerprint = record_fingerprints(
        coop.frame.filter(pl.col("record_id") == rejected["record_id"])
    )
    with factory() as s:  # an item for an auto-matched pair, as if a reviewer was asked
        item = ReviewItem(
            run_id=rec.run_id,
            source=coop.settings.source,
            record_id=rejected["record_id"],
            person_id=rejected["person_id"],
            rank=1,
            fingerprint=fingerprint[0],
            payload={},
        )
        s.add(item)
        s.commit()
        item_id = item.id
    ReviewQueue(factory).decide(item_id, "r1", "reject")
    outcome = rerun_after_review(rec.run_id, tmp_path / "out", db_url=db_url)
    assert (tmp_path / "out" / "households.csv").exists()
    assert (tmp_path / "out" / "report.html").exists()
    assert outcome.recorded.created and outcome.summary["parent_run_id"] == rec.run_id
    assert outcome.summary["run_id"] == outcome.recorded.run_id
    links = {r["record_id"]: r for r in outcome.result.links.iter_rows(named=True)}
    again = links[rejected["record_id"]]
    assert not (again["person_id"] == rejected["person_id"] and again["decision"] == "match")
    assert links[kept["record_id"]]["person_id"] == kept["person_id"]
    with factory() as s:
        runs = s.scalars(select(Run).order_by(Run.id)).all()
        assert runs[-1].inputs["registry"] is None  # recorded as it was: the snapshot
