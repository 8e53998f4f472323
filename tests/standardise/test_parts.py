"""``standardise_by_parts`` (the search path) gives ``standardise``'s frame: on every row of
the sample's partner lists and registry, read as queries, memo cold and warm; and on
generated records of odd text (hypothesis)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry_link.config.loader import SourceSettings, load_source_config
from registry_link.io.readers import read_source
from registry_link.schema import CANONICAL_FIELDS, REGISTRY_FIELDS
from registry_link.search.query import for_queries, query_settings
from registry_link.standardise import parts, standardise
from registry_link.standardise.parts import PartsMemo, applies_to, standardise_by_parts
from tests.standardise.test_std_properties import _TEXT

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
LISTS = {
    "partner_coop_ar": SAMPLE / "partner_coop_ar.csv",
    "partner_chambre_fr": SAMPLE / "partner_chambre_fr.csv",
    "partner_ordre_fullname": SAMPLE / "partner_ordre_fullname.xlsx",
    "registry": SAMPLE / "registry.csv",
}
FIELDS = (*CANONICAL_FIELDS, *REGISTRY_FIELDS)


def _columns(frame: pl.DataFrame) -> dict[str, list[str | None]]:
    return {f: frame.get_column(f).to_list() for f in FIELDS if f in frame.columns}


def _whole(columns: dict[str, list[str | None]], read: SourceSettings) -> pl.DataFrame:
    return standardise(pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.Utf8)), read)


@pytest.mark.parametrize("name", list(LISTS))
def test_every_sample_row_standardised_by_parts_is_the_batchs(name: str) -> None:
    source = load_source_config(ROOT / "configs" / f"{name}.yaml")
    read = for_queries(source)
    raw = read_source(LISTS[name], source).head(3000)
    raw = raw.select(c for c in FIELDS if c in raw.columns).cast(pl.Utf8)
    memo = PartsMemo()
    for chunk in (raw.slice(0, 1000), raw.slice(1000, 1000), raw.slice(1000, 2000)):
        columns = _columns(chunk)
        # the third chunk half seen (warm parts), half new
        got = standardise_by_parts(columns, read, memo)
        assert got.equals(_whole(columns, read)), name
    assert len(memo) > 0
    # one record at a time, every part seen: the same rows
    for i in range(0, 200, 7):
        columns = _columns(raw.slice(i, 1))
        assert standardise_by_parts(columns, read, memo).equals(_whole(columns, read))


_FIELD = st.sampled_from(FIELDS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    records=st.lists(st.dictionaries(_FIELD, _TEXT, max_size=8), min_size=1, max_size=6),
    kind=st.sampled_from(["partner", "registry"]),
)
def test_odd_records_standardised_by_parts_are_the_batchs(
    records: list[dict[str, str | None]], kind: str
) -> None:
    read = for_queries(query_settings(kind=kind, source=f"q_{kind}"))
    columns = {f: [r.get(f) for r in records] for f in FIELDS}
    columns["record_id"] = [
        v if v is not None else f"r{i}" for i, v in enumerate(columns["record_id"])
    ]
    memo = PartsMemo()
    want = _whole(columns, read)
    assert standardise_by_parts(columns, read, memo).equals(want)  # cold
    assert standardise_by_parts(columns, read, memo).equals(want)  # warm


def test_settings_with_dependants_are_not_standardised_by_parts() -> None:
    source = load_source_config(ROOT / "configs" / "partner_coop_ar.yaml")
    assert source.dependants_mode != "none" and not applies_to(source)
    with pytest.raises(ValueError, match="dependants_mode"):
        standardise_by_parts({"record_id": ["r1"]}, source, PartsMemo())


def test_a_full_parts_memo_keeps_no_more_and_still_gives_the_batchs_rows() -> None:
    source = load_source_config(ROOT / "configs" / "partner_chambre_fr.yaml")
    read = for_queries(source)
    raw = read_source(LISTS["partner_chambre_fr"], source).head(40)
    raw = raw.select(c for c in FIELDS if c in raw.columns).cast(pl.Utf8)
    memo = PartsMemo(limit=2)
    for i in range(raw.height):  # one record at a time: the memo fills after two
        columns = _columns(raw.slice(i, 1))
        assert standardise_by_parts(columns, read, memo).equals(_whole(columns, read))
    assert all(len(kept) <= 2 for kept in memo._parts.values())
    assert 0 < len(memo) <= 2 * len(memo._parts)
    assert len(memo._ids) == 2


def test_identifiers_searched_again_are_read_from_the_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    """A record's identifiers are cleaned and checked once (one polars query): searched again,
    alone or among others in another order, its rows are still the batch's."""
    source = load_source_config(ROOT / "configs" / "partner_chambre_fr.yaml")
    read = for_queries(source)
    raw = read_source(LISTS["partner_chambre_fr"], source).head(30)
    raw = raw.select(c for c in FIELDS if c in raw.columns).cast(pl.Utf8)
    memo = PartsMemo()
    standardise_by_parts(_columns(raw), read, memo)
    assert len(memo._ids) == raw.height

    def no_query(*args: object) -> pl.DataFrame:
        raise AssertionError("the identifiers were standardised again")

    monkeypatch.setattr(parts, "_identifiers_frame", no_query)
    again = raw.reverse().slice(3, 10)
    assert standardise_by_parts(_columns(again), read, memo).equals(_whole(_columns(again), read))
