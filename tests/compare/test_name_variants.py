"""The ``variant`` level of the ``name`` comparison (issue 16 point 4): a dropped Ben/Bel/Ibn/Ould
prefix or a partial compound name is its own, lower, level of agreement."""

from __future__ import annotations

from typing import Any

import pytest

from registry_link.compare import build_comparison
from registry_link.names import matching_form, name_key

GIVEN = {"name": "given", "kind": "name", "field": "given", "variants": True}
FAMILY = {
    "name": "family",
    "kind": "name",
    "field": "family",
    "glued_article": True,
    "variants": True,
}
SCHEMA = {c: str for c in ("given_lat", "given_key", "given_key_ar")} | {
    c: str for c in ("family_lat", "family_key", "family_key_ar")
}


def row(given: str, family: str) -> dict[str, str | None]:
    """A standardised row (Latin form, key; no Arabic key) of either script's names."""
    return {
        "given_lat": matching_form(given),
        "given_key": name_key(given),
        "given_key_ar": None,
        "family_lat": matching_form(family),
        "family_key": name_key(family),
        "family_key_ar": None,
    }


CASES = [
    # (left, right, expected given level, expected family level)
    (row("Zahra", "Ben Slimane"), row("Fatim Zahra", "Slimane"), "variant", "variant"),
    (row("Mohamed Amine", "Ould Ahmed"), row("Amine", "Ahmed"), "variant", "variant"),
    (row("محمد أمين", "بنسليمان"), row("Amine", "Slimane"), "variant", "variant"),
    (row("Mohamed Amine", "Slimane"), row("Mohamed Amine", "Slimane"), "exact", "exact"),
    (row("Amine", "Slimane"), row("Mohamed Amina", "Ben Salem"), "different", "different"),
]


@pytest.mark.parametrize(("left", "right", "given_level", "family_level"), CASES)
def test_variant_level(
    gammas: Any, left: dict, right: dict, given_level: str, family_level: str
) -> None:
    for spec, expected in ((GIVEN, given_level), (FAMILY, family_level)):
        got = gammas(spec, [left], [right], schema=SCHEMA)
        assert build_comparison(spec).level(got[0]).label == expected
        assert gammas(spec, [right], [left], schema=SCHEMA) == got


def test_variant_level_sits_below_the_same_name_and_describes_itself() -> None:
    labels = [lvl.label for lvl in build_comparison(GIVEN).levels]
    # gamma order, loosest first: the variant is weaker evidence than the same key
    assert labels.index("similar_high") < labels.index("variant") < labels.index("same_key")
    words = build_comparison(GIVEN).levels[labels.index("variant")].describe()
    assert "Ben" in words and "compound" in words


def test_variants_are_off_unless_asked_for(gammas: Any) -> None:
    spec = {k: v for k, v in GIVEN.items() if k != "variants"}
    assert "variant" not in [lvl.label for lvl in build_comparison(spec).levels]
    got = gammas(spec, [row("Zahra", "x")], [row("Fatim Zahra", "x")], schema=SCHEMA)
    assert build_comparison(spec).level(got[0]).label != "variant"
