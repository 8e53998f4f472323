"""Shared fixtures of the registry-index tests: the shipped sample linked once, as
``registry-link demo`` links it (the three partner lists in one run)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from registry_link import load_standardised
from registry_link.config.loader import SourceSettings, load_source_config
from registry_link.linker import Linker, LinkResult
from registry_link.search import RegistryIndex

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
SAMPLE = ROOT / "sample_data"
#: The sample's partner lists and their files.
LISTS = {
    "partner_coop_ar": SAMPLE / "partner_coop_ar.csv",
    "partner_chambre_fr": SAMPLE / "partner_chambre_fr.csv",
    "partner_ordre_fullname": SAMPLE / "partner_ordre_fullname.xlsx",
}


@dataclass(frozen=True)
class Sample:
    linker: Linker
    result: LinkResult
    index: RegistryIndex
    registry: pl.DataFrame
    settings: dict[str, SourceSettings]
    settings_registry: SourceSettings


@pytest.fixture(scope="session")
def sample() -> Sample:
    linker = Linker.from_config(CONFIGS / "model.yaml")
    registry = load_standardised(SAMPLE / "registry.csv", CONFIGS / "registry.yaml")
    partners = [load_standardised(path, CONFIGS / f"{name}.yaml") for name, path in LISTS.items()]
    result = linker.link(registry, partners)
    settings = {name: load_source_config(CONFIGS / f"{name}.yaml") for name in LISTS}
    index = linker.index(registry, result.model)
    registry_settings = load_source_config(CONFIGS / "registry.yaml")
    return Sample(linker, result, index, registry.frame, settings, registry_settings)
