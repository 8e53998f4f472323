"""Synthetic partner lists drawn from a synthetic registry, with ground truth and noise.

Each list declares *workers* (adults aged 20-64) and their dependants (spouse(s), children
under 25) as the registry's households know them. On top of that (rates in
:class:`ListSpec` / :class:`registry_link.synth.noise.NoiseRates`):

* ~8% of workers are people NOT in the registry (an off-registry population drawn with the
  same generator), declared with their own dependants;
* some workers are also in an earlier list (cross-list duplicates);
* for some couples both spouses are workers of the same list and both declare the children
  (within-list duplicates), and some workers are listed twice with another spelling;
* some men declare a wife who lives in another registry household.

The result, :class:`PartnerRecords`, holds one canonical frame per list (before layout), the
ground truth and a per-record noise log. :mod:`registry_link.synth.layouts` turns the frames
into the files partners actually send.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import polars as pl

from registry_link.synth import name_pool
from registry_link.synth.noise import (
    ARABIC_TYPO_ALPHABET,
    LATIN_TYPO_ALPHABET,
    NoiseRates,
    cin_digit_noise,
    cin_format_noise,
    date_noise,
    exclusive_choice,
    one_char_edit,
)
from registry_link.synth.registry import (
    ROLE_CHILD,
    ROLE_HEAD,
    ROLE_SPOUSE,
    _rng,
    iter_registry_chunks,
)

OFF_REGISTRY_OFFSET: Final[int] = 100_000_000_000  # t_person of off-registry people
MIN_WORKER_AGE, MAX_WORKER_AGE, MAX_CHILD_AGE, MAX_CHILDREN = 20, 64, 24, 6


@dataclass(frozen=True)
class ListSpec:
    """How one partner list is drawn."""

    source: str
    workers: int  # target number of workers (capped at 6% of eligible registry adults)
    female_share: float  # share of women among workers drawn from the registry
    rates: NoiseRates = field(default_factory=NoiseRates)
    not_in_registry: float = 0.08  # share of workers absent from the registry
    overlap: float = 0.0  # share of workers taken from earlier lists' workers
    couples: float = 0.04  # share of male head workers whose wife is also a worker
    listed_twice: float = 0.01  # share of workers listed a second time (other spelling)
    spouse_elsewhere: float = 0.25  # share of men without a wife at home declaring one
    arabic_names: bool = False  # the list gives Arabic names only
    id_prefix: str = ""  # record_id = prefix + running number (6 digits)
    dependant_id_prefix: str | None = None  # another prefix for dependants (separate file)
    id_start: int = 1


LIST_SPECS: Final[tuple[ListSpec, ...]] = (
    ListSpec(
        "partner_coop_ar",
        1500,
        0.6,
        NoiseRates(alt_spelling=0.0, cin_missing=0.15),
        arabic_names=True,
        id_start=240_001,
    ),
    ListSpec(
        "partner_chambre_fr",
        1500,
        0.25,
        NoiseRates(),
        overlap=0.10,
        id_prefix="CMA-",
        dependant_id_prefix="AD-",
    ),
    ListSpec(
        "partner_ordre_fullname",
        1400,
        0.35,
        NoiseRates(date_year_only=0.70),
        overlap=0.08,
        id_prefix="ORD",
    ),
)


@dataclass(frozen=True)
class PartnerRecords:
    """Canonical partner records (one frame per list), ground truth and noise log."""

    records: dict[str, pl.DataFrame]
    ground_truth: pl.DataFrame
    noise_log: pl.DataFrame


def off_registry_population(persons: int, seed: int) -> pl.DataFrame:
    """People who are not in the registry, drawn like registry households (ids nulled)."""
    frame = pl.concat([c[0] for c in iter_registry_chunks(persons, seed ^ 0x5EED0FF)])
    return frame.with_columns(
        person_id=pl.lit(None, pl.Utf8),
        household_id=pl.lit(None, pl.Utf8),
        t_person=pl.col("t_person") + OFF_REGISTRY_OFFSET,
        t_hh=pl.col("t_hh") + OFF_REGISTRY_OFFSET,
        t_mother=pl.when(pl.col("t_mother") >= 0)
        .then(pl.col("t_mother") + OFF_REGISTRY_OFFSET)
        .otherwise(-1),
        # their CINs come from the far end of each prefix's number space
        cin=pl.when(pl.col("cin").is_not_null()).then(
            pl.col("cin").str.extract(r"^([A-Z]+)", 1)
            + (999_999 - pl.col("cin").str.extract(r"(\d+)$", 1).cast(pl.Int64) // 7).cast(pl.Utf8)
        ),
    )


def _eligible(pool: pl.DataFrame) -> pl.DataFrame:
    return pool.filter(pl.col("t_age").is_between(MIN_WORKER_AGE, MAX_WORKER_AGE))


def _pick(rng: np.random.Generator, frame: pl.DataFrame, k: int, female_share: float) -> np.ndarray:
    """``k`` distinct t_person of ``frame`` drawn with the given female share."""
    if k <= 0 or frame.height == 0:
        return np.array([], np.int64)
    female = frame["t_female"].to_numpy()
    w = np.where(female, female_share, 1 - female_share) + 1e-9
    idx = rng.choice(frame.height, size=min(k, frame.height), replace=False, p=w / w.sum())
    return frame["t_person"].to_numpy()[np.sort(idx)]


def _workers(
    rng: np.random.Generator,
    spec: ListSpec,
    reg: pl.DataFrame,
    off: pl.DataFrame,
    earlier: np.ndarray,
) -> np.ndarray:
    """t_person of the workers of one list (order random)."""
    n_reg_eligible = _eligible(reg).height
    n = max(10, min(spec.workers, int(0.06 * n_reg_eligible)))
    n_off = round(n * spec.not_in_registry)
    n_overlap = min(round(n * spec.overlap), len(earlier))
    overlap = rng.choice(earlier, n_overlap, replace=False) if n_overlap else earlier[:0]
    candidates = _eligible(reg).filter(~pl.col("t_person").is_in(overlap))
    chosen = _pick(rng, candidates, n - n_off - n_overlap, spec.female_share)
    off_chosen = _pick(rng, _eligible(off), n_off, spec.female_share)
    workers = np.concatenate([overlap, chosen, off_chosen])
    # couples: the wife of some male head workers is a worker too
    pool = pl.concat([reg, off])
    heads = pool.filter(pl.col("t_person").is_in(workers) & (pl.col("t_role") == ROLE_HEAD))
    wives = pool.filter(
        (pl.col("t_role") == ROLE_SPOUSE)
        & pl.col("t_hh").is_in(heads["t_hh"].implode())
        & pl.col("t_age").is_between(MIN_WORKER_AGE, MAX_WORKER_AGE)
        & ~pl.col("t_person").is_in(workers)
    ).unique("t_hh", keep="first", maintain_order=True)
    n_couples = round(len(workers) * spec.couples)
    if wives.height and n_couples:
        extra = wives["t_person"].to_numpy()
        extra = extra[np.sort(rng.choice(len(extra), min(n_couples, len(extra)), replace=False))]
        workers = np.concatenate([workers, extra])
    return rng.permutation(workers)


def _dependants(
    rng: np.random.Generator, spec: ListSpec, workers: pl.DataFrame, pool: pl.DataFrame
) -> pl.DataFrame:
    """(worker t_person, dependant t_person, relationship) of the declared dependants."""
    w = workers.select(
        w_person="t_person", w_hh="t_hh", w_role="t_role", w_female="t_female", w_order="w_order"
    )
    p = pool.select("t_person", "t_hh", "t_role", "t_mother", "t_age", "t_female")
    # spouses: a male head declares his wives; a wife declares the head
    spouses = (
        w.join(p, left_on="w_hh", right_on="t_hh")
        .filter(
            (
                (pl.col("w_role") == ROLE_HEAD)
                & (pl.col("t_role") == ROLE_SPOUSE)
                & ~pl.col("w_female")
            )
            | ((pl.col("w_role") == ROLE_SPOUSE) & (pl.col("t_role") == ROLE_HEAD))
        )
        .select("w_person", "w_order", "t_person", "t_age", relationship=pl.lit("spouse"))
    )
    # children under 25: all of a head's, or a wife's own
    children = (
        w.join(p, left_on="w_hh", right_on="t_hh")
        .filter(
            (pl.col("t_role") == ROLE_CHILD)
            & (pl.col("t_age") <= MAX_CHILD_AGE)
            & (
                (pl.col("w_role") == ROLE_HEAD)
                | ((pl.col("w_role") == ROLE_SPOUSE) & (pl.col("t_mother") == pl.col("w_person")))
            )
        )
        .sort("w_order", "t_age", descending=[False, True])
        .with_columns(k=pl.int_range(pl.len()).over("w_order"))
        .filter(pl.col("k") < MAX_CHILDREN)
        .select("w_person", "w_order", "t_person", "t_age", relationship=pl.lit("child"))
    )
    # a wife living in another registry household
    lonely = w.filter(
        ~pl.col("w_female")
        & (pl.col("w_person") < OFF_REGISTRY_OFFSET)
        & ~pl.col("w_person").is_in(spouses["w_person"].implode())
    )
    pick = lonely.filter(pl.Series(rng.random(lonely.height) < spec.spouse_elsewhere))
    brides = p.filter(
        pl.col("t_female")
        & pl.col("t_age").is_between(18, 55)
        & pl.col("t_role").is_in([ROLE_CHILD, 4])
        & (pl.col("t_person") < OFF_REGISTRY_OFFSET)
    )
    if pick.height and brides.height:
        chosen = brides.sample(pick.height, seed=int(rng.integers(0, 2**31)), shuffle=True)
        elsewhere = pl.DataFrame(
            {
                "w_person": pick["w_person"],
                "w_order": pick["w_order"],
                "t_person": chosen["t_person"],
                "t_age": chosen["t_age"],
            }
        ).with_columns(relationship=pl.lit("spouse_elsewhere"))
        # a bride's household must differ from the worker's
        hh = pool.select("t_person", "t_hh")
        elsewhere = (
            elsewhere.join(hh.rename({"t_hh": "a"}), left_on="w_person", right_on="t_person")
            .join(hh.rename({"t_hh": "b", "t_person": "bp"}), left_on="t_person", right_on="bp")
            .filter(pl.col("a") != pl.col("b"))
            .drop("a", "b")
        )
    else:
        elsewhere = spouses.head(0).with_columns(relationship=pl.lit("spouse_elsewhere"))
    return pl.concat([spouses, elsewhere.select(spouses.columns), children])


def _assemble(
    rng: np.random.Generator, spec: ListSpec, workers: np.ndarray, pool: pl.DataFrame
) -> pl.DataFrame:
    """Records (principal then dependants, in worker order) with their truth columns."""
    wf = pl.DataFrame({"t_person": workers, "w_order": np.arange(len(workers))}).join(
        pool, on="t_person", how="left"
    )
    deps = _dependants(rng, spec, wf, pool)
    principals = wf.select(
        w_person="t_person",
        w_order="w_order",
        t_person="t_person",
        relationship=pl.lit("principal"),
        dup=pl.lit(False),
    )
    # some workers listed a second time, at the end of the list
    n_twice = round(len(workers) * spec.listed_twice)
    twice = principals.sample(n_twice, seed=int(rng.integers(0, 2**31))).with_columns(
        w_order=pl.col("w_order") + len(workers), dup=pl.lit(True)
    )
    recs = pl.concat(
        [
            principals.with_columns(rank=pl.lit(0)),
            deps.select(
                "w_person",
                "w_order",
                "t_person",
                "relationship",
                dup=pl.lit(False),
                rank=pl.when(pl.col("relationship") == "child").then(2).otherwise(1),
            ),
            twice.with_columns(rank=pl.lit(0)),
        ],
        how="diagonal",
    ).sort("w_order", "rank", maintain_order=True)
    recs = recs.with_row_index("seq").join(pool, on="t_person", how="left")
    return recs.sort("seq")


def _latin_names(
    rng: np.random.Generator, recs: pl.DataFrame, rates: NoiseRates, force: np.ndarray
) -> tuple[pl.DataFrame, np.ndarray]:
    """Latin spellings: the registry's when it has one, else a usual one; with alternative
    spellings at ``rates.alt_spelling`` (and always on rows of ``force``)."""
    fam_t, giv_t = name_pool.family_table(), name_pool.given_table()
    n = recs.height
    fam, giv = recs["t_family"].to_numpy(), recs["t_given"].to_numpy()
    has_latin = recs["t_has_latin"].to_numpy()
    fam_n, giv_n = fam_t.n_variants[fam], giv_t.n_variants[giv]
    base_f = np.where(has_latin, recs["t_family_var"].to_numpy(), 0)
    base_g = np.where(has_latin, recs["t_given_var"].to_numpy(), 0)
    alt = (rng.random(n) < rates.alt_spelling) | force
    which = rng.random(n) < 0.5  # alternative spelling of the family (else given) name
    can_f, can_g = fam_n > 1, giv_n > 1
    on_f = alt & ((which & can_f) | (~can_g & can_f))
    on_g = alt & ~on_f & can_g
    step_f = 1 + np.floor(rng.random(n) * np.maximum(fam_n - 1, 1)).astype(np.int64)
    step_g = 1 + np.floor(rng.random(n) * np.maximum(giv_n - 1, 1)).astype(np.int64)
    var_f = np.where(on_f, (base_f + step_f) % fam_n, base_f)
    var_g = np.where(on_g, (base_g + step_g) % giv_n, base_g)
    out = pl.DataFrame(
        {
            "family_lat": fam_t.variants.gather(fam_t.offset[fam] + var_f),
            "given_lat": giv_t.variants.gather(giv_t.offset[giv] + var_g),
        }
    )
    return out, on_f | on_g


def _noisy_fields(
    rng: np.random.Generator, spec: ListSpec, recs: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The declared (noisy) values of each record and the noise log."""
    r = spec.rates
    n = recs.height
    dup = recs["dup"].to_numpy()
    log: dict[str, np.ndarray] = {}
    fam_t, giv_t = name_pool.family_table(), name_pool.given_table()
    comm_lat, comm_ar, comm_p = name_pool.commune_arrays()

    family_ar = fam_t.arabic.gather(recs["t_family"].to_numpy())
    given_ar = giv_t.arabic.gather(recs["t_given"].to_numpy())
    if spec.arabic_names:
        lat = pl.DataFrame(
            {
                "family_lat": pl.Series([None] * n, dtype=pl.Utf8),
                "given_lat": pl.Series([None] * n, dtype=pl.Utf8),
            }
        )
        log["alt_spelling"] = np.zeros(n, bool)
    else:
        lat, log["alt_spelling"] = _latin_names(rng, recs, r, dup)
    # typo (forced on duplicates of Arabic lists, where no alternative spelling exists)
    typo = (rng.random(n) < r.typo) | (dup & spec.arabic_names)
    on_family = rng.random(n) < 0.5
    if spec.arabic_names:
        family_ar, t1 = one_char_edit(family_ar, typo & on_family, rng, ARABIC_TYPO_ALPHABET)
        given_ar, t2 = one_char_edit(given_ar, typo & ~on_family, rng, ARABIC_TYPO_ALPHABET)
        family_lat, given_lat = lat["family_lat"], lat["given_lat"]
    else:
        family_lat, t1 = one_char_edit(
            lat["family_lat"], typo & on_family, rng, LATIN_TYPO_ALPHABET
        )
        given_lat, t2 = one_char_edit(lat["given_lat"], typo & ~on_family, rng, LATIN_TYPO_ALPHABET)
    log["typo"] = t1 | t2
    swap = rng.random(n) < r.name_swap
    log["name_swap"] = swap
    sw = pl.Series(swap)
    frame = pl.DataFrame(
        {
            "family_lat": family_lat,
            "given_lat": given_lat,
            "family_ar": family_ar,
            "given_ar": given_ar,
            "sw": sw,
        }
    ).select(
        family_lat=pl.when("sw").then("given_lat").otherwise("family_lat"),
        given_lat=pl.when("sw").then("family_lat").otherwise("given_lat"),
        family_ar=pl.when("sw").then("given_ar").otherwise("family_ar"),
        given_ar=pl.when("sw").then("family_ar").otherwise("given_ar"),
    )
    # empty names on a row or two
    empty = np.zeros(n, bool)
    if n:
        empty[rng.choice(n, min(r.empty_name_rows, n), replace=False)] = True
    log["empty_name"] = empty
    frame = frame.with_columns(pl.when(pl.Series(empty)).then(None).otherwise(pl.all()).name.keep())

    # CIN
    cin = recs["cin"]
    has_cin = cin.is_not_null().to_numpy()
    ch = exclusive_choice(
        rng,
        n,
        {
            "cin_missing": r.cin_missing,
            "cin_wrong_digit": r.cin_wrong_digit,
            "cin_transposition": r.cin_transposition,
            "cin_format": r.cin_format,
            "cin_na": r.cin_na,
        },
    )
    ch = {k: v & has_cin for k, v in ch.items()}
    cin, log["cin_wrong_digit"], log["cin_transposition"] = cin_digit_noise(
        cin, ch["cin_wrong_digit"], ch["cin_transposition"], rng
    )
    cin, log["cin_format"] = cin_format_noise(cin, ch["cin_format"], rng)
    log["cin_missing"], log["cin_na"] = ch["cin_missing"], ch["cin_na"]
    cin = pl.select(
        pl.when(pl.lit(pl.Series(ch["cin_missing"])))
        .then(None)
        .when(pl.lit(pl.Series(ch["cin_na"])))
        .then(pl.lit("N/A"))
        .otherwise(pl.lit(cin))
    ).to_series()

    # dates
    dch = exclusive_choice(
        rng,
        n,
        {
            "date_year_only": r.date_year_only,
            "date_placeholder": r.date_placeholder,
            "date_day_month_swap": r.date_day_month_swap,
            "date_year_shift": r.date_year_shift,
            "date_unparseable": r.date_unparseable,
        },
    )
    dates, applied = date_noise(recs["t_birth"], dch, rng)
    log.update(applied)

    moved = rng.random(n) < r.moved_commune
    res = recs["t_residence"].to_numpy().astype(np.int64)
    other = rng.choice(len(name_pool.COMMUNES), n, p=comm_p)
    other = np.where(other == res, (other + 1) % len(name_pool.COMMUNES), other)
    residence = np.where(moved, other, res)
    log["moved_commune"] = moved
    sex_missing = rng.random(n) < r.sex_missing
    log["sex_missing"] = sex_missing
    female = recs["t_female"].to_numpy()
    father = recs["t_father"].to_numpy()

    out = (
        pl.concat(
            [
                frame,
                pl.DataFrame(
                    {
                        "cin": cin,
                        "sex": pl.Series(np.where(female, "F", "M")),
                        "sex_missing": sex_missing,
                        "birth_place_lat": comm_lat.gather(recs["t_birth_place"].to_numpy()),
                        "birth_place_ar": comm_ar.gather(recs["t_birth_place"].to_numpy()),
                        "residence_lat": comm_lat.gather(residence),
                        "residence_ar": comm_ar.gather(residence),
                        "father_lat": giv_t.variants.gather(giv_t.offset[father]),
                        "father_ar": giv_t.arabic.gather(father),
                    }
                ),
                dates.rename({"date": "birth", "style": "birth_style", "bad": "birth_bad"}),
            ],
            how="horizontal",
        )
        .with_columns(sex=pl.when("sex_missing").then(None).otherwise("sex"))
        .drop("sex_missing")
    )
    return out, pl.DataFrame(log)


