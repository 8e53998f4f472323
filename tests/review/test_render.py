"""Rendering of one review item: both scripts, contributions, words, progress."""

from __future__ import annotations

from datetime import datetime

import pytest

from registry_link.db.queue import Note, Progress, ReviewItem
from registry_link.review.render import (
    MESSAGE_LINES,
    FieldRow,
    field_rows,
    has_arabic,
    latin_forms,
    progress_text,
    render_item,
    to_text,
)


def _item(**kw: object) -> ReviewItem:
    base: dict[str, object] = dict(
        id=7,
        run_id=2,
        source="coop",
        record_id="C9",
        person_id="1000000009",
        rank=1,
        probability=0.734,
        weight=3.9,
        fingerprint="fp",
        payload={
            "partner": {
                "record_id": "C9",
                "family_name": "EL IDRISSI",
                "given_name": "Khadija",
                "cin": "AB12345",
                "birth_date_raw": "1979",
            },
            "registry": {
                "record_id": "1000000009",
                "family_name_ar": "الإدريسي",
                "given_name_ar": "خديجة",
                "cin": "AB12345",
                "birth_date_raw": "1979",
            },
            "bf": {
                "family": 6.25,
                "given": 4.0,
                "cin": 9.1,
                "birth_date": -0.75,
                "residence": None,
                "household": 1.0,
                "cnss": 0.0,
                "new_comp": -2.0,
            },
            "words": [
                "family names have the same cross-script key: +6.2",
                "total match weight +3.9",
            ],
            "link_reason": "close second candidate",
        },
        status="claimed",
        claimed_by="amina",
        claim_expires_at=None,
        note="record changed since the decision of 2024-05-01",
    )
    base.update(kw)
    return ReviewItem(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("خديجة", True), ("Khadija", False), ("", False), (None, False), ("Omar عمر", True)],
)
def test_has_arabic(text: str | None, expected: bool) -> None:
    assert has_arabic(text) is expected


def test_latin_forms_only_for_arabic() -> None:
    forms = latin_forms(["خديجة", "Khadija", "الإدريسي"])
    assert set(forms) == {"خديجة", "الإدريسي"}
    assert forms["خديجة"].startswith("kh")


def test_field_rows_pair_fields_with_their_contribution() -> None:
    rows = {r.label: r for r in field_rows(_item().payload)}
    assert rows["family name"] == FieldRow(
        "family name", ("EL IDRISSI",), ("الإدريسي",), 6.25, "family"
    )
    assert rows["CIN"].bits == 9.1
    assert rows["birth date"].bits == -0.75
    assert "residence" not in rows  # no value on either side and no contribution
    assert "CNSS number" not in rows  # nothing on either side, +0.0: no evidence
    assert rows["new comp"].bits == -2.0  # an unknown comparison is still shown
    assert rows["household"].partner == () and rows["household"].bits == 1.0


def test_render_shows_both_scripts_bits_words_and_progress() -> None:
    item = _item()
    other = _item(
        id=8,
        rank=2,
        person_id="1000000010",
        probability=0.41,
        status="decided",
        decision="reject",
        decided_by="said",
    )
    progress = Progress(
        total=10, decided=4, open=4, claimed=2, mine=3, records_total=6, records_left=4
    )
    text = to_text(render_item(item, [item, other], progress, "amina"), width=140)
    assert "الإدريسي ‹" in text  # Arabic as stored, Latin matching form beside it
    assert "EL IDRISSI" in text
    assert "+6.2" in text and "-0.8" in text and "+9.1" in text  # signed bits
    assert "match probability 0.734" in text
    assert "-13.7" in text  # the prior: total weight minus the fields' bits
    assert "family names have the same cross-script key" in text  # the words
    assert "record changed since" in text  # the system note
    assert "reject by said" in text  # the other candidate's state
    assert "record 3 of 6 · 4 left to review" in text
    assert "3 decision(s) by amina" in text
    assert "[a] accept" in text and "[u] undo" in text


@pytest.mark.parametrize(
    ("total", "left", "expected"),
    [
        (5, 5, "record 1 of 5"),
        (5, 1, "record 5 of 5"),
        (5, 0, "record 5 of 5"),
        (0, 0, "record 0 of 0"),
    ],
)
def test_progress_text_position(total: int, left: int, expected: str) -> None:
    p = Progress(
        total=total, decided=0, open=left, claimed=0, mine=0, records_total=total, records_left=left
    )
    assert progress_text(p, "x").startswith(expected)


def test_visual_rtl_reorders_arabic() -> None:
    pytest.importorskip("bidi")
    text = to_text(render_item(_item(), visual_rtl=True), width=140)
    assert "خديجة"[::-1] in text


# ------------------------------------------------------------------ fitting the terminal


