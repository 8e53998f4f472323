"""Benchmark: read + standardise N synthetic partner rows (default 1,000,000).

Run from the repository root:

    .venv/bin/python benchmarks/bench_standardise.py                 # 1M rows, UTF-8 and cp1256
    .venv/bin/python benchmarks/bench_standardise.py --rows 200000 --encodings utf-8

The rows are made with :func:`registry_link.synth.make_registry` (realistic Zipf-like names,
households) laid out as a partner list with dependants as rows: Latin + Arabic names, CIN
(10% typed with spaces/lowercase), sex H/F, birth dates mostly dd/mm/yyyy with some ISO,
Excel-serial and year-only values, birth place, commune, father's name, relationship codes.
Each measurement runs in a fresh child process; wall time covers ``read_source`` +
``standardise`` (config loading included), peak RSS is the child's ``ru_maxrss``.
Results go to ``benchmarks/results/standardise.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "standardise.md"

CONFIG = """\
version: 1
source: bench_partner
kind: partner
file: {{format: csv, encoding: {encoding}, separator: ";"}}
columns:
  record_id: "N° adhérent"
  principal_record_id: "N° assuré"
  relationship: "Lien"
  cin: "CIN"
  family_name: "Nom"
  given_name: "Prénom"
  family_name_ar: "الاسم العائلي"
  given_name_ar: "الاسم الشخصي"
  sex: "Sexe"
  birth_date: "Date de naissance"
  birth_place: "Lieu de naissance"
  residence: "Commune"
  father_given_name: "Prénom du père"
formats: {{reference_year: 2025}}
dependants: {{mode: rows}}
"""


def make_rows(rows: int, seed: int = 20261122) -> pl.DataFrame:
    """A partner-layout frame of ``rows`` rows built from a synthetic registry."""
    from registry_link.synth import make_registry

    persons, _ = make_registry(rows, seed=seed)
    persons = persons.head(rows).with_row_index("i")
    rid = pl.concat_str(pl.lit("P"), pl.col("person_id"))
    head_rid = rid.filter(pl.col("relation_to_head") == "CHEF").first().over("household_id")
    rel = (
        pl.col("relation_to_head")
        .replace_strict(
            {"CHEF": "adhérent", "EPOUSE": "Conjointe", "EPOUX": "Conjoint", "FILS": "Enfant"},
            default=None,
        )
        .fill_null(pl.when(pl.col("relation_to_head") == "FILLE").then(pl.lit("enfant")))
        .fill_null(pl.lit("autre"))
    )
    i = pl.col("i")
    bd = pl.col("birth_date")
    iso = bd.str.strptime(pl.Date, "%d/%m/%Y", strict=False)
    date_text = (
        pl.when((i % 10 == 3) & iso.is_not_null())
        .then(iso.dt.to_string("%Y-%m-%d"))
        .when((i % 20 == 7) & iso.is_not_null())
        .then((iso - pl.date(1899, 12, 30)).dt.total_days().cast(pl.Utf8))
        .otherwise(bd)
    )
    cin = (
        pl.when(i % 10 == 1)
        .then(pl.col("cin").str.to_lowercase().str.replace(r"^([A-Za-z]+)", "${1} "))
        .otherwise(pl.col("cin"))
    )
    return persons.select(
        rid.alias("N° adhérent"),
        pl.when(pl.col("relation_to_head") == "CHEF")
        .then(None)
        .otherwise(head_rid)
        .alias("N° assuré"),
        rel.alias("Lien"),
        cin.alias("CIN"),
        pl.col("family_name").alias("Nom"),
        pl.col("given_name").alias("Prénom"),
        pl.col("family_name_ar").alias("الاسم العائلي"),
        pl.col("given_name_ar").alias("الاسم الشخصي"),
        pl.col("sex").replace({"M": "H"}).alias("Sexe"),
        date_text.alias("Date de naissance"),
        pl.col("birth_place").alias("Lieu de naissance"),
        pl.col("residence").alias("Commune"),
        pl.col("father_given_name").alias("Prénom du père"),
    )


def write_inputs(frame: pl.DataFrame, folder: Path, encoding: str) -> tuple[Path, Path]:
    """Write the CSV (UTF-8 or cp1256) and its config; return their paths."""
    data = folder / f"partner_{encoding}.csv"
    if encoding == "utf-8":
        frame.write_csv(data, separator=";")
    else:
        text = frame.write_csv(separator=";")
        data.write_bytes(text.encode(encoding, errors="replace"))
    config = folder / f"partner_{encoding}.yaml"
    config.write_text(CONFIG.format(encoding=encoding), encoding="utf-8")
    return data, config


def peak_rss_mb() -> int:
    """Peak resident set size of this process so far, in MB (VmHWM; reset by exec, unlike
    ``ru_maxrss`` which a child inherits from the process that spawned it)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def child(data: Path, config: Path) -> None:
    """Timed read + standardise in this (fresh) process; prints one JSON line."""
    from registry_link.config import load_source_config
    from registry_link.io import read_source
    from registry_link.standardise import standardise

    rss_before = peak_rss_mb()
    cpu_start = time.process_time()
    start = time.perf_counter()
    settings = load_source_config(config)
    frame = standardise(read_source(data, settings), settings)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    flagged = int(frame.select((pl.col("flags").list.len() > 0).sum()).item())
    print(
        json.dumps(
            {
                "rows": frame.height,
                "wall_s": round(wall, 2),
                "cpu_s": round(cpu, 2),
                "peak_rss_mb": peak_rss_mb(),
                "rss_after_imports_mb": rss_before,
                "load_avg_1min": round(__import__("os").getloadavg()[0], 1),
                "flagged_rows": flagged,
            }
        )
    )


