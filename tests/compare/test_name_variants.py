"""The ``variant`` level of the ``name`` comparison (issue 16 point 4): a dropped Ben/Bel/Ibn/Ould
prefix or a partial compound name is its own, lower, level of agreement."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from registry_link.compare import build_comparison
from registry_link.names import matching_form, name_key, token_keys_expr

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


# ------------------------------------------- a split name against an unsplit full name (OF-026)

UNSPLIT_SPEC = {
    "tokens": "name_token_keys",
    "unsplit": "full_name",
    "tokens_tf": True,
}
UNSPLIT_SCHEMA = SCHEMA | {"name_token_keys": pl.List(pl.Utf8), "full_name": str}


def split_row(given: str, family: str) -> dict[str, Any]:
    """A registry-like row: split names, no unsplit full name."""
    tokens = sorted({k for n in (given, family) for k in token_keys(n)})
    return row(given, family) | {"name_token_keys": tokens, "full_name": None}


def unsplit_row(full: str | None, tokens: list[str] | None = None) -> dict[str, Any]:
    """A row with only an unsplit full name (its token keys as standardise makes them)."""
    empty = dict.fromkeys(row("x", "x"))
    return empty | {
        "name_token_keys": tokens if tokens is not None else token_keys(full or ""),
        "full_name": full,
    }


def token_keys(name: str) -> list[str]:
    keys = pl.select(token_keys_expr(pl.lit(matching_form(name), dtype=pl.Utf8))).item()
    return sorted(keys.to_list())


UNSPLIT_CASES = [
    # (split row, unsplit row, given level, family level)
    # OF-026: the compound given name is two adjacent tokens; Azzouzi shares only a key
    (
        split_row("Fatima Zahra", "Azizi"),
        unsplit_row("فاطمة الزهراء العزيزي"),
        "same_key_in_unsplit",
        "same_key_in_unsplit",
    ),
    (
        split_row("Fatima", "Azzouzi"),
        unsplit_row("فاطمة الزهراء العزيزي"),
        "same_key_in_unsplit",
        "similar_high",
    ),
    # a dropped Ben prefix, a partial compound among the tokens: variants
    (
        split_row("Abdellah", "Ben Moussa"),
        unsplit_row("MOUSSA Abdellah"),
        "same_key_in_unsplit",
        "variant",
    ),
    (
        split_row("Fatim Zahra", "Azhari"),
        unsplit_row("AZHARI Zahra"),
        "variant",
        "same_key_in_unsplit",
    ),
    # no full name (an unsplit side with token keys only): the keys decide, as before
    (
        split_row("Mohamed", "Alaoui"),
        unsplit_row(None, ["l", "mhmd"]),
        "same_key_in_unsplit",
        "same_key_in_unsplit",
    ),
]


@pytest.mark.parametrize(("split", "unsplit", "given_level", "family_level"), UNSPLIT_CASES)
def test_a_split_name_is_looked_up_in_an_unsplit_one_by_name(
    gammas: Any, split: dict, unsplit: dict, given_level: str, family_level: str
) -> None:
    for spec, expected in ((GIVEN, given_level), (FAMILY, family_level)):
        spec = spec | UNSPLIT_SPEC
        got = gammas(spec, [unsplit], [split], schema=UNSPLIT_SCHEMA)
        assert build_comparison(spec).level(got[0]).label == expected, spec["name"]
        assert gammas(spec, [split], [unsplit], schema=UNSPLIT_SCHEMA) == got


def test_without_unsplit_a_token_key_is_enough() -> None:
    spec = GIVEN | FAMILY | {"tokens": "name_token_keys", "tokens_tf": True}
    assert "full_name" not in build_comparison(spec).columns
    assert "full_name" in build_comparison(spec | {"unsplit": "full_name"}).columns


def test_the_engine_checks_variants_in_the_similaritys_pass_with_the_same_levels() -> None:
    """In an engine call the name similarity's pass over the distinct code pairs gives the
    variant check's values too (one pass per chunk, not two); the levels are those of the
    plain compare, which runs them apart."""
    from unittest import mock

    from registry_link.compare import CompareEngine, compare
    from registry_link.compare import compute as compute_module
    from registry_link.compare import library as library_module

    names = ["Zahra", "Fatim Zahra", "Ben Slimane", "Slimane", "Amine", "Mohamed Amine", "Amina"]
    rows = [row(g, f) for g in names for f in names]
    frame = pl.DataFrame(rows * 4, schema=SCHEMA)
    pairs = pl.DataFrame(
        {
            "l_idx": list(range(len(rows))) * 3,
            "r_idx": [(i * 7 + k) % len(rows) for k in (0, 5, 11) for i in range(len(rows))],
        }
    )
    comps = [build_comparison(GIVEN), build_comparison(FAMILY)]
    passes: list[int] = []
    original = library_module.on_unique_codes_each

    def noting(*args: Any, **kwargs: Any) -> Any:
        passes.append(len(args[4]))
        return original(*args, **kwargs)

    with (
        mock.patch.object(library_module, "on_unique_codes_each", noting),
        mock.patch.object(compute_module, "LEVEL_TABLE_MAX_SHARE", 0.0),  # only pair chunks
        CompareEngine(frame, frame, comps, workers=1, chunk_size=40, random_pairs=1000) as engine,
    ):
        together = engine.compare(pairs)
    assert passes and set(passes) == {2}  # similarity and variants at once, every chunk
    apart = compare(frame, frame, pairs, comps)
    assert together.equals(apart)
    variant = {c.name: [lvl.label for lvl in c.levels].index("variant") for c in comps}
    assert (together["gamma_given"] == variant["given"]).sum() > 0
    assert (together["gamma_family"] == variant["family"]).sum() > 0
