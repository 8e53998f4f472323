"""The Splink side of the linkage benchmark (Splink 5 API, DuckDB backend).

Reads OUR standardised Parquet files (both systems see identical inputs) and translates OUR
model config (``configs/model.yaml``) into the closest Splink model, comparison by comparison:

* blocking rules: the same columns (``block_on``; a list column such as ``name_token_keys``
  becomes an exploding rule). Splink has no per-block size cap, so ours' ``max_block_size``
  has no equivalent; a ``near`` column (a birth year within one) blocks on equality there;
* ``name``: null Latin form / exact Latin form (TF) / same cross-script key (either key of one
  side equals either key of the other) / Jaro-Winkler ≥ high / ≥ low / else. Ours also reads
  ``name_token_keys`` for full-name-only records; Splink treats those as null;
* ``name_tokens``: null unless one side is full-name-only / same token keys / one set inside the
  other (≥ 2 shared) / ≥ 2 shared / ≥ 1 shared / else (DuckDB list functions);
* ``date``: null year / exact day / same year with a year-only side / day-month swapped /
  within the year tolerance / else;
* ``id``: ``DamerauLevenshteinAtThresholds`` (exact / ≤ max_edits);
* ``exact``: ``ExactMatch``; ``jaro_winkler``: ``JaroWinklerAtThresholds`` (TF on exact).

Training the Splink way: prior from deterministic rules, u by random sampling with the SAME
sample size and seed as ours, m by one EM session per EM rule of ours (Splink cannot train on
exploding rules, nor on a rule that yields no pair: such sessions are skipped and reported).
Prediction at p ≥ 0.5.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linkage_measure import progress, self_max_rss_bytes

#: Standardised list columns: a blocking rule on one becomes an exploding Splink rule.
LIST_COLUMNS: frozenset[str] = frozenset({"name_token_keys", "flags"})


@dataclass(frozen=True)
class SplinkSpec:
    """Our model config, in the terms the Splink model is built from."""

    rules: list[list[str]]
    em_rules: list[list[str]]
    comparisons: list[tuple[str, str, dict[str, Any]]]  # (name, kind, params)
    columns: list[str]
    u_sample_size: int
    seed: int
    skipped: list[str] = field(default_factory=list)


def spec_from_model_config(model_config: Path) -> SplinkSpec:
    """Read OUR model config (validated by our loader) into a :class:`SplinkSpec`."""
    from registry_link.model import load_model_config

    settings = load_model_config(model_config)
    comps = [(c.name, c.kind, dict(c.params)) for c in settings.comparisons]
    cols: dict[str, None] = {}
    for c in settings.comparisons:
        cols.update(dict.fromkeys(c.columns))
    for r in settings.blocking_rules:
        cols.update(dict.fromkeys(r.columns))
    return SplinkSpec(
        rules=[list(r.columns) for r in settings.blocking_rules],
        em_rules=[list(r.columns) for r in settings.em_rules()],
        comparisons=comps,
        columns=list(cols),
        u_sample_size=settings.training.u_sample_size,
        seed=settings.training.seed,
    )


# ------------------------------------------------------------------------- comparisons


def _name(name: str, p: dict[str, Any]) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    lat = p.get("lat") or f"{p['field']}_lat"
    key = f"{p['field']}_key" if p.get("key") == "auto" else p.get("key")
    key_ar = f"{p['field']}_key_ar" if p.get("key_ar") == "auto" else p.get("key_ar")
    keys = [k for k in (key, key_ar) if k]
    levels: list[Any] = [
        cll.NullLevel(lat),
        cll.ExactMatchLevel(lat, term_frequency_adjustments=bool(p.get("tf"))),
    ]
    if keys:
        same_key = " OR ".join(f"({a}_l = {b}_r)" for a in keys for b in keys)
        levels.append(cll.CustomLevel(same_key, "same cross-script key"))
    levels += [
        cll.JaroWinklerLevel(lat, float(p.get("high", 0.92))),
        cll.JaroWinklerLevel(lat, float(p.get("low", 0.80))),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(comparison_levels=levels, output_column_name=name)


def _name_tokens(name: str, p: dict[str, Any]) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    tok = p.get("tokens", "name_token_keys")
    split = p.get("split_columns", ["given_lat", "family_lat"])
    l_unsplit = " AND ".join(f"{c}_l IS NULL" for c in split)
    r_unsplit = " AND ".join(f"{c}_r IS NULL" for c in split)
    active = {
        "either_unsplit": f"(({l_unsplit}) OR ({r_unsplit}))",
        "both_unsplit": f"(({l_unsplit}) AND ({r_unsplit}))",
        "always": "TRUE",
    }[p.get("when", "either_unsplit")]
    ln, rn = f"len(list_distinct({tok}_l))", f"len(list_distinct({tok}_r))"
    common = f"len(list_intersect(list_distinct({tok}_l), list_distinct({tok}_r)))"
    null_sql = f"NOT {active} OR coalesce({ln}, 0) = 0 OR coalesce({rn}, 0) = 0"
    return cl.CustomComparison(
        output_column_name=name,
        comparison_levels=[
            cll.CustomLevel(null_sql, "not a full-name-only pair").configure(is_null_level=True),
            cll.CustomLevel(f"{common} = {ln} AND {common} = {rn}", "same token keys"),
            cll.CustomLevel(f"{common} >= 2 AND {common} = least({ln}, {rn})", "contained"),
            cll.CustomLevel(f"{common} >= 2", "two shared"),
            cll.CustomLevel(f"{common} >= 1", "one shared"),
            cll.ElseLevel(),
        ],
    )


def _date(name: str, p: dict[str, Any]) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    d, y = p.get("column", "birth_date"), p.get("year") or "birth_year"
    prec = p.get("precision")
    vague = f"{d}_l IS NULL OR {d}_r IS NULL"
    not_year = "TRUE"
    if prec:
        vague += f" OR {prec}_l IN ('year', 'day_or_year') OR {prec}_r IN ('year', 'day_or_year')"
        not_year = f"coalesce({prec}_l, 'day') != 'year' AND coalesce({prec}_r, 'day') != 'year'"
    swapped = (
        f"day({d}_l) = month({d}_r) AND month({d}_l) = day({d}_r) AND {y}_l = {y}_r "
        f"AND day({d}_l) != month({d}_l)"
    )
    tol = int(p.get("year_tolerance", 1))
    return cl.CustomComparison(
        output_column_name=name,
        comparison_levels=[
            cll.NullLevel(y),
            cll.CustomLevel(f"{d}_l = {d}_r AND {not_year}", "exact date"),
            cll.CustomLevel(f"{y}_l = {y}_r AND ({vague})", "same year, one year-only"),
            cll.CustomLevel(swapped, "day and month swapped"),
            cll.CustomLevel(f"abs({y}_l - {y}_r) <= {tol}", f"within {tol} year(s)"),
            cll.ElseLevel(),
        ],
    )


def splink_comparison(name: str, kind: str, p: dict[str, Any]) -> Any:
    """The Splink comparison equivalent to one of our comparisons (see the module docs)."""
    import splink.comparison_library as cl

    if kind == "name":
        return _name(name, p)
    if kind == "name_tokens":
        return _name_tokens(name, p)
    if kind == "date":
        return _date(name, p)
    if kind == "id":
        comp = cl.DamerauLevenshteinAtThresholds(p["column"], [int(p.get("max_edits", 1))])
    elif kind == "exact":
        comp = cl.ExactMatch(p["column"])
    elif kind in ("jaro_winkler", "place"):
        # place: its key levels (Splink has no "consonants as spelled" level of its own)
        comp = cl.JaroWinklerAtThresholds(p["column"], list(p.get("thresholds", [0.92, 0.8])))
    else:
        raise ValueError(f"no Splink equivalent written for comparison kind {kind!r}")
    if p.get("tf"):
        comp = comp.configure(term_frequency_adjustments=True)
    return comp


def _block(cols: Sequence[str]) -> Any:
    """``block_on`` over ``cols``, exploding any list column."""
    from splink import block_on

    arrays = [c for c in cols if c in LIST_COLUMNS]
    return block_on(*cols, arrays_to_explode=arrays or None)


def splink_settings(spec: SplinkSpec) -> Any:
    """The Splink ``SettingsCreator`` equivalent to our model (link_only, uid ``uid``)."""
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="uid",
        comparisons=[splink_comparison(n, k, p) for n, k, p in spec.comparisons],
        blocking_rules_to_generate_predictions=[_block(cols) for cols in spec.rules],
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def _load_table(con: Any, name: str, path: Path, uid_expr: str, columns: Sequence[str]) -> None:
    cols = ", ".join(c for c in columns if c != "uid")
    con.execute(
        f"CREATE TABLE {name} AS SELECT {uid_expr} AS uid, {cols} "
        f"FROM read_parquet('{path.as_posix()}')"
    )


def _empty_side(con: Any, cols: Sequence[str]) -> bool:
    """True when one of ``cols`` is null on every row of the partner or registry table."""
    for table in ("partner", "registry"):
        for col in cols:
            ((n,),) = con.execute(f"SELECT count({col}) FROM {table}").fetchall()
            if n == 0:
                return True
    return False


def run_splink(
    partner_path: Path,
    registry_path: Path,
    spec: SplinkSpec,
    *,
    threshold: float = 0.5,
    prior_recall: float = 0.8,
) -> dict[str, Any]:
    """Read, train and predict with Splink; returns timings, pair counts and the links.

    The returned dict has ``stages`` (seconds per stage), ``end_to_end_s`` (read + train +
    predict), ``candidate_pairs`` (counted after the timed part), ``links`` (a polars frame
    ``record_id, person_id, match_probability`` of the pairs at p ≥ ``threshold``),
    ``skipped_em`` (EM rules Splink could not train on, with the reason) and ``versions``.
    """
    import duckdb
    import polars as pl
    import splink
    from splink import DuckDBAPI, Linker, block_on
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    stages: dict[str, float] = {}
    rss: dict[str, int] = {}  # peak RSS (ru_maxrss) after each stage
    t0 = time.perf_counter()
    con = duckdb.connect(":memory:")
    # partner uid "<source>:<record_id>": record ids repeat across the partner lists
    _load_table(con, "partner", partner_path, "source || ':' || record_id", spec.columns)
    _load_table(con, "registry", registry_path, "coalesce(person_id, record_id)", spec.columns)
    db_api = DuckDBAPI(connection=con)
    df_p = db_api.register("partner", dataset_display_name="partner")
    df_r = db_api.register("registry", dataset_display_name="registry")
    stages["read"] = time.perf_counter() - t0
    progress("read", stages["read"])
    rss["read"] = self_max_rss_bytes()

    t = time.perf_counter()
    linker = Linker([df_p, df_r], splink_settings(spec), log_level="WARNING")
    deterministic = [
        block_on("cin", "birth_year"),
        block_on("family_key", "given_key", "birth_date"),
    ]
    linker.training.estimate_probability_two_random_records_match(deterministic, prior_recall)
    stages["train_prior"] = time.perf_counter() - t
    progress("train_prior", stages["train_prior"])
    rss["train_prior"] = self_max_rss_bytes()
    t = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(
        max_pairs=spec.u_sample_size, seed=spec.seed, min_count_per_level=None
    )
    stages["train_u"] = time.perf_counter() - t
    progress("train_u", stages["train_u"])
    rss["train_u"] = self_max_rss_bytes()
    t = time.perf_counter()
    skipped: list[str] = []
    for cols in spec.em_rules:
        if LIST_COLUMNS.intersection(cols):
            skipped.append(f"{'+'.join(cols)}: exploding rules cannot be EM rules in Splink")
            continue
        if _empty_side(con, cols):
            skipped.append(f"{'+'.join(cols)}: a column is null on a whole side (no pairs)")
            continue
        # A failed session leaves a corrupted prior on the linker (seen with Splink 5.0.0):
        # keep the prior and put it back.
        prior = linker._settings_obj._probability_two_random_records_match
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(block_on(*cols))
        except Exception as exc:  # Splink raises various errors on degenerate sessions
            linker._settings_obj._probability_two_random_records_match = prior
            skipped.append(f"{'+'.join(cols)}: {type(exc).__name__}: {str(exc)[:120]}")
    stages["train_m_em"] = time.perf_counter() - t
    progress("train_m_em", stages["train_m_em"])
    rss["train_m_em"] = self_max_rss_bytes()

    t = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    query = (
        "SELECT CASE WHEN source_dataset_l = 'partner' THEN uid_l ELSE uid_r END AS record_id, "
        "CASE WHEN source_dataset_l = 'partner' THEN uid_r ELSE uid_l END AS person_id, "
        f"match_probability FROM {predictions.physical_name}"
    )
    out = pl.from_arrow(con.sql(query).to_arrow_table())
    stages["predict"] = time.perf_counter() - t
    progress("predict", stages["predict"])
    rss["predict"] = self_max_rss_bytes()
    end_to_end = time.perf_counter() - t0

    counts = count_comparisons_from_blocking_rules(
        [df_p, df_r],
        blocking_rules=[_block(cols) for cols in spec.rules],
        link_type="link_only",
        unique_id_column_name="uid",
        record_sample_proportion=1.0,
    )
    candidate_pairs = int(counts[-1]["cumulative_comparison_count"]) if counts else 0
    assert isinstance(out, pl.DataFrame)
    links = out.with_columns(pl.col("record_id").cast(pl.Utf8), pl.col("person_id").cast(pl.Utf8))
    return {
        "stages": stages,
        "peak_rss_after_stage": rss,
        "end_to_end_s": end_to_end,
        "candidate_pairs": candidate_pairs,
        "links": links,
        "skipped_em": skipped,
        "versions": {"splink": splink.__version__, "duckdb": duckdb.__version__},
        "prior": float(linker._settings_obj._probability_two_random_records_match),
    }
