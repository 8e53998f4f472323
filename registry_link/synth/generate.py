"""Write a synthetic registry, partner lists and ground truth to a folder, deterministically.

Files (same seed -> byte-identical files):

* ``registry.csv`` (``;``, UTF-8) or ``registry.parquet`` and ``registry_households.*``;
* ``partner_coop_ar.csv`` (UTF-8 with BOM, ``,``), ``partner_chambre_fr.csv`` and
  ``partner_chambre_fr_ayants_droit.csv`` (Windows-1256, ``;``, CRLF),
  ``partner_ordre_fullname.xlsx``;
* ``ground_truth.csv`` (``source,record_id,true_person_uid,person_id,household_id``, then the
  slice labels and ``beneficiary_household_id``: see
  :data:`registry_link.synth.partners.GROUND_TRUTH_COLUMNS`);
* ``synth_manifest.json``: counts, noise settings and the noise rates actually drawn.

The registry is generated and written chunk by chunk (bounded memory); partner lists are
drawn from its first chunk.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl
import pyarrow.parquet as pq
import xlsxwriter

from registry_link.errors import InputError, UsageError
from registry_link.synth import layouts
from registry_link.synth.noise import NO_SLICE_NOISE, SliceNoiseRates
from registry_link.synth.partners import (
    GROUND_TRUTH_COLUMNS,
    LIST_SPECS,
    PartnerRecords,
    make_partner_lists,
)
from registry_link.synth.registry import (
    CHUNK_PERSONS,
    iter_registry_chunks,
    public_households,
    public_registry,
)

RegistryFormat = Literal["csv", "parquet"]
_XLSX_DATE = dt.datetime(2025, 6, 30, 8, 0, 0)


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`generate` wrote."""

    persons: int
    households: int
    out_dir: Path
    files: dict[str, int] = field(default_factory=dict)  # file name -> data rows
    partner_records: dict[str, int] = field(default_factory=dict)  # source -> records
    noise_rates: dict[str, dict[str, float]] = field(default_factory=dict)  # drawn rates


class _RegistryWriter:
    """Appends registry chunks to one CSV or Parquet file."""

    def __init__(self, path: Path, fmt: RegistryFormat) -> None:
        self.path, self.fmt = path, fmt
        self.rows = 0
        self._pq: pq.ParquetWriter | None = None
        self._csv = path.open("wb") if fmt == "csv" else None

    def write(self, frame: pl.DataFrame) -> None:
        if self.fmt == "csv":
            assert self._csv is not None
            frame.write_csv(self._csv, separator=";", include_header=self.rows == 0)
        else:
            table = frame.to_arrow()
            if self._pq is None:
                self._pq = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            self._pq.write_table(table)
        self.rows += frame.height

    def close(self) -> None:
        if self._csv is not None:
            self._csv.close()
        if self._pq is not None:
            self._pq.close()


def write_xlsx(frame: pl.DataFrame, path: Path, sheet: str) -> None:
    """Write ``frame`` as one sheet of text cells, reproducibly (fixed document dates)."""
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    workbook.set_properties({"created": _XLSX_DATE, "author": "registry-link synth"})
    ws = workbook.add_worksheet(sheet)
    bold = workbook.add_format({"bold": True})
    for j, name in enumerate(frame.columns):
        ws.write_string(0, j, name, bold)
        ws.set_column(j, j, max(12, len(name) + 2))
    for i, row in enumerate(frame.iter_rows(), start=1):
        for j, value in enumerate(row):
            if value is not None and value != "":
                ws.write_string(i, j, str(value))
    workbook.close()


def _write_cp1256(frame: pl.DataFrame, path: Path) -> None:
    text = frame.write_csv(separator=";", line_terminator="\r\n")
    try:
        data = text.encode("cp1256")
    except UnicodeEncodeError as exc:  # a vocabulary problem, not a user one
        raise InputError(str(path), f"value not encodable in Windows-1256: {exc}") from exc
    path.write_bytes(data)


