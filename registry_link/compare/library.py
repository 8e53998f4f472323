"""The library of comparison kinds, built from model-config specs.

A spec is a mapping ``{name: ..., kind: ..., <parameters>}``; :func:`build_comparison` validates
the parameters with the kind's pydantic schema (:data:`COMPARISON_KINDS`) and returns a
:class:`~registry_link.compare.levels.Comparison`. Kinds:

* ``name`` — one name part (given, family, father), cross-script: missing / exact matching
  form / same cross-script key / (swapped) / variant (dropped Ben prefix, partial compound) /
  similarity ≥ high / ≥ low / different. With ``tokens`` set,
  a pair where one side has only an unsplit full name (``*_lat`` null, token keys filled) is
  compared through that side's token keys: the other side's key found among them → "same key".
* ``name_tokens`` — the unsplit full name as a set of token keys, only for pairs the ``name``
  comparisons do not score (``when``: ``both_unsplit`` with ``name(tokens=...)``, the default;
  ``either_unsplit`` with ``name`` without tokens), so no pair's name is counted twice.
* ``date`` — birth date with year-only / ``day_or_year`` precision.
* ``id`` — identifiers (CIN, CNSS): exact / one edit or transposition / different.
* ``place`` — a place's matching form (the cross-script key, gazetteer applied) exact / close
  by Jaro-Winkler, then the consonants of its spelling as given at most one edit apart: a place
  outside the gazetteer whose vowels are written differently (Leqliaa / Lqliaa) is not a move.
* ``exact``, ``string`` (exact + edit-distance + Jaro-Winkler levels), ``jaro_winkler``,
  ``numeric_abs_diff``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from registry_link.compare.dictionaries import code_column
from registry_link.compare.engine import active_chunk_memo
from registry_link.compare.levels import (
    Comparison,
    Derived,
    DerivedFn,
    Level,
    decided_expr,
    either_null,
    equal,
    l_,
    r_,
)
from registry_link.compare.similarity import (
    as_strings,
    jaro_winkler_each,
    jaro_winkler_similarity,
    max_token_similarity,
    name_similarity,
    name_similarity_each,
    on_unique_codes,
    on_unique_codes_each,
    on_unique_pairs,
    osa_distance,
    place_spelling_distance,
)
from registry_link.errors import ConfigError, ConfigProblem
from registry_link.names import pairwise_name_variant, pairwise_same_name
from registry_link.names.unsplit import (
    IN_UNSPLIT_SAME,
    IN_UNSPLIT_VARIANT,
    pairwise_name_in_unsplit,
)

_NAME_RE = r"^[A-Za-z_][A-Za-z0-9_]*$"


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _sorted_desc(v: list[float]) -> list[float]:
    return sorted(set(v), reverse=True)


class ExactParams(_Params):
    """``exact``: missing / exact / different."""

    column: str
    tf: bool = Field(False, description="term-frequency adjust the exact level")
    label: str | None = Field(None, description="words for the field, default the column")


class StringParams(_Params):
    """``string``: missing / exact / edit distance ≤ d ... / Jaro-Winkler ≥ t ... / different."""

    column: str
    edit_distances: list[int] = Field(default_factory=list)
    jaro_winkler: list[float] = Field(default_factory=list)
    tf: bool = False
    label: str | None = None

    @field_validator("edit_distances")
    @classmethod
    def _positive(cls, v: list[int]) -> list[int]:
        if any(d < 1 for d in v):
            raise ValueError("edit distances must be ≥ 1 (exact agreement is its own level)")
        return sorted(set(v))

    @field_validator("jaro_winkler")
    @classmethod
    def _unit(cls, v: list[float]) -> list[float]:
        if any(not 0.0 < t < 1.0 for t in v):
            raise ValueError("Jaro-Winkler thresholds must be strictly between 0 and 1")
        return _sorted_desc(v)


class JaroWinklerParams(_Params):
    """``jaro_winkler``: missing / exact / JW ≥ each threshold / different."""

    column: str
    thresholds: list[float] = Field(default_factory=lambda: [0.92, 0.8])
    tf: bool = False
    label: str | None = None

    @field_validator("thresholds")
    @classmethod
    def _unit(cls, v: list[float]) -> list[float]:
        if not v or any(not 0.0 < t < 1.0 for t in v):
            raise ValueError("give at least one threshold, each strictly between 0 and 1")
        return _sorted_desc(v)


class PlaceParams(JaroWinklerParams):
    """``place``: missing / exact key / key JW ≥ each threshold / spelled alike / different.

    ``column`` is the place's matching form (cross-script key, gazetteer applied: exact and
    Jaro-Winkler levels on it, as ``jaro_winkler``); ``spelling`` the place as given (e.g.
    ``residence_raw``). Where the key levels fail, the consonants of the spellings (vowels,
    doubled letters and spaces aside, articles kept: :func:`~registry_link.compare.
    similarity.place_spelling`) at most one edit apart are "spelled alike": a commune outside
    the gazetteer written with other vowels (Leqliaa / Lqliaa) is not a move.
    """

    spelling: str
    thresholds: list[float] = Field(default_factory=lambda: [0.92])


class IdParams(_Params):
    """``id``: missing / exact / Damerau-Levenshtein ≤ max_edits / different."""

    column: str
    max_edits: int = Field(1, ge=1, le=3)
    tf: bool = False
    label: str | None = None


class NumericParams(_Params):
    """``numeric_abs_diff``: missing / |difference| ≤ each threshold (ascending) / different."""

    column: str
    thresholds: list[float]
    label: str | None = None

    @field_validator("thresholds")
    @classmethod
    def _nonneg(cls, v: list[float]) -> list[float]:
        if not v or any(t < 0 for t in v):
            raise ValueError("give at least one threshold, each ≥ 0")
        return sorted(set(v))


class NameParams(_Params):
    """``name``: one name part compared across scripts.

    ``field`` sets the default columns: ``<field>_lat`` (Latin matching form),
    ``<field>_key`` and ``<field>_key_ar`` (cross-script keys). Set ``key_ar: null`` where the
    frame has no Arabic key (``father``), ``tokens: name_token_keys`` to compare one-sided
    full-name-only records through their token keys, ``swapped_with: family`` to recognise a
    given name typed in the family-name column (and vice versa): a level "swapped" where both
    parts' keys are equal crosswise (this part's on one side is the other part's on the other
    side, and the other way round). With ``tokens``,
    ``tokens_tf: true`` gives the pairs whose key is among the unsplit name's tokens a level of
    their own ("same_key_in_unsplit", below "same_key"), adjusted (with ``tf``) on the
    frequency of the registry side's key: the tokens of a rare unsplit full name add more bits
    than those of "Mohamed Alaoui". The term frequency is that of the right (registry) record's
    key; where the right record is the unsplit one the level is not adjusted. ``variants: true``
    adds a level "variant" below "swapped": a dropped Ben/Bel/Ibn/Ould prefix or a partial
    compound name (:func:`registry_link.names.matcher.pairwise_name_variant`); off by default,
    so a model file written before it existed loads with its own levels. With ``tokens``,
    ``unsplit: full_name`` (the column of the unsplit full name) looks a split name up among
    the full name's tokens by name, not by key only (the same-name check of split names:
    Azzouzi is not the token العزيزي), also as two adjacent tokens (a compound: Fatima Zahra
    in "فاطمة الزهراء العزيزي"), and with ``variants`` as a variant of one of them (Ben Moussa
    in "MOUSSA Abdellah": the level "variant"); where the column is empty the token keys
    decide as without it (:func:`registry_link.names.matcher.pairwise_name_in_unsplit`).
    """

    field: str = Field(pattern=_NAME_RE)
    lat: str | None = None
    key: str | None = "auto"
    key_ar: str | None = "auto"
    tokens: str | None = None
    swapped_with: str | None = Field(None, pattern=_NAME_RE)
    verify_same_name: bool = True
    glued_article: bool = False
    variants: bool = False
    unsplit: str | None = None
    high: float = Field(0.92, gt=0.0, lt=1.0)
    low: float = Field(0.80, gt=0.0, lt=1.0)
    tf: bool = True
    tokens_tf: bool = Field(
        False,
        description="with tokens: a level of its own for a key found among an unsplit name's "
        "tokens, term-frequency adjusted (with tf) on the split side's key",
    )
    label: str | None = None


class NameTokensParams(_Params):
    """``name_tokens``: compare the sets of name-token keys (unsplit full names).

    ``when`` says which pairs it scores; the others are "missing", so no pair's name is
    counted twice:

    * ``both_unsplit`` (default) — both sides lack a split name (all ``split_columns`` null).
      Use with ``name`` comparisons that set ``tokens`` (they score the one-sided pairs).
    * ``either_unsplit`` — at least one side lacks it. Use with ``name`` comparisons
      *without* ``tokens`` (they then see one-sided pairs as missing).
    * ``always`` — every pair (only when no ``name`` comparison is used).
    """

    tokens: str = "name_token_keys"
    split_columns: list[str] = Field(default_factory=lambda: ["given_lat", "family_lat"])
    when: Literal["both_unsplit", "either_unsplit", "always"] = "both_unsplit"
    tf: str | None = Field(
        None,
        description="an order-free key of the whole name (name_tokens_key): the same-tokens "
        "level is term-frequency adjusted on its value (a rare full name adds more bits)",
    )
    label: str | None = None


class DateParams(_Params):
    """``date``: birth dates with year-only precision.

    ``column`` is a Date column (or a string parsed with ``format``); ``year`` and
    ``precision`` columns are optional (default: derived from the date; precision ``day``).
    Levels, closest first: exact / same year, one side known to the year only / day and
    month swapped / (``one_character``: one character differs, two full dates) / years within
    ``year_tolerance`` / different. "Same year, one side year-only" is an alternative to the
    full-date levels (its weight is bounded by the year), not a closer agreement: the model
    config leaves birth dates out of the monotone order (``training.levels_not_ordered``).
    """

    column: str = "birth_date"
    year: str | None = "birth_year"
    precision: str | None = "birth_date_precision"
    format: str | None = None
    year_tolerance: int = Field(1, ge=1, le=10)
    one_character: bool = Field(
        False,
        description="a level for full dates one character apart (a digit mistyped, two "
        "neighbouring digits swapped: Damerau-Levenshtein distance 1 between the YYYY-MM-DD "
        "dates), above 'years within year_tolerance'; false keeps the levels of models "
        "trained before it",
    )
    label: str | None = None


@dataclass(frozen=True)
class KindLevels:
    """What a kind's builder gives for one comparison (see :class:`ComparisonKind`).

    Attributes:
        columns: the record columns it reads (gathered as ``l_<col>``/``r_<col>``).
        missing: the level of gamma -1.
        levels: the levels above "different", loosest first (gamma 1, 2, ...), closest last;
            "different" (gamma 0) is added by :func:`build_comparison`.
        what: the compared field in words (``"given names"``), for "different".
        derived, derived_when, record_derived, decided: see
            :class:`~registry_link.compare.levels.Comparison`.
    """

    columns: Sequence[str]
    missing: Level
    levels: Sequence[Level]
    what: str
    derived: Mapping[str, Derived] = field(default_factory=dict)
    derived_when: Mapping[str, pl.Expr] = field(default_factory=dict)
    record_derived: Mapping[str, pl.Expr] = field(default_factory=dict)
    decided: tuple[str, int] | None = None


# ---------------------------------------------------------------------------- builders


def _words(params: _Params, default: str) -> str:
    label = getattr(params, "label", None)
    return label or default.replace("_", " ")


def _exact_level(col: str, what: str, tf: bool) -> Level:
    return Level("exact", equal(col), f"{what} are identical", col if tf else None)


def _missing(cols: tuple[str, ...], what: str) -> Level:
    return Level("missing", either_null(*cols), f"{what} missing on one side (no evidence)")


def _else(what: str) -> Level:
    return Level("different", pl.lit(True), f"{what} are different")


def _build_exact(p: ExactParams, tag: str) -> KindLevels:
    what = _words(p, p.column)
    return KindLevels(
        (p.column,), _missing((p.column,), what), [_exact_level(p.column, what, p.tf)], what
    )


def _pair_fn(
    col: str,
    fn: Callable[[pl.Series, pl.Series], pl.Series],
    per_distinct: Callable[[pl.Series, pl.Series], pl.Series] | None = None,
) -> Derived:
    """A derived-column function applying ``fn`` to the left and right values of ``col``.

    With dictionary codes in the frame, ``per_distinct`` (default ``fn``; same values, without
    a distinct-pair step of its own) runs once per distinct code pair (of all the chunks of an
    engine's ``compare`` call: the function itself is the cache key, see
    :func:`~registry_link.compare.engine.active_pair_cache`).
    """

    def derive(frame: pl.DataFrame) -> pl.Series:
        a, b = frame[f"l_{col}"], frame[f"r_{col}"]
        ca, cb = code_column(f"l_{col}"), code_column(f"r_{col}")
        if ca in frame.columns and cb in frame.columns:  # once per distinct value pair
            return on_unique_codes(a, b, frame[ca], frame[cb], per_distinct or fn, derive)
        return fn(as_strings(a), as_strings(b))

    reads = frozenset([f"l_{col}", f"r_{col}"])
    return Derived(derive, reads, pairwise=(fn, col), takes_enums=True)


def _name_similarity_fn(col: str, lowest: float) -> Derived:
    """The name similarity of ``col``'s pairs for levels whose ``lowest`` threshold is the
    scorer's cutoff: below it every such level says no, so its value there is not worked out
    (0.0), and at or above it the value is exact (:func:`~.similarity.name_similarity`)."""
    return _pair_fn(
        col,
        partial(name_similarity, score_cutoff=lowest),
        partial(name_similarity_each, score_cutoff=lowest),
    )


def _name_similarity_and_variant(col: str, lowest: float) -> tuple[Derived, Derived]:
    """:func:`_name_similarity_fn` and the variant check (:func:`~registry_link.names.
    matcher.pairwise_name_variant`) of ``col``'s pairs, in one pass where they run on the same
    rows of a chunk (their masks agree: the split pairs no closer level decided).

    Within an engine call the similarity's pass over the distinct code pairs
    (:func:`~.similarity.on_unique_codes_each`, cached over the chunks) gives the variant
    check's values too, left in the chunk memo
    (:func:`~registry_link.compare.engine.active_chunk_memo`) for the variant column, which
    takes them when its rows' codes are the same (else, or outside an engine, it runs on its
    own). The values are those of each function alone: both are computed per pair.
    """
    lc, rc = f"l_{col}", f"r_{col}"
    ca, cb = code_column(lc), code_column(rc)
    similarity = _name_similarity_fn(col, lowest)
    each = partial(name_similarity_each, score_cutoff=lowest)
    variant_alone = _pair_fn(col, pairwise_name_variant)

    def both(frame: pl.DataFrame) -> pl.Series:
        memo = active_chunk_memo()
        if memo is None or ca not in frame.columns or cb not in frame.columns:
            return similarity(frame)
        a, b, codes_a, codes_b = frame[lc], frame[rc], frame[ca], frame[cb]
        sims, variants = on_unique_codes_each(
            a, b, codes_a, codes_b, (each, pairwise_name_variant), both
        )
        memo[variant] = (codes_a, codes_b, variants)
        return sims

    def variant(frame: pl.DataFrame) -> pl.Series:
        memo = active_chunk_memo()
        found = memo.pop(variant, None) if memo is not None else None
        if (
            found is not None
            and ca in frame.columns
            and cb in frame.columns
            and found[0].equals(frame[ca], check_names=False)
            and found[1].equals(frame[cb], check_names=False)
        ):
            return found[2]
        return variant_alone(frame)

    # (outside an engine, both are their functions applied to the pair: see pairwise)
    reads = frozenset([lc, rc])
    return (
        Derived(both, reads, pairwise=similarity.pairwise, takes_enums=True),
        Derived(variant, reads, pairwise=variant_alone.pairwise, takes_enums=True),
    )


def _name_in_unsplit(frame: pl.DataFrame, *, lat: str, full: str, glued: bool) -> pl.Series:
    """Per pair of which one side has only an unsplit full name (``full``: a one-element list,
    so that it is gathered only for these pairs): how the other side's split name (``lat``)
    is found in it (:func:`~registry_link.names.unsplit.pairwise_name_in_unsplit`, once per
    distinct name and full name, the full names' matching forms made there)."""
    left_unsplit = frame[f"l_{lat}"].is_null()
    sides = frame.select(
        name=pl.when(left_unsplit).then(pl.col(f"r_{lat}")).otherwise(pl.col(f"l_{lat}")),
        full=pl.when(left_unsplit)
        .then(pl.col(f"l_{full}"))
        .otherwise(pl.col(f"r_{full}"))
        .list.first(),
    )
    return pairwise_name_in_unsplit(
        sides["name"], sides["full"], glued_article=glued, unsplit_as_written=True
    )


def _reading(fn: DerivedFn, columns: list[str], *, takes_enums: bool = False) -> Derived:
    """A derived column computed by ``fn``, which reads the pair-frame ``columns`` (list
    columns are gathered only for the derived columns that read them); ``takes_enums``: see
    :attr:`~.levels.Derived.takes_enums`."""
    return Derived(fn, frozenset(columns), takes_enums=takes_enums)


def _expr_fn(expr: pl.Expr) -> Derived:
    """A derived-column function evaluating a polars expression over the pair frame."""

    def derive(frame: pl.DataFrame) -> pl.Series:
        return frame.select(expr).to_series()

    return Derived(derive, frozenset(expr.meta.root_names()), expr)


def _string_levels(
    col: str, what: str, tf: bool, edits: list[int], jws: list[float], tag: str
) -> tuple[list[Level], dict[str, Derived], dict[str, pl.Expr]]:
    levels = [_exact_level(col, what, tf)]
    derived: dict[str, Derived] = {}
    when: dict[str, pl.Expr] = {}
    undecided = ~either_null(col) & ~equal(col)
    if edits:
        dl = f"__edits_{tag}"
        derived[dl] = _pair_fn(col, partial(osa_distance, cutoff=max(edits)))
        when[dl] = undecided
        for d in edits:
            levels.append(
                Level(
                    f"edits_le_{d}",
                    (pl.col(dl) <= d).fill_null(False),
                    f"{what} differ by at most {d} edit(s) or transposition(s)",
                )
            )
        undecided = undecided & (pl.col(dl) > max(edits)).fill_null(True)
    if jws:
        jw = f"__jw_{tag}"
        derived[jw] = _pair_fn(col, jaro_winkler_similarity, jaro_winkler_each)
        when[jw] = undecided
        for t in jws:
            levels.append(
                Level(
                    f"jaro_winkler_ge_{t:g}",
                    (pl.col(jw) >= t).fill_null(False),
                    f"{what} have Jaro-Winkler similarity ≥ {t:g}",
                )
            )
    return levels, derived, when


def _build_string(p: StringParams, tag: str) -> KindLevels:
    what = _words(p, p.column)
    levels, derived, when = _string_levels(
        p.column, what, p.tf, p.edit_distances, p.jaro_winkler, tag
    )
    return KindLevels((p.column,), _missing((p.column,), what), levels[::-1], what, derived, when)


def _build_jw(p: JaroWinklerParams, tag: str) -> KindLevels:
    what = _words(p, p.column)
    levels, derived, when = _string_levels(p.column, what, p.tf, [], p.thresholds, tag)
    return KindLevels((p.column,), _missing((p.column,), what), levels[::-1], what, derived, when)


def _build_place(p: PlaceParams, tag: str) -> KindLevels:
    what = _words(p, p.column)
    levels, derived, when = _string_levels(p.column, what, p.tf, [], p.thresholds, tag)
    jw, apart = f"__jw_{tag}", f"__spelling_{tag}"
    derived[apart] = _pair_fn(p.spelling, place_spelling_distance)
    when[apart] = (
        ~either_null(p.column) & ~equal(p.column) & (pl.col(jw) < min(p.thresholds)).fill_null(True)
    )
    levels.append(
        Level(
            "spelled_alike",
            (pl.col(apart) <= 1).fill_null(False),
            f"{what} are spelled alike: the consonants of the names as given are at most one "
            f"edit apart (vowels, doubled letters and spaces aside)",
        )
    )
    cols = (p.column, p.spelling)
    return KindLevels(cols, _missing((p.column,), what), levels[::-1], what, derived, when)


def _build_id(p: IdParams, tag: str) -> KindLevels:
    what = _words(p, p.column)
    levels, derived, when = _string_levels(p.column, what, p.tf, [p.max_edits], [], tag)
    return KindLevels((p.column,), _missing((p.column,), what), levels[::-1], what, derived, when)


def _build_numeric(p: NumericParams, tag: str) -> KindLevels:
    what = _words(p, p.column)
    diff = (l_(p.column).cast(pl.Float64) - r_(p.column).cast(pl.Float64)).abs()
    levels = [
        Level(
            "exact" if t == 0 else f"abs_diff_le_{t:g}",
            (diff <= t).fill_null(False),
            f"{what} are equal" if t == 0 else f"{what} differ by at most {t:g}",
        )
        for t in p.thresholds
    ]
    return KindLevels((p.column,), _missing((p.column,), what), levels[::-1], what)


def _swap_keys(p: NameParams, key: str | None, key_ar: str | None) -> list[str]:
    """Key columns of the part this one may be swapped with (same suffixes as this part's)."""
    if not p.swapped_with:
        return []
    return [
        col.replace(p.field, p.swapped_with, 1)
        for col in (key, key_ar)
        if col and col.startswith(p.field)
    ]


def _crossings(keys: list[str], other: list[str]) -> tuple[pl.Expr, pl.Expr]:
    """The two crossings of a swap, by key: this part's key on the left is the other part's on
    the right; this part's key on the right is the other part's on the left."""
    left_to_right = pl.any_horizontal(
        [(l_(a) == r_(b)).fill_null(False) for a in keys for b in other]
    )
    right_to_left = pl.any_horizontal(
        [(r_(a) == l_(b)).fill_null(False) for a in keys for b in other]
    )
    return left_to_right, right_to_left


#: :func:`_other_crossing` of at most this many pairs of strings is read in Python
#: (:func:`_other_crossing_in_python`: a search's new pairs), of more in polars.
FEW_CROSSINGS = 128


def _other_crossing(
    frame: pl.DataFrame,
    *,
    lat: str,
    other_lat: str,
    direction: str,
    similarity: Callable[[pl.Series, pl.Series], pl.Series],
) -> pl.Series:
    """Where one crossing of a swap holds by key (``direction``: 1 this part's key on the left
    is the other part's on the right, 0 the other way round), the name similarity of the other
    crossing (1.0: the same name, under the matcher's readings: Lahcen = الحسن).

    ``similarity``: :func:`~.similarity.name_similarity_each` at the comparison's cutoff,
    applied once per distinct pair of names. When the names come as the sides' shared
    ``Enum`` (one code space over both parts and sides), its codes identify the pairs, and
    within an engine call the similarity is kept over the chunks (``similarity`` is the
    cache key, see :func:`~.similarity.on_unique_codes`); else the strings do — and for at
    most :data:`FEW_CROSSINGS` pairs of strings, the names are picked in Python
    (:func:`_other_crossing_in_python`: the same values without polars' fixed cost).
    """
    columns = [f"{side}_{c}" for c in (lat, other_lat) for side in ("l", "r")]
    if frame.height <= FEW_CROSSINGS and all(frame.schema[c] == pl.String for c in columns):
        return _other_crossing_in_python(
            frame, lat=lat, other_lat=other_lat, direction=direction, similarity=similarity
        )
    this_left = frame[direction] == 1
    crossed = frame.select(
        a=pl.when(this_left).then(l_(other_lat)).otherwise(l_(lat)),
        b=pl.when(this_left).then(r_(lat)).otherwise(r_(other_lat)),
    )
    a, b = crossed.get_column("a"), crossed.get_column("b")
    if isinstance(a.dtype, pl.Enum) and a.dtype == b.dtype:
        return on_unique_codes(a, b, a.to_physical(), b.to_physical(), similarity, similarity)
    return on_unique_pairs(as_strings(a), as_strings(b), similarity)


def _other_crossing_in_python(
    frame: pl.DataFrame,
    *,
    lat: str,
    other_lat: str,
    direction: str,
    similarity: Callable[[pl.Series, pl.Series], pl.Series],
) -> pl.Series:
    """:func:`_other_crossing` of string columns, each pair's names picked in Python (a null
    direction as 0, as polars' ``when`` reads it) and ``similarity`` applied once to all the
    pairs (an element-wise function: the values :func:`~.similarity.on_unique_pairs` gives
    through the distinct pairs)."""
    this_left = [d == 1 for d in frame.get_column(direction).to_list()]
    l_this, l_other, r_this, r_other = (
        frame.get_column(f"{side}_{c}").to_list()
        for side, c in (("l", lat), ("l", other_lat), ("r", lat), ("r", other_lat))
    )
    a = [o if t else n for t, o, n in zip(this_left, l_other, l_this, strict=True)]
    b = [n if t else o for t, n, o in zip(this_left, r_this, r_other, strict=True)]
    return similarity(pl.Series("a", a, dtype=pl.String), pl.Series("b", b, dtype=pl.String))


def _build_name(p: NameParams, tag: str) -> KindLevels:
    lat = p.lat or f"{p.field}_lat"
    key = f"{p.field}_key" if p.key == "auto" else p.key
    key_ar = f"{p.field}_key_ar" if p.key_ar == "auto" else p.key_ar
    what = _words(p, f"{p.field} names")
    keys = [k for k in (key, key_ar) if k]
    other = _swap_keys(p, key, key_ar)
    unsplit = p.unsplit if p.tokens else None
    extra = [c for c in (p.tokens, unsplit) if c]
    other_lat = (
        lat.replace(p.field, p.swapped_with, 1)
        if p.swapped_with and other and lat.startswith(p.field)
        else None
    )
    extra += [other_lat] if other_lat else []
    cols = tuple(dict.fromkeys([lat, *keys, *other, *extra]))
    split = l_(lat).is_not_null() & r_(lat).is_not_null()
    key_eq = pl.any_horizontal(
        [(l_(a) == r_(b)).fill_null(False) for a in keys for b in keys] or [pl.lit(False)]
    )
    sim = f"__namesim_{tag}"
    lowest = min(p.low, p.high)
    if p.variants:
        similarity_fn, variant_fn = _name_similarity_and_variant(lat, lowest)
    else:
        similarity_fn = _name_similarity_fn(lat, lowest)
    derived: dict[str, Derived] = {}
    early_when: dict[str, pl.Expr] = {}
    if p.verify_same_name:
        # equal keys are necessary, not sufficient: the matcher also checks long vowels and
        # endings (Alaoui/Ali and Said/Saad share a consonant key but are different names)
        verified = f"__samename_{tag}"
        glued = p.glued_article
        derived[verified] = _pair_fn(
            lat, lambda a, b: pairwise_same_name(a, b, glued_article=glued)
        )
        early_when[verified] = split & key_eq & ~equal(lat)
        key_eq = key_eq & (equal(lat) | pl.col(verified).cast(pl.Boolean).fill_null(False))
    record_derived: dict[str, pl.Expr] = {}
    variant_in_unsplit: pl.Expr = pl.lit(False)
    if p.tokens and key:
        # a side's tokens matter only where that side's name is unsplit: keep them there only
        # (once per record), so pairs do not gather the lists of split names
        tok = f"__unsplit_tokens_{tag}"
        record_derived[tok] = pl.when(pl.col(lat).is_null()).then(pl.col(p.tokens))
        intok = f"__intok_{tag}"
        # one side has only an unsplit name, the other a split one with a key
        candidate = (l_(lat).is_null() & r_(key).is_not_null()) | (
            r_(lat).is_null() & l_(key).is_not_null()
        )
        candidate = candidate & ~(l_(lat).is_null() & r_(lat).is_null())
        in_tokens = pl.any_horizontal(
            [
                (l_(lat).is_null() & l_(tok).list.contains(r_(k))).fill_null(False)
                | (r_(lat).is_null() & r_(tok).list.contains(l_(k))).fill_null(False)
                for k in keys
            ]
        )
        n_tokens = pl.when(l_(lat).is_null()).then(l_(tok).list.len())
        has_tokens = n_tokens.otherwise(r_(tok).list.len()) > 0  # no list copied
        # 1: the other side's key is a token, 0: it is not, null: no tokens (missing)
        derived[intok] = _expr_fn(
            pl.when(has_tokens.fill_null(False)).then(in_tokens.cast(pl.Int8))
        )
        derived_when = {**early_when, intok: candidate}
        token_mode = candidate & pl.col(intok).is_not_null()
        in_unsplit = (token_mode & (pl.col(intok) == 1)).fill_null(False)
        if unsplit:
            # the split name looked up by name among the unsplit name's tokens (and adjacent
            # pairs of them): the same name, a variant, or neither; by key where it is empty.
            # The full name as a one-element list (once per record, one column for both name
            # comparisons): the pairs gather lists only for the rows a derived column reads,
            # strings for every pair. (Read only where this side's name is unsplit.)
            full_list = f"__unsplit_full_{unsplit}"
            record_derived[full_list] = pl.when(pl.col(unsplit).is_not_null()).then(
                pl.concat_list(pl.col(unsplit))
            )
            found = f"__inunsplit_{tag}"
            full = pl.when(l_(lat).is_null()).then(l_(full_list)).otherwise(r_(full_list))
            derived[found] = _reading(
                partial(_name_in_unsplit, lat=lat, full=full_list, glued=p.glued_article),
                [f"{s}_{c}" for c in (lat, full_list) for s in ("l", "r")],
            )
            derived_when[found] = candidate & full.is_not_null()
            by_name = pl.col(found)
            in_unsplit = token_mode & pl.when(by_name.is_null()).then(in_unsplit).otherwise(
                by_name == IN_UNSPLIT_SAME
            )
            in_unsplit = in_unsplit.fill_null(False)
            variant_in_unsplit = (token_mode & (by_name == IN_UNSPLIT_VARIANT)).fill_null(False)
        same_key = (split & key_eq) if p.tokens_tf else (split & key_eq) | in_unsplit
        missing = ~split & ~token_mode

        toksim = f"__toksim_{tag}"

        def _toksim(f: pl.DataFrame, lat: str = lat, key: str = key, tok: str = tok) -> pl.Series:
            # one side has only an unsplit name: best similarity of the other's key to its tokens
            left_unsplit = f[f"l_{lat}"].is_null()
            probe = pl.select(
                pl.when(left_unsplit).then(f[f"r_{key}"]).otherwise(f[f"l_{key}"])
            ).to_series()
            tokens = pl.select(
                pl.when(left_unsplit).then(f[f"l_{tok}"]).otherwise(f[f"r_{tok}"])
            ).to_series()
            return max_token_similarity(probe, tokens)

        namesim = f"__pairsim_{tag}"
        derived[namesim] = similarity_fn
        derived[toksim] = _reading(
            _toksim, [f"{s}_{c}" for c in (lat, key, tok) for s in ("l", "r")]
        )
        derived[sim] = _expr_fn(pl.coalesce(pl.col(namesim), pl.col(toksim)))
        split_sim, token_sim = namesim, toksim
    else:
        derived_when = dict(early_when)
        same_key = split & key_eq
        in_unsplit = None
        missing = ~split
        derived[sim] = similarity_fn
        split_sim = token_sim = ""
    swapped: pl.Expr = pl.lit(False)
    if other:
        # both names crosswise: both crossings by key, or one by key and the other a very
        # similar name (similarity ≥ high; a reading: Alaoui Lahcen / الحسن العلوي).
        # One crossing alone is one name shared in different places (a record "Ali Eni", a
        # person "Noufl Elouy"), counted in both comparisons: no swap.
        to_right, to_left = _crossings(keys, other)
        swapped = split & to_right & to_left
        if other_lat:
            one_only = split & (to_right ^ to_left)
            direction, crossing = f"__swapdir_{tag}", f"__swapother_{tag}"
            derived[direction] = _expr_fn(to_right.cast(pl.Int8))
            derived[crossing] = _reading(
                partial(
                    _other_crossing,
                    lat=lat,
                    other_lat=other_lat,
                    direction=direction,
                    similarity=partial(name_similarity_each, score_cutoff=p.high),
                ),
                [f"{s}_{c}" for c in (lat, other_lat) for s in ("l", "r")] + [direction],
                takes_enums=True,
            )
            derived_when[direction] = derived_when[crossing] = one_only
            swapped = swapped | (one_only & (pl.col(crossing) >= p.high).fill_null(False))
    levels = [
        Level("exact", equal(lat), f"{what} are identical (standardised)", lat if p.tf else None),
        Level("same_key", same_key, f"{what} have the same cross-script key"),
    ]
    if p.tokens_tf and in_unsplit is not None and key:
        levels.append(
            Level(
                "same_key_in_unsplit",
                in_unsplit,
                f"{what} on one side are one of the tokens of the other side's unsplit full "
                f"name (same cross-script key)",
                key if p.tf else None,
            )
        )
    if other:
        levels.append(
            Level(
                "swapped",
                swapped,
                f"{what} on one side are the {p.swapped_with} names of the other "
                f"(given and family names swapped)",
            )
        )
    early = len(levels)  # levels that need no similarity
    if p.variants:
        variant = f"__variant_{tag}"
        derived[variant] = variant_fn
        derived_when[variant] = pl.col(f"__decided_{tag}").is_null() & split
        levels.append(
            Level(
                "variant",
                pl.col(variant).cast(pl.Boolean).fill_null(False) | variant_in_unsplit,
                f"{what} are variants of one name: one drops a Ben/Bel/Ibn/Ould prefix or "
                f"part of a compound name (Slimane / Ben Slimane, Zahra / Fatim Zahra)",
            )
        )
    levels += [
        Level(
            "similar_high",
            (pl.col(sim) >= p.high).fill_null(False),
            f"{what} are very similar (similarity ≥ {p.high:g})",
        ),
        Level(
            "similar_low",
            (pl.col(sim) >= p.low).fill_null(False),
            f"{what} are somewhat similar (similarity ≥ {p.low:g})",
        ),
    ]
    miss = Level("missing", missing, f"{what} missing on one side (no evidence)")
    # the gamma of the pairs missing or decided without a similarity, once (closest first:
    # levels[i] has gamma len(levels) - i); the similarity only where it is null
    decided = f"__decided_{tag}"
    gammas = [(lvl, len(levels) - i) for i, lvl in enumerate(levels[:early])]
    undecided = pl.col(decided).is_null()
    derived_when[sim] = undecided
    if split_sim and token_sim:
        # the name similarity of split pairs, the token similarity of one-sided ones
        derived_when[split_sim] = undecided & split
        derived_when[token_sim] = undecided & ~split
    # in order: the decided column needs the same-name and token columns, the similarities it
    early_columns = ("samename", "intok", "inunsplit", "swapdir", "swapother")
    before = [n for n in derived if n in {f"__{c}_{tag}" for c in early_columns}]
    derived = {
        **{n: derived[n] for n in before},
        decided: _expr_fn(decided_expr(miss, gammas)),
        **{n: fn for n, fn in derived.items() if n not in before},
    }
    decided_at = (decided, len(levels) - early + 1)
    return KindLevels(
        cols, miss, levels[::-1], what, derived, derived_when, record_derived, decided_at
    )


def _build_name_tokens(p: NameTokensParams, tag: str) -> KindLevels:
    what = _words(p, "full names")
    tok = p.tokens
    cols = tuple(dict.fromkeys([tok, *p.split_columns, *([p.tf] if p.tf else [])]))
    l_unsplit = pl.all_horizontal([l_(c).is_null() for c in p.split_columns])
    r_unsplit = pl.all_horizontal([r_(c).is_null() for c in p.split_columns])
    active = {
        "either_unsplit": l_unsplit | r_unsplit,
        "both_unsplit": l_unsplit & r_unsplit,
        "always": pl.lit(True),
    }[p.when]
    lt = l_(tok).list.unique().list.drop_nulls()
    rt = r_(tok).list.unique().list.drop_nulls()
    names = {f"__tok_{part}_{tag}": part for part in ("l_n", "r_n", "common")}
    exprs = {
        "l_n": lt.list.len(),
        "r_n": rt.list.len(),
        "common": lt.list.set_intersection(rt).list.len(),
    }
    derived = {name: _expr_fn(exprs[part]) for name, part in names.items()}
    l_n, r_n, common = (pl.col(name).fill_null(0) for name in names)
    missing = (~active | (l_n == 0) | (r_n == 0)).fill_null(True)
    levels = [
        Level("one_shared", common >= 1, f"{what} share one token key"),
        Level("two_shared", common >= 2, f"{what} share at least two token keys"),
        Level(
            "contained",
            (common >= 2) & (common == pl.min_horizontal(l_n, r_n)),
            f"{what}: every token key of the shorter name is in the other",
        ),
        Level(
            "same_tokens",
            (common == l_n) & (common == r_n),
            f"{what} have the same token keys",
            p.tf,
        ),
    ]
    both = active & l_(tok).is_not_null() & r_(tok).is_not_null()
    when = dict.fromkeys(names, both)
    miss = Level("missing", missing, f"{what} not compared")
    return KindLevels(cols, miss, levels, what, derived, when)


def _build_date(p: DateParams, tag: str) -> KindLevels:
    what = _words(p, "birth dates")
    cols = tuple(c for c in (p.column, p.year, p.precision) if c)

    def date(side: Callable[[str], pl.Expr]) -> pl.Expr:
        e = side(p.column)
        if p.format:
            return e.cast(pl.Utf8).str.strptime(pl.Date, p.format, strict=False)
        return e.cast(pl.Date)

    def year(side: Callable[[str], pl.Expr]) -> pl.Expr:
        y = date(side).dt.year().cast(pl.Int32)
        return side(p.year).cast(pl.Int32).fill_null(y) if p.year else y

    def prec(side: Callable[[str], pl.Expr]) -> pl.Expr:
        default = pl.when(date(side).is_not_null()).then(pl.lit("day"))
        return side(p.precision).fill_null(default) if p.precision else default

    # once per record: the date, the year, "known to the year only or maybe so", "not year-only"
    d_, y_, v_, n_ = (f"__{part}_{tag}" for part in ("date", "year", "vague", "not_year_only"))
    record_derived = {
        d_: date(pl.col),
        y_: year(pl.col),
        v_: prec(pl.col).is_in(["year", "day_or_year"]),
        n_: prec(pl.col) != "year",
    }
    ld, rd, ly, ry = l_(d_), r_(d_), l_(y_), r_(y_)
    vague = l_(v_) | r_(v_)
    both_dates = ld.is_not_null() & rd.is_not_null()
    exact = (both_dates & (ld == rd) & l_(n_) & r_(n_)).fill_null(False)
    same_year = (ly == ry).fill_null(False)
    swapped = (
        both_dates
        & same_year
        & (ld.dt.day() == rd.dt.month())
        & (ld.dt.month() == rd.dt.day())
        & (ld.dt.day() != ld.dt.month())
    ).fill_null(False)
    close = ((ly - ry).abs() <= p.year_tolerance).fill_null(False)
    within = Level(
        f"year_within_{p.year_tolerance}", close, f"{what} are within {p.year_tolerance} year(s)"
    )
    swap = Level("day_month_swapped", swapped, f"{what} have day and month swapped")
    compatible = Level(
        "year_compatible",
        same_year & vague,
        f"{what} have the same year and one is known to the year only",
    )
    levels = [within, swap, compatible]
    derived: dict[str, Derived] = {}
    derived_when: dict[str, pl.Expr] = {}
    if p.one_character:
        # the full date (day, month and year known) as the number YYYYMMDD, else null
        ymd_, one_ = f"__ymd_{tag}", f"__one_character_{tag}"
        d = date(pl.col)
        full = d.is_not_null() & ~prec(pl.col).is_in(["year", "day_or_year"])
        record_derived[ymd_] = pl.when(full).then(
            d.dt.year().cast(pl.Int32) * 10_000
            + d.dt.month().cast(pl.Int32) * 100
            + d.dt.day().cast(pl.Int32)
        )
        lymd, rymd = l_(ymd_), r_(ymd_)
        derived[one_] = _expr_fn(_one_character_apart(lymd, rymd))
        # one edit changes the year, the month or the day, never two of them: the digits are
        # compared only for the pairs that agree on exactly two (a few in a hundred)
        agree = [(lymd // k % m == rymd // k % m).cast(pl.Int8) for k, m in _DATE_PARTS]
        derived_when[one_] = pl.sum_horizontal(agree) == 2
        one_character = Level(
            "one_character",
            # cast: a helper column no pair needed is all null, not necessarily Boolean
            pl.col(one_).cast(pl.Boolean).fill_null(False),
            f"{what} differ by one character: one digit mistyped, or two neighbouring digits "
            "swapped (Damerau-Levenshtein distance 1 between the YYYY-MM-DD dates; both known "
            "to the day)",
        )
        # "one character" needs two full dates, as "swapped" (never one character apart);
        # "same year" a vague side: each pair gets the level it had but for the new one. On
        # standardised records a vague date (01/01, or none) is never swapped, so `~vague`
        # changes nothing there
        swap = Level("day_month_swapped", swapped & ~vague, swap.description)
        levels = [within, one_character, swap, compatible]
    levels.append(Level("exact", exact, f"{what} are identical"))
    missing = Level("missing", ly.is_null() | ry.is_null(), f"{what} missing on one side")
    return KindLevels(
        cols,
        missing,
        levels,
        what,
        derived=derived,
        derived_when=derived_when,
        record_derived=record_derived,
    )


#: The year, the month and the day of a YYYYMMDD number, as (divisor, modulus).
_DATE_PARTS: tuple[tuple[int, int], ...] = ((10_000, 10_000), (100, 100), (1, 100))

#: The digits of a YYYYMMDD number that are neighbours in YYYY-MM-DD (no dash between them),
#: as powers of ten of the left one: a swap of these two is one transposition.
_DATE_NEIGHBOURS: tuple[int, ...] = (7, 6, 5, 3, 1)


def _one_character_apart(left: pl.Expr, right: pl.Expr) -> pl.Expr:
    """Two YYYYMMDD numbers whose YYYY-MM-DD texts are one edit apart (Damerau-Levenshtein
    distance 1), as a vectorised expression; false where either is null or they are equal.

    The texts have the same length and the same dashes, so one edit is one substitution
    (exactly one digit differs) or one transposition of two neighbouring digits (exactly
    two differ, next to each other within the year, the month or the day, each holding the
    other's digit): an insertion or a deletion would need a second edit to restore the
    length. Tested against rapidfuzz's Damerau-Levenshtein distance.
    """

    def digit(x: pl.Expr, k: int) -> pl.Expr:
        return (x // 10**k) % 10

    differs = [digit(left, k) != digit(right, k) for k in range(8)]
    n_diff = pl.sum_horizontal(d.cast(pl.Int8) for d in differs)
    swapped = pl.any_horizontal(
        differs[k]
        & (digit(left, k) == digit(right, k - 1))
        & (digit(left, k - 1) == digit(right, k))
        for k in _DATE_NEIGHBOURS
    )
    both = left.is_not_null() & right.is_not_null()
    return (both & ((n_diff == 1) | ((n_diff == 2) & swapped))).fill_null(False)


@dataclass(frozen=True)
class ComparisonKind:
    """A kind of comparison: its parameter schema, how it builds its levels, a one-line
    summary and an example.

    Integration code adds its own with :func:`register_kind`; a comparison of that kind then
    builds from a model-config spec and saves to and loads from ``model.json`` like the
    shipped ones (the file stores the kind's name and parameters).

    Attributes:
        name: the ``kind`` string of the specs.
        params_model: the pydantic schema of the parameters (extra keys forbidden).
        builder: ``builder(params, tag)`` → the comparison's :class:`KindLevels`; ``tag``
            (the comparison's name) keeps its helper columns' names apart from others'.
        summary: the levels in a few words, closest last.
        example: parameters of an example spec (documentation and the shared tests).
    """

    name: str
    params_model: type[BaseModel]
    builder: Callable[[Any, str], KindLevels]
    summary: str
    example: Mapping[str, Any] = field(default_factory=dict)

    def build(self, params: BaseModel, tag: str) -> KindLevels:
        """The levels of a comparison of this kind with these (validated) parameters."""
        return self.builder(params, tag)


#: Every comparison kind by its ``kind`` string (add one with :func:`register_kind`).
COMPARISON_KINDS: dict[str, ComparisonKind] = {}


def register_kind(kind: ComparisonKind, *, replace: bool = False) -> ComparisonKind:
    """Make a comparison kind known to :func:`build_comparison` (model configs and model
    files). Returns it.

    Raises:
        ValueError: a kind of that name is registered already (pass ``replace=True`` to
            replace it on purpose).
    """
    if kind.name in COMPARISON_KINDS and not replace:
        raise ValueError(
            f"comparison kind {kind.name!r} is registered already; give yours another name, "
            f"or pass replace=True to replace it"
        )
    COMPARISON_KINDS[kind.name] = kind
    return kind


for _kind in (
    ComparisonKind(
        "exact", ExactParams, _build_exact, "missing / exact / different", {"column": "sex"}
    ),
    ComparisonKind(
        "string",
        StringParams,
        _build_string,
        "missing / exact / edit distance ≤ d / Jaro-Winkler ≥ t / different",
        {"column": "given_lat", "edit_distances": [1, 2], "jaro_winkler": [0.9]},
    ),
    ComparisonKind(
        "jaro_winkler",
        JaroWinklerParams,
        _build_jw,
        "missing / exact / JW ≥ t ... / different",
        {"column": "family_lat"},
    ),
    ComparisonKind(
        "id",
        IdParams,
        _build_id,
        "missing / exact / one edit or transposition / different",
        {"column": "cin"},
    ),
    ComparisonKind(
        "place",
        PlaceParams,
        _build_place,
        "missing / exact key / key JW ≥ t ... / spelled alike / different",
        {"column": "residence", "spelling": "residence_raw"},
    ),
    ComparisonKind(
        "numeric_abs_diff",
        NumericParams,
        _build_numeric,
        "missing / |a-b| ≤ t ... / different",
        {"column": "birth_year", "thresholds": [0, 2]},
    ),
    ComparisonKind(
        "name",
        NameParams,
        _build_name,
        "missing / exact / same cross-script key / similarity ≥ high / ≥ low / different",
        {"field": "given", "tokens": "name_token_keys", "swapped_with": "family"},
    ),
    ComparisonKind(
        "name_tokens",
        NameTokensParams,
        _build_name_tokens,
        "missing / same token keys / contained / two shared / one shared / different",
        {"when": "always"},
    ),
    ComparisonKind(
        "date",
        DateParams,
        _build_date,
        "missing / exact / same year (year-only) / day-month swapped / (one character differs) "
        "/ ±n years / different",
        {},
    ),
):
    register_kind(_kind)


class _Head(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(pattern=_NAME_RE)
    kind: str


def comparison_problems(spec: Mapping[str, Any], key_path: str = "") -> list[ConfigProblem]:
    """All problems of one comparison spec, with key paths under ``key_path``; [] if valid."""
    prefix = f"{key_path}." if key_path else ""
    if not isinstance(spec, Mapping):
        return [ConfigProblem(key_path, f"expected a mapping, got {type(spec).__name__}")]
    problems: list[ConfigProblem] = []
    try:
        head = _Head.model_validate(dict(spec))
    except ValidationError as exc:
        return _problems(exc, prefix)
    kind = COMPARISON_KINDS.get(head.kind)
    if kind is None:
        return [
            ConfigProblem(
                f"{prefix}kind",
                f"unknown comparison kind {head.kind!r}; known: {sorted(COMPARISON_KINDS)}",
            )
        ]
    params = {k: v for k, v in spec.items() if k not in ("name", "kind")}
    try:
        kind.params_model.model_validate(params)
    except ValidationError as exc:
        problems += _problems(exc, prefix)
    return problems


def _problems(exc: ValidationError, prefix: str) -> list[ConfigProblem]:
    return [
        ConfigProblem(prefix + ".".join(str(p) for p in err["loc"]), err["msg"])
        for err in exc.errors()
    ]


def build_comparison(spec: Mapping[str, Any]) -> Comparison:
    """Build a comparison from a spec ``{name, kind, <kind parameters>}``.

    Raises:
        ConfigError: the spec is invalid (unknown kind, bad or unknown parameter); every
            problem is listed with its key path.
    """
    spec = {k: v for k, v in dict(spec).items() if k not in ("levels", "missing_level")}
    problems = comparison_problems(spec)
    if problems:
        raise ConfigError(f"comparison {spec.get('name', '?')!r}", problems)
    kind = COMPARISON_KINDS[spec["kind"]]
    params = kind.params_model.model_validate(
        {k: v for k, v in spec.items() if k not in ("name", "kind")}
    )
    built = kind.build(params, spec["name"])
    return Comparison(
        name=spec["name"],
        kind=kind.name,
        params=params.model_dump(mode="json", exclude_defaults=False),
        columns=tuple(built.columns),
        missing=built.missing,
        levels=(_else(built.what), *built.levels),
        derived=dict(built.derived),
        derived_when=dict(built.derived_when),
        record_derived=dict(built.record_derived),
        decided=built.decided,
    )


def kind_schemas() -> dict[str, dict[str, Any]]:
    """JSON schema of every kind's parameters (for docs and config validation)."""
    return {name: k.params_model.model_json_schema() for name, k in COMPARISON_KINDS.items()}
