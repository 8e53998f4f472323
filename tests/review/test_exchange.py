"""CSV export/import: BOM, all-or-nothing import, every bad row reported."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from registry_link.db.engine import transaction
from registry_link.db.models import ReviewDecision
from registry_link.db.queue import ReviewQueue
from registry_link.errors import InputError
from registry_link.review.exchange import (
    DecisionsFileError,
    export_columns,
    export_items,
    import_decisions,
)


def _n_decisions(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as s:
        return int(s.scalar(select(func.count()).select_from(ReviewDecision)) or 0)


def _fill(path: Path, decisions: dict[int, tuple[str, str]], sep: str = ",") -> None:
    frame = pl.read_csv(path, infer_schema=False)
    frame = frame.with_columns(
        decision=pl.col("item_id").replace_strict(
            {str(k): v[0] for k, v in decisions.items()}, default=""
        ),
        note=pl.col("item_id").replace_strict(
            {str(k): v[1] for k, v in decisions.items()}, default=""
        ),
    )
    frame.write_csv(path, separator=sep, include_bom=True)


def test_export_has_bom_both_sides_and_empty_decision(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "out.csv"
    assert export_items(ReviewQueue(factory), path) == 4
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pl.read_csv(path, infer_schema=False)
    assert frame.columns == export_columns(["family", "given", "cin", "sex", "birth_date"])
    assert frame["registry_family_name_ar"].to_list()[0] == "العلوي"
    assert frame["partner_cin"].to_list()[0] == "BK123456"
    assert set(frame["decision"].fill_null("")) == {""} == set(frame["note"].fill_null(""))


def test_export_leaves_out_decided_items(factory: sessionmaker[Session], tmp_path: Path) -> None:
    ReviewQueue(factory).decide(3, "said", "accept")
    path = tmp_path / "out.csv"
    assert export_items(ReviewQueue(factory), path) == 3
    assert 3 not in pl.read_csv(path)["item_id"].to_list()


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_clean_import_applies_everything(
    factory: sessionmaker[Session], tmp_path: Path, sep: str
) -> None:
    path = tmp_path / "filled.csv"
    export_items(ReviewQueue(factory), path)
    _fill(
        path, {2: ("Reject", "other birth year"), 1: ("accept", ""), 4: ("", "ask the coop")}, sep
    )
    done = import_decisions(ReviewQueue(factory), path, "amina")
    # two notes saved: one with the reject, one alone (was counted as 1: issue 15 item 13)
    assert (done.accepted, done.rejected, done.notes, done.ignored) == (1, 1, 2, 1)
    items = {i.id: i for i in ReviewQueue(factory).items()}
    assert (items[1].decision, items[1].decided_by) == ("accept", "amina")
    assert items[2].decision == "reject" and items[3].status == "open"
    with transaction(factory) as s:
        notes = s.scalars(select(ReviewDecision.note).where(ReviewDecision.item_id.in_([2, 4])))
        assert set(notes) == {"other birth year", "ask the coop"}


def test_malformed_file_applies_nothing_and_reports_every_row(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    ReviewQueue(factory).decide(4, "said", "reject")  # item 4 is decided already
    ReviewQueue(factory).claim_next("said")  # said holds record C1 (items 1, 2)
    path = tmp_path / "bad.csv"
    path.write_text(
        "\ufeffitem_id,record_id,person_id,decision,note\n"
        "3,C2,1000000003,accept,\n"  # row 1: fine on its own
        "3,C2,1000000003,reject,\n"  # row 2: item 3 again
        "99,C9,1,accept,\n"  # row 3: unknown item
        "abc,,,reject,\n"  # row 4: not an id
        "4,C3,1000000004,accept,\n"  # row 5: already decided
        "1,C1,1000000001,maybe,\n"  # row 6: bad decision
        "2,C1,1000000009,reject,\n"  # row 7: person id moved + claimed by said
        ",,,,\n",  # row 8: empty → ignored
        encoding="utf-8",
    )
    before = _n_decisions(factory)
    with pytest.raises(DecisionsFileError) as err:
        import_decisions(ReviewQueue(factory), path, "amina")
    problems = {(p.row, p.field) for p in err.value.problems}
    assert problems == {
        (2, "item_id"),
        (3, "item_id"),
        (4, "item_id"),
        (5, "decision"),
        (6, "decision"),
        (7, "person_id"),
        (7, "decision"),
    }
    text = str(err.value)
    assert "6 bad row(s), nothing applied" in text and "bad.csv" in text
    assert "got 'maybe' (expected accept, reject or empty)" in text
    assert "being reviewed by 'said'" in text
    assert _n_decisions(factory) == before  # row 1 was not applied either
    assert ReviewQueue(factory).get(3).status == "open"


def test_two_accepts_for_one_record(factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text(
        "item_id;record_id;person_id;decision\n1;C1;1000000001;accept\n2;C1;1000000002;ACCEPT\n",
        encoding="cp1252",
    )
    with pytest.raises(DecisionsFileError) as err:
        import_decisions(ReviewQueue(factory), path, "amina")
    assert {p.row for p in err.value.problems} == {1, 2}
    assert "2 accepts for record C1" in str(err.value)
    assert _n_decisions(factory) == 0


def test_missing_column_and_missing_file(factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "nodecision.csv"
    path.write_text("item_id,record_id,person_id,verdict\n1,C1,1000000001,accept\n")
    with pytest.raises(InputError, match="column\\(s\\) 'decision' missing"):
        import_decisions(ReviewQueue(factory), path, "amina")
    with pytest.raises(InputError, match="no such file"):
        import_decisions(ReviewQueue(factory), tmp_path / "nope.csv", "amina")


def test_failure_while_applying_rolls_everything_back(
    factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ok.csv"
    path.write_text(
        "item_id,record_id,person_id,decision\n3,C2,1000000003,accept\n4,C3,1000000004,accept\n",
        encoding="utf-8",
    )
    real = ReviewQueue.decide
    calls = []

    def flaky(self: ReviewQueue, item_id: int, *args: object) -> None:
        calls.append(item_id)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        real(self, item_id, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ReviewQueue, "decide", flaky)
    with pytest.raises(RuntimeError):
        import_decisions(ReviewQueue(factory), path, "amina")
    monkeypatch.undo()
    assert _n_decisions(factory) == 0
    assert ReviewQueue(factory).get(3).status == "open"


def test_export_carries_probability_bits_and_explanation(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "out.csv"
    export_items(ReviewQueue(factory), path)
    row = pl.read_csv(path, infer_schema=False).row(0, named=True)
    assert (row["item_id"], row["probability"], row["weight"]) == ("1", "0.81", "1.5")
    assert (row["bits_family"], row["bits_cin"], row["bits_given"]) == ("6.2", "-1.5", "5.1")
    assert row["explanation"] == "family: +6.2; given: +5.1; cin: -1.5; birth_date: +1.3; sex: +0.4"


@pytest.mark.parametrize("dropped", [["record_id"], ["person_id"], ["record_id", "person_id"]])
def test_import_without_identifying_columns_is_refused(
    factory: sessionmaker[Session], tmp_path: Path, dropped: list[str]
) -> None:
    # issue 15 item 12: with the id columns deleted, a decision column shifted by one row was
    # applied to the wrong pairs; now the file is refused whole
    path = tmp_path / "out.csv"
    export_items(ReviewQueue(factory), path)
    frame = pl.read_csv(path, infer_schema=False).drop(dropped)
    shifted = ["", "accept", "reject", ""]  # meant for items 1, 2 but one row down
    frame.with_columns(decision=pl.Series(shifted)).write_csv(path)
    with pytest.raises(InputError, match="nothing was applied") as err:
        import_decisions(ReviewQueue(factory), path, "amina")
    assert repr(dropped[0]) in str(err.value)
    assert _n_decisions(factory) == 0


def test_duplicate_row_names_its_first_row_and_closed_item_names_the_accept(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    ReviewQueue(factory).decide(1, "said", "accept")  # closes item 2 (same record C1)
    path = tmp_path / "dup.csv"
    path.write_text(
        "item_id,record_id,person_id,decision\n"
        "3,C2,1000000003,accept\n"
        "4,C3,1000000004,\n"
        "3,C2,1000000003,accept\n"
        "2,C1,1000000002,reject\n",
        encoding="utf-8",
    )
    with pytest.raises(DecisionsFileError) as err:
        import_decisions(ReviewQueue(factory), path, "amina")
    text = str(err.value)
    assert "row 3, field 'item_id': item 3 appears again (first at row 1)" in text
    assert "item 2 is already decided (closed: candidate 1000000001 (item 1)" in text
    assert "accepted by said" in text and "?" not in text
