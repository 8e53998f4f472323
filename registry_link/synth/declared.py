"""What a partner declares about each person: names, CIN, dates, places — with noise.

:func:`declared_values` takes the true attributes of each partner record (the ``t_*`` columns
of the synthetic registry) and returns the values the partner list shows, plus a log of the
noises applied to each record (see :class:`registry_link.synth.noise.NoiseRates`).
"""

from __future__ import annotations

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


def declared_values(
    rng: np.random.Generator, r: NoiseRates, arabic_names: bool, recs: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The declared (noisy) values of each record and the noise log.

    Returns (values, log): ``values`` has the declared names in both scripts, ``cin``, ``sex``,
    ``birth``/``birth_style``/``birth_bad`` (see :func:`registry_link.synth.noise.date_noise`),
    birth place, residence and father's name in both scripts; ``log`` one boolean column per
    noise kind, true where it was applied.
    """
    n = recs.height
    dup = recs["dup"].to_numpy()
    log: dict[str, np.ndarray] = {}
    fam_t, giv_t = name_pool.family_table(), name_pool.given_table()
    comm_lat, comm_ar, comm_p = name_pool.commune_arrays()

    family_ar = fam_t.arabic.gather(recs["t_family"].to_numpy())
    given_ar = giv_t.arabic.gather(recs["t_given"].to_numpy())
    if arabic_names:
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
    typo = (rng.random(n) < r.typo) | (dup & arabic_names)
    on_family = rng.random(n) < 0.5
    if arabic_names:
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
