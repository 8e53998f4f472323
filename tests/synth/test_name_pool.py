"""The name vocabulary: size, scripts, spellings, Zipf-like weights."""

from __future__ import annotations

import re

import pytest

from registry_link.synth import name_pool
from registry_link.synth.name_pool import COMMUNES, FAMILY, FEMALE_GIVEN, MALE_GIVEN, Name

ARABIC = re.compile(r"^[\u0621-\u064A ]+$")
LATIN = re.compile(r"^[A-Za-zÀ-ÿ' -]+$")


@pytest.mark.parametrize(
    ("table", "minimum"), [(MALE_GIVEN, 150), (FEMALE_GIVEN, 120), (FAMILY, 300)]
)
def test_table_sizes_and_scripts(table: tuple[Name, ...], minimum: int) -> None:
    assert len(table) >= minimum
    assert len({n.arabic for n in table}) == len(table)  # no Arabic name twice
    for name in table:
        assert ARABIC.match(name.arabic), name
        assert name.latin and all(LATIN.match(s) for s in name.latin), name
        assert len(set(name.latin)) == len(name.latin), name
        assert name.weight > 0


@pytest.mark.parametrize("table", [MALE_GIVEN, FEMALE_GIVEN, FAMILY])
def test_weights_are_zipf_like(table: tuple[Name, ...]) -> None:
    weights = [n.weight for n in table]
    assert weights == sorted(weights, reverse=True)
    assert weights[0] > 20 * weights[-1]


@pytest.mark.parametrize(
    ("table", "arabic", "spellings"),
    [
        (MALE_GIVEN, "محمد", {"Mohamed", "Mohammed", "Mhamed", "Mohammad"}),
        (MALE_GIVEN, "يوسف", {"Youssef", "Youcef"}),
        (FEMALE_GIVEN, "فاطمة الزهراء", {"Fatima Zahra", "Fatimazahra"}),
        (FAMILY, "العلوي", {"Alaoui", "El Alaoui"}),
        (FAMILY, "آيت علي", {"Ait Ali", "Aït Ali"}),
        (FAMILY, "بنعلي", {"Benali", "Ben Ali", "Ben-Ali"}),
    ],
)
def test_attested_alternative_spellings(
    table: tuple[Name, ...], arabic: str, spellings: set[str]
) -> None:
    name = next(n for n in table if n.arabic == arabic)
    assert spellings <= set(name.latin)


def test_most_common_names() -> None:
    assert MALE_GIVEN[0].latin[0] == "Mohamed"
    assert {FEMALE_GIVEN[0].latin[0], FEMALE_GIVEN[1].latin[0]} == {"Fatima", "Khadija"}
    assert FAMILY[0].latin[0] == "Alaoui"
    assert name_pool.male_table().p[0] > 0.1


def test_latin_spellings_fit_windows_1256() -> None:
    for name in MALE_GIVEN + FEMALE_GIVEN + FAMILY:
        for spelling in name.latin:
            spelling.encode("cp1256")
    for commune in COMMUNES:
        commune.latin.encode("cp1256")


def test_communes() -> None:
    assert len(COMMUNES) >= 60
    assert len({c.latin for c in COMMUNES}) == len(COMMUNES)
    for commune in COMMUNES:
        assert ARABIC.match(commune.arabic), commune
        assert all(re.fullmatch(r"[A-Z]{1,2}", p) for p in commune.cin_prefixes), commune


def test_name_table_arrays() -> None:
    table = name_pool.given_table()
    assert len(table) == len(MALE_GIVEN) + len(FEMALE_GIVEN)
    i = len(MALE_GIVEN)  # first female name
    spellings = table.variants[int(table.offset[i]) : int(table.offset[i] + table.n_variants[i])]
    assert spellings.to_list() == list(FEMALE_GIVEN[0].latin)
