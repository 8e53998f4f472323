"""A record's parts standardised in Python: what ``standardise`` gives a row holding one part.

:func:`~registry_link.standardise.parts.standardise_by_parts` (the search path) keeps each
part of a record (the names, the birth date, a place, a code) per tuple of its raw values; a
part not seen before was standardised by polars' ``standardise`` on a row holding it alone,
whose fixed cost — tens of polars queries whatever the number of rows, ~50 ms — was a first
search's largest. Here the same stages run on one part's values in Python, reading the same
rule tables: the clean stage's patterns (:mod:`~registry_link.standardise.text`), the name
rules' chains and one-value readings (:class:`~registry_link.standardise.distinct.PerValueRule`,
:mod:`registry_link.names.rewrite`), the code tables of the settings, the places' gazetteer,
and the birth-date parser's own patterns (:mod:`~registry_link.standardise.dates`: its
regular expressions are the table; the steps between them, a coalesce and a calendar check,
are written here once more, held equal to polars by hypothesis tests on every written form).

:func:`part_in_python` gives a part's columns, the flags its values raise and the flags its
fields decide (the others are the baseline's: an empty row's); ``None`` where it cannot
promise polars' answer (a birth-date format it does not read, or a date only polars reads:
the caller then asks polars). :func:`identifiers_in_python` does the same for a record's
identifiers. ``tests/standardise/test_one.py`` holds each equal to polars' on the formats
the readers and :mod:`registry_link.synth` write and on arbitrary text.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from registry_link.config.loader import SourceSettings
from registry_link.names.rewrite import (
    Chain,
    NewerUnicode,
    NonEmpty,
    Normalize,
    Strip,
    Sub,
    chain_text,
    python_pattern,
    python_replacement,
)
from registry_link.schema import FLAG_CODES, NAME_FIELDS, NAME_PART_FIELDS
from registry_link.standardise import dates, ids
from registry_link.standardise.codes import relation_to_head_codes
from registry_link.standardise.names import (
    _HAS_ARABIC,
    _HAS_LATIN,
    PARTICLES,
    _arabic_rule,
    _either_rule,
    _latin_rule,
    latin_form,
)
from registry_link.standardise.places import _place_rule
from registry_link.standardise.text import (
    _NATIVE_DIGITS,
    _SPACES,
    CODE_KEY,
    CONTROL,
    INVISIBLE,
    PLACEHOLDER_KEYS,
    WORD_PLACEHOLDER_KEYS,
)

__all__ = ["identifiers_in_python", "part_in_python"]

_CODES: Final[list[str]] = list(FLAG_CODES)


def _bits(*codes: str) -> int:
    return sum(1 << _CODES.index(c) for c in codes)


def _re(pattern: str) -> re.Pattern[str]:
    """A polars pattern compiled for Python (every unescaped ``$`` the end of the text, as
    in Rust: :func:`python_pattern` translates a final one)."""
    return re.compile(re.sub(r"(?<!\\)\$(?=\|)", r"\\Z", python_pattern(pattern)))


# ---------------------------------------------------------------- the clean stage

#: :func:`~.text.clean_text_expr` as a chain (its patterns; ``""`` → null).
CLEAN_TEXT: Final[Chain] = (Sub(_SPACES, " "), Strip(), NonEmpty())
#: The clean stage on a name (control characters removed, NFKC, cleaned).
CLEAN_NAME: Final[Chain] = (Sub(CONTROL, ""), Normalize("NFKC"), *CLEAN_TEXT)
#: The clean stage on any other field.
CLEAN_FIELD: Final[Chain] = (Sub(CONTROL, ""), *CLEAN_TEXT)
#: The clean stage on a record id (:func:`~.text.clean_id_text_expr`).
CLEAN_RECORD_ID: Final[Chain] = (Sub(INVISIBLE, ""), Sub(CONTROL, ""), *CLEAN_TEXT)

_CONTROL = _re(CONTROL)
_INVISIBLE = _re(INVISIBLE)


def _has_control(raw: str | None) -> bool:
    return raw is not None and _CONTROL.search(raw) is not None


def _code_key(text: str | None) -> str | None:
    return chain_text(CODE_KEY, text)


def _is_placeholder(text: str | None, keys: tuple[str, ...] = PLACEHOLDER_KEYS) -> bool | None:
    """:func:`~.text.is_placeholder_expr` (null for null)."""
    key = _code_key(text)
    return None if key is None else key in keys


# ---------------------------------------------------------------- the names

_MOJIBAKE = _re(r"\uFFFD|Ã[\u0080-\u00BF]|[ØÙ][\u0080-\u00BF]|â€")
_SPLIT: Final[tuple[str, ...]] = ("family_name", "given_name", "family_name_ar", "given_name_ar")
_A_LETTER = re.compile("[a-z]")
_NAME_FLAGS = _bits(
    "no_name",
    "name_unusable",
    "full_name_only",
    "mixed_script_name",
    "encoding_suspect",
    "control_characters",
)


def _script(text: str | None) -> tuple[bool, bool]:
    """(has an Arabic letter, has a Latin letter); null: neither."""
    if text is None:
        return False, False
    return _HAS_ARABIC.search(text) is not None, _HAS_LATIN.search(text) is not None


def _fix_scripts(v: dict[str, str | None]) -> None:
    """:func:`~.names.fix_scripts` on one row (in place)."""
    for lat, ar in (("family_name", "family_name_ar"), ("given_name", "given_name_ar")):
        lat_a, lat_l = _script(v[lat])
        ar_a, ar_l = _script(v[ar])
        lat_is_ar, ar_is_lat = lat_a and not lat_l, ar_l and not ar_a
        if (lat_is_ar and (v[ar] is None or ar_is_lat)) or (
            ar_is_lat and (v[lat] is None or lat_is_ar)
        ):
            v[lat], v[ar] = v[ar], v[lat]


def _is_particle(token: str | None) -> bool:
    return token is not None and _code_key(token) in PARTICLES


def _split_full_name(v: dict[str, str | None], order: str) -> None:
    """:func:`~.names.split_full_name` on one row (in place)."""
    full = v["full_name"]
    if order not in ("family_first", "given_first") or full is None:
        return
    if any(v[c] is not None for c in _SPLIT):
        return
    tokens = full.split(" ")
    n = len(tokens)

    def get(i: int) -> str | None:
        return tokens[i] if -n <= i < n else None

    t0, t1 = (get(0), get(1)) if order == "family_first" else (get(-2), get(-3))
    k = min(1 + _is_particle(t0) + (_is_particle(t0) and _is_particle(t1)), n)
    if order == "family_first":
        family, given = " ".join(tokens[:k]), " ".join(tokens[k:])
    else:
        family, given = " ".join(tokens[n - k :]), " ".join(tokens[: n - k])
    arabic, latin = _script(full)
    prefix = "_ar" if arabic and not latin else ""
    v[f"family_name{prefix}"] = chain_text(CLEAN_TEXT, family)
    v[f"given_name{prefix}"] = chain_text(CLEAN_TEXT, given)


def _sorted_unique(tokens: list[str]) -> list[str]:
    return sorted(set(tokens))


def _names(raw: Sequence[str | None], settings: SourceSettings) -> tuple[tuple[Any, ...], int]:
    """The names part: its columns (``PARTS``' order) and the flags it raises."""
    v = {f: chain_text(CLEAN_NAME, r) for f, r in zip(NAME_PART_FIELDS, raw, strict=True)}
    control = any(_has_control(r) for r in raw)
    suspect = any(t is not None and _MOJIBAKE.search(t) for t in v.values())
    mixed = any(a and b for a, b in map(_script, v.values()))
    full_only = v["full_name"] is not None and all(v[c] is None for c in _SPLIT)
    ok = {}
    for f in NAME_FIELDS:
        lat = latin_form(v[f])
        ok[f] = lat is not None and _A_LETTER.search(lat) is not None
    no_name = not any(ok.values())
    unusable = any(v[f] is not None and not ok[f] for f in NAME_FIELDS)
    _fix_scripts(v)
    _split_full_name(v, settings.full_name_order)
    parts: dict[str, Any] = {}
    for column, rule in (
        ("family_name", _latin_rule("family_name", "_fl")),
        ("given_name", _latin_rule("given_name", "_gl")),
        ("family_name_ar", _arabic_rule("family_name_ar", "_fa")),
        ("given_name_ar", _arabic_rule("given_name_ar", "_ga")),
        ("father_given_name", _either_rule("father_given_name", "_pa")),
        ("full_name", _either_rule("full_name", "_fn")),
    ):
        value = v[column]
        if value is not None:
            parts.update(rule.one(value))
    p = parts.get
    has_split = any(p(c) is not None for c in ("_fl_lat", "_gl_lat", "_fa_tr", "_ga_tr"))
    if has_split:
        tokens = [t for c in ("_gl_tok", "_fl_tok", "_ga_tok", "_fa_tok") for t in p(c) or []]
        primary = [
            *(_coalesce(p("_gl_tok"), p("_ga_tok")) or []),
            *(_coalesce(p("_fl_tok"), p("_fa_tok")) or []),
        ]
    else:
        tokens = primary = list(p("_fn_tok") or [])
    family_lat = _coalesce(p("_fl_lat"), p("_fa_tr"))
    given_lat = _coalesce(p("_gl_lat"), p("_ga_tr"))
    token_keys = _sorted_unique(tokens)
    columns = (
        *(v[f] for f in NAME_PART_FIELDS),
        family_lat,
        given_lat,
        p("_pa_lat"),
        p("_fa_ar"),
        p("_ga_ar"),
        p("_pa_ar"),
        _coalesce(p("_fl_key"), p("_fa_key")),
        _coalesce(p("_gl_key"), p("_ga_key")),
        p("_pa_key"),
        p("_fa_key"),
        p("_ga_key"),
        token_keys,
        " ".join(_sorted_unique(primary)) if primary else None,
    )
    flags = {
        "no_name": no_name or (not token_keys and family_lat is None and given_lat is None),
        "name_unusable": unusable,
        "full_name_only": full_only,
        "mixed_script_name": mixed,
        "encoding_suspect": suspect,
        "control_characters": control,
    }
    return columns, _bits(*(c for c, on in flags.items() if on))


def _coalesce(*values: Any) -> Any:
    return next((x for x in values if x is not None), None)


# ---------------------------------------------------------------- codes and places


def _coded(raw: str | None, codes: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(the cleaned value, its code by ``codes``: the code rules' key looked up)."""
    text = chain_text(CLEAN_FIELD, raw)
    key = _code_key(chain_text(CLEAN_TEXT, text))
    return text, None if key is None else codes.get(key)


def _sex(raw: Sequence[str | None], settings: SourceSettings) -> tuple[tuple[Any, ...], int]:
    text, sex = _coded(raw[0], settings.sex_codes)
    cleaned = chain_text(CLEAN_TEXT, text)
    unknown = cleaned is not None and not _is_placeholder(cleaned) and sex is None
    return (sex,), _bits(*(["sex_unknown"] if unknown else []), *_control(raw))


def _relationship(
    raw: Sequence[str | None], settings: SourceSettings
) -> tuple[tuple[Any, ...], int]:
    text, code = _coded(raw[0], settings.relationship_codes)
    relationship = _coalesce(code, "principal")
    if settings.kind == "registry" and text is None:
        relationship = None
    return (relationship,), _bits(*_control(raw))


@functools.cache
def _head_codes(codes: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return relation_to_head_codes(dict(codes))


def _relation_to_head(
    raw: Sequence[str | None], settings: SourceSettings
) -> tuple[tuple[Any, ...], int]:
    codes = _head_codes(tuple(settings.relationship_codes.items()))
    text, head = _coded(raw[0], codes)
    unknown = settings.kind != "partner" and head is None and text is not None
    return (head,), _bits(*(["relationship_unknown"] if unknown else []), *_control(raw))


def _place(column: str) -> Callable[[Sequence[str | None], SourceSettings], Any]:
    rule = _place_rule(column)

    def place(raw: Sequence[str | None], settings: SourceSettings) -> tuple[tuple[Any, ...], int]:
        text = chain_text(CLEAN_FIELD, raw[0])
        suspect = text is not None and _MOJIBAKE.search(text) is not None
        kept = text if _is_placeholder(text) is False else None
        key = None if kept is None else rule.one(kept)["_place"]
        flags = (*(["encoding_suspect"] if suspect else []), *_control(raw))
        return (key, kept), _bits(*flags)

    return place


def _control(raw: Sequence[str | None]) -> list[str]:
    return ["control_characters"] if any(_has_control(r) for r in raw) else []


# ---------------------------------------------------------------- birth dates

_DMY4, _YMD, _DMY2, _COMPACT, _YEAR_ONLY, _SERIAL, _TIME = map(
    _re,
    (
        dates._DMY4,
        dates._YMD,
        dates._DMY2,
        dates._COMPACT,
        dates._YEAR_ONLY,
        dates._SERIAL,
        dates._TIME_SUFFIX,
    ),
)
_ONLY_SEPARATORS = _re(r"^[\s/.\-]+$")
_TO_ASCII = str.maketrans(dict(zip(_NATIVE_DIGITS, [str(i) for i in range(10)] * 2, strict=True)))
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_FLAGS = _bits(
    "birth_date_unparseable",
    "birth_date_out_of_range",
    "birth_date_day_or_year",
    "control_characters",
)

#: Declared formats read here: each a day format whose separator must be in a value it
#: reads (a value without it: the format reads nothing), and the values it reads as the
#: automatic forms do (two-digit day and month, a four-digit year after 0000); a value of
#: another shape is read by polars.
_DECLARED: Final[dict[str, tuple[str, re.Pattern[str]]]] = {
    "%d/%m/%Y": ("/", re.compile(r"[0-9]{2}/[0-9]{2}/[0-9]{4}\Z")),
    "%d-%m-%Y": ("-", re.compile(r"[0-9]{2}-[0-9]{2}-[0-9]{4}\Z")),
    "%d.%m.%Y": (".", re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{4}\Z")),
    "%Y-%m-%d": ("-", re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")),
    "%Y/%m/%d": ("/", re.compile(r"[0-9]{4}/[0-9]{2}/[0-9]{2}\Z")),
}


class _Unread(Exception):
    """A value this reading leaves to polars."""


def _int(text: str | None) -> int | None:
    """polars' lenient cast of a string of digits to Int32 (ASCII digits only)."""
    return int(text) if text is not None and text.isascii() else None


def _groups(pattern: re.Pattern[str], s: str, n: int) -> tuple[str | None, ...]:
    m = pattern.search(s)
    return m.groups() if m else (None,) * n


def _valid_day(y: int | None, m: int | None, d: int | None) -> dt.date | None:
    if y is None or m is None or d is None or not (1 <= m <= 12 and 1 <= d <= 31 and y > 0):
        return None
    try:
        return dt.date(y, m, d)
    except ValueError:  # (past the month's last day)
        return None


def read_birth_date(value: str | None, settings: SourceSettings) -> dict[str, Any]:
    """:func:`~.dates.parse_birth_dates` of one cleaned value, by its column.

    Raises:
        _Unread: a declared format not in :data:`_DECLARED`, or a value of another shape
            that such a format might read (polars reads it).
    """
    ref, declared_format = settings.reference_year, settings.birth_date_format
    text = chain_text(CLEAN_TEXT, value)
    missing = (
        text is None
        or _is_placeholder(text, WORD_PLACEHOLDER_KEYS) is True
        or _ONLY_SEPARATORS.search(text) is not None
    )
    out: dict[str, Any] = dict.fromkeys(dates.BIRTH_DATE_COLUMNS)
    out.update(
        birth_date_unparseable=False, birth_date_out_of_range=False, birth_date_day_or_year=False
    )
    if missing:
        return out
    assert text is not None
    s = _TIME.sub("", text.translate(_TO_ASCII), count=1)
    dmy4, ymd, dmy2, compact = (
        _groups(_DMY4, s, 3),
        _groups(_YMD, s, 3),
        _groups(_DMY2, s, 3),
        _groups(_COMPACT, s, 3),
    )
    yo = _groups(_YEAR_ONLY, s, 3)
    serial_m = _SERIAL.search(s)
    serial = _int(serial_m.group(1)) if serial_m else None
    yy = _int(dmy2[2])
    y = _coalesce(
        _int(dmy4[2]),
        _int(ymd[0]),
        None if yy is None else (2000 + yy if 2000 + yy <= ref else 1900 + yy),
        _int(compact[0]),
    )
    m = _coalesce(_int(dmy4[1]), _int(ymd[1]), _int(dmy2[1]), _int(compact[1]))
    d = _coalesce(_int(dmy4[0]), _int(ymd[2]), _int(dmy2[0]), _int(compact[2]))
    year_only = _coalesce(_int(yo[0]), _int(yo[1]), _int(yo[2]))
    day = _valid_day(y, m, d)
    declared = None
    if declared_format != "auto":
        found = _DECLARED.get(declared_format)
        if found is None:
            raise _Unread(declared_format)
        separator, shape = found
        if separator in s:
            if shape.match(s) is None or y == 0:
                raise _Unread(s)
            declared = day  # (the same day the automatic forms read, or none)
    date = _coalesce(
        declared, day, None if serial is None else _EXCEL_EPOCH + dt.timedelta(days=serial)
    )
    year = date.year if date is not None else (year_only if year_only and year_only > 0 else None)
    precision: str | None = None
    if date is not None:
        precision = "day_or_year" if (date.month, date.day) == (1, 1) else "day"
    elif year is not None:
        precision = "year"
    out.update(
        birth_date=date,
        birth_year=year,
        birth_date_precision=precision,
        birth_date_unparseable=year is None,
        birth_date_out_of_range=year is not None and (year < 1900 or year > ref),
        birth_date_day_or_year=precision == "day_or_year",
    )
    return out


def _birth_date(raw: Sequence[str | None], settings: SourceSettings) -> tuple[tuple[Any, ...], int]:
    cleaned = chain_text(CLEAN_FIELD, raw[0])
    read = read_birth_date(cleaned, settings)
    flags = [c for c in ("birth_date_unparseable", "birth_date_out_of_range") if read[c]]
    if read["birth_date_day_or_year"]:
        flags.append("birth_date_day_or_year")
    columns = (read["birth_date"], read["birth_year"], read["birth_date_precision"], cleaned)
    return columns, _bits(*flags, *_control(raw))


# ---------------------------------------------------------------- the parts

_ONE_FIELD_FLAGS = _bits("control_characters")
#: Per part: its reading, and the flags its fields decide.
_PARTS: Final[dict[str, tuple[Callable[..., tuple[tuple[Any, ...], int]], int]]] = {
    "names": (_names, _NAME_FLAGS),
    "sex": (_sex, _bits("sex_unknown", "control_characters")),
    "birth_date": (_birth_date, _DATE_FLAGS),
    "birth_place": (_place("birth_place"), _bits("encoding_suspect", "control_characters")),
    "residence": (_place("residence"), _bits("encoding_suspect", "control_characters")),
    "relationship": (_relationship, _ONE_FIELD_FLAGS),
    "relation_to_head": (_relation_to_head, _bits("relationship_unknown", "control_characters")),
}


def part_in_python(
    name: str, raw: Sequence[str | None], settings: SourceSettings
) -> tuple[tuple[Any, ...], int, int] | None:
    """The part ``name`` of a record (its raw field values, :data:`~.parts.PARTS`' order),
    standardised as ``standardise`` does a row holding it alone: its columns, the flags it
    raises and the flags its fields decide (as bit masks over :data:`FLAG_CODES`). ``None``
    when polars must read it (a birth date this reading does not promise)."""
    reading, decided = _PARTS[name]
    try:
        columns, raised = reading(raw, settings)
    except _Unread:
        return None
    return columns, raised, decided


# ---------------------------------------------------------------- identifiers

_ID_PLACEHOLDERS = frozenset(ids._ID_PLACEHOLDERS)
_EXCEL_FLOAT = _re(r"^([0-9]+)\.0+$")
_EXCEL_FLOAT_TO = python_replacement("${1}")
_SCIENTIFIC = _re(ids._SCIENTIFIC)
_SEPARATORS = _re(r"[\s\-./_]+")
_ZEROS = _re(r"^0*$")
_CIN, _CNSS, _REGISTRY_ID = (
    _re(p) for p in (ids.CIN_PATTERN, ids.CNSS_PATTERN, ids.REGISTRY_ID_PATTERN)
)
_INT64 = 2**63


def clean_id(value: str | None) -> str | None:
    """:func:`~.ids.clean_id_expr` (as :func:`~.ids.clean_id_columns` runs it) of one value.

    Raises:
        NewerUnicode: a character Python's Unicode database does not know (its upper case
            may differ from polars').
    """
    text = chain_text(CLEAN_TEXT, value)
    if text is None:
        return None
    if not text.isascii() and any(unicodedata.category(c) == "Cn" for c in text):
        raise NewerUnicode(text)
    up = _EXCEL_FLOAT.sub(_EXCEL_FLOAT_TO, text.translate(_TO_ASCII).upper(), count=1)
    sci = _SCIENTIFIC.search(up)
    from_sci = None
    if sci is not None:
        number = float(sci.group(0))
        if -_INT64 <= number < _INT64:
            from_sci = str(int(number))
    compact = _SEPARATORS.sub("", _coalesce(from_sci, up))
    if compact in _ID_PLACEHOLDERS or _ZEROS.search(compact):
        return None
    return compact


def _malformed(value: str | None, pattern: re.Pattern[str]) -> bool:
    return value is not None and pattern.search(value) is None


def identifiers_in_python(
    raw: Mapping[str, str | None], settings: SourceSettings
) -> tuple[dict[str, str | None], int]:
    """A record's identifier columns (record ids cleaned as text, the others by
    :func:`clean_id`; ``source`` and ``principal_source``) and the flags they raise."""
    out: dict[str, str | None] = {}
    for f, value in raw.items():
        if f in ("record_id", "principal_record_id"):
            out[f] = chain_text(CLEAN_RECORD_ID, value)
        else:
            out[f] = clean_id(chain_text(CLEAN_FIELD, value))
    out["source"] = settings.source
    out["principal_source"] = None if out["principal_record_id"] is None else settings.source
    flags = {
        "cin_malformed": _malformed(out["cin"], _CIN),
        "cnss_malformed": _malformed(out["cnss_number"], _CNSS),
        "registry_id_malformed": _malformed(out["registry_person_id"], _REGISTRY_ID)
        or _malformed(out["person_id"], _REGISTRY_ID),
        "id_invisible_characters": any(
            v is not None and _INVISIBLE.search(v) is not None for v in raw.values()
        ),
        "control_characters": any(_has_control(v) for v in raw.values()),
    }
    return out, _bits(*(c for c, on in flags.items() if on))