def make_partner_lists(
    registry: pl.DataFrame,
    seed: int,
    specs: tuple[ListSpec, ...] = LIST_SPECS,
) -> PartnerRecords:
    """Partner lists drawn from ``registry`` (a :func:`make_registry` persons frame, with its
    ``t_*`` truth columns). Deterministic in ``seed``.

    Each list's canonical frame has: ``record_id`` (a running number, the layout gives it its
    final form), ``principal_seq`` (the principal's running number, null for a worker),
    ``relationship`` (principal | spouse | child), the declared names, ``cin``, ``sex``,
    ``birth``/``birth_style``/``birth_bad``, birth place and residence in both scripts, the
    father's given name, ``cnss`` and the truth columns ``true_person_uid``, ``person_id``,
    ``household_id``.
    """
    n_off = max(200, registry.height // 10)
    off = off_registry_population(n_off, seed)
    pool = pl.concat([registry, off])
    records: dict[str, pl.DataFrame] = {}
    logs, truths = [], []
    earlier = np.array([], np.int64)
    for index, spec in enumerate(specs):
        rng = _rng(seed, 2, index)
        workers = _workers(rng, spec, registry, off, earlier[earlier < OFF_REGISTRY_OFFSET])
        earlier = np.concatenate([earlier, workers])
        recs = _assemble(rng, spec, workers, pool)
        fields, log = _noisy_fields(rng, spec, recs)
        is_principal = pl.col("relationship") == "principal"
        dep_prefix = spec.dependant_id_prefix or spec.id_prefix
        rid = pl.when(is_principal).then(pl.lit(spec.id_prefix)).otherwise(pl.lit(dep_prefix)) + (
            pl.col("seq") + spec.id_start
        ).cast(pl.Utf8).str.zfill(6)
        ids = recs.select(
            record_id=rid,
            principal_record_id=pl.when(is_principal)
            .then(None)
            .otherwise(rid.filter(is_principal).first().over("w_order")),
        )
        canonical = pl.concat(
            [
                ids,
                recs.select(
                    relationship=pl.col("relationship").replace("spouse_elsewhere", "spouse"),
                    true_person_uid=pl.when(pl.col("person_id").is_not_null())
                    .then(pl.lit("R") + pl.col("person_id"))
                    .otherwise(
                        pl.lit("N")
                        + (pl.col("t_person") - OFF_REGISTRY_OFFSET).cast(pl.Utf8).str.zfill(9)
                    ),
                    person_id="person_id",
                    household_id="household_id",
                    cnss=(100_000_000 + (pl.col("t_person") * 7_919 + 12_345) % 900_000_000).cast(
                        pl.Utf8
                    ),
                    t_age="t_age",
                    t_female="t_female",
                    t_birth="t_birth",
                    t_cin="cin",
                    dup="dup",
                    spouse_elsewhere=pl.col("relationship") == "spouse_elsewhere",
                ),
                fields,
            ],
            how="horizontal",
        )
        records[spec.source] = canonical
        truths.append(
            canonical.select(
                source=pl.lit(spec.source),
                record_id="record_id",
                true_person_uid="true_person_uid",
                person_id="person_id",
                household_id="household_id",
            )
        )
        logs.append(
            pl.concat(
                [canonical.select(pl.lit(spec.source).alias("source"), "record_id"), log],
                how="horizontal",
            )
        )
    return PartnerRecords(
        records=records, ground_truth=pl.concat(truths), noise_log=pl.concat(logs)
    )
