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

from registry_link.synth.declared import declared_values
from registry_link.synth.noise import (
    NO_SLICE_NOISE,
    NoiseRates,
    SliceNoiseRates,
    date_digit_typo,
    father_variant,
    lookalike_cin,
    name_variant,
    relative_cin,
    rural_spelling,
)
from registry_link.synth.registry import (
    NO_RURAL_PLACES,
    ROLE_CHILD,
    ROLE_HEAD,
    ROLE_SIBLING,
    ROLE_SPOUSE,
    RuralPlaces,
    _rng,
    iter_registry_chunks,
)
from registry_link.synth.tie_order import unstable_sort_order

OFF_REGISTRY_OFFSET: Final[int] = 100_000_000_000  # t_person of off-registry people
OFF_CIN_START: Final[int] = 900_000  # off-registry CINs: from this rank of each prefix on
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


#: The ground-truth columns, in order: who each record is, then the labels of the noises that
#: define the evaluation's slices (:func:`registry_link.report.evaluation.evaluate_slices`).
GROUND_TRUTH_COLUMNS: Final[tuple[str, ...]] = (
    "source",
    "record_id",
    "true_person_uid",
    "person_id",
    "household_id",
    "birth_date_error",  # day_month_swap | year_shift | digit_typo | empty: the date is right
    "cin_of_relative",  # true: the record carries the CIN of another member of its household
    "name_variant",  # true: a name is a variant of the registry's (no Ben/Bel, part of compound)
    "cin_of_lookalike",  # true: that CIN's owner resembles the person (same family name and
    #   sex, close age: a brother, a sister); such records are cin_of_relative too
    "place_spelling",  # true: a rural commune outside the gazetteer (birth place or residence)
    #   is spelled otherwise than in the registry (Lqliaa / Leqliaa)
    "in_registry",  # true: the record's person is in the registry
    "beneficiary_household_id",  # the household the record belongs to as a beneficiary: its
    #   person's registry household, except a declared spouse who still lives in another one
    #   (the registry is behind: a recent marriage), who belongs to the declaring worker's
)

_DATE_ERRORS: Final[dict[str, str]] = {
    "date_day_month_swap": "day_month_swap",
    "date_year_shift": "year_shift",
    "date_digit_typo": "digit_typo",
}
_CIN_NOISES: Final[tuple[str, ...]] = (
    "cin_missing",
    "cin_wrong_digit",
    "cin_transposition",
    "cin_format",
    "cin_na",
)
_NAME_NOISES: Final[tuple[str, ...]] = ("typo", "name_swap", "empty_name")
_NAME_FIELDS: Final[list[str]] = ["family_lat", "given_lat", "family_ar", "given_ar"]
_DATE_NOISES: Final[tuple[str, ...]] = (
    "date_year_only",
    "date_placeholder",
    "date_day_month_swap",
    "date_year_shift",
    "date_unparseable",
)


@dataclass(frozen=True)
class PartnerRecords:
    """Canonical partner records (one frame per list), ground truth and noise log."""

    records: dict[str, pl.DataFrame]
    ground_truth: pl.DataFrame
    noise_log: pl.DataFrame


