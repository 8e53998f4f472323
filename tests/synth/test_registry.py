"""The synthetic registry: determinism, household shape, ids, names and dates."""

from __future__ import annotations

import polars as pl
import pytest

from registry_link.errors import UsageError
from registry_link.synth import make_registry, public_registry
from registry_link.synth.registry import FRENCH_HEADERS, iter_registry_chunks

SEED = 20261122  # as in conftest.py
PERSONS = 10_000


def test_same_seed_same_frames(registry: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    again = make_registry(PERSONS, SEED)
    assert registry[0].equals(again[0])
    assert registry[1].equals(again[1])


def test_other_seed_other_frames(persons: pl.DataFrame) -> None:
    other = make_registry(PERSONS, SEED + 1)[0]
    assert not persons["person_id"].equals(other["person_id"])


def test_exact_size_and_unique_ids(registry: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    persons, households = registry
    assert persons.height == PERSONS
    assert persons["person_id"].n_unique() == PERSONS
    assert persons["person_id"].str.contains(r"^[1-9]\d{9}$").all()
    assert households["household_id"].str.contains(r"^[1-9]\d{8}$").all()
    assert households["size"].sum() == PERSONS
    cins = persons["cin"].drop_nulls()
    assert cins.n_unique() == cins.len()


def test_ids_and_cins_unique_across_chunks() -> None:
    frames = [c[0] for c in iter_registry_chunks(6_000, SEED, chunk_persons=1_000)]
    assert [f.height for f in frames] == [1_000] * 6
    allp = pl.concat(frames)
    assert allp["person_id"].n_unique() == 6_000
    assert (
        allp["household_id"].n_unique()
        == pl.concat([f["household_id"].unique() for f in frames]).len()
    )
    assert allp["cin"].drop_nulls().is_unique().all()


def test_one_head_per_household_listed_first(persons: pl.DataFrame) -> None:
    per_hh = persons.group_by("household_id").agg(
        heads=(pl.col("relation_to_head") == "CHEF").sum(),
        first=pl.col("relation_to_head").first(),
    )
    assert (per_hh["heads"] == 1).all()
    assert (per_hh["first"] == "CHEF").all()


def test_household_composition(persons: pl.DataFrame) -> None:
    rel = persons["relation_to_head"].value_counts()
    found = set(rel["relation_to_head"])
    assert {"CHEF", "EPOUSE", "FILS", "FILLE", "PERE", "MERE", "FRERE", "SOEUR"} <= found
    assert {"PETIT-FILS", "PETITE-FILLE"} & found
    wives = persons.filter(pl.col("relation_to_head") == "EPOUSE").group_by("household_id").len()
    assert (wives["len"] == 2).sum() > 0  # polygamous households
    assert (wives["len"] <= 2).all()


def test_children_younger_than_parents(persons: pl.DataFrame) -> None:
    heads = persons.filter(pl.col("t_role") == 0).select("household_id", head_birth="t_birth")
    mothers = persons.select(t_mother="t_person", mother_birth="t_birth")
    children = (
        persons.filter(pl.col("t_role") == 2)
        .join(heads, on="household_id")
        .join(mothers, on="t_mother")
    )
    assert children.height > 0.3 * persons.height
    assert (children["t_birth"] > children["head_birth"]).all()
    assert (children["t_birth"] > children["mother_birth"]).all()
    gap = (children["t_birth"] - children["mother_birth"]).dt.total_days() / 365.25
    assert gap.min() >= 17


def test_cin_only_for_adults(persons: pl.DataFrame) -> None:
    with_cin = persons.filter(pl.col("cin").is_not_null())
    assert (with_cin["t_age"] >= 18).all()
    assert with_cin["cin"].str.contains(r"^[A-Z]{1,2}[1-9]\d{0,5}$").all()
    adults = persons.filter(pl.col("t_age") >= 18)
    assert adults["cin"].null_count() < 0.02 * adults.height


def test_family_names(persons: pl.DataFrame) -> None:
    heads = persons.filter(pl.col("t_role") == 0).select("household_id", head_fam="family_name_ar")
    joined = persons.join(heads, on="household_id")
    children = joined.filter(pl.col("t_role") == 2)
    assert (children["family_name_ar"] == children["head_fam"]).all()
    wives = joined.filter(pl.col("t_role") == 1)
    assert (wives["family_name_ar"] != wives["head_fam"]).mean() > 0.8  # type: ignore[operator]


def test_zipf_names_repeat(persons: pl.DataFrame) -> None:
    men = persons.filter(pl.col("sex") == "M")
    top = men["given_name_ar"].value_counts(sort=True)
    assert top["given_name_ar"][0] == "محمد"
    assert top["count"][0] > 0.1 * men.height
    women = persons.filter(pl.col("sex") == "F")["given_name_ar"].value_counts(sort=True)
    assert set(women["given_name_ar"][:2]) == {"فاطمة", "خديجة"}
    same = persons.group_by("family_name_ar", "given_name_ar", pl.col("t_birth").dt.year()).len()
    assert same["len"].max() >= 3  # the same name and birth year several times  # type: ignore[operator]


def test_scripts_and_latin_gaps(persons: pl.DataFrame) -> None:
    assert persons["family_name_ar"].null_count() == 0
    no_latin = persons.filter(pl.col("family_name").is_null())
    assert 0.05 * persons.height < no_latin.height < 0.5 * persons.height
    assert (no_latin["t_age"] < 18).mean() > 0.6  # type: ignore[operator]
    assert (persons["family_name"].is_null() == persons["given_name"].is_null()).all()


def test_birth_date_forms(persons: pl.DataFrame) -> None:
    d = persons["birth_date"]
    year4 = d.str.contains(r"^\d{4}$")
    zeros = d.str.starts_with("00/00/")
    jan1 = d.str.starts_with("01/01/")
    full = d.str.contains(r"^\d{2}/\d{2}/\d{4}$")
    assert (year4 | full).all()
    assert year4.sum() > 0 and zeros.sum() > 0 and jan1.sum() > 0.03 * len(d)
    year_only = persons.filter(year4 | zeros)
    assert year_only["t_birth"].dt.year().median() < 1965  # mostly older people  # type: ignore[operator]
    # the shown year is always the true year
    shown = d.str.slice(-4).cast(pl.Int32)
    assert (shown == persons["t_birth"].dt.year()).all()


def test_public_registry_headers(persons: pl.DataFrame) -> None:
    public = public_registry(persons)
    assert public.columns == list(FRENCH_HEADERS.values())


def test_persons_must_be_positive() -> None:
    with pytest.raises(UsageError, match="persons"):
        make_registry(0, SEED)
