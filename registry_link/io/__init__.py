"""Readers for partner lists and registry extracts (CSV, XLSX, Parquet)."""

from __future__ import annotations

from registry_link.io.encoding import detect_encoding, sniff_separator
from registry_link.io.readers import check_record_ids, read_mapped, read_source

__all__ = ["check_record_ids", "detect_encoding", "read_mapped", "read_source", "sniff_separator"]
