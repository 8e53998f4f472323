"""Noise for synthetic partner lists: documented rates and vectorised edits.

Every function takes the values and a boolean mask of the rows to alter, and returns the new
values and the mask of rows actually altered (a noise that cannot apply to a row, e.g. a
day/month swap of 25/03, leaves it unchanged and unmarked).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Final

import numpy as np
import polars as pl

from registry_link.synth import name_pool
from registry_link.synth.registry import REFERENCE_DATE, RuralPlaces

LATIN_TYPO_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
ARABIC_TYPO_ALPHABET = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


@dataclass(frozen=True)
class NoiseRates:
    """Per-record noise rates of one partner list (probabilities; see sample_data/README.md).

    CIN noises are exclusive (at most one per record), so are date noises; rates of a CIN
    noise are among records whose person has a CIN; ``date_day_month_swap`` applies only
    where the day is 1-12 and differs from the month.
    """

    alt_spelling: float = 0.15  # another attested Latin spelling than the registry's
    typo: float = 0.03  # one-character edit in the family or the given name
    name_swap: float = 0.02  # given and family name swapped
    cin_missing: float = 0.10
    cin_wrong_digit: float = 0.02
    cin_transposition: float = 0.01
    cin_format: float = 0.05  # lowercase, space or dash after the prefix
    cin_na: float = 0.003  # "N/A" typed in the CIN column
    date_year_only: float = 0.05
    date_placeholder: float = 0.03  # 01/01/YYYY
    date_day_month_swap: float = 0.02
    date_year_shift: float = 0.02  # +-1 year
    date_unparseable: float = 0.003  # "31/02/1980" or "??"
    moved_commune: float = 0.08  # residence differs from the registry's
    sex_missing: float = 0.02
    empty_name_rows: int = 2  # rows with no name at all (exact count)

    def as_dict(self) -> dict[str, float]:
        """The rates as a plain dict (for the manifest and the README)."""
        return {k: float(v) for k, v in asdict(self).items()}


def exclusive_choice(
    rng: np.random.Generator, n: int, rates: dict[str, float]
) -> dict[str, np.ndarray]:
    """At most one of several exclusive noises per row, each with its rate."""
    u = rng.random(n)
    out: dict[str, np.ndarray] = {}
    low = 0.0
    for name, rate in rates.items():
        out[name] = (u >= low) & (u < low + rate)
        low += rate
    return out


def _mask_series(mask: np.ndarray) -> pl.Series:
    return pl.Series(mask.astype(bool))


def one_char_edit(
    values: pl.Series, mask: np.ndarray, rng: np.random.Generator, alphabet: str
) -> tuple[pl.Series, np.ndarray]:
    """A substitution, deletion, insertion or transposition of one character (never the
    first one), on rows of ``mask`` whose value has at least 3 characters."""
    n = len(values)
    length = values.str.len_chars().fill_null(0).to_numpy().astype(np.int64)
    pos = 1 + np.floor(rng.random(n) * np.maximum(length - 1, 1)).astype(np.int64)
    kind = rng.integers(0, 4, n)
    letters = pl.Series(list(alphabet))
    ch = letters.gather(rng.integers(0, len(alphabet), n))
    frame = pl.DataFrame(
        {"s": values, "pos": pos, "kind": kind, "ch": ch, "m": mask & (length >= 3)}
    )
    s, p = pl.col("s"), pl.col("pos")
    pre = s.str.slice(0, p)
    deletion = pre + s.str.slice(p + 1)
    edited = (
        pl.when(pl.col("kind") == 0)
        .then(pre + pl.col("ch") + s.str.slice(p + 1))
        .when(pl.col("kind") == 1)
        .then(deletion)
        .when(pl.col("kind") == 2)
        .then(pre + pl.col("ch") + s.str.slice(p))
        .otherwise(pre + s.str.slice(p + 1, 1) + s.str.slice(p, 1) + s.str.slice(p + 2))
    )
    edited = pl.when(edited == s).then(deletion).otherwise(edited)
    out = frame.select(new=pl.when(pl.col("m")).then(edited).otherwise(s), m=pl.col("m"))
    return out["new"], out["m"].to_numpy()


def cin_digit_noise(
    cin: pl.Series, wrong_digit: np.ndarray, transposition: np.ndarray, rng: np.random.Generator
) -> tuple[pl.Series, np.ndarray, np.ndarray]:
    """One wrong digit, or two adjacent different digits swapped (falls back to a wrong digit
    when the two digits are equal). Returns (cin, wrong digit applied, digits swapped)."""
    n = len(cin)
    prefix_len = cin.str.count_matches(r"[A-Z]").fill_null(0).to_numpy().astype(np.int64)
    n_digits = cin.str.len_chars().fill_null(0).to_numpy().astype(np.int64) - prefix_len
    ok = cin.is_not_null().to_numpy() & (n_digits >= 2)
    k = np.floor(rng.random(n) * np.maximum(n_digits - 1, 1)).astype(np.int64)
    pos = prefix_len + k
    bump = rng.integers(1, 10, n)
    frame = pl.DataFrame({"c": cin, "pos": pos, "bump": bump})
    c, p = pl.col("c"), pl.col("pos")
    here, nxt = c.str.slice(p, 1), c.str.slice(p + 1, 1)
    wrong = (
        c.str.slice(0, p)
        + ((here.cast(pl.Int64, strict=False) + pl.col("bump")) % 10).cast(pl.Utf8)
        + c.str.slice(p + 1)
    )
    swapped = c.str.slice(0, p) + nxt + here + c.str.slice(p + 2)
    can_swap = frame.select(here != nxt).to_series().fill_null(False).to_numpy()
    do_swap = transposition & ok & can_swap
    do_wrong = (wrong_digit | (transposition & ~can_swap)) & ok
    frame = frame.with_columns(w=_mask_series(do_wrong), t=_mask_series(do_swap))
    out = frame.select(
        pl.when(pl.col("t")).then(swapped).when(pl.col("w")).then(wrong).otherwise(c)
    ).to_series()
    return out, do_wrong, do_swap


def cin_format_noise(
    cin: pl.Series, mask: np.ndarray, rng: np.random.Generator
) -> tuple[pl.Series, np.ndarray]:
    """The CIN typed loosely: lowercase, a space or a dash after the prefix, or lowercase with
    a space."""
    n = len(cin)
    kind = rng.integers(0, 4, n)
    frame = pl.DataFrame({"c": cin, "k": kind, "m": mask & cin.is_not_null().to_numpy()})
    c = pl.col("c")
    letters, digits = c.str.extract(r"^([A-Z]+)", 1), c.str.extract(r"(\d+)$", 1)
    styled = (
        pl.when(pl.col("k") == 0)
        .then(c.str.to_lowercase())
        .when(pl.col("k") == 1)
        .then(letters + " " + digits)
        .when(pl.col("k") == 2)
        .then(letters + "-" + digits)
        .otherwise(letters.str.to_lowercase() + " " + digits)
    )
    out = frame.select(new=pl.when(pl.col("m")).then(styled).otherwise(c), m=pl.col("m"))
    return out["new"], out["m"].to_numpy()


def date_noise(
    birth: pl.Series, choice: dict[str, np.ndarray], rng: np.random.Generator
) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """Apply exclusive date noises to true birth dates.

    Returns a frame (``date``: Date shown, ``style``: day | year | placeholder | bad,
    ``bad``: the unreadable text for style bad) and the masks actually applied.
    """
    n = len(birth)
    day = birth.dt.day().to_numpy()
    month = birth.dt.month().to_numpy()
    swap = choice["date_day_month_swap"] & (day <= 12) & (day != month)
    shift = np.where(rng.random(n) < 0.5, -1, 1)
    bad_text = np.where(rng.random(n) < 0.5, "??", "")
    frame = pl.DataFrame(
        {
            "b": birth,
            "swap": swap,
            "shift": choice["date_year_shift"],
            "dy": shift,
            "year_only": choice["date_year_only"],
            "placeholder": choice["date_placeholder"],
            "bad": choice["date_unparseable"],
            "bad_text": bad_text,
        }
    )
    b = pl.col("b")
    swapped = pl.date(b.dt.year(), b.dt.day(), b.dt.month())
    shifted = b.dt.offset_by(pl.format("{}y", pl.col("dy")))
    out = frame.select(
        date=pl.when(pl.col("swap")).then(swapped).when(pl.col("shift")).then(shifted).otherwise(b),
        style=pl.when(pl.col("bad"))
        .then(pl.lit("bad"))
        .when(pl.col("year_only"))
        .then(pl.lit("year"))
        .when(pl.col("placeholder"))
        .then(pl.lit("placeholder"))
        .otherwise(pl.lit("day")),
        bad=pl.when(pl.col("bad_text") == "??")
        .then(pl.lit("??"))
        .otherwise(pl.format("{}/02/{}", pl.lit("31"), b.dt.year())),
    )
    applied = dict(choice)
    applied["date_day_month_swap"] = swap
    return out, applied


@dataclass(frozen=True)
class SliceNoiseRates:
    """Noises added for the inclusion slices of issue 16, drawn from a random stream of their
    own so that turning them off (:data:`NO_SLICE_NOISE`, the default of ``synth``) leaves every
    file as it was. Both apply only to records no other noise of their kind touched.

    ``date_digit_typo``: one digit of the day or of the year mistyped (a valid date that differs
    from the true one), among records showing their full, unaltered birth date.
    ``cin_of_relative``: the record carries the CIN of another member of its person's
    household, among records whose CIN was left as it was and who have such a relative.
    ``name_variant``: the name written as a variant of the registry's (:func:`name_variant`): a
    family name without its ``Ben``/``Bel`` prefix, or one part of a compound given name, among
    the records that have such a name and whose names no other noise touched.
    ``cin_of_lookalike``: the record carries the CIN of a relative who resembles its person —
    same household, same family name, same sex, born at most :data:`LOOKALIKE_MAX_AGE_GAP`
    years apart (a brother's, a sister's) —, among the records whose CIN was left as it was
    and who have such a relative (:func:`lookalike_cin`); these are also ``cin_of_relative``.
    ``father_variant``: the father's given name written as a variant (:func:`father_variant`):
    with his own father's name (Ahmed Ben Mohamed), as "son of" (Ben Ahmed, Ould Ahmed), or
    one part of a compound name (Amine for Mohamed Amine), among all records.
    ``rural_residence`` / ``rural_birth_place``: how often a household lives, or a person was
    born, in a rural commune outside the gazetteer (registry side:
    :class:`registry_link.synth.registry.RuralPlaces`); ``place_spelling``: how often a record
    writes such a commune in another attested Latin spelling than the registry's (Lqliaa /
    Leqliaa, Sidi Allal Tazi / Sidi Alal Tazi), per place.
    """

    date_digit_typo: float = 0.01
    cin_of_relative: float = 0.01
    name_variant: float = 0.15
    cin_of_lookalike: float = 0.15
    father_variant: float = 0.1
    rural_residence: float = 0.35
    rural_birth_place: float = 0.45
    place_spelling: float = 0.35

    def rural_places(self) -> RuralPlaces:
        """The registry side of the rural communes (:class:`RuralPlaces`)."""
        return RuralPlaces(residence=self.rural_residence, birth_place=self.rural_birth_place)

    def as_dict(self) -> dict[str, float]:
        """The rates as a plain dict (for the manifest)."""
        return {k: float(v) for k, v in asdict(self).items()}


#: No mistyped birth year goes past the synthetic registry's reference date.
LAST_BIRTH_YEAR = REFERENCE_DATE.year

#: Slice noises off: ``synth`` output byte-identical to what it was before they existed.
NO_SLICE_NOISE = SliceNoiseRates(
    date_digit_typo=0.0,
    cin_of_relative=0.0,
    name_variant=0.0,
    cin_of_lookalike=0.0,
    father_variant=0.0,
    rural_residence=0.0,
    rural_birth_place=0.0,
    place_spelling=0.0,
)

#: A relative born at most this many years apart can pass for the person (a lookalike).
LOOKALIKE_MAX_AGE_GAP = 6


def date_digit_typo(
    birth: pl.Series, mask: np.ndarray, rng: np.random.Generator
) -> tuple[pl.Series, np.ndarray]:
    """One mistyped digit in a date: the units digit of the day (kept within 1-28), else the
    last digit of the year; the result always differs from the input. Returns (dates, mask of
    rows changed)."""
    n = len(birth)
    bump = rng.integers(1, 10, n)
    on_day = rng.random(n) < 0.5
    frame = pl.DataFrame({"b": birth, "bump": bump, "on_day": on_day, "m": mask})
    b = pl.col("b")
    day = b.dt.day().cast(pl.Int32)
    new_day = day - day % 10 + (day % 10 + pl.col("bump")) % 10
    year = b.dt.year().cast(pl.Int32)
    new_year = year - year % 10 + (year % 10 + pl.col("bump")) % 10
    # never a year after the synthetic reference date (2025): the decade's 0, or year 1 of it
    new_year = (
        pl.when(new_year <= LAST_BIRTH_YEAR)
        .then(new_year)
        .when(year % 10 != 0)
        .then(year - year % 10)
        .otherwise(year + 1)
    )
    day_ok = pl.col("on_day") & new_day.is_between(1, 28)
    typed = (
        pl.when(day_ok)
        .then(pl.date(year, b.dt.month(), new_day))
        .otherwise(b.dt.offset_by(pl.format("{}y", new_year - year)))
    )
    out = frame.select(
        new=pl.when(pl.col("m") & b.is_not_null()).then(typed).otherwise(b),
        m=pl.col("m") & b.is_not_null(),
    )
    return out["new"], out["m"].to_numpy()


def relative_cin(people: pl.DataFrame, pool: pl.DataFrame, u: np.ndarray) -> pl.Series:
    """Per row of ``people`` (``t_person, t_hh``): the CIN of another member of the same
    household (``pool``: ``t_person, t_hh, cin``), the one at position ``u`` (in [0, 1)) of
    them by person; null when no other member has a CIN."""
    members = pool.filter(pl.col("cin").is_not_null()).select(
        "t_hh", r_person="t_person", r_cin="cin"
    )
    rows = people.select("t_person", "t_hh").with_row_index("i").with_columns(u=pl.Series(u))
    picked = (
        rows.join(members, on="t_hh")
        .filter(pl.col("r_person") != pl.col("t_person"))
        .sort("i", "r_person")
        .with_columns(k=pl.int_range(pl.len()).over("i"), n=pl.len().over("i"))
        .filter(pl.col("k") == (pl.col("u") * pl.col("n")).floor().cast(pl.Int64))
        .select("i", "r_cin")
    )
    return rows.join(picked, on="i", how="left").sort("i")["r_cin"]


def lookalike_cin(people: pl.DataFrame, pool: pl.DataFrame, u: np.ndarray) -> pl.Series:
    """Per row of ``people`` (``t_person, t_hh, t_family, t_female, t_age``): the CIN of a
    relative who resembles them — another member of the same household (``pool``: the same
    columns and ``cin``) with the same family name and sex, born at most
    :data:`LOOKALIKE_MAX_AGE_GAP` years apart —, the one at position ``u`` (in [0, 1)) of them
    by person; null when there is none."""
    cols = ["t_hh", "t_family", "t_female"]
    members = pool.filter(pl.col("cin").is_not_null()).select(
        *cols, r_person="t_person", r_age="t_age", r_cin="cin"
    )
    rows = (
        people.select("t_person", *cols, "t_age").with_row_index("i").with_columns(u=pl.Series(u))
    )
    picked = (
        rows.join(members, on=cols)
        .filter(
            (pl.col("r_person") != pl.col("t_person"))
            & (
                (pl.col("r_age").cast(pl.Int32) - pl.col("t_age").cast(pl.Int32)).abs()
                <= LOOKALIKE_MAX_AGE_GAP
            )
        )
        .sort("i", "r_person")
        .with_columns(k=pl.int_range(pl.len()).over("i"), n=pl.len().over("i"))
        .filter(pl.col("k") == (pl.col("u") * pl.col("n")).floor().cast(pl.Int64))
        .select("i", "r_cin")
    )
    return rows.join(picked, on="i", how="left").sort("i")["r_cin"]


#: How a father's given name is written as a variant: with his own father's name ("nasab"),
#: or as "son of" (Ben / Ould); a compound name may be written by one part instead.
_FATHER_FORMS: Final[dict[str, tuple[str, str]]] = {
    "nasab": ("{name} Ben {other}", "{name} بن {other}"),
    "ben": ("Ben {name}", "بن {name}"),
    "ould": ("Ould {name}", "ولد {name}"),
}


def father_variant(
    fathers: pl.DataFrame, mask: np.ndarray, rng: np.random.Generator
) -> tuple[pl.DataFrame, np.ndarray]:
    """Fathers' given names written as variants on rows of ``mask`` (both scripts alike):
    one part of a compound name where it has two (Mohamed Amine -> Amine, محمد أمين -> أمين),
    else with his own father's name (Ahmed Ben Mohamed, 60 %: a male name drawn from the
    pool), as "Ben Ahmed" (30 %) or "Ould Ahmed" (10 %).

    ``fathers``: ``father_lat, father_ar``. Returns (fathers, rows changed: all of ``mask``
    with a name).
    """
    n = fathers.height
    male = name_pool.male_table()
    other = rng.choice(len(male), n, p=male.p)
    other_lat = male.variants.gather(male.offset[other])
    other_ar = male.arabic.gather(other)
    kind = np.select([rng.random(n) < 0.6, rng.random(n) < 0.75], ["nasab", "ben"], "ould")
    lat, ar = pl.col("father_lat"), pl.col("father_ar")
    frame = fathers.with_columns(
        _m=pl.Series(mask.astype(bool)) & lat.is_not_null() & ar.is_not_null(),
        _k=pl.Series(kind),
        _ol=other_lat,
        _oa=other_ar,
        _cl=lat.str.extract(_COMPOUND, 1),
        _ca=ar.str.extract(_COMPOUND, 1),
    )
    written_lat: pl.Expr = pl.lit(None, pl.Utf8)
    written_ar: pl.Expr = pl.lit(None, pl.Utf8)
    for name, (form_lat, form_ar) in _FATHER_FORMS.items():
        on = pl.col("_k") == name
        written_lat = pl.when(on).then(_fill(form_lat, lat, pl.col("_ol"))).otherwise(written_lat)
        written_ar = pl.when(on).then(_fill(form_ar, ar, pl.col("_oa"))).otherwise(written_ar)
    compound = pl.col("_cl").is_not_null() & pl.col("_ca").is_not_null()
    out = frame.with_columns(
        father_lat=pl.when(pl.col("_m") & compound)
        .then(pl.col("_cl"))
        .when(pl.col("_m"))
        .then(written_lat)
        .otherwise(lat),
        father_ar=pl.when(pl.col("_m") & compound)
        .then(pl.col("_ca"))
        .when(pl.col("_m"))
        .then(written_ar)
        .otherwise(ar),
    )
    return out.select(fathers.columns), out["_m"].to_numpy()


def _fill(form: str, name: pl.Expr, other: pl.Expr) -> pl.Expr:
    """``form`` ("{name} Ben {other}") with the two names put in."""
    before, _, rest = form.partition("{name}")
    middle, _, after = rest.partition("{other}")
    parts = [pl.lit(before), name, pl.lit(middle)]
    if "{other}" in rest:
        parts += [other, pl.lit(after)]
    return pl.concat_str(parts)


def rural_spelling(
    rural: np.ndarray, mask: np.ndarray, rng: np.random.Generator
) -> tuple[pl.Series, pl.Series, np.ndarray]:
    """The Latin and Arabic names of rural communes (indexes of
    :func:`registry_link.synth.name_pool.rural_table`, -1 for none: null), in their usual
    Latin spelling, or in another attested one on rows of ``mask``. Returns (Latin, Arabic,
    rows spelled otherwise)."""
    names = name_pool.rural_table().names
    has = rural >= 0
    k = np.maximum(rural, 0)
    n_var = names.n_variants[k]
    other = mask & has & (n_var > 1)
    step = 1 + np.floor(rng.random(len(rural)) * np.maximum(n_var - 1, 1)).astype(np.int64)
    variant = np.where(other, step, 0)
    lat = names.variants.gather(names.offset[k] + variant)
    ar = names.arabic.gather(k)
    none = pl.Series(~has)
    return lat.set(none, None), ar.set(none, None), other


#: A family name's ``Ben``/``Bel`` prefix (glued, spaced or dashed) before at least 3 letters
#: (not a doubled letter: Bennani, Bellahcen are not prefixed names): the rest, per script.
_BEN: Final[dict[str, tuple[str, ...]]] = {
    "lat": (r"^(?i:ben)[ -]?([^nN \-]\p{L}{2,}.*)$", r"^(?i:bel)[ -]?([^lL \-]\p{L}{2,}.*)$"),
    "ar": (r"^بن ?([^ن ]\p{L}{2,}.*)$", r"^بل ?([^ل ]\p{L}{2,}.*)$"),
}
#: A compound given name: two parts (space or dash); the variant keeps the second.
_COMPOUND: Final[str] = r"^\p{L}+[ -](\p{L}{2,}.*)$"


def _without_ben(column: str, script: str) -> pl.Expr:
    """The family name of ``column`` without its Ben/Bel prefix (null when it has none)."""
    rest = pl.coalesce(*(pl.col(column).str.extract(p, 1) for p in _BEN[script]))
    if script == "lat":
        return rest.str.slice(0, 1).str.to_uppercase() + rest.str.slice(1)
    return rest


def name_variant(names: pl.DataFrame, mask: np.ndarray) -> tuple[pl.DataFrame, np.ndarray]:
    """Names written as a variant of the true ones on rows of ``mask``: the family name
    without its ``Ben``/``Bel`` prefix (Ben Slimane -> Slimane, بنعلي -> علي) where it has one,
    else the second part of a compound given name (Fatim Zahra -> Zahra, فاطمة الزهراء ->
    الزهراء); in both scripts alike. Rows with neither are left unchanged and unmarked.

    ``names``: ``family_lat, given_lat, family_ar, given_ar``. Returns (names, rows changed).
    """
    m = pl.Series(mask.astype(bool))
    fam_lat, fam_ar = _without_ben("family_lat", "lat"), _without_ben("family_ar", "ar")
    giv_lat = pl.col("given_lat").str.extract(_COMPOUND, 1)
    giv_ar = pl.col("given_ar").str.extract(_COMPOUND, 1)
    # the names of a row are in one script or both: a variant is written in each it has
    ben = (fam_lat.is_not_null() | pl.col("family_lat").is_null()) & (
        fam_ar.is_not_null() | pl.col("family_ar").is_null()
    )
    ben = ben & (fam_lat.is_not_null() | fam_ar.is_not_null())
    compound = (giv_lat.is_not_null() | pl.col("given_lat").is_null()) & (
        giv_ar.is_not_null() | pl.col("given_ar").is_null()
    )
    compound = compound & (giv_lat.is_not_null() | giv_ar.is_not_null())
    frame = names.with_columns(_m=m).with_columns(
        _ben=pl.col("_m") & ben.fill_null(False),
        _cmp=pl.col("_m") & ~ben.fill_null(False) & compound.fill_null(False),
    )
    out = frame.with_columns(
        family_lat=pl.when("_ben").then(fam_lat).otherwise("family_lat"),
        family_ar=pl.when("_ben").then(fam_ar).otherwise("family_ar"),
        given_lat=pl.when("_cmp").then(giv_lat).otherwise("given_lat"),
        given_ar=pl.when("_cmp").then(giv_ar).otherwise("given_ar"),
    )
    changed = (out["_ben"] | out["_cmp"]).to_numpy()
    return out.select(names.columns), changed
