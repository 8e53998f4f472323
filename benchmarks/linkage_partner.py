"""The benchmark's partner records: M records in the generator's three partner layouts.

The generator (:mod:`registry_link.synth`) draws lists of a few thousand records; the benchmark
needs M records. Adapted here with the generator's own library functions only:
``make_partner_lists(registry, seed, specs)`` with its list specs (:data:`LIST_SPECS`: noise
rates, share of persons not in the registry, duplicates ...) re-sized so the three lists together
hold M records in the shares of :data:`LIST_MIX`, then each list is cut to its share (records come
principal first, then that principal's dependants, so a cut never orphans a dependant) and
written with the generator's layout functions (``layouts.chambre_fr``, ``coop_ar``,
``ordre_fullname``) — as Parquet instead of CSV/XLSX, with the sample source configs
(``configs/partner_*.yaml``) adapted to the Parquet files.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import polars as pl
import yaml

REPO = Path(__file__).resolve().parent.parent

#: (source, share of the M partner records).
LIST_MIX: tuple[tuple[str, float], ...] = (
    ("partner_chambre_fr", 0.50),
    ("partner_coop_ar", 0.25),
    ("partner_ordre_fullname", 0.25),
)


@dataclasses.dataclass(frozen=True)
class PartnerSource:
    """One partner list written for the benchmark: its source name, data file and config."""

    source: str
    path: Path
    config: Path
    records: int


def _targets(partners: int) -> dict[str, int]:
    counts = {s: int(partners * share) for s, share in LIST_MIX}
    counts[LIST_MIX[0][0]] += partners - sum(counts.values())
    return counts


def _draw(registry: pl.DataFrame, seed: int, workers: dict[str, int]) -> Any:
    from registry_link.synth.partners import LIST_SPECS, make_partner_lists

    by_name = {s.source: s for s in LIST_SPECS}
    specs = tuple(dataclasses.replace(by_name[s], workers=max(1, workers[s])) for s, _ in LIST_MIX)
    return make_partner_lists(registry, seed, specs)


def draw_partner_records(
    registry: pl.DataFrame, partners: int, seed: int
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """Canonical records per list (cut to their targets) and the matching ground truth.

    Draws once with a guess of 3 records per worker, then once more with the measured ratio
    if a list came short. A list still short after that (its worker count is capped by the
    generator at a share of the registry's adults) keeps what it got.
    """
    targets = _targets(partners)
    workers = {s: max(1, t // 3) for s, t in targets.items()}
    drawn = _draw(registry, seed, workers)
    short = {s: drawn.records[s].height for s in targets if drawn.records[s].height < targets[s]}
    if short:
        for s, got in short.items():
            ratio = max(got, 1) / workers[s]
            workers[s] = int(targets[s] / ratio * 1.05) + 1
        drawn = _draw(registry, seed, workers)
    records = {s: drawn.records[s].head(targets[s]) for s in targets}
    kept = pl.concat([r.select(pl.lit(s).alias("source"), "record_id") for s, r in records.items()])
    truth = drawn.ground_truth.join(kept, on=["source", "record_id"], how="semi")
    return records, truth


def _config(source: str, data_file: Path, dependants_file: Path | None) -> dict[str, Any]:
    cfg: dict[str, Any] = yaml.safe_load((REPO / "configs" / f"{source}.yaml").read_text("utf-8"))
    cfg["file"] = {"format": "parquet"}
    cfg["description"] = f"{cfg.get('description', source)} — benchmark copy as Parquet"
    if dependants_file is not None:
        cfg["dependants"]["file"] = dependants_file.name
    return cfg


def write_partner_sources(
    records: dict[str, pl.DataFrame], seed: int, out_dir: Path
) -> list[PartnerSource]:
    """Write each list with the generator's layout, as Parquet, plus its source config."""
    from registry_link.synth import layouts

    out: list[PartnerSource] = []
    for source, recs in records.items():
        data = out_dir / f"{source}.parquet"
        dependants: Path | None = None
        if source == "partner_chambre_fr":
            workers, deps = layouts.chambre_fr(recs, seed)
            dependants = out_dir / f"{source}_dependants.parquet"
            workers.write_parquet(data)
            deps.write_parquet(dependants)
        elif source == "partner_coop_ar":
            layouts.coop_ar(recs, seed).write_parquet(data)
        else:
            layouts.ordre_fullname(recs, seed).write_parquet(data)
        config = out_dir / f"{source}.yaml"
        config.write_text(
            yaml.safe_dump(_config(source, data, dependants), allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
        out.append(PartnerSource(source, data, config, recs.height))
    return out