def _busy_record() -> tuple[list[ReviewItem], Progress, list[Note]]:
    """A dependant with three candidates, every field filled, long words and two notes."""
    partner = {
        "record_id": "D4",
        "family_name": "EL IDRISSI",
        "given_name": "Khadija",
        "family_name_ar": "الإدريسي",
        "given_name_ar": "خديجة",
        "father_given_name": "Mohamed",
        "cin": "AB12345",
        "sex": "F",
        "birth_date_raw": "1979",
        "birth_place_raw": "Fès",
        "residence_raw": "Casablanca",
        "relationship": "spouse",
        "principal_record_id": "W12",
    }
    group = []
    for rank, (person, prob, cin_bits) in enumerate(
        [("1000000009", 0.734, 9.1), ("1000000010", 0.731, 8.9), ("1000000011", 0.52, -3.0)], 1
    ):
        bf = {
            "family": 6.25,
            "given": 4.0 - rank,
            "father": 1.5,
            "cin": cin_bits,
            "sex": 0.4,
            "birth_date": -0.75,
            "birth_place": 0.5,
            "residence": 0.25,
        }
        payload = {
            "partner": partner,
            "registry": {
                "record_id": person,
                "family_name_ar": "الإدريسي",
                "given_name_ar": "خديجة",
                "cin": f"AB1234{rank}",
                "sex": "F",
                "birth_date_raw": f"0{rank}/02/1979",
                "birth_place_raw": "فاس",
                "residence_raw": "الدار البيضاء",
                "household_id": f"HH{rank}",
            },
            "bf": bf,
            "words": [
                f"{k} agrees on a long explanation of its level: {v:+.1f}" for k, v in bf.items()
            ],
            "link_reason": "tie: p=0.734 for 1000000009 and p=0.731 for 1000000010",
            "principal": {
                "record_id": "W12",
                "name": "Mohamed El Idrissi",
                "person_id": "1000000001",
                "household_key": "H-P1000000001",
                "registry_household_id": "HH1",
            },
        }
        group.append(
            _item(
                id=20 + rank,
                record_id="D4",
                person_id=person,
                rank=rank,
                probability=prob,
                weight=2.0 - rank,
                payload=payload,
                note=None,
            )
        )
    progress = Progress(
        total=10, decided=4, open=4, claimed=2, mine=3, records_total=6, records_left=4
    )
    notes = [
        Note("said", datetime(2026, 11, 30), "note", "1000000009", "asked the coop for the CIN"),
        Note("amina", datetime(2026, 12, 1), "note", "1000000010", "twin sisters?"),
    ]
    return group, progress, notes


def _screen(item: ReviewItem, width: int, height: int) -> list[str]:
    group, progress, notes = _busy_record()
    text = to_text(
        render_item(item, group, progress, "amina", notes=notes, width=width, height=height),
        width=width,
    )
    lines = text.rstrip("\n").split("\n")
    assert all(len(line) <= width for line in lines)
    return lines


def test_80x24_keeps_what_a_decision_needs() -> None:
    group, _, _ = _busy_record()
    lines = _screen(group[0], 80, 24)
    text = "\n".join(lines)
    assert len(lines) <= 24 - MESSAGE_LINES  # room for what the last key did
    assert lines[0].startswith("Review item 21 · coop record D4 · candidate 1 of 3")
    assert "match probability 0.734" in lines[1]  # this candidate's own probability
    assert "why in review: tie" in text
    for shown in ("EL IDRISSI", "Khadija", "AB12345", "AB12341", "1979", "01/02/1979"):
        assert shown in text  # both names, dates and CIN
    assert "+9.1" in text and "+6.2" in text  # the bits beside them
    assert "candidates: ▶1 1000000009 p=0.734" in text and "3 1000000011 p=0.520" in text
    assert lines[-1].endswith("[?] help")
    assert "1000000010  p=0.731" not in text  # one candidate at a time at 80 columns


def test_80x24_shows_the_candidate_cycled_to_with_its_own_probability() -> None:
    group, _, _ = _busy_record()
    text = "\n".join(_screen(group[1], 80, 24))
    assert "candidate 2 of 3" in text and "match probability 0.731" in text
    assert "+8.9" in text and "AB12342" in text and "▶2 1000000010" in text


def test_200x50_shows_every_candidate_side_by_side_and_everything_else() -> None:
    group, _, _ = _busy_record()
    lines = _screen(group[0], 200, 50)
    text = "\n".join(lines)
    assert len(lines) <= 50 - MESSAGE_LINES
    header = next(line for line in lines if line.startswith("field"))
    for rank, person, prob in (
        (1, "1000000009", "0.734"),
        (2, "1000000010", "0.731"),
        (3, "1000000011", "0.520"),
    ):
        assert f"{rank}: {person}  p={prob}" in header  # each with its own probability
    cin = next(line for line in lines if line.startswith("CIN"))
    assert [b for b in cin.split() if b[0] in "+-"] == ["+9.1", "+8.9", "-3.0"]
    assert "principal: record W12 · Mohamed El Idrissi · registry person 1000000001" in text
    assert "household H-P1000000001 (registry household HH1)" in text
    assert "asked the coop for the CIN" in text and "twin sisters?" in text  # notes
    assert "In words:" in text and "record 3 of 6" in text
    assert "[a] accept" in text and lines[-1].endswith("[?] help")


def test_a_smaller_screen_never_overflows() -> None:
    group, _, _ = _busy_record()
    for width, height in ((80, 24), (100, 30), (60, 20), (120, 40), (200, 50)):
        assert len(_screen(group[0], width, height)) <= height - MESSAGE_LINES
