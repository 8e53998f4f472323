"""The index gives what ``registry-link match`` gives: for every partner record of the
shipped sample, the same best candidate, probability (to 1e-9) and decision."""

from __future__ import annotations

import polars as pl
import pytest

from registry_link import load_standardised
from registry_link.io.readers import read_source
from registry_link.search import QUERY_FIELDS, SearchResult
from tests.search.conftest import CONFIGS, LISTS, SAMPLE, Sample


def _raw_rows(sample: Sample, name: str) -> list[dict[str, object]]:
    raw = read_source(LISTS[name], sample.settings[name])
    return raw.select([c for c in QUERY_FIELDS if c in raw.columns]).to_dicts()


def _source_of(sample: Sample, name: str) -> list[str]:
    raw = read_source(LISTS[name], sample.settings[name])
    if "source" not in raw.columns:
        return [name] * raw.height
    return raw["source"].fill_null(name).to_list()


def _found(
    rows: list[dict[str, object]], sources: list[str], results: list[SearchResult]
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source": sources,
            "record_id": [str(r["record_id"]) for r in rows],
            "s_person": [r.candidates[0].person_id if r.candidates else None for r in results],
            "s_p": [r.candidates[0].match_probability if r.candidates else None for r in results],
            "s_decision": [r.decision for r in results],
        },
        schema_overrides={"s_person": pl.Utf8, "s_p": pl.Float64},
    )


