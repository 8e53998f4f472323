"""The DCI social-registry search API's shapes (envelope, search request and response) and the
translation of a DCI query into a search record of canonical fields.

Only what registry-link answers is accepted, and the schema says so (FastAPI publishes it at
``/openapi.json``): ``query_type`` is ``idtype-value`` (``CIN``, ``CNSS_IMMAT``, the registry
id as ``RNP``/``UIN``/``IDCS``) or ``predicate`` (``eq`` on the attributes of
:data:`PREDICATE_ATTRIBUTES`, joined by ``and``); messages are not encrypted. Our extension
fields ride on each returned record: ``match_probability``, ``match_weight``, ``bits``,
``explanation`` and ``decision``.

An ``idtype-value`` query is an identifier lookup (DCI): it returns the registry records that
hold the identifier. A registry id is looked up exactly (:meth:`RegistryIndex.get`); a CIN or
CNSS number is searched as a record giving only it, so each person holding it comes with the
evidence that identifier alone gives (and the batch decision for such a record). An identifier
that is empty after cleaning, or malformed (a CIN is 1-2 letters then digits, a CNSS number
digits), is a ``rjct.search_criteria.invalid`` answer saying so, not an empty success.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: The DCI version answered.
DCI_VERSION: Final[str] = "1.0.0"

#: Identifier types of ``idtype-value`` queries → the canonical field searched.
ID_TYPES: Final[dict[str, str]] = {
    "CIN": "cin",
    "CNSS_IMMAT": "cnss_number",
    "RNP": "registry_person_id",
    "UIN": "registry_person_id",
    "IDCS": "registry_person_id",
}

#: Identifier types looked up exactly as the registry's own person id.
REGISTRY_ID_TYPES: Final[frozenset[str]] = frozenset(
    t for t, f in ID_TYPES.items() if f == "registry_person_id"
)

#: The standardiser's flag of a malformed identifier, and what a valid one is, per field.
MALFORMED_IDS: Final[dict[str, tuple[str, str]]] = {
    "cin": ("cin_malformed", "a CIN is 1-2 letters then 1-8 digits, e.g. BK123456"),
    "cnss_number": ("cnss_malformed", "a CNSS number is digits only"),
}

#: Predicate attribute names → the canonical field (``registry-link fields``). DCI-style
#: aliases: ``surname``, ``DOB``, ``YOB``, ``commune``, ``gender``.
PREDICATE_ATTRIBUTES: Final[dict[str, str]] = {
    "family_name": "family_name",
    "surname": "family_name",
    "given_name": "given_name",
    "full_name": "full_name",
    "family_name_ar": "family_name_ar",
    "given_name_ar": "given_name_ar",
    "birth_date": "birth_date",
    "DOB": "birth_date",
    "birth_year": "birth_date",
    "YOB": "birth_date",
    "sex": "sex",
    "gender": "sex",
    "residence": "residence",
    "commune": "residence",
    "birth_place": "birth_place",
    "father_given_name": "father_given_name",
    "cin": "cin",
    "cnss_number": "cnss_number",
}

IdType = Literal["CIN", "CNSS_IMMAT", "RNP", "UIN", "IDCS"]
AttributeName = Literal[
    "family_name",
    "surname",
    "given_name",
    "full_name",
    "family_name_ar",
    "given_name_ar",
    "birth_date",
    "DOB",
    "birth_year",
    "YOB",
    "sex",
    "gender",
    "residence",
    "commune",
    "birth_place",
    "father_given_name",
    "cin",
    "cnss_number",
]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Value = Annotated[str, Field(min_length=1, max_length=200)] | Annotated[int, Field(ge=0, le=9999)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


#: The largest integer JSON numbers carry exactly everywhere (I-JSON, RFC 7493).
MAX_SAFE_INTEGER: Final = 2**53 - 1


class RequestHeader(BaseModel):
    """The envelope header of a request (unknown optional DCI fields are kept and echoed)."""

    model_config = ConfigDict(extra="allow")
    version: str = DCI_VERSION
    message_id: Text200
    message_ts: datetime
    action: Literal["search", "txn-status"]
    sender_id: Text200
    sender_uri: str | None = None
    receiver_id: str | None = None
    total_count: int = Field(ge=0, le=100_000)
    is_msg_encrypted: Literal[False] = False
    meta: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _interoperable_numbers(self) -> RequestHeader:
        """The header is echoed in the (signed) answer, so its numbers must be I-JSON's
        (RFC 7493, which the signature's canonical JSON, RFC 8785, requires): integers within
        ±(2**53 - 1), and no NaN or infinity."""
        echoed = dict(self.model_extra or {})
        if self.meta is not None:
            echoed["meta"] = self.meta
        problem = _not_interoperable(echoed)
        if problem is not None:
            raise ValueError(
                f"header.{problem}: a number JSON cannot carry exactly (NaN, an infinity, or an "
                "integer beyond ±(2**53 - 1), I-JSON); send it as a string"
            )
        return self


def _not_interoperable(value: Any, path: str = "") -> str | None:
    """The path of the first number in ``value`` outside I-JSON (an integer beyond
    ±(2**53 - 1), NaN or an infinity: Python's JSON parser accepts both), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return path if abs(value) > MAX_SAFE_INTEGER else None
    if isinstance(value, float):
        return None if math.isfinite(value) else path
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = ((f"[{i}]", item) for i, item in enumerate(value))
    else:
        return None
    for key, item in items:
        step = key if str(key).startswith("[") else (f".{key}" if path else str(key))
        found = _not_interoperable(item, path + step)
        if found is not None:
            return found
    return None


class IdTypeValue(_Strict):
    """An ``idtype-value`` query: one identifier."""

    type: IdType
    value: Text200


class Expression(_Strict):
    """One predicate term: ``attribute_name eq attribute_value``."""

    attribute_name: AttributeName
    operator: Literal["eq"]
    attribute_value: Value


class Predicate(_Strict):
    """One predicate item; every item and both its expressions must hold (``and``)."""

    seq_num: int = Field(default=1, ge=0)
    expression1: Expression
    condition: Literal["and"] | None = None
    expression2: Expression | None = None


class Pagination(_Strict):
    """Which page of candidates: ``page_size`` is the number of candidates (k)."""

    page_size: int = Field(default=5, ge=1, le=50)
    page_number: Literal[1] = 1


class Purpose(BaseModel):
    """A consent or authorisation purpose."""

    text: str | None = None
    code: str | None = None
    ref_uri: str | None = None


class Consent(BaseModel):
    """A consent or authorisation: when, and for what."""

    ts: datetime | None = None
    purpose: Purpose | None = None


class _Criteria(_Strict):
    version: str = DCI_VERSION
    reg_event_type: str | None = None
    response_entity: Literal["Member"] = "Member"
    sort: list[dict[str, Any]] | None = None
    pagination: Pagination = Pagination()
    consent: Consent | None = None
    authorize: Consent | None = None


class IdCriteria(_Criteria):
    """Search criteria by identifier."""

    query_type: Literal["idtype-value"]
    query: IdTypeValue


class PredicateCriteria(_Criteria):
    """Search criteria by demographic predicates."""

    query_type: Literal["predicate"]
    query: list[Predicate] = Field(min_length=1, max_length=20)


SearchCriteria = Annotated[IdCriteria | PredicateCriteria, Field(discriminator="query_type")]


class SearchRequestItem(_Strict):
    """One query of an envelope."""

    reference_id: Text200
    timestamp: datetime
    search_criteria: SearchCriteria
    locale: str | None = Field(default=None, max_length=10)


class SearchMessage(_Strict):
    """The ``message`` of a search request."""

    transaction_id: Annotated[str, Field(min_length=1, max_length=99)]
    search_request: list[SearchRequestItem] = Field(min_length=1)


class SearchEnvelope(_Strict):
    """A signed DCI search request (the signature is kept, not verified: keys authenticate)."""

    signature: str | None = None
    header: RequestHeader
    message: SearchMessage


class TxnStatusRequestItem(_Strict):
    """Which transaction's status is asked."""

    reference_id: Text200
    txn_type: Literal["search"] = "search"
    attribute_type: Literal["transaction_id", "reference_id_list"] = "transaction_id"
    attribute_value: Text200 | list[Text200]


class TxnStatusMessage(_Strict):
    """The ``message`` of a transaction-status request."""

    transaction_id: Annotated[str, Field(min_length=1, max_length=99)]
    txnstatus_request: TxnStatusRequestItem


class TxnStatusEnvelope(_Strict):
    """A DCI transaction-status request."""

    signature: str | None = None
    header: RequestHeader
    message: TxnStatusMessage


# ------------------------------------------------------------------ translation


class CriteriaProblem(ValueError):
    """A query the schema accepts but that cannot be searched (e.g. a field given twice)."""


def search_record(criteria: IdCriteria | PredicateCriteria) -> dict[str, str]:
    """The canonical-field record a query searches for.

    Raises:
        CriteriaProblem: two different values for one field.
    """
    if isinstance(criteria, IdCriteria):
        return {ID_TYPES[criteria.query.type]: identifier(criteria)}
    record: dict[str, str] = {}
    for item in criteria.query:
        for expr in (item.expression1, item.expression2):
            if expr is None:
                continue
            field = PREDICATE_ATTRIBUTES[expr.attribute_name]
            value = str(expr.attribute_value).strip()
            if record.get(field, value) != value:
                raise CriteriaProblem(
                    f"the field {field!r} is given twice with different values "
                    f"(attribute {expr.attribute_name!r}); give it once"
                )
            record[field] = value
    return record


def identifier(criteria: IdCriteria) -> str:
    """The identifier of an ``idtype-value`` query, cleaned as the standardiser cleans
    identifiers (case, spaces and separators, Arabic-Indic digits).

    Raises:
        CriteriaProblem: nothing is left (empty, or a placeholder such as ``N/A``).
    """
    import polars as pl

    from registry_link.standardise.ids import clean_id_expr

    cleaned = pl.select(clean_id_expr(pl.lit(criteria.query.value, pl.Utf8))).item()
    if cleaned is None:
        raise CriteriaProblem(
            f"query.value holds no {criteria.query.type} (empty or a placeholder); give the "
            "identifier"
        )
    return str(cleaned)


def check_identifier(criteria: IdCriteria, flags: tuple[str, ...]) -> None:
    """Refuse an identifier the standardiser found malformed (``flags``: the query's).

    Raises:
        CriteriaProblem: it is malformed (says what a valid one is; the value is not echoed).
    """
    field = ID_TYPES[criteria.query.type]
    flag, valid = MALFORMED_IDS.get(field, ("", ""))
    if flag and flag in flags:
        raise CriteriaProblem(f"query.value is not a valid {criteria.query.type}: {valid}")


def now_iso() -> str:
    """The current time, ISO 8601 with its time zone."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def response_header(
    request: RequestHeader, action: str, status: str, completed: int
) -> dict[str, Any]:
    """The response header: the request's fields kept, with action, status and counts set."""
    header = request.model_dump(mode="json", exclude_none=True)
    header.update(
        action=action,
        status=status,
        message_ts=now_iso(),
        completed_count=completed,
        receiver_id=request.sender_id,
        sender_id="registry-link",
    )
    return header


def rejected_answer(
    request: RequestHeader, transaction_id: str, correlation_id: str, reason: str | None
) -> dict[str, Any]:
    """An ``on-search`` envelope saying a whole search failed (``rjct``, no responses)."""
    header = response_header(request, "on-search", "rjct", 0)
    header["status_reason_message"] = reason
    return {
        "signature": None,
        "header": header,
        "message": {
            "transaction_id": transaction_id,
            "correlation_id": correlation_id,
            "search_response": [],
        },
    }


def candidate_record(candidate: Any) -> dict[str, Any]:
    """One returned registry record: ids, display fields and our extension fields."""
    return {
        "record_id": candidate.record_id,
        "person_id": candidate.person_id,
        "household_id": candidate.household_id,
        "demographic_info": {k: _json_value(v) for k, v in candidate.fields.items()},
        "match_probability": candidate.match_probability,
        "match_weight": candidate.match_weight,
        "bits": dict(candidate.bits),
        "explanation": list(candidate.explanation),
        "decision": candidate.decision,
    }


def registry_record(fields: dict[str, Any]) -> dict[str, Any]:
    """A registry record found by an exact lookup of its registry id, shaped as
    :func:`candidate_record` shapes a candidate (no comparison: probability 1, no bits)."""
    ids = ("record_id", "person_id", "household_id")
    return {
        **{k: fields.get(k) for k in ids},
        "demographic_info": {k: _json_value(v) for k, v in fields.items() if k not in ids},
        "match_probability": 1.0,
        "match_weight": None,
        "bits": {},
        "explanation": ["the registry's own person id: an exact lookup, no comparison"],
        "decision": "match",
    }


def _json_value(value: object) -> object:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return str(value)


def lookup_response_item(item: SearchRequestItem, records: list[dict[str, Any]]) -> dict[str, Any]:
    """A registry-id lookup's answer: ``succ`` with the records holding the id (none: an
    empty list, the decision ``non_match``)."""
    found = [registry_record(r) for r in records]
    return _succ(
        item,
        found,
        "match" if found else "non_match",
        "found by its registry id" if found else "no registry person has this id",
        (),
    )


def search_response_item(
    item: SearchRequestItem, result: Any | None, problem: str | None = None
) -> dict[str, Any]:
    """One query's answer: ``succ`` with the candidates, or ``rjct`` with the reason."""
    base: dict[str, Any] = {"reference_id": item.reference_id, "timestamp": now_iso()}
    if result is None:
        return {
            **base,
            "status": "rjct",
            "status_reason_code": "rjct.search_criteria.invalid",
            "status_reason_message": problem or "the search criteria cannot be searched",
            "locale": item.locale,
        }
    records = [candidate_record(c) for c in result.candidates]
    return _succ(item, records, result.decision, result.reason, result.flags)


def _succ(
    item: SearchRequestItem,
    records: list[dict[str, Any]],
    decision: str,
    reason: str,
    flags: tuple[str, ...],
) -> dict[str, Any]:
    return {
        "reference_id": item.reference_id,
        "timestamp": now_iso(),
        "status": "succ",
        "data": {
            "version": DCI_VERSION,
            "reg_type": "ns:org:RegistryType:Social",
            "reg_record_type": "Member",
            "reg_records": records,
            "decision": decision,
            "reason": reason,
            "flags": list(flags),
        },
        "pagination": {
            "page_size": item.search_criteria.pagination.page_size,
            "page_number": 1,
            "total_count": len(records),
        },
        "locale": item.locale,
    }
