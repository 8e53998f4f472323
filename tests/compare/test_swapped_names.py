"""The ``swapped`` level of the ``name`` comparison: given and family names typed crosswise."""

from __future__ import annotations

from typing import Any

import pytest

from registry_link.compare import build_comparison
from registry_link.names import matching_form, name_key, same_name

GIVEN = {"name": "given", "kind": "name", "field": "given", "swapped_with": "family"}
FAMILY = {"name": "family", "kind": "name", "field": "family", "swapped_with": "given"}
SCHEMA = {
    c: str
    for c in ("given_lat", "given_key", "given_key_ar", "family_lat", "family_key", "family_key_ar")
}


def row(
    given: str | None, family: str | None, given_ar: str | None = None, family_ar: str | None = None
) -> dict[str, str | None]:
    """A standardised row as the pipeline would build it (Latin form, key, key of the Arabic)."""
    return {
        "given_lat": matching_form(given or given_ar),
        "given_key": name_key(given or given_ar),
        "given_key_ar": name_key(given_ar) if given_ar else None,
        "family_lat": matching_form(family or family_ar),
        "family_key": name_key(family or family_ar),
        "family_key_ar": name_key(family_ar) if family_ar else None,
    }


CASES = [
    # (left, right, expected label for given, expected label for family)
    (row("Mohamed", "Alaoui"), row("Alaoui", "Mohamed"), "swapped", "swapped"),
    (row("Youssef", "Bennani"), row(None, None, "بناني", "يوسف"), "swapped", "swapped"),
    (row("Mohamed", "Alaoui"), row("Mohamed", "Alaoui"), "exact", "exact"),
    (row("Mohamed", "El Alaoui"), row("Mhamed", "Alaoui"), "same_key", "exact"),
    (row("Mohamed", "Alaoui"), row("Karim", "Tazi"), "different", "different"),
]


@pytest.mark.parametrize(("left", "right", "given_label", "family_label"), CASES)
def test_swapped_level(
    gammas: Any, left: dict, right: dict, given_label: str, family_label: str
) -> None:
    for spec, expected in ((GIVEN, given_label), (FAMILY, family_label)):
        got = gammas(spec, [left], [right], schema=SCHEMA)
        assert build_comparison(spec).level(got[0]).label == expected
        # symmetric: the level does not depend on which side is left
        back = gammas(spec, [right], [left], schema=SCHEMA)
        assert back == got


def test_swapped_level_is_described_in_words() -> None:
    comp = build_comparison(GIVEN)
    labels = [lvl.label for lvl in comp.levels]
    assert "swapped" in labels
    words = comp.levels[labels.index("swapped")].describe()
    assert "swapped" in words and "family" in words


def test_without_swapped_with_there_is_no_swapped_level() -> None:
    spec = {k: v for k, v in GIVEN.items() if k != "swapped_with"}
    assert "swapped" not in [lvl.label for lvl in build_comparison(spec).levels]


def test_fixture_names_really_differ() -> None:
    # guard for the table above: the swapped cases are not simply the same name
    assert not same_name("Mohamed", "Alaoui")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("Alaoui", "Ali", "different"),  # one consonant key "l", different names
        ("Said", "Saad", "similar_high"),  # same key, the long vowels differ
        ("Mohamed", "Mhamed", "same_key"),
    ],
)
def test_same_key_level_is_verified_by_the_name_matcher(
    gammas: Any, a: str, b: str, expected: str
) -> None:
    spec = {"name": "given", "kind": "name", "field": "given"}
    left, right = row(a, None), row(b, None)
    assert left["given_key"] == right["given_key"]  # the keys alone would call them the same
    got = gammas(spec, [left], [right], schema=SCHEMA)
    label = build_comparison(spec).level(got[0]).label
    assert label != "same_key" if expected != "same_key" else label == "same_key"


@pytest.mark.parametrize(
    ("left", "right"),
    [
        # one name shared crosswise, the other different: not a swap (it counted twice, once
        # in each comparison: a record "Ali Eni" matched to a person "Noufl Elouy")
        (row("Ali", "Eni"), row("Noufl", "Elouy")),
        (row("Alaoui", "Tazi"), row("Karim", "Alaoui")),
        (row(None, None, "علي", "عني"), row("Noufl", "Ali")),
    ],
)
def test_one_crossing_alone_is_not_a_swap(gammas: Any, left: dict, right: dict) -> None:
    for spec in (GIVEN, FAMILY):
        for a, b in ((left, right), (right, left)):
            got = gammas(spec, [a], [b], schema=SCHEMA)
            assert build_comparison(spec).level(got[0]).label != "swapped"


@pytest.mark.parametrize(
    ("left", "right"),
    [
        # one crossing by key, the other the same name under a reading (Lahcen = الحسن)
        (row("Alaoui", "Lahcen"), row(None, None, "الحسن", "العلوي")),
        (row("Malki", "Lahcen"), row("Hassan", "Malki")),
        # one crossing by key, the other a typo the matcher reads as the same name
        (row("Aitali", "Rachida"), row("Rachda", "Ait Ali")),
    ],
)
def test_a_swap_with_one_name_spelled_otherwise(gammas: Any, left: dict, right: dict) -> None:
    for spec in (GIVEN, FAMILY):
        for a, b in ((left, right), (right, left)):
            got = gammas(spec, [a], [b], schema=SCHEMA)
            assert build_comparison(spec).level(got[0]).label == "swapped"