def write_partner_files(partners: PartnerRecords, out_dir: Path, seed: int) -> dict[str, int]:
    """Write the three partner layouts and the ground truth; return file -> data rows."""
    files: dict[str, int] = {}
    coop = layouts.coop_ar(partners.records["partner_coop_ar"], seed)
    coop.write_csv(out_dir / "partner_coop_ar.csv", separator=",", include_bom=True)
    files["partner_coop_ar.csv"] = coop.height
    workers, dependants = layouts.chambre_fr(partners.records["partner_chambre_fr"], seed)
    _write_cp1256(workers, out_dir / "partner_chambre_fr.csv")
    _write_cp1256(dependants, out_dir / "partner_chambre_fr_ayants_droit.csv")
    files["partner_chambre_fr.csv"] = workers.height
    files["partner_chambre_fr_ayants_droit.csv"] = dependants.height
    ordre = layouts.ordre_fullname(partners.records["partner_ordre_fullname"], seed)
    write_xlsx(ordre, out_dir / "partner_ordre_fullname.xlsx", "Adherents")
    files["partner_ordre_fullname.xlsx"] = ordre.height
    truth = partners.ground_truth.select(GROUND_TRUTH_COLUMNS)
    truth.write_csv(out_dir / "ground_truth.csv")
    files["ground_truth.csv"] = truth.height
    return files


def drawn_noise_rates(partners: PartnerRecords) -> dict[str, dict[str, float]]:
    """Per list, the share of records each noise was actually applied to, among the records
    it can apply to (CIN noises: records whose person has a CIN; day/month swap: days 1-12
    that differ from the month) — the same denominators as the settings; the slice noises
    (``date_digit_typo``, ``cin_of_relative``, ``name_variant``, ``cin_of_lookalike``,
    ``father_variant``, ``place_spelling``) among all records."""
    out: dict[str, dict[str, float]] = {}
    for source, recs in partners.records.items():
        log = partners.noise_log.filter(pl.col("source") == source).drop("source", "record_id")
        day, month = recs["t_birth"].dt.day(), recs["t_birth"].dt.month()
        has_cin = recs["t_cin"].is_not_null()
        rates: dict[str, float] = {}
        for kind in log.columns:
            mask = pl.Series([True] * recs.height)
            if kind.startswith("cin_") and kind not in ("cin_of_relative", "cin_of_lookalike"):
                mask = has_cin
            elif kind == "date_day_month_swap":
                mask = (day <= 12) & (day != month)
            hits = log[kind].filter(mask)
            rates[kind] = round(float(hits.mean() or 0.0), 4)  # type: ignore[arg-type]
        out[source] = rates
    return out


def generate(
    persons: int,
    seed: int,
    out_dir: Path,
    partners: bool = True,
    fmt: RegistryFormat = "csv",
    chunk_persons: int = CHUNK_PERSONS,
    slice_noise: SliceNoiseRates = NO_SLICE_NOISE,
) -> SynthSummary:
    """Generate a registry of ``persons`` persons (and partner lists) into ``out_dir``.

    Deterministic: the same ``persons``, ``seed``, ``fmt`` and ``slice_noise`` give
    byte-identical files. ``slice_noise`` (off by default) adds mistyped birth-date digits,
    relatives' CINs and name variants to the partner lists (:class:`SliceNoiseRates`).
    """
    if fmt not in ("csv", "parquet"):
        raise UsageError(f"--format must be csv or parquet, got {fmt!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    reg_writer = _RegistryWriter(out_dir / f"registry.{fmt}", fmt)
    hh_writer = _RegistryWriter(out_dir / f"registry_households.{fmt}", fmt)
    first: pl.DataFrame | None = None
    try:
        chunks = iter_registry_chunks(
            persons, seed, chunk_persons, rural=slice_noise.rural_places()
        )
        for chunk, households in chunks:
            if first is None:
                first = chunk
            reg_writer.write(public_registry(chunk))
            hh_writer.write(public_households(households))
    finally:
        reg_writer.close()
        hh_writer.close()
    files = {f"registry.{fmt}": reg_writer.rows, f"registry_households.{fmt}": hh_writer.rows}
    counts: dict[str, int] = {}
    rates: dict[str, dict[str, float]] = {}
    if partners and first is not None:
        lists = make_partner_lists(first, seed, slice_noise=slice_noise)
        files.update(write_partner_files(lists, out_dir, seed))
        counts = {k: v.height for k, v in lists.records.items()}
        rates = drawn_noise_rates(lists)
    summary = SynthSummary(
        persons=reg_writer.rows,
        households=hh_writer.rows,
        out_dir=out_dir,
        files=files,
        partner_records=counts,
        noise_rates=rates,
    )
    manifest: dict[str, Any] = {
        "persons": persons,
        "seed": seed,
        "format": fmt,
        "files": files,
        "partner_records": counts,
        "noise_settings": {s.source: s.rates.as_dict() for s in LIST_SPECS} if partners else {},
        "noise_drawn": rates,
    }
    if partners and slice_noise != NO_SLICE_NOISE:
        manifest["slice_noise_settings"] = slice_noise.as_dict()
    (out_dir / "synth_manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return summary
