"""A record's parts and identifiers read in Python (``standardise/one.py``) are what polars'
``standardise`` gives a row holding them alone: columns, dtypes' values and flags, on the
forms the readers and ``registry_link.synth`` write (names of the synthetic pool in both
scripts, full names with particles, dates in every written form, codes, towns, identifiers
as spreadsheets mangle them) and on arbitrary text; for every settings a search meets
(kinds, declared date formats, full-name orders, reference years)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry_link.config.codes import BUILTIN_RELATIONSHIP_CODES, BUILTIN_SEX_CODES
from registry_link.config.loader import SourceSettings, load_source_config
from registry_link.names.rewrite import NewerUnicode
from registry_link.schema import FLAG_CODES
from registry_link.search.query import for_queries, query_settings
from registry_link.standardise import standardise
from registry_link.standardise.codes import HEAD_CODES, OTHER_RELATIVE_CODES
from registry_link.standardise.gazetteer import town_aliases
from registry_link.standardise.one import _DECLARED, identifiers_in_python, part_in_python
from registry_link.standardise.parts import _ID_VALUES as ID_VALUES
from registry_link.standardise.parts import ID_FIELDS, PARTS, Part, PartsMemo, standardise_by_parts
from registry_link.synth.name_pool import FAMILY, FEMALE_GIVEN, MALE_GIVEN
from tests.standardise.test_std_properties import _TEXT

ROOT = Path(__file__).resolve().parents[2]
CODES = list(FLAG_CODES)
_PART = {p.name: p for p in PARTS}
_EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _mask(flags: Sequence[str]) -> int:
    return sum(1 << CODES.index(c) for c in flags)


def _settings(
    kind: str = "partner", date_format: str = "auto", order: str = "auto", year: int = 2026
) -> SourceSettings:
    read = for_queries(query_settings(kind=kind, source=f"q_{kind}", reference_year=year))
    return dataclasses.replace(read, birth_date_format=date_format, full_name_order=order)


_SAMPLE_SETTINGS = [
    for_queries(load_source_config(ROOT / "configs" / f"{n}.yaml"))
    for n in ("partner_coop_ar", "partner_chambre_fr", "partner_ordre_fullname", "registry")
]
#: Query settings of every kind, declared date format (three not read here), full-name order
#: and a range of reference years; and the sample configs' own (their codes and formats).
_SETTINGS = st.one_of(
    st.builds(
        _settings,
        kind=st.sampled_from(["partner", "registry"]),
        date_format=st.sampled_from(["auto", *_DECLARED, "%m/%d/%Y", "%Y", "%d/%m/%y"]),
        order=st.sampled_from(["auto", "family_first", "given_first"]),
        year=st.integers(1990, 2040),
    ),
    st.sampled_from(_SAMPLE_SETTINGS),
)


def _batch(part: Part, keys: list[tuple[str | None, ...]], read: SourceSettings) -> pl.DataFrame:
    """``standardise`` of one row per key holding that part alone, then an empty row."""
    rows = {f: [*(k[j] for k in keys), None] for j, f in enumerate(part.fields)}
    rows["record_id"] = [f"r{i}" for i in range(len(keys) + 1)]
    return standardise(pl.DataFrame(rows, schema=dict.fromkeys(rows, pl.Utf8)), read)


def _check_part(name: str, keys: list[tuple[str | None, ...]], read: SourceSettings) -> int:
    """Each key's Python reading equals the batch's row; how many were read in Python."""
    part = _PART[name]
    done = _batch(part, keys, read)
    flags = done.get_column("flags").to_list()
    baseline = _mask(flags[-1])
    values = done.select(part.columns).rows()
    read_here = 0
    for i, key in enumerate(keys):
        found = part_in_python(name, key, read)
        if found is None:  # (left to polars)
            continue
        read_here += 1
        columns, raised, decided = found
        assert columns == values[i], (key, columns, values[i])
        assert raised | (baseline & ~decided) == _mask(flags[i]), (key, raised, flags[i])
    return read_here


# ---------------------------------------------------------------- names

_POOL = [*MALE_GIVEN, *FEMALE_GIVEN, *FAMILY]
_LATIN_NAME = st.sampled_from(_POOL).flatmap(lambda n: st.sampled_from(n.latin))
_ARABIC_NAME = st.sampled_from(_POOL).map(lambda n: n.arabic)
_PARTICLE = st.sampled_from(["El", "BEN", "ait", "Aït", "Ould", "Bou", "بن", "آيت", "ولد", "أبو"])
_STYLE = st.sampled_from([str, str.upper, str.lower, lambda s: f"  {s} ", lambda s: s + "\u200f"])


@st.composite
def _full_names(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.one_of(_LATIN_NAME, _ARABIC_NAME, _PARTICLE), min_size=1, max_size=5))
    return draw(_STYLE)(" ".join(words))


_NAME = st.one_of(
    st.none(), _TEXT, _LATIN_NAME.map(str.upper), _LATIN_NAME, _ARABIC_NAME, _full_names()
)


@_EXAMPLES
@given(keys=st.lists(st.tuples(*[_NAME] * 6), min_size=1, max_size=12), read=_SETTINGS)
def test_names_read_in_python_are_the_batchs(keys: list[tuple[str | None, ...]], read: Any) -> None:
    assert _check_part("names", keys, read) == len(keys)


@_EXAMPLES
@given(
    full=st.lists(st.one_of(_full_names(), _TEXT), min_size=1, max_size=12),
    order=st.sampled_from(["family_first", "given_first"]),
)
def test_full_names_alone_are_split_in_python_as_the_batch_splits_them(
    full: list[str | None], order: str
) -> None:
    keys = [(None, None, None, None, f, None) for f in full]
    assert _check_part("names", keys, _settings(order=order)) == len(keys)


# ---------------------------------------------------------------- birth dates

_DIGITS = {
    "ascii": "0123456789",
    "arabic": "٠١٢٣٤٥٦٧٨٩",
    "persian": "۰۱۲۳۴۵۶۷۸۹",
    "devanagari": "०१२३४५६७८९",
}


@st.composite
def _written_dates(draw: st.DrawFn) -> str:
    """A date as lists write it: day, month and year in some order and width, separators,
    unknown parts (00, xx, ?), a time after it, digits of another script."""
    num = st.integers(0, 39)
    day = draw(st.one_of(num.map(str), num.map("{:02d}".format), st.sampled_from(["xx", "X", "?"])))
    month = draw(st.one_of(num.map(str), num.map("{:02d}".format), st.sampled_from(["xx", "00"])))
    year = draw(
        st.one_of(
            st.integers(1880, 2040).map(str),
            st.integers(0, 99).map("{:02d}".format),
            st.integers(0, 9999).map("{:04d}".format),
        )
    )
    sep = draw(st.sampled_from(list("/-.")))
    sep2 = draw(st.sampled_from([sep, sep, "/", " "]))
    shape = draw(st.sampled_from(["dmy", "ymd", "compact", "serial", "year", "mdy"]))
    if shape == "dmy":
        text = f"{day}{sep}{month}{sep2}{year}"
    elif shape == "mdy":
        text = f"{month}{sep}{day}{sep2}{year}"
    elif shape == "ymd":
        text = f"{year}{sep}{month}{sep2}{day}"
    elif shape == "compact":
        text = f"{year}{month:0>2}{day:0>2}"
    elif shape == "serial":
        text = str(draw(st.integers(0, 120_000))) + draw(st.sampled_from(["", ".0", ".5", "."]))
    else:
        text = year
    text += draw(st.sampled_from(["", "", " 00:00:00", "T12:30", " 1:02:03.5", " 00:00"]))
    digits = _DIGITS[draw(st.sampled_from(["ascii", "ascii", "arabic", "persian", "devanagari"]))]
    return text.translate(str.maketrans("0123456789", digits))


_DATE = st.one_of(
    _written_dates(),
    _TEXT,
    st.sampled_from(["N/A", "néant", "-", "?", "??", "0", "00/00/0000", " / ", "inconnu", "nd"]),
    st.text(st.sampled_from(list("0123456789/-. x?:T")), max_size=14),
)


@_EXAMPLES
@given(values=st.lists(_DATE, min_size=1, max_size=20), read=_SETTINGS)
def test_birth_dates_read_in_python_are_the_batchs(values: list[str | None], read: Any) -> None:
    read_here = _check_part("birth_date", [(v,) for v in values], read)
    if read.birth_date_format == "auto":
        assert read_here == len(values)  # every value read in Python


def test_a_declared_format_leaves_only_other_shapes_to_polars() -> None:
    read = _settings(date_format="%d/%m/%Y")
    values = ["01/02/1980", "00/00/1975", "1975", "31/02/1980", "1980-02-01", "", "N/A"]
    assert _check_part("birth_date", [(v,) for v in values], read) == len(values)
    for value in ("1/2/1980", "01/02/80", "01/01/0000", "xx/xx/1975"):
        assert part_in_python("birth_date", (value,), read) is None
    assert part_in_python("birth_date", ("01/02/1980",), _settings(date_format="%Y")) is None


# ---------------------------------------------------------------- codes and places


def _variants(codes: list[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(codes), _STYLE).map(lambda t: t[1](t[0]))


_SEX = [c for codes in BUILTIN_SEX_CODES.values() for c in codes]
_RELATIONSHIP = [c for codes in BUILTIN_RELATIONSHIP_CODES.values() for c in codes]
_CONFIG_CODES = sorted({k for s in _SAMPLE_SETTINGS for k in (*s.sex_codes, *s.relationship_codes)})
_CODE = st.one_of(
    _TEXT,
    _variants([*_SEX, *_RELATIONSHIP, *HEAD_CODES, *OTHER_RELATIVE_CODES, "N/A", "?", "0"]),
    _variants(_CONFIG_CODES),
)
_TOWNS = sorted(town_aliases())
_PLACE = st.one_of(_TEXT, _variants([*_TOWNS, "N/A", "néant", "?", "0", "Douar Ait Ali"]))


@_EXAMPLES
@given(
    values=st.lists(_CODE, min_size=1, max_size=20),
    part=st.sampled_from(["sex", "relationship", "relation_to_head"]),
    read=_SETTINGS,
)
def test_codes_read_in_python_are_the_batchs(
    values: list[str | None], part: str, read: Any
) -> None:
    assert _check_part(part, [(v,) for v in values], read) == len(values)


@_EXAMPLES
@given(
    values=st.lists(_PLACE, min_size=1, max_size=20),
    part=st.sampled_from(["birth_place", "residence"]),
)
def test_places_read_in_python_are_the_batchs(values: list[str | None], part: str) -> None:
    assert _check_part(part, [(v,) for v in values], _settings()) == len(values)


@pytest.mark.parametrize("read", _SAMPLE_SETTINGS, ids=lambda s: s.source)
def test_the_sample_configs_codes_and_dates_are_read_in_python_as_the_batch(read: Any) -> None:
    values = ["M", "F", "Femme", "ذكر", "2", "X", "conjoint", "ابن", "CJ", "ASS", None, "?"]
    for part in ("sex", "relationship", "relation_to_head"):
        assert _check_part(part, [(v,) for v in values], read) == len(values)
    dates = ["12/05/1980", "1980-05-12", "1975", "00/00/1975", "29221", "12/05/80", "?", None]
    _check_part("birth_date", [(v,) for v in dates], read)


# ---------------------------------------------------------------- identifiers


@st.composite
def _identifier(draw: st.DrawFn) -> str:
    letters = draw(st.text(st.sampled_from("ABCDEFGHJKLMNOPQRSTUVWXYZabcz"), max_size=3))
    digits = draw(st.text(st.sampled_from("0123456789"), max_size=11))
    sep = draw(st.sampled_from(["", " ", "-", ".", "/", "_", "\u200b", "\x00", "\ufeff"]))
    value = f"{letters}{sep}{digits}"
    style = draw(st.sampled_from(["plain", "float", "sci", "arabic", "pad"]))
    if style == "float":
        value = f"{digits or '0'}.0"
    elif style == "sci":
        value = f"{draw(st.integers(1, 9))}.{digits or '0'}E+{draw(st.integers(0, 25))}"
    elif style == "arabic":
        value = value.translate(str.maketrans("0123456789", _DIGITS["arabic"]))
    elif style == "pad":
        value = f"  {value}\t"
    return value


_ID = st.one_of(
    _TEXT, _identifier(), st.sampled_from(["N/A", "néant", "-", "?", "000", "0.0", "X", "9.9E+99"])
)


@_EXAMPLES
@given(
    records=st.lists(st.tuples(*[_ID] * len(ID_FIELDS)), min_size=1, max_size=12), read=_SETTINGS
)
def test_identifiers_read_in_python_are_the_batchs(
    records: list[tuple[str | None, ...]], read: Any
) -> None:
    rows = {f: [*(r[j] for r in records), None] for j, f in enumerate(ID_FIELDS)}
    done = standardise(pl.DataFrame(rows, schema=dict.fromkeys(rows, pl.Utf8)), read)
    flags = [_mask(f) for f in done.get_column("flags").to_list()]
    ids_bits = _mask(
        [
            "cin_malformed",
            "cnss_malformed",
            "registry_id_malformed",
            "id_invisible_characters",
            "control_characters",
        ]
    )
    want = done.select(ID_VALUES).rows()
    for i, record in enumerate(records):
        try:
            out, mask = identifiers_in_python(dict(zip(ID_FIELDS, record, strict=True)), read)
        except NewerUnicode:  # (left to polars)
            continue
        assert tuple(out[c] for c in ID_VALUES) == want[i], record
        assert mask == flags[i] & ids_bits, record
        assert flags[i] & ~ids_bits == flags[-1]  # (the rest: the empty row's)


# ---------------------------------------------------------------- whole records


_MEMOS: dict[str, PartsMemo] = {}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(st.tuples(*[_NAME] * 6), min_size=1, max_size=5),
    other=st.lists(st.tuples(_CODE, _DATE, _PLACE, _PLACE, _CODE, _CODE, _ID), min_size=5),
    read=st.sampled_from(_SAMPLE_SETTINGS),
)
def test_new_records_standardised_by_parts_in_python_are_the_batchs(
    names: list[tuple[str | None, ...]], other: list[tuple[str | None, ...]], read: Any
) -> None:
    """Whole records, each part new, through the parts memo with its Python readings: the
    frame ``standardise`` gives (the baseline learnt once, by polars, on a first call)."""
    fields = (
        *_PART["names"].fields,
        "sex",
        "birth_date",
        "birth_place",
        "residence",
        "relationship",
        "relation_to_head",
        "cin",
    )
    records = [(*n, *o) for n, o in zip(names, other, strict=False)]
    columns = {f: [r[j] for r in records] for j, f in enumerate(fields)}
    columns["record_id"] = [f"r{i}" for i in range(len(records))]
    memo = _MEMOS.setdefault(read.source, PartsMemo())
    if memo._baseline is None:
        standardise_by_parts({"record_id": ["first"]}, read, memo)
    got = standardise_by_parts(columns, read, memo)
    want = standardise(pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.Utf8)), read)
    assert got.equals(want)
