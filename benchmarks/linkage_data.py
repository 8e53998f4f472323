"""Benchmark data: a synthetic registry of N persons and ONE partner list of M records.

Built with the generator's library (:mod:`registry_link.synth`): the registry from
``make_registry``; the partner list from the generator's partner/noise functions, scaled to M
records (see :func:`_make_partner`). Everything is written once under
``<data_dir>/linkage_r<N>_p<M>_s<seed>/`` and reused while ``done.json`` is there:

* ``raw/registry.parquet`` + ``raw/registry.yaml`` (source config), and each partner list's
  Parquet file(s) and config (see :mod:`linkage_partner`);
* ``truth.parquet``: ``record_id`` (``<source>:<record_id>``, unique across the lists),
  ``person_id`` (null when the person is not in the registry);
* ``std/``: the standardised Parquet files (written by the standardise step);
* ``runs/``: each measured child's result JSON, log and links.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

REGISTRY_CONFIG = """\
version: 1
source: registry
kind: registry
description: synthetic registry extract for the linkage benchmark
file: {format: parquet}
columns:
  person_id: id_personne
  household_id: id_menage
  relation_to_head: lien_chef
  cin: cin
  family_name: nom
  given_name: prenom
  family_name_ar: nom_ar
  given_name_ar: prenom_ar
  sex: sexe
  birth_date: date_naissance
  birth_place: lieu_naissance
  residence: commune_residence
  father_given_name: prenom_pere
"""


@dataclass(frozen=True)
class DataPaths:
    """Where one (N, M, seed) data set and its runs live."""

    root: Path

    @classmethod
    def of(cls, root: Path) -> DataPaths:
        """The paths under ``root`` (creating the sub-folders)."""
        paths = cls(Path(root))
        for sub in (paths.root / "raw", paths.std, paths.runs):
            sub.mkdir(parents=True, exist_ok=True)
        return paths

    @property
    def raw_registry(self) -> Path:
        """The registry file as a source config reads it."""
        return self.root / "raw" / "registry.parquet"

    @property
    def registry_config(self) -> Path:
        """Source config of the registry file."""
        return self.root / "raw" / "registry.yaml"

    def partner_sources(self) -> list[tuple[str, Path, Path]]:
        """(source, data file, config file) of each partner list, from ``done.json``."""
        info = json.loads(self.done.read_text(encoding="utf-8"))
        return [(d["source"], Path(d["path"]), Path(d["config"])) for d in info["sources"]]

    @property
    def truth(self) -> Path:
        """Ground truth: ``record_id, person_id`` per partner record."""
        return self.root / "truth.parquet"

    @property
    def std(self) -> Path:
        """Folder of the standardised files."""
        return self.root / "std"

    @property
    def std_registry(self) -> Path:
        """Standardised registry (input of both systems)."""
        return self.std / "registry.parquet"

    @property
    def std_partner(self) -> Path:
        """Standardised partner list (input of both systems)."""
        return self.std / "partner.parquet"

    @property
    def runs(self) -> Path:
        """Folder of the measured runs' outputs."""
        return self.root / "runs"

    @property
    def done(self) -> Path:
        """Marker written when the raw data set is complete (with its description)."""
        return self.root / "done.json"


def code_fingerprint(*packages: str) -> str:
    """SHA-256 (16 hex) of the source files of ``registry_link`` sub-packages/modules.

    Cached data and standardised files are reused only while this is unchanged, so a change
    to the generator or the standardiser regenerates them.
    """
    import hashlib

    pkg_root = Path(__file__).resolve().parent.parent / "registry_link"
    digest = hashlib.sha256()
    for name in packages:
        target = pkg_root / name
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target.with_suffix(".py")]
        for f in files:
            if f.exists():
                digest.update(f.name.encode())
                digest.update(f.read_bytes())
    digest.update(Path(__file__).with_name("linkage_partner.py").read_bytes())
    return digest.hexdigest()[:16]


GENERATOR_CODE: tuple[str, ...] = ("synth",)
STANDARDISER_CODE: tuple[str, ...] = ("standardise", "names", "config", "io", "schema")


def data_dir_for(data_dir: Path, persons: int, partners: int, seed: int) -> Path:
    """The cache folder of one (N, M, seed) data set."""
    return Path(data_dir) / f"linkage_r{persons}_p{partners}_s{seed}"


def prepare_data(
    persons: int, partners: int, seed: int, data_dir: Path, *, force: bool = False
) -> tuple[DataPaths, str]:
    """Generate (or reuse) the raw registry, partner list and truth; returns paths and a note.

    The note describes the data (sizes, share of partner records not in the registry,
    generation time) for the report.
    """
    root = data_dir_for(data_dir, persons, partners, seed)
    fingerprint = code_fingerprint(*GENERATOR_CODE)
    done = root / "done.json"
    if not force and done.exists():
        info: dict[str, Any] = json.loads(done.read_text(encoding="utf-8"))
        if info.get("fingerprint") == fingerprint:
            return DataPaths.of(root), info["note"]
    if root.exists():  # stale (generator changed), incomplete or forced: start afresh
        shutil.rmtree(root)
    paths = DataPaths.of(root)
    t0 = time.perf_counter()
    from linkage_partner import draw_partner_records, write_partner_sources

    from registry_link.synth.registry import make_registry, public_registry

    registry, _households = make_registry(persons, seed)
    public_registry(registry).write_parquet(paths.raw_registry)
    paths.registry_config.write_text(REGISTRY_CONFIG, encoding="utf-8")
    records, truth = draw_partner_records(registry, partners, seed)
    sources = write_partner_sources(records, seed, paths.root / "raw")
    truth.select(
        record_id=pl.col("source") + ":" + pl.col("record_id"), person_id=pl.col("person_id")
    ).write_parquet(paths.truth)
    gen_s = time.perf_counter() - t0
    n_records = sum(src.records for src in sources)
    not_in = truth.get_column("person_id").null_count()
    share = not_in / max(1, truth.height)
    lists = ", ".join(f"`{src.source}` {src.records:,}" for src in sources)
    note = (
        f"Registry: {registry.height:,} persons (`registry_link.synth.make_registry`, "
        f"seed {seed}). Partner records: {n_records:,} in the generator's three layouts "
        f"({lists}; drawn with `make_partner_lists` and its noise, written with its layout "
        f"functions as Parquet), {not_in:,} ({share:.1%}) of them persons not in the registry. "
        f"Generated in {gen_s:.1f} s (cached)."
    )
    record = {
        "fingerprint": fingerprint,
        "note": note,
        "sources": [
            {"source": src.source, "path": str(src.path), "config": str(src.config)}
            for src in sources
        ],
    }
    paths.done.write_text(json.dumps(record, indent=2), encoding="utf-8")
    return paths, note