def off_registry_population(
    persons: int, seed: int, rural: RuralPlaces = NO_RURAL_PLACES
) -> pl.DataFrame:
    """People who are not in the registry, drawn like registry households (ids nulled).

    Their CINs come from the far end of each prefix's number space of the registry drawn with
    ``seed`` (from the 900,000th number on), so they never collide with a registry CIN.
    """
    chunks = iter_registry_chunks(
        persons, seed ^ 0x5EED0FF, cin_seed=seed, cin_start=OFF_CIN_START, rural=rural
    )
    frame = pl.concat([c[0] for c in chunks])
    return frame.with_columns(
        person_id=pl.lit(None, pl.Utf8),
        household_id=pl.lit(None, pl.Utf8),
        t_person=pl.col("t_person") + OFF_REGISTRY_OFFSET,
        t_hh=pl.col("t_hh") + OFF_REGISTRY_OFFSET,
        t_mother=pl.when(pl.col("t_mother") >= 0)
        .then(pl.col("t_mother") + OFF_REGISTRY_OFFSET)
        .otherwise(-1),
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
    # each worker beside every member of their household, in the pool's order
    members = w.join(p, left_on="w_hh", right_on="t_hh", maintain_order="right_left")
    # spouses: a male head declares his wives; a wife declares the head
    spouses = members.filter(
        ((pl.col("w_role") == ROLE_HEAD) & (pl.col("t_role") == ROLE_SPOUSE) & ~pl.col("w_female"))
        | ((pl.col("w_role") == ROLE_SPOUSE) & (pl.col("t_role") == ROLE_HEAD))
    ).select("w_person", "w_order", "t_person", "t_age", relationship=pl.lit("spouse"))
    # children under 25: all of a head's, or a wife's own, eldest first; children born the
    # same year in the order polars <= 2.1's unstable sort left them (the sample's order)
    children = members.filter(
        (pl.col("t_role") == ROLE_CHILD)
        & (pl.col("t_age") <= MAX_CHILD_AGE)
        & (
            (pl.col("w_role") == ROLE_HEAD)
            | ((pl.col("w_role") == ROLE_SPOUSE) & (pl.col("t_mother") == pl.col("w_person")))
        )
    )
    ages = (-children["t_age"].cast(pl.Int64)).to_list()
    eldest_first = list(zip(children["w_order"].to_list(), ages, strict=True))
    children = (
        children[unstable_sort_order(eldest_first)]
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
        & pl.col("t_role").is_in([ROLE_CHILD, ROLE_SIBLING])
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
        pool, on="t_person", how="left", maintain_order="left"
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


def _slice_noise(
    rng: np.random.Generator,
    rates: SliceNoiseRates,
    recs: pl.DataFrame,
    pool: pl.DataFrame,
    fields: pl.DataFrame,
    log: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Apply the slice noises (:class:`SliceNoiseRates`) to the declared ``fields`` of
    records no other noise of the same kind touched; returns (fields, their log)."""
    n = recs.height
    untouched_date = ~np.any([log[k].to_numpy() for k in _DATE_NOISES], axis=0)
    birth, typo = date_digit_typo(
        fields["birth"], untouched_date & (rng.random(n) < rates.date_digit_typo), rng
    )
    untouched_cin = ~np.any([log[k].to_numpy() for k in _CIN_NOISES], axis=0)
    relative = relative_cin(recs, pool, rng.random(n))
    has_relative = relative.is_not_null().to_numpy()
    on_cin = untouched_cin & has_relative & (rng.random(n) < rates.cin_of_relative)
    fields = fields.with_columns(
        birth=birth,
        cin=pl.when(pl.Series(on_cin)).then(relative).otherwise(fields["cin"]),
    )
    untouched_names = ~np.any([log[k].to_numpy() for k in _NAME_NOISES], axis=0)
    names = fields.select(_NAME_FIELDS)
    _, has_variant = name_variant(names, np.ones(n, bool))
    names, variant = name_variant(
        names, untouched_names & has_variant & (rng.random(n) < rates.name_variant)
    )
    fields = fields.with_columns(names)
    # a lookalike relative's CIN, on records no CIN noise touched
    lookalike = lookalike_cin(recs, pool, rng.random(n))
    has_lookalike = lookalike.is_not_null().to_numpy()
    on_lookalike = (
        untouched_cin & ~on_cin & has_lookalike & (rng.random(n) < rates.cin_of_lookalike)
    )
    fields = fields.with_columns(
        cin=pl.when(pl.Series(on_lookalike)).then(lookalike).otherwise(fields["cin"])
    )
    fathers, father = father_variant(
        fields.select("father_lat", "father_ar"), rng.random(n) < rates.father_variant, rng
    )
    fields = fields.with_columns(fathers)
    # rural communes outside the gazetteer, in the registry's spelling or another one
    spelled = np.zeros(n, bool)
    moved = log["moved_commune"].to_numpy()
    for place, rural in (
        ("birth_place", recs["t_birth_rural"].to_numpy()),
        ("residence", np.where(moved, -1, recs["t_residence_rural"].to_numpy())),
    ):
        lat, ar, other = rural_spelling(rural, rng.random(n) < rates.place_spelling, rng)
        on = pl.Series(rural >= 0)
        fields = fields.with_columns(
            pl.when(on).then(lat).otherwise(fields[f"{place}_lat"]).alias(f"{place}_lat"),
            pl.when(on).then(ar).otherwise(fields[f"{place}_ar"]).alias(f"{place}_ar"),
        )
        spelled |= other
    return fields, pl.DataFrame(
        {
            "date_digit_typo": typo,
            "cin_of_relative": on_cin | on_lookalike,
            "name_variant": variant,
            "cin_of_lookalike": on_lookalike,
            "father_variant": father,
            "place_spelling": spelled,
        }
    )


def _truth_labels(log: pl.DataFrame) -> pl.DataFrame:
    """The ground truth's noise labels of each record from its noise log."""
    error = pl.lit(None, pl.Utf8)
    for kind, label in reversed(_DATE_ERRORS.items()):
        error = pl.when(pl.col(kind)).then(pl.lit(label)).otherwise(error)
    return log.select(
        birth_date_error=error,
        cin_of_relative="cin_of_relative",
        name_variant="name_variant",
        cin_of_lookalike="cin_of_lookalike",
        place_spelling="place_spelling",
    )


def make_partner_lists(
    registry: pl.DataFrame,
    seed: int,
    specs: tuple[ListSpec, ...] = LIST_SPECS,
    slice_noise: SliceNoiseRates = NO_SLICE_NOISE,
) -> PartnerRecords:
    """Partner lists drawn from ``registry`` (a :func:`make_registry` persons frame, with its
    ``t_*`` truth columns). Deterministic in ``seed``.

    Each list's canonical frame has: ``record_id`` (a running number, the layout gives it its
    final form), ``principal_seq`` (the principal's running number, null for a worker),
    ``relationship`` (principal | spouse | child), the declared names, ``cin``, ``sex``,
    ``birth``/``birth_style``/``birth_bad``, birth place and residence in both scripts, the
    father's given name, ``cnss`` and the truth columns ``true_person_uid``, ``person_id``,
    ``household_id``, ``birth_date_error``, ``cin_of_relative``, ``name_variant``.

    ``slice_noise`` adds the noises of :class:`SliceNoiseRates` from a random stream of their
    own: off (the default), every list is what it was before they existed. The noise log gets
    their columns only when they are on.
    """
    n_off = max(200, registry.height // 10)
    off = off_registry_population(n_off, seed, slice_noise.rural_places())
    pool = pl.concat([registry, off])
    records: dict[str, pl.DataFrame] = {}
    logs, truths = [], []
    earlier = np.array([], np.int64)
    for index, spec in enumerate(specs):
        rng = _rng(seed, 2, index)
        workers = _workers(rng, spec, registry, off, earlier[earlier < OFF_REGISTRY_OFFSET])
        earlier = np.concatenate([earlier, workers])
        recs = _assemble(rng, spec, workers, pool)
        fields, log = declared_values(rng, spec.rates, spec.arabic_names, recs)
        fields, slice_log = _slice_noise(_rng(seed, 3, index), slice_noise, recs, pool, fields, log)
        labels = _truth_labels(pl.concat([log, slice_log], how="horizontal"))
        if slice_noise != NO_SLICE_NOISE:
            log = pl.concat([log, slice_log], how="horizontal")
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
                    # a declared spouse still in another registry household (a marriage the
                    # registry has not caught up with) belongs to the worker's household
                    beneficiary_household_id=pl.when(pl.col("relationship") == "spouse_elsewhere")
                    .then(
                        pl.col("household_id")
                        .filter(pl.col("relationship") == "principal")
                        .first()
                        .over("w_order")
                    )
                    .otherwise(pl.col("household_id")),
                    cnss=(100_000_000 + (pl.col("t_person") * 7_919 + 12_345) % 900_000_000).cast(
                        pl.Utf8
                    ),
                    t_age="t_age",
                    t_female="t_female",
                    t_birth="t_birth",
                    t_birth_rural="t_birth_rural",
                    t_residence_rural="t_residence_rural",
                    t_cin="cin",
                    dup="dup",
                    spouse_elsewhere=pl.col("relationship") == "spouse_elsewhere",
                ),
                fields,
                labels,
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
                birth_date_error="birth_date_error",
                cin_of_relative="cin_of_relative",
                name_variant="name_variant",
                cin_of_lookalike="cin_of_lookalike",
                place_spelling="place_spelling",
                in_registry=pl.col("person_id").is_not_null(),
                beneficiary_household_id="beneficiary_household_id",
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
