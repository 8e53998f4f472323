"""The three partner-list layouts: canonical partner records -> the frames partners send.

* ``partner_coop_ar`` — cooperative federation: Arabic headers, Arabic names only, dependants
  as rows (Arabic relationship + the principal's id), dd/mm/yyyy dates, sex ذكر/أنثى.
* ``partner_chambre_fr`` — chamber of crafts: French headers, Latin names (family name often
  in capitals), workers and dependants (ayants droit) in two files, sex H/F, dates mostly
  dd/mm/yyyy, some yyyy-mm-dd and some Excel serial numbers.
* ``partner_ordre_fullname`` — professional order: one unsplit full-name column (mostly
  "FAMILY Given", some "Given Family", some in Arabic script), year-only birth dates for most,
  CNSS number, dependants as rows with French relationship codes (ASS / CJ / ENF).

Every value is written as text (no typed Excel cells), so what a reader sees is exactly what
a partner typed.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import polars as pl

from registry_link.synth.registry import _rng

EXCEL_EPOCH: Final[pl.Expr] = pl.lit(np.datetime64("1899-12-30", "D")).cast(pl.Date)
CRAFTS: Final[tuple[str, ...]] = (
    "Menuiserie",
    "Poterie",
    "Tissage",
    "Couture traditionnelle",
    "Bijouterie",
    "Maroquinerie",
    "Zellige",
    "Dinanderie",
    "Tapis",
    "Broderie",
    "Ferronnerie",
    "Vannerie",
)
ORDRE_CODES: Final[dict[str, str]] = {"principal": "ASS", "spouse": "CJ", "child": "ENF"}
#: Capitals are typed without accents (and Windows-1256 has no accented capitals).
_UNACCENT_CAPS: Final[dict[str, str]] = dict(zip("ÀÂÇÉÈÊËÎÏÔÙÛÜ", "AACEEEEIIOUUU", strict=True))


def upper_plain(e: pl.Expr) -> pl.Expr:
    """Uppercase without accents: "Aït Saïd" -> "AIT SAID"."""
    return e.str.to_uppercase().str.replace_many(_UNACCENT_CAPS)


def _date_text(
    style: str = "day", *, dmy: pl.Expr | None = None, year_style: pl.Expr | None = None
) -> pl.Expr:
    """Birth date as text from ``birth``/``birth_style``/``birth_bad`` (see
    :func:`registry_link.synth.noise.date_noise`); ``dmy`` overrides the day format."""
    b = pl.col("birth")
    day = dmy if dmy is not None else b.dt.strftime("%d/%m/%Y")
    year = (
        pl.when(year_style).then(b.dt.strftime("%Y")).otherwise(b.dt.strftime("00/00/%Y"))
        if year_style is not None
        else b.dt.strftime("%Y")
    )
    placeholder = b.dt.strftime("%Y-01-01") if style == "iso" else b.dt.strftime("01/01/%Y")
    st = pl.col("birth_style")
    return (
        pl.when(st == "bad")
        .then(pl.col("birth_bad"))
        .when(st == "year")
        .then(year)
        .when(st == "placeholder")
        .then(placeholder)
        .otherwise(day)
    )


def _flags(seed: int, stream: int, n: int, p: float) -> pl.Series:
    return pl.Series(_rng(seed, 3, stream).random(n) < p)


def coop_ar(records: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The cooperative federation's single file (Arabic)."""
    n = records.height
    female = pl.col("sex") == "F"
    rel = pl.col("relationship")
    # the true sex (t_female) picks the relationship word, even when the sex column is blank
    return records.with_columns(_ys=_flags(seed, 10, n, 0.4)).select(
        pl.col("record_id").alias("رقم التسجيل"),
        pl.col("family_ar").alias("الاسم العائلي"),
        pl.col("given_ar").alias("الاسم الشخصي"),
        pl.col("cin").alias("رقم البطاقة الوطنية"),
        pl.when(female)
        .then(pl.lit("أنثى"))
        .when(pl.col("sex") == "M")
        .then(pl.lit("ذكر"))
        .alias("الجنس"),
        _date_text(year_style=pl.col("_ys")).alias("تاريخ الازدياد"),
        pl.col("birth_place_ar").alias("مكان الازدياد"),
        pl.col("residence_ar").alias("الجماعة"),
        pl.col("father_ar").alias("اسم الأب"),
        pl.when(rel == "principal")
        .then(pl.when(pl.col("t_female")).then(pl.lit("المنخرطة")).otherwise(pl.lit("المنخرط")))
        .when(rel == "spouse")
        .then(pl.when(pl.col("t_female")).then(pl.lit("زوجة")).otherwise(pl.lit("زوج")))
        .otherwise(pl.when(pl.col("t_female")).then(pl.lit("ابنة")).otherwise(pl.lit("ابن")))
        .alias("صلة القرابة"),
        pl.col("principal_record_id").alias("رقم المنخرط"),
    )


