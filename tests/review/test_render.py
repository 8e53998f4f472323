"""Rendering of one review item: both scripts, contributions, words, progress."""

from __future__ import annotations

import pytest

from registry_link.db.queue import Progress, ReviewItem
from registry_link.review.render import (
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
