"""A synthetic social-registry extract: persons in households, vectorised (numpy + polars).

Households have a head (16% women), 0-2 wives (2.5% of male heads have two: polygamy),
children of each wife (or of the head when there is no wife), and sometimes a parent of the
head, a sibling or grandchildren. Children, siblings and grandchildren share the head's family
name; wives keep their own. Names follow the Zipf-like weights of
:mod:`registry_link.synth.name_pool`.

The frame returned by :func:`make_registry` holds the public columns (:data:`PUBLIC_COLUMNS`,
written to the registry file under French headers, :data:`FRENCH_HEADERS`) and hidden truth
columns prefixed ``t_`` (true birth date, name ids, ages, mother ...) that the partner-list
generator uses. Large registries are produced chunk by chunk (:func:`iter_registry_chunks`)
so memory stays bounded; person ids, household ids and CINs are unique across chunks. The
output is a function of (persons, seed, chunk size); the chunk size is fixed
(:data:`CHUNK_PERSONS`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Final

import numpy as np
import polars as pl

from registry_link.errors import UsageError
from registry_link.synth import name_pool

#: The date of the synthetic extract ("today" for ages). Fixed, so output never depends on
#: the wall clock.
REFERENCE_DATE: Final[dt.date] = dt.date(2025, 6, 30)
ADULT_AGE: Final[int] = 18

#: Registry rows generated per chunk (bounds memory; does not change the output).
CHUNK_PERSONS: Final[int] = 500_000

ROLE_HEAD, ROLE_SPOUSE, ROLE_CHILD, ROLE_PARENT, ROLE_SIBLING, ROLE_GRANDCHILD = range(6)
#: relation_to_head label by role, (male, female).
ROLE_LABELS: Final[dict[int, tuple[str, str]]] = {
    ROLE_HEAD: ("CHEF", "CHEF"),
    ROLE_SPOUSE: ("EPOUX", "EPOUSE"),
    ROLE_CHILD: ("FILS", "FILLE"),
    ROLE_PARENT: ("PERE", "MERE"),
    ROLE_SIBLING: ("FRERE", "SOEUR"),
    ROLE_GRANDCHILD: ("PETIT-FILS", "PETITE-FILLE"),
}

PUBLIC_COLUMNS: Final[tuple[str, ...]] = (
    "person_id",
    "household_id",
    "relation_to_head",
    "cin",
    "family_name",
    "given_name",
    "family_name_ar",
    "given_name_ar",
    "sex",
    "birth_date",
    "birth_place",
    "residence",
    "father_given_name",
)
#: Header of each public column in the registry file.
FRENCH_HEADERS: Final[dict[str, str]] = {
    "person_id": "id_personne",
    "household_id": "id_menage",
    "relation_to_head": "lien_chef",
    "cin": "cin",
    "family_name": "nom",
    "given_name": "prenom",
    "family_name_ar": "nom_ar",
    "given_name_ar": "prenom_ar",
    "sex": "sexe",
    "birth_date": "date_naissance",
    "birth_place": "lieu_naissance",
    "residence": "commune_residence",
    "father_given_name": "prenom_pere",
}
HOUSEHOLD_HEADERS: Final[dict[str, str]] = {
    "household_id": "id_menage",
    "head_person_id": "id_chef",
    "residence": "commune_residence",
    "size": "taille",
}

# Documented registry rates (see sample_data/README.md).
P_FEMALE_HEAD: Final[float] = 0.16
P_WIVES: Final[tuple[float, float, float]] = (0.10, 0.875, 0.025)  # 0, 1, 2 wives (male head)
P_PARENT: Final[float] = 0.10
P_SIBLING: Final[float] = 0.05
P_GRANDCHILDREN: Final[float] = 0.25  # heads aged 52+
P_NO_LATIN_ADULT: Final[float] = 0.07
P_NO_LATIN_MINOR: Final[float] = 0.55
P_YEAR_ONLY_OLD: Final[float] = 0.50  # born before 1950
P_YEAR_ONLY_MID: Final[float] = 0.25  # born 1950-1964
P_YEAR_ONLY_YOUNG: Final[float] = 0.004
P_PLACEHOLDER_0101: Final[float] = 0.05
P_USUAL_SPELLING: Final[float] = 0.7
P_OWN_SPELLING: Final[float] = 0.1  # a relative sharing the head's family name spells it anew
P_NO_CIN_AGED: Final[float] = 0.03  # adults aged 70+ without a CIN

_PID_MULT: Final[int] = 4_294_967_311  # coprime with 9e9: a permutation of 10-digit ids
_HID_MULT: Final[int] = 123_456_791  # coprime with 9e8
_CIN_MOD: Final[int] = 999_999
_CIN_MULT: Final[int] = 524_287  # prime, coprime with 999999


@dataclass(frozen=True)
class RuralPlaces:
    """How often a place is a rural commune outside the gazetteer
    (:data:`registry_link.synth.name_pool.RURAL_COMMUNES`), among the households living in, and
    the persons born in, a town that has such communes near it. A household's members live
    where it does; a person born where the household lives was born in its rural commune.
    Drawn from a random stream of their own: off (:data:`NO_RURAL_PLACES`), the registry is
    what it was before they existed."""

    residence: float = 0.0
    birth_place: float = 0.0


#: No rural communes: every place is a town of the gazetteer.
NO_RURAL_PLACES = RuralPlaces()


@dataclass
class _State:
    """What carries over from one chunk to the next."""

    next_person: int = 0
    next_household: int = 0
    cin_count: dict[str, int] = field(default_factory=dict)


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed & 0xFFFFFFFF, *stream]))


def person_ids(index: np.ndarray, seed: int) -> np.ndarray:
    """10-digit person ids of global person indexes (a seeded permutation: unique)."""
    offset = int(_rng(seed, 90).integers(0, 9_000_000_000))
    return 1_000_000_000 + (index.astype(np.int64) * _PID_MULT + offset) % 9_000_000_000


def household_ids(index: np.ndarray, seed: int) -> np.ndarray:
    """9-digit household ids of global household indexes (a seeded permutation)."""
    offset = int(_rng(seed, 91).integers(0, 900_000_000))
    return 100_000_000 + (index.astype(np.int64) * _HID_MULT + offset) % 900_000_000


def _uniform_int(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """One integer in [low, high] per row (inclusive; high >= low)."""
    return low + np.floor(rng.random(len(low)) * (high - low + 1)).astype(np.int64)


def _members(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Household members of ``n`` households, unsorted, with household-local references."""
    n_comm = len(name_pool.COMMUNES)
    _, _, commune_p = name_pool.commune_arrays()
    fam = name_pool.family_table()
    male = name_pool.male_table()

    head_female = rng.random(n) < P_FEMALE_HEAD
    head_age = np.where(
        head_female, 30 + rng.gamma(4.0, 7.0, n), 22 + rng.gamma(4.0, 6.0, n)
    ).astype(np.int64)
    head_age = np.minimum(head_age, 95)
    n_wives = np.where(head_female, 0, rng.choice(3, n, p=list(P_WIVES)))
    hh_family = rng.choice(len(fam), n, p=fam.p)
    hh_fam_var = rng.random(n)
    hh_residence = rng.choice(n_comm, n, p=commune_p)
    head_father = rng.choice(len(male), n, p=male.p)
    hh = np.arange(n)

    # wives
    w_hh = np.repeat(hh, n_wives)
    w_slot = np.arange(len(w_hh)) - np.repeat(np.cumsum(n_wives) - n_wives, n_wives)
    gap = np.where(
        w_slot == 0,
        _uniform_int(rng, np.zeros(len(w_hh), np.int64), np.full(len(w_hh), 12)),
        _uniform_int(rng, np.full(len(w_hh), 4), np.full(len(w_hh), 25)),
    )
    w_age = np.maximum(head_age[w_hh] - gap, ADULT_AGE)

    # parent units: each wife, or the head when there is no wife
    lone = n_wives == 0
    # temp ids: heads 0..n-1, wives n.., then others
    u_ref = np.concatenate([n + np.arange(len(w_hh)), hh[lone]])
    u_hh = np.concatenate([w_hh, hh[lone]])
    u_age = np.concatenate([w_age, head_age[lone]])
    lam = 3.0 * np.clip((u_age - 18) / 12.0, 0.0, 1.0) * np.where(head_age[u_hh] >= 62, 0.35, 1.0)
    n_ch = np.minimum(rng.poisson(lam), 8)
    c_hh = np.repeat(u_hh, n_ch)
    c_mother = np.repeat(u_ref, n_ch)
    c_age = _uniform_int(
        rng, np.zeros(len(c_hh), np.int64), np.minimum(np.repeat(u_age, n_ch) - 18, 32)
    )

    p_mask = (head_age <= 58) & (rng.random(n) < P_PARENT)
    p_hh = hh[p_mask]
    p_age = np.minimum(
        head_age[p_hh] + _uniform_int(rng, np.full(len(p_hh), 18), np.full(len(p_hh), 35)), 100
    )
    s_hh = hh[rng.random(n) < P_SIBLING]
    s_age = np.clip(
        head_age[s_hh] + _uniform_int(rng, np.full(len(s_hh), -10), np.full(len(s_hh), 10)), 1, 95
    )
    g_mask = (head_age >= 52) & (rng.random(n) < P_GRANDCHILDREN)
    g_n = np.where(g_mask, 1 + (rng.random(n) < 0.4), 0)
    g_hh = np.repeat(hh, g_n)
    g_age = _uniform_int(rng, np.zeros(len(g_hh), np.int64), np.minimum(head_age[g_hh] - 36, 20))

    parts = [
        (hh, ROLE_HEAD, head_age, np.where(head_female, 1, 0), np.full(n, -1)),
        (w_hh, ROLE_SPOUSE, w_age, np.ones(len(w_hh), np.int64), np.full(len(w_hh), -1)),
        (c_hh, ROLE_CHILD, c_age, (rng.random(len(c_hh)) < 0.49).astype(np.int64), c_mother),
        (
            p_hh,
            ROLE_PARENT,
            p_age,
            (rng.random(len(p_hh)) < 0.7).astype(np.int64),
            np.full(len(p_hh), -1),
        ),
        (
            s_hh,
            ROLE_SIBLING,
            s_age,
            (rng.random(len(s_hh)) < 0.5).astype(np.int64),
            np.full(len(s_hh), -1),
        ),
        (
            g_hh,
            ROLE_GRANDCHILD,
            g_age,
            (rng.random(len(g_hh)) < 0.49).astype(np.int64),
            np.full(len(g_hh), -1),
        ),
    ]
    out = {
        "hh": np.concatenate([p[0] for p in parts]),
        "role": np.concatenate([np.full(len(p[0]), p[1]) for p in parts]),
        "age": np.concatenate([p[2] for p in parts]).astype(np.int64),
        "female": np.concatenate([p[3] for p in parts]).astype(bool),
        "mother_tmp": np.concatenate([p[4] for p in parts]).astype(np.int64),
    }
    out.update(
        hh_family=hh_family,
        hh_fam_var=hh_fam_var,
        hh_residence=hh_residence,
        head_father=head_father,
        head_female=head_female,
    )
    return out


