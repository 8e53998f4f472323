"""``registry-link synth``: write a deterministic synthetic registry and partner lists."""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import click

from registry_link.synth import generate
from registry_link.synth.noise import NO_SLICE_NOISE, SliceNoiseRates


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@click.command(name="synth")
@click.option(
    "--persons",
    type=click.IntRange(min=1),
    default=50_000,
    show_default=True,
    help="Number of registry persons.",
)
@click.option(
    "--seed",
    type=int,
    default=20261122,
    show_default=True,
    help="Random seed: the same seed gives byte-identical files.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output folder (created if missing).",
)
@click.option("--no-partners", is_flag=True, help="Write only the registry.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
    help="Registry file format (use parquet for millions).",
)
@click.option(
    "--slice-noise",
    is_flag=True,
    help="Also mistype one birth-date digit (1% of records), give 1% of records the CIN of "
    "a relative and 15% of those who have one the CIN of a lookalike relative (same family "
    "name and sex, close age), write 15% of the Ben/Bel family names and compound given "
    "names as a variant (no Ben/Bel prefix, one part of the compound) and 10% of fathers' "
    "names as one (Ahmed Ben Mohamed, Ould Ahmed), and put some households and birth places "
    "in rural communes outside the gazetteer, which partners spell otherwise 35% of the time; "
    "labelled in the ground truth (off: the files are as before these existed). The shipped "
    "sample is made with it.",
)
def command(
    persons: int, seed: int, out_dir: Path, no_partners: bool, fmt: str, slice_noise: bool
) -> None:
    """Write a synthetic social registry, three partner lists and their ground truth.

    Only synthetic people: names come from a vocabulary of Moroccan names, everything else
    is drawn at random.

    \b
    Example:
      registry-link synth --persons 50000 --seed 20261122 --slice-noise --out sample_data
      registry-link synth --persons 10000000 --out /tmp/big --format parquet --no-partners
      registry-link synth --persons 20000 --out out/synth-plain
    """
    start = time.perf_counter()
    rates = SliceNoiseRates() if slice_noise else NO_SLICE_NOISE
    summary = generate(
        persons,
        seed,
        out_dir,
        partners=not no_partners,
        fmt=fmt,  # type: ignore[arg-type]
        slice_noise=rates,
    )
    elapsed = time.perf_counter() - start
    click.echo(
        f"wrote {summary.persons:,} persons in {summary.households:,} households to {out_dir}"
    )
    for name, rows in summary.files.items():
        click.echo(f"  {name}: {rows:,} rows")
    click.echo(f"time {elapsed:.1f} s, peak RSS {_peak_rss_mb():.0f} MB")
