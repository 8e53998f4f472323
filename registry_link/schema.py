"""The canonical person record and the standardised frame every later stage reads.

Two layers:

* **Canonical fields** (:data:`CANONICAL_FIELDS`, :data:`REGISTRY_FIELDS`) are what a source
  config maps its columns onto. They are the same for the registry extract and for every
  partner list. All are optional except ``record_id``; a record needs at least one name
  (``family_name``, ``given_name``, their Arabic forms, or ``full_name``).

* The **standardised frame** (:data:`STANDARDISED_SCHEMA`) is the output of
  :mod:`registry_link.standardise`: the original values kept for display, plus normalised
  matching forms, cross-script keys, parsed dates and a list of flags. Blocking, comparison,
  scoring and households read only this frame.

Rows are never dropped: a value that cannot be parsed is set to null in its parsed column,
kept in its original column, and the row gets a flag from :data:`FLAG_CODES`.
"""

from __future__ import annotations

from typing import Final

import polars as pl

#: Canonical fields a partner list (or the registry) may provide, with a short description.
CANONICAL_FIELDS: Final[dict[str, str]] = {
    "record_id": "identifier of the row in its source (required, unique within the source)",
    "cin": "national identity card number (CIN): 1-2 letters then digits, e.g. BK123456",
    "cnss_number": "social-security (CNSS) registration number",
    "registry_person_id": (
        "registry person identifier if the partner knows it (RNP-like, 10 digits)"
    ),
    "family_name": "family name, Latin script",
    "given_name": "given name(s), Latin script",
    "family_name_ar": "family name, Arabic script",
    "given_name_ar": "given name(s), Arabic script",
    "full_name": "unsplit full name, either script, either order",
    "sex": "sex code (M/F, H/F, Homme/Femme, ذكر/أنثى, 1/2 ...)",
    "birth_date": "birth date (dd/mm/yyyy, yyyy-mm-dd, Excel serial, year only ...)",
    "birth_place": "place (commune) of birth",
    "residence": "commune of residence",
    "father_given_name": "father's given name, either script",
    "principal_record_id": "for a dependant: record_id of the worker who declared them",
    "relationship": "for a dependant: relationship to the principal (spouse, child, other)",
}

#: Fields only the registry extract carries.
REGISTRY_FIELDS: Final[dict[str, str]] = {
    "person_id": "registry person identifier (10 digits)",
    "household_id": "registry (social register) household identifier",
    "relation_to_head": "relation to the household head (head, spouse, child, other)",
}

NAME_FIELDS: Final[tuple[str, ...]] = (
    "family_name",
    "given_name",
    "family_name_ar",
    "given_name_ar",
    "full_name",
)

#: The fields of a record's names, read and kept together (the search path's "names" part):
#: the name fields and the father's given name.
NAME_PART_FIELDS: Final[tuple[str, ...]] = (*NAME_FIELDS, "father_given_name")

#: Relationship values after standardisation.
RELATIONSHIPS: Final[tuple[str, ...]] = ("principal", "spouse", "child", "other")

#: Birth-date precision values.
#: ``day``: a real day; ``year``: only the year is known;
#: ``day_or_year``: ``01/01/YYYY``, a real date for some and a stand-in for "year only" for many.
DATE_PRECISIONS: Final[tuple[str, ...]] = ("day", "year", "day_or_year")

#: Reason codes a row can be flagged with (column ``flags``). Never dropped: flagged and counted.
FLAG_CODES: Final[dict[str, str]] = {
    "no_name": "the record has no usable name: no name field holds a letter to match on",
    "birth_date_unparseable": "the birth date could not be read; kept in birth_date_raw",
    "birth_date_out_of_range": "the birth date is in the future or before 1900",
    "birth_date_day_or_year": "the birth date is 01/01/YYYY: possibly a stand-in for year only",
    "cin_malformed": "the CIN is not 1-2 letters followed by 1-8 digits; kept as typed",
    "cnss_malformed": "the CNSS number is not all digits; kept as typed",
    "registry_id_malformed": "the registry person id is not 10 digits; kept as typed",
    "sex_unknown": "the sex code is not one the config knows",
    "relationship_unknown": "the relationship code is not one the config knows",
    "principal_missing": "the dependant's principal_record_id is not a record of this source",
    "full_name_only": "the name came as one unsplit full name",
    "mixed_script_name": "a name field mixes Arabic and Latin letters",
    "encoding_suspect": "the row contains replacement or mojibake characters",
    "name_unusable": (
        "a name field has text but no letter to match on (---, digits, emoji, tatweel or "
        "diacritics only, another script); kept, not matched"
    ),
    "id_invisible_characters": (
        "an identifier held invisible characters (byte-order mark, zero-width or bidi "
        "controls); removed"
    ),
    "control_characters": "a value held control characters (NUL ...); removed",
    "row_short": (
        "the row has fewer fields than the header: its last fields (relationship, principal "
        "...) are missing and read as empty"
    ),
    "row_long": "the row has more fields than the header: the extra fields were not read",
    "excel_error": "a cell holds an Excel error (#DIV/0!, #N/A, #VALUE! ...); read as empty",
    "excel_merged_cell": (
        "a merged Excel cell covers this row: its value is on the merge's first row only; read "
        "as empty here"
    ),
}