def _pick_variant(rng: np.random.Generator, n_var: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Spelling index: the usual one (0) with :data:`P_USUAL_SPELLING`, else another."""
    other = 1 + np.floor(rng.random(len(n_var)) * np.maximum(n_var - 1, 1)).astype(np.int64)
    return np.where((u < P_USUAL_SPELLING) | (n_var == 1), 0, np.minimum(other, n_var - 1))


@cache
def _prefix_table() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Per commune: offset and count of its CIN prefixes in the flat prefix list; the list."""
    prefix_lists = [c.cin_prefixes for c in name_pool.COMMUNES]
    n_pref = np.array([len(p) for p in prefix_lists])
    offset = np.concatenate([[0], np.cumsum(n_pref)[:-1]])
    return offset, n_pref, [p for ps in prefix_lists for p in ps]


def _cins(
    rng: np.random.Generator,
    age: np.ndarray,
    residence: np.ndarray,
    birth_place: np.ndarray,
    state: _State,
    cin_offsets: dict[str, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CINs of adults: (has a CIN, prefix code, number). The prefix is one of the commune of
    residence's (75%) or of birth's; the number is the next one of the prefix's seeded
    permutation of 1..999999, so CINs are unique across chunks."""
    n = len(age)
    has_cin = (age >= ADULT_AGE) & ~((age >= 70) & (rng.random(n) < P_NO_CIN_AGED))
    prefix_commune = np.where(rng.random(n) < 0.75, residence, birth_place)
    pref_off, n_pref, all_prefixes = _prefix_table()
    pick = np.floor(rng.random(n) * n_pref[prefix_commune]).astype(np.int64)
    pref_code = pref_off[prefix_commune] + pick
    cin_num = np.zeros(n, np.int64)
    cin_idx = np.flatnonzero(has_cin)
    codes = pref_code[cin_idx]
    o = np.argsort(codes, kind="stable")
    sorted_codes = codes[o]
    rank = np.arange(len(o)) - np.searchsorted(sorted_codes, sorted_codes, side="left")
    for code in np.unique(sorted_codes):
        prefix = all_prefixes[code]
        sel = sorted_codes == code
        base = state.cin_count.get(prefix, 0)
        if base + int(sel.sum()) > _CIN_MOD:
            raise UsageError(f"too many adults for CIN prefix {prefix!r}: use fewer persons")
        k = base + rank[sel]
        cin_num[cin_idx[o[sel]]] = 1 + (k * _CIN_MULT + cin_offsets[prefix]) % _CIN_MOD
        state.cin_count[prefix] = base + int(sel.sum())
    return has_cin, pref_code, cin_num


def _birth_dates(
    rng: np.random.Generator, age: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """True birth dates from ages, and how the registry shows them: (birth, year only,
    year-only written "1948" rather than "00/00/1948", 01/01 placeholder)."""
    n = len(age)
    ref = np.datetime64(REFERENCE_DATE.isoformat(), "D")
    days = np.floor(age * 365.2425 + rng.random(n) * 365).astype(np.int64)
    birth = (ref - days.astype("timedelta64[D]")).astype("datetime64[D]")
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    p_year_only = np.select(
        [birth_year < 1950, birth_year < 1965],
        [P_YEAR_ONLY_OLD, P_YEAR_ONLY_MID],
        P_YEAR_ONLY_YOUNG,
    )
    year_only = rng.random(n) < p_year_only
    year_style = rng.random(n) < 0.5
    placeholder = ~year_only & (rng.random(n) < P_PLACEHOLDER_0101)
    return birth, year_only, year_style, placeholder


def _rural(
    rng: np.random.Generator,
    rural: RuralPlaces,
    hh: np.ndarray,
    residence: np.ndarray,
    birth_place: np.ndarray,
    born_here: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per person: the rural commune they live in and the one they were born in (indexes of
    :func:`registry_link.synth.name_pool.rural_table`, -1 for the town itself)."""
    table = name_pool.rural_table()
    n_hh = int(hh.max()) + 1 if len(hh) else 0
    hh_town = np.zeros(n_hh, np.int64)
    hh_town[hh] = residence
    hh_rural = np.where(
        rng.random(n_hh) < rural.residence, table.pick(hh_town, rng.random(n_hh)), -1
    )
    lives = hh_rural[hh]
    own = np.where(
        rng.random(len(hh)) < rural.birth_place, table.pick(birth_place, rng.random(len(hh))), -1
    )
    return lives, np.where(born_here, lives, own)


def _chunk(
    rng: np.random.Generator,
    quota: int,
    state: _State,
    seed: int,
    cin_offsets: dict[str, int],
    rural: tuple[RuralPlaces, np.random.Generator] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``quota`` persons (whole households, the last one possibly cut) as registry frames."""
    n_hh = quota // 3 + 8
    m = _members(rng, n_hh)
    while len(m["hh"]) < quota:  # rare: too few members drawn; draw more households
        n_hh *= 2
        m = _members(rng, n_hh)
    # keep whole households first, cut the last one: order by (household, role)
    order = np.lexsort((m["role"], m["hh"]))
    order = order[:quota]
    inverse = np.full(len(m["hh"]), -1, np.int64)
    inverse[order] = np.arange(len(order))
    hh = m["hh"][order]
    role = m["role"][order]
    age = m["age"][order]
    female = m["female"][order]
    mother_tmp = m["mother_tmp"][order]
    n = len(order)
    n_hh_used = int(hh.max()) + 1 if n else 0

    # temp ids of heads are their household index (heads come first in the concatenation)
    head_pos = inverse[np.arange(n_hh_used)]
    mother_pos = np.where(mother_tmp >= 0, inverse[np.maximum(mother_tmp, 0)], -1)

    male_t, given_t, fam_t = (
        name_pool.male_table(),
        name_pool.given_table(),
        name_pool.family_table(),
    )
    fem_t = name_pool.female_table()
    n_male = len(male_t)
    is_head = role == ROLE_HEAD
    male_given = rng.choice(n_male, n, p=male_t.p)
    female_given = n_male + rng.choice(len(fem_t), n, p=fem_t.p)
    given = np.where(female, female_given, male_given)
    head_given = given[head_pos][hh]
    head_female = m["head_female"][hh]
    parent_male = (role == ROLE_PARENT) & ~female
    given = np.where(parent_male, m["head_father"][hh], given)

    random_father = rng.choice(n_male, n, p=male_t.p)
    father = np.select(
        [is_head, role == ROLE_CHILD, role == ROLE_SIBLING],
        [
            m["head_father"][hh],
            np.where(head_female, random_father, head_given),
            m["head_father"][hh],
        ],
        random_father,
    )
    own_family = (role == ROLE_SPOUSE) | ((role == ROLE_PARENT) & female)
    random_family = rng.choice(len(fam_t), n, p=fam_t.p)
    family = np.where(own_family, random_family, m["hh_family"][hh])

    fam_nvar = fam_t.n_variants[family]
    hh_var = _pick_variant(rng, fam_nvar, m["hh_fam_var"][hh])
    own_var = _pick_variant(rng, fam_nvar, rng.random(n))
    fam_var = np.where(own_family | (rng.random(n) < P_OWN_SPELLING), own_var, hh_var)
    given_var = _pick_variant(rng, given_t.n_variants[given], rng.random(n))
    has_latin = rng.random(n) >= np.where(age < ADULT_AGE, P_NO_LATIN_MINOR, P_NO_LATIN_ADULT)

    residence = m["hh_residence"][hh]
    n_comm = len(name_pool.COMMUNES)
    _, _, commune_p = name_pool.commune_arrays()
    born_here = rng.random(n) < np.where(age < ADULT_AGE, 0.85, 0.6)
    birth_place = np.where(born_here, residence, rng.choice(n_comm, n, p=commune_p))

    birth, year_only, year_style, placeholder = _birth_dates(rng, age)
    rural_residence = rural_birth = np.full(n, -1, np.int64)
    if rural is not None:
        rural_residence, rural_birth = _rural(
            rural[1], rural[0], hh, residence, birth_place, born_here
        )

    has_cin, pref_code, cin_num = _cins(rng, age, residence, birth_place, state, cin_offsets)

    g_person = state.next_person + np.arange(n, dtype=np.int64)
    g_hh = state.next_household + hh
    pid = person_ids(g_person, seed)
    hid = household_ids(g_hh, seed)
    state.next_person += n
    state.next_household += n_hh_used

    label_m = pl.Series([ROLE_LABELS[r][0] for r in range(6)])
    label_f = pl.Series([ROLE_LABELS[r][1] for r in range(6)])
    comm_lat, _, _ = name_pool.commune_arrays()
    prefixes = pl.Series(_prefix_table()[2])

    fam_lat = fam_t.variants.gather(fam_t.offset[family] + fam_var)
    giv_lat = given_t.variants.gather(given_t.offset[given] + given_var)
    father_lat = given_t.variants.gather(given_t.offset[father])
    father_ar = given_t.arabic.gather(father)
    frame = pl.DataFrame(
        {
            "person_id": pl.Series(pid).cast(pl.Utf8),
            "household_id": pl.Series(hid).cast(pl.Utf8),
            "relation_to_head": pl.select(
                pl.when(pl.lit(pl.Series(female)))
                .then(label_f.gather(role))
                .otherwise(label_m.gather(role))
            ).to_series(),
            "cin": pl.select(
                pl.when(pl.lit(pl.Series(has_cin)))
                .then(prefixes.gather(pref_code) + pl.lit(pl.Series(cin_num)).cast(pl.Utf8))
                .otherwise(None)
            ).to_series(),
            "family_name": pl.select(
                pl.when(pl.lit(pl.Series(has_latin))).then(fam_lat).otherwise(None)
            ).to_series(),
            "given_name": pl.select(
                pl.when(pl.lit(pl.Series(has_latin))).then(giv_lat).otherwise(None)
            ).to_series(),
            "family_name_ar": fam_t.arabic.gather(family),
            "given_name_ar": given_t.arabic.gather(given),
            "sex": pl.Series(np.where(female, "F", "M")),
            "t_birth": pl.Series(birth).cast(pl.Date),
            "t_year_only": pl.Series(year_only),
            "t_year_style": pl.Series(year_style),
            "t_placeholder": pl.Series(placeholder),
            "birth_place": _place_names(comm_lat.gather(birth_place), rural_birth),
            "residence": _place_names(comm_lat.gather(residence), rural_residence),
            "father_given_name": pl.select(
                pl.when(pl.lit(pl.Series(has_latin))).then(father_lat).otherwise(father_ar)
            ).to_series(),
            "t_person": pl.Series(g_person),
            "t_hh": pl.Series(g_hh),
            "t_role": pl.Series(role).cast(pl.Int8),
            "t_age": pl.Series(age).cast(pl.Int16),
            "t_female": pl.Series(female),
            "t_family": pl.Series(family).cast(pl.Int32),
            "t_family_var": pl.Series(fam_var).cast(pl.Int8),
            "t_given": pl.Series(given).cast(pl.Int32),
            "t_given_var": pl.Series(given_var).cast(pl.Int8),
            "t_father": pl.Series(father).cast(pl.Int32),
            "t_has_latin": pl.Series(has_latin),
            "t_birth_place": pl.Series(birth_place).cast(pl.Int16),
            "t_residence": pl.Series(residence).cast(pl.Int16),
            "t_birth_rural": pl.Series(rural_birth).cast(pl.Int16),
            "t_residence_rural": pl.Series(rural_residence).cast(pl.Int16),
            "t_mother": pl.Series(
                np.where(mother_pos >= 0, state.next_person - n + mother_pos, -1)
            ),
        }
    )
    frame = frame.with_columns(
        birth_date=pl.when(pl.col("t_year_only") & pl.col("t_year_style"))
        .then(pl.col("t_birth").dt.strftime("%Y"))
        .when(pl.col("t_year_only"))
        .then(pl.col("t_birth").dt.strftime("00/00/%Y"))
        .when(pl.col("t_placeholder"))
        .then(pl.col("t_birth").dt.strftime("01/01/%Y"))
        .otherwise(pl.col("t_birth").dt.strftime("%d/%m/%Y"))
    ).drop("t_year_only", "t_year_style", "t_placeholder")
    frame = frame.select(*PUBLIC_COLUMNS, pl.col("^t_.*$"))
    households = frame.group_by("household_id", maintain_order=True).agg(
        head_person_id=pl.col("person_id").first(),
        residence=pl.col("residence").first(),
        size=pl.len().cast(pl.Int32),
    )
    return frame, households


def _place_names(towns: pl.Series, rural: np.ndarray) -> pl.Series:
    """The place of each person as the registry writes it: the rural commune's usual Latin
    spelling where there is one, else the town's name."""
    if not (rural >= 0).any():
        return towns
    names = name_pool.rural_table().names
    usual = names.variants.gather(names.offset[np.maximum(rural, 0)])
    return pl.select(
        pl.when(pl.lit(pl.Series(rural >= 0))).then(pl.lit(usual)).otherwise(pl.lit(towns))
    ).to_series()


def iter_registry_chunks(
    persons: int,
    seed: int,
    chunk_persons: int = CHUNK_PERSONS,
    *,
    cin_seed: int | None = None,
    cin_start: int = 0,
    rural: RuralPlaces = NO_RURAL_PLACES,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """The registry as successive (persons, households) chunks of at most ``chunk_persons``.

    Each chunk draws whole households and cuts its last one to fill its quota exactly (the
    head always stays). Deterministic in ``seed``. ``rural``: how often a place is a rural
    commune outside the gazetteer (:class:`RuralPlaces`; off by default).

    CIN numbers are the ``cin_start``-th, ... numbers of each prefix's seeded permutation
    (seeded by ``cin_seed``, default ``seed``): a second population drawn with the same
    ``cin_seed`` and a ``cin_start`` beyond the first one's counts never reuses its CINs.
    """
    if persons < 1:
        raise UsageError(f"--persons must be at least 1, got {persons}")
    rng0 = _rng(seed if cin_seed is None else cin_seed, 92)
    all_prefixes = sorted({p for c in name_pool.COMMUNES for p in c.cin_prefixes})
    cin_offsets = {p: int(rng0.integers(0, _CIN_MOD)) for p in all_prefixes}
    state = _State(cin_count=dict.fromkeys(all_prefixes, cin_start))
    remaining, index = persons, 0
    while remaining > 0:
        quota = min(chunk_persons, remaining)
        places = None if rural == NO_RURAL_PLACES else (rural, _rng(seed, 4, index))
        yield _chunk(_rng(seed, 1, index), quota, state, seed, cin_offsets, places)
        remaining -= quota
        index += 1


def make_registry(
    persons: int, seed: int, rural: RuralPlaces = NO_RURAL_PLACES
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The whole synthetic registry: (persons frame, households frame).

    The persons frame has :data:`PUBLIC_COLUMNS` then hidden ``t_*`` truth columns; see
    :func:`public_registry`. For very large ``persons`` prefer :func:`iter_registry_chunks`.
    """
    chunks = list(iter_registry_chunks(persons, seed, rural=rural))
    return (
        pl.concat([c[0] for c in chunks], rechunk=True),
        pl.concat([c[1] for c in chunks], rechunk=True),
    )


def public_registry(frame: pl.DataFrame) -> pl.DataFrame:
    """The registry file's columns under their French headers (hidden truth dropped)."""
    return frame.select(PUBLIC_COLUMNS).rename(FRENCH_HEADERS)


def public_households(frame: pl.DataFrame) -> pl.DataFrame:
    """The households file's columns under their French headers."""
    return frame.rename(HOUSEHOLD_HEADERS)