def _chambre_names(records: pl.DataFrame, seed: int) -> pl.DataFrame:
    upper = _flags(seed, 20, records.height, 0.6)
    return records.with_columns(
        _nom=pl.when(pl.lit(upper))
        .then(upper_plain(pl.col("family_lat")))
        .otherwise(pl.col("family_lat")),
        _sexe=pl.col("sex").replace_strict({"M": "H", "F": "F"}, default=None),
    )


def _chambre_date(records: pl.DataFrame, seed: int) -> pl.Expr:
    u = pl.Series(_rng(seed, 3, 21).random(records.height))
    b = pl.col("birth")
    serial = (b - EXCEL_EPOCH).dt.total_days().cast(pl.Utf8)
    dmy = (
        pl.when(pl.lit(u) < 0.80)
        .then(b.dt.strftime("%d/%m/%Y"))
        .when(pl.lit(u) < 0.92)
        .then(b.dt.strftime("%Y-%m-%d"))
        .otherwise(serial)
    )
    return _date_text(dmy=dmy, year_style=pl.lit(_flags(seed, 22, records.height, 0.5)))


def chambre_fr(records: pl.DataFrame, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The chamber of crafts' two files: workers, and dependants (ayants droit)."""
    recs = _chambre_names(records, seed).with_columns(_date=_chambre_date(records, seed))
    crafts = pl.Series(list(CRAFTS)).gather(
        _rng(seed, 3, 23).integers(0, len(CRAFTS), records.height)
    )
    recs = recs.with_columns(_craft=crafts)
    workers = recs.filter(pl.col("relationship") == "principal").select(
        pl.col("record_id").alias("N° adhérent"),
        pl.col("cin").alias("CIN"),
        pl.col("_nom").alias("Nom"),
        pl.col("given_lat").alias("Prénom"),
        pl.col("_sexe").alias("Sexe"),
        pl.col("_date").alias("Date de naissance"),
        pl.col("birth_place_lat").alias("Lieu de naissance"),
        pl.col("residence_lat").alias("Commune"),
        pl.col("_craft").alias("Métier"),
    )
    rel = pl.col("relationship")
    dependants = recs.filter(rel != "principal").select(
        pl.col("record_id").alias("N° ayant droit"),
        pl.col("principal_record_id").alias("N° adhérent"),
        pl.when(rel == "child")
        .then(pl.lit("Enfant"))
        .when(pl.col("t_female"))
        .then(pl.lit("Conjointe"))
        .otherwise(pl.lit("Conjoint"))
        .alias("Lien"),
        pl.col("_nom").alias("Nom"),
        pl.col("given_lat").alias("Prénom"),
        pl.col("_sexe").alias("Sexe"),
        pl.col("_date").alias("Date de naissance"),
        pl.col("cin").alias("CIN"),
    )
    return workers, dependants


def ordre_fullname(records: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The professional order's sheet: one unsplit full-name column."""
    n = records.height
    u = pl.lit(pl.Series(_rng(seed, 3, 30).random(n)))
    fam, giv = pl.col("family_lat"), pl.col("given_lat")
    full = (
        pl.when(u < 0.70)
        .then(pl.concat_str([upper_plain(fam), giv], separator=" ", ignore_nulls=True))
        .when(u < 0.80)
        .then(pl.concat_str([giv, fam], separator=" ", ignore_nulls=True))
        .when(u < 0.90)
        .then(pl.concat_str([giv, upper_plain(fam)], separator=" ", ignore_nulls=True))
        .otherwise(
            pl.concat_str(
                [pl.col("family_ar"), pl.col("given_ar")], separator=" ", ignore_nulls=True
            )
        )
    )
    rel = pl.col("relationship")
    return records.select(
        pl.col("record_id").alias("Matricule"),
        pl.when(rel == "principal").then(pl.col("cnss")).alias("N° CNSS"),
        pl.when(full == "").then(None).otherwise(full).alias("Nom et prénom"),
        pl.col("cin").alias("CIN"),
        _date_text().alias("Date de naissance"),
        pl.col("sex").alias("Sexe"),
        pl.col("residence_lat").alias("Ville"),
        rel.replace_strict(ORDRE_CODES).alias("Code lien"),
        pl.col("principal_record_id").alias("Matricule assuré"),
    )