#: The fields of a standardised record as a person reads them (values as given, not matching
#: forms), in display order: what reviewers see, exports carry and fingerprints hash.
DISPLAY_FIELDS: Final[tuple[str, ...]] = (
    "cin",
    "cnss_number",
    "registry_person_id",
    "family_name",
    "given_name",
    "family_name_ar",
    "given_name_ar",
    "full_name",
    "father_given_name",
    "sex",
    "birth_date_raw",
    "birth_place_raw",
    "residence_raw",
)

#: The standardised frame's columns and dtypes. Columns marked "display" keep the value as
#: given (trimmed); the others are matching forms.
STANDARDISED_SCHEMA: Final[dict[str, pl.DataType | type[pl.DataType]]] = {
    "source": pl.Utf8,  # name of the source config
    "record_id": pl.Utf8,
    "row_number": pl.UInt32,  # 1-based data row in the input file (header excluded)
    # identifiers, normalised (uppercase, no spaces/dashes); kept even when malformed (+ flag)
    "cin": pl.Utf8,
    "cnss_number": pl.Utf8,
    "registry_person_id": pl.Utf8,
    # names as given (display)
    "family_name": pl.Utf8,
    "given_name": pl.Utf8,
    "family_name_ar": pl.Utf8,
    "given_name_ar": pl.Utf8,
    "full_name": pl.Utf8,
    "father_given_name": pl.Utf8,
    # Latin matching forms: from the Latin value when present, else transliterated from Arabic
    "family_lat": pl.Utf8,
    "given_lat": pl.Utf8,
    "father_lat": pl.Utf8,
    # normalised Arabic forms (null when the source gave no Arabic)
    "family_ar": pl.Utf8,
    "given_ar": pl.Utf8,
    "father_ar": pl.Utf8,
    # cross-script phonetic keys of the Latin forms / of the Arabic forms
    "family_key": pl.Utf8,
    "given_key": pl.Utf8,
    "father_key": pl.Utf8,
    "family_key_ar": pl.Utf8,
    "given_key_ar": pl.Utf8,
    # keys of every name token (given + family, or the unsplit full name), sorted, unique
    "name_token_keys": pl.List(pl.Utf8),
    # the sorted token keys of the name (one script per part) joined: an order-free name key
    # that meets a full name given in either order (blocking)
    "name_tokens_key": pl.Utf8,
    "sex": pl.Utf8,  # 'M' | 'F' | null
    "birth_date": pl.Date,  # null when only the year is known or unparseable
    "birth_year": pl.Int16,
    "birth_date_precision": pl.Utf8,  # see DATE_PRECISIONS; null when missing
    "birth_date_raw": pl.Utf8,  # display
    "birth_place": pl.Utf8,  # matching form (cross-script key of the commune)
    "residence": pl.Utf8,  # matching form
    "birth_place_raw": pl.Utf8,  # display: as given
    "residence_raw": pl.Utf8,  # display: as given
    "principal_record_id": pl.Utf8,
    # the source of the principal's record: the config's source (a dependants file may carry a
    # source name of its own); null for a principal
    "principal_source": pl.Utf8,
    "relationship": pl.Utf8,  # see RELATIONSHIPS; 'principal' for a worker
    "person_id": pl.Utf8,  # registry only
    "household_id": pl.Utf8,  # registry only
    "relation_to_head": pl.Utf8,  # registry only
    "flags": pl.List(pl.Utf8),
}


def empty_standardised_frame() -> pl.DataFrame:
    """An empty frame with exactly the standardised schema."""
    return pl.DataFrame(schema=STANDARDISED_SCHEMA)


def values_type(dtype: pl.DataType) -> pl.DataType:
    """The type of the values a column holds: a ``Categorical`` column (a registry read with
    its repeated values coded, see ``linker.REPEATED_COLUMNS``) holds strings; any other
    column, values of its own type. The stages that pick a path by a column's type (the
    compare engine's shared ``Enum``, training's integer rule keys) ask this, so that coding
    a column never switches a path off unnoticed."""
    return pl.String() if dtype == pl.Categorical else dtype