def _differences(found: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """Records whose search and batch disagree on the decision, the probability of the best
    candidate (1e-9), or the person of a match / review — but for two candidates exactly tied
    (the batch's second at the best's probability), where either is the best."""
    joined = found.join(links, on=["source", "record_id"], how="left", validate="1:1")
    assert joined["decision"].null_count() == 0  # every record is in the batch's links
    p_differs = (pl.col("s_p").fill_null(-1.0) - pl.col("match_probability").fill_null(-1.0)).abs()
    tied = (pl.col("s_person") == pl.col("second_person_id")) & (
        (pl.col("second_probability") - pl.col("match_probability")).abs() <= 1e-12
    )
    return joined.filter(
        (pl.col("s_decision") != pl.col("decision"))
        | (p_differs > 1e-9)
        | (
            (pl.col("decision") != "non_match")
            & (pl.col("s_person") != pl.col("person_id"))
            & ~tied.fill_null(False)
        )
    )


@pytest.mark.parametrize("name", list(LISTS))
def test_every_record_of_the_sample_gets_the_batch_answer(sample: Sample, name: str) -> None:
    # the whole list through search_many: each record blocked, compared, scored and decided
    # as if alone, the dependants with their workers (the household pass)
    rows = _raw_rows(sample, name)
    results = sample.index.search_many(rows, settings=sample.settings[name])
    found = _found(rows, _source_of(sample, name), results)
    assert found.height > 5000
    differences = _differences(found, sample.result.links)
    assert differences.height == 0, differences.head(5)


def test_a_dependant_searched_alone_lacks_only_the_household_evidence(sample: Sample) -> None:
    # dependants searched without their workers: no household hint, so the records whose
    # batch answer leaned on their worker's household differ — and only those
    name = "partner_coop_ar"
    rows = _raw_rows(sample, name)
    dependants = [r for r in rows if r.get("principal_record_id")]
    alone = [{k: v for k, v in r.items() if k != "principal_record_id"} for r in dependants]
    results = sample.index.search_many(alone, settings=sample.settings[name])
    found = _found(dependants, [name] * len(dependants), results)
    links = sample.result.links
    differences = _differences(found, links)
    household_helped = links.filter(pl.col("source") == name, pl.col("bf_household") != 0)
    # each difference is a dependant the batch gave household evidence (bf_household != 0)
    assert differences.join(household_helped, on="record_id", how="anti").height == 0
    # and each such dependant whose probability the household bits move by more than 1e-6
    # differs: searched alone, its best pair lacks them
    w, bf = pl.col("match_weight"), pl.col("bf_household")
    moved = household_helped.filter(
        ((1 / (1 + (pl.lit(2.0) ** (-w)))) - (1 / (1 + pl.lit(2.0) ** (bf - w)))).abs() > 1e-6
    )
    assert moved.join(differences, on="record_id", how="anti").height == 0
    # not vacuous: on the sample about 3,400 of the coop list's dependants get household
    # evidence; for over 2,000 of them it moves the probability (the others are near 1 either
    # way), and a few change decision (a sibling sharing the name is told apart, or not)
    assert household_helped.height > 1000 and differences.height > 1000
    changed = differences.filter(pl.col("s_decision") != pl.col("decision"))
    assert 0 < changed.height < differences.height


def test_search_of_one_record_is_search_many_of_it(sample: Sample) -> None:
    name = "partner_chambre_fr"
    rows = _raw_rows(sample, name)[:400:40]
    many = sample.index.search_many(rows, settings=sample.settings[name])
    for row, expected in zip(rows, many, strict=True):
        if row.get("principal_record_id"):
            continue
        assert sample.index.search(row, settings=sample.settings[name]) == expected


def test_a_dependant_searched_with_its_principal_gets_the_household_pass(sample: Sample) -> None:
    name = "partner_coop_ar"
    rows = _raw_rows(sample, name)
    by_id = {r["record_id"]: r for r in rows}
    links = sample.result.links.filter(pl.col("source") == name)
    helped = links.filter(pl.col("bf_household") > 0).head(3)
    for link in helped.iter_rows(named=True):
        record = by_id[link["record_id"]]
        worker = by_id[record["principal_record_id"]]
        got = sample.index.search(record, principal=worker, settings=sample.settings[name])
        assert got.decision == link["decision"]
        assert got.candidates[0].person_id == link["person_id"]
        assert got.candidates[0].match_probability == pytest.approx(
            link["match_probability"], abs=1e-9
        )
        assert got.candidates[0].bits["household"] == pytest.approx(link["bf_household"])


def test_a_search_gives_the_same_results_with_the_memo_cold_or_warm(sample: Sample) -> None:
    # a fresh index (nothing kept): each record's first search evaluates its value pairs; the
    # second reads every level and helper value from the index's memo
    index = sample.linker.index(sample.registry, sample.result.model)
    frame = load_standardised(
        LISTS["partner_chambre_fr"], CONFIGS / "partner_chambre_fr.yaml"
    ).frame
    records = [frame.slice(i, 1) for i in range(0, 600, 3)]
    cold = [index.search_frame(r)[0] for r in records]
    kept = len(index._derived_memo)
    warm = [index.search_frame(r)[0] for r in records]
    assert warm == cold
    assert kept > 0 and len(index._derived_memo) == kept  # (nothing new: all seen)
    assert sum(1 for r in cold if r.decision == "match") > 50  # not vacuous


def test_records_cut_off_by_the_blocking_limits_get_the_batch_reason(sample: Sample) -> None:
    # tight limits (as tests/test_linker.py's): records whose every block is skipped say so,
    # naming the rules, in a search as in the batch; the others' reasons are the batch's too
    import dataclasses
    import warnings

    from registry_link.block.candidates import OversizedBlockWarning
    from registry_link.linker import Linker

    settings = sample.linker.settings
    tight = Linker(
        dataclasses.replace(
            settings,
            blocking_rules=tuple(
                r if r.name == "cin" else dataclasses.replace(r, max_candidates=1)
                for r in settings.blocking_rules
            ),
        )
    )
    name = "partner_chambre_fr"
    registry = load_standardised(SAMPLE / "registry.csv", CONFIGS / "registry.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OversizedBlockWarning)
        links = tight.link(
            registry,
            [load_standardised(LISTS[name], CONFIGS / f"{name}.yaml")],
            model=sample.result.model,
        ).links
        index = tight.index(registry, sample.result.model)
        rows = _raw_rows(sample, name)
        results = index.search_many(rows, settings=sample.settings[name])
    found = pl.DataFrame(
        {
            "source": _source_of(sample, name),
            "record_id": [str(r["record_id"]) for r in rows],
            "s_reason": [r.reason for r in results],
        }
    ).join(links.select("source", "record_id", "reason"), on=["source", "record_id"])
    assert found.height == len(rows)
    assert found.filter(pl.col("reason").str.starts_with("no candidate pair (")).height > 0
    assert (found["s_reason"] == found["reason"]).all()
