"""Shared synthetic data for the synth tests: one 10k-person registry and its partner lists."""

from __future__ import annotations

import polars as pl
import pytest

from registry_link.synth import PartnerRecords, make_partner_lists, make_registry

SEED = 20261122
PERSONS = 10_000


@pytest.fixture(scope="session")
def registry() -> tuple[pl.DataFrame, pl.DataFrame]:
    """(persons, households) of a 10,000-person registry."""
    return make_registry(PERSONS, SEED)


@pytest.fixture(scope="session")
def persons(registry: tuple[pl.DataFrame, pl.DataFrame]) -> pl.DataFrame:
    """The persons frame, with its hidden t_* truth columns."""
    return registry[0]


@pytest.fixture(scope="session")
def big_registry() -> pl.DataFrame:
    """A 60,000-person registry: partner lists at full size, for rate checks."""
    return make_registry(60_000, SEED)[0]


@pytest.fixture(scope="session")
def partners(big_registry: pl.DataFrame) -> PartnerRecords:
    """Partner lists drawn from the 60k registry."""
    return make_partner_lists(big_registry, SEED)