def measure(data: Path, config: Path) -> dict[str, float]:
    """Run :func:`child` in a fresh interpreter and return its JSON figures."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(data), str(config)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Generate, measure, print and write the results table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--encodings", nargs="+", default=["utf-8", "cp1256"])
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true", help="do not write the results file")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-standardise-") as tmp:
        start = time.perf_counter()
        frame = make_rows(args.rows)
        print(f"generated {frame.height} rows in {time.perf_counter() - start:.1f} s")
        for encoding in args.encodings:
            data, config = write_inputs(frame, Path(tmp), encoding)
            size_mb = data.stat().st_size / 2**20
            figures = measure(data, config)
            figures.update(encoding=encoding, file_mb=round(size_mb))
            print(json.dumps(figures))
            results.append(figures)
    if not args.no_write:
        write_results(args, results)


def write_results(args: argparse.Namespace, results: list[dict[str, float]]) -> None:
    """Write benchmarks/results/standardise.md."""
    cmd = ".venv/bin/python benchmarks/bench_standardise.py"
    if args.rows != 1_000_000:
        cmd += f" --rows {args.rows}"
    lines = [
        "# Benchmark: read + standardise partner rows",
        "",
        f"Command: `{cmd}` (from the repository root)",
        "",
        f"Machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, polars {pl.__version__}, "
        f"{len(__import__('os').sched_getaffinity(0))} cores.",
        "",
        "| rows | encoding | file (MB) | wall (s) | CPU (s) | load avg | peak RSS (MB) "
        "| RSS after imports (MB) | flagged rows |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {r['encoding']} | {r['file_mb']} | {r['wall_s']} | {r['cpu_s']} "
            f"| {r['load_avg_1min']} | {r['peak_rss_mb']} | {r['rss_after_imports_mb']} "
            f"| {r['flagged_rows']:,} |"
        )
    lines += [
        "",
        "Wall time = config load + `read_source` (CSV scan; cp1256 is first transcoded to a",
        "temporary UTF-8 file in 16 MB chunks) + duplicate-id check + `standardise` (all rules,",
        "names via `registry_link.names`), in a fresh process. Goal: under 20 s for 1M rows.",
        "CPU = user + system time of that process (all threads). `load avg` is the 1-minute",
        "load average when the run ended: other jobs were sharing the 2 cores when it is > 2,",
        "so wall time then overstates the cost on an idle machine.",
        "",
    ]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
