"""Tests of registry_link.linker: the Linker facade on a small synthetic registry and lists.

The data comes from ``registry_link.synth.generate`` (3,000 registry persons, seed 11), written
to a temporary folder and read back through the real readers and standardisation, so the
Linker sees exactly what the CLI gives it. One training run per module (a few seconds).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from registry_link import load_standardised
from registry_link import model as model_module
from registry_link.decide.decisions import DECISIONS, LINK_COLUMNS
from registry_link.errors import UsageError
from registry_link.linker import REPEATED_COLUMNS, Linker, LinkResult
from registry_link.model import load_model, save_model
from registry_link.report.evaluation import evaluate_links
from registry_link.schema import STANDARDISED_SCHEMA
from registry_link.standardise.pipeline import StandardisedList

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
MODEL_CONFIG = CONFIGS / "model.yaml"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from registry_link.synth import generate

    out = tmp_path_factory.mktemp("synth")
    generate(3000, 11, out)
    return {
        "registry": load_standardised(out / "registry.csv", CONFIGS / "registry.yaml"),
        # coop (dependants as rows) and ordre (XLSX, full names): both self-contained files
        "coop": load_standardised(out / "partner_coop_ar.csv", CONFIGS / "partner_coop_ar.yaml"),
        "ordre": load_standardised(
            out / "partner_ordre_fullname.xlsx", CONFIGS / "partner_ordre_fullname.yaml"
        ),
        "truth": pl.read_csv(out / "ground_truth.csv", infer_schema=False),
    }


@pytest.fixture(scope="module")
def stages() -> list[str]:
    return []


@pytest.fixture(scope="module")
def result(data: dict[str, object], stages: list[str]) -> LinkResult:
    linker = Linker.from_config(MODEL_CONFIG, on_stage=lambda name, _s: stages.append(name))
    return linker.link(data["registry"], [data["coop"], data["ordre"]])


def partner_frame(data: dict[str, object]) -> pl.DataFrame:
    return pl.concat([data["coop"].frame, data["ordre"].frame])  # type: ignore[union-attr]


def test_every_partner_record_once_in_input_order(data, result: LinkResult) -> None:
    left = partner_frame(data)
    links = result.links
    assert links.height == left.height
    assert links.select("source", "record_id").rows() == left.select("source", "record_id").rows()
    assert list(links.columns[: len(LINK_COLUMNS)]) == list(LINK_COLUMNS)
    assert set(links["decision"].unique().to_list()) <= set(DECISIONS)
    assert links.filter(pl.col("decision") == "match")["person_id"].null_count() == 0
    assert links.filter(pl.col("decision") == "non_match")["person_id"].null_count() == (
        links.filter(pl.col("decision") == "non_match").height
    )


def test_matches_are_mostly_right_on_the_synthetic_truth(data, result: LinkResult) -> None:
    scores = evaluate_links(result.links, data["truth"])
    overall = scores.filter(pl.col("source") == "all").row(0, named=True)
    # floors well under what this data gives, to catch a broken pipeline, not to tune it
    assert overall["precision"] >= 0.97
    assert overall["recall"] >= 0.80


def test_other_outputs_cover_every_partner_record(data, result: LinkResult) -> None:
    n = partner_frame(data).height
    assert result.clusters.height == n
    assert result.clusters.select("source", "record_id").n_unique() == n
    assert result.households.height == n
    reviewed = result.links.filter(pl.col("decision") == "review").select("source", "record_id")
    queued = result.review.select("source", "record_id").unique()
    assert sorted(queued.rows()) == sorted(reviewed.rows())
    # matched records share the key of their registry person
    matched = result.links.filter(pl.col("decision") == "match").join(
        result.clusters, on=["source", "record_id"]
    )
    assert (matched["beneficiary_key"] == "P" + matched["person_id"]).all()


def test_summary_and_stage_callback(data, result: LinkResult, stages: list[str]) -> None:
    s = result.summary
    assert s["records"] == {"partner": partner_frame(data).height, "registry": 3000}
    assert sum(s["decisions"].values()) == s["records"]["partner"]
    assert s["candidate_pairs"] == sum(s["candidate_pairs_by_rule"].values())
    assert s["review_pairs"] == result.review.height
    assert s["beneficiaries"] == result.clusters["beneficiary_key"].n_unique()
    # the pipeline's stages, in order (other stages may come between them)
    expected = ["block", "compare", "train", "score", "decide", "cluster", "households"]
    assert [name for name in stages if name in expected] == expected
    assert set(s["timings_s"]) == set(stages)


@pytest.mark.parametrize(("min_persons", "tolerance"), [(1, 1e-9), (10, 1e-3)])
def test_saved_and_reloaded_model_gives_the_same_probabilities(
    data,
    result: LinkResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    min_persons: int,
    tolerance: float,
) -> None:
    """Every term frequency saved: the same probabilities; the shipped floor (names fewer
    than 10 registry persons hold are left out of model.json): the same decisions, and
    probabilities within 0.001."""
    monkeypatch.setattr(model_module, "TF_MIN_PERSONS", min_persons)
    path = tmp_path / "model.json"
    save_model(result.model, path)
    again = Linker.from_config(MODEL_CONFIG).link(
        data["registry"], [data["coop"], data["ordre"]], model=load_model(path)
    )
    cols = ["source", "record_id", "person_id", "decision", "match_probability"]
    a, b = result.links.select(cols), again.links.select(cols)
    assert a.drop("match_probability").equals(b.drop("match_probability"))
    diff = (a["match_probability"] - b["match_probability"]).abs().fill_null(0.0)
    assert diff.max() <= tolerance


def test_standardised_frames_work_like_standardised_lists(data, result: LinkResult) -> None:
    frames = [data["coop"].frame, data["ordre"].frame]
    again = Linker.from_config(MODEL_CONFIG).link(
        data["registry"].frame, frames, model=result.model
    )
    assert again.links.select("record_id", "person_id", "decision").equals(
        result.links.select("record_id", "person_id", "decision")
    )


def test_a_lazy_registry_links_the_same_and_reads_fewer_columns(
    data, result: LinkResult, tmp_path: Path
) -> None:
    path = tmp_path / "registry.parquet"
    data["registry"].frame.write_parquet(path)  # type: ignore[union-attr]
    linker = Linker.from_config(MODEL_CONFIG)
    lazy = linker.link(pl.scan_parquet(path), [data["coop"], data["ordre"]], model=result.model)
    eager = linker.link(data["registry"], [data["coop"], data["ordre"]], model=result.model)
    assert lazy.links.equals(eager.links)
    assert lazy.households.equals(eager.households)
    # the review pairs' registry fields come from the lazy frame, for their rows only
    assert eager.review.height > 0
    assert lazy.review.equals(eager.review)
    assert lazy.review["r_family_name_ar"].is_not_null().any()
    read = linker.registry_columns()
    assert {"person_id", "household_id", "given_key", "birth_year"} <= set(read)
    assert not {"family_name_ar", "flags", "row_number"} & set(read)
    # the place comparisons read the places as spelled (issue 16: Leqliaa ~ Lqliaa)
    assert {"birth_place_raw", "residence_raw"} <= set(read)
    assert lazy.pairs.right is not None and lazy.pairs.right.columns == read
    # read with its repeated values coded (names, keys, places, codes), not its identifiers
    coded = {c for c, t in lazy.pairs.right.schema.items() if t == pl.Categorical}
    assert coded == set(read) & REPEATED_COLUMNS
    assert {"given_key", "family_lat", "sex", "birth_place_raw", "relation_to_head"} <= coded
    assert not {"person_id", "household_id", "record_id", "cin"} & coded
    assert lazy.households.schema == eager.households.schema
    assert lazy.links.schema == eager.links.schema
    assert lazy.pairs.frame.equals(eager.pairs.frame)
    assert lazy.clusters.equals(eager.clusters)


def test_a_lazy_registry_without_standardised_columns_is_a_usage_error(data) -> None:
    raw = pl.LazyFrame({"nom": ["Alaoui"], "prenom": ["Mohamed"]})
    with pytest.raises(UsageError, match="not a standardised frame"):
        Linker.from_config(MODEL_CONFIG).link(raw, [data["coop"]])


def test_previous_keys_keep_beneficiary_keys(data, result: LinkResult) -> None:
    previous = result.clusters.select("source", "record_id", "beneficiary_key")
    again = Linker.from_config(MODEL_CONFIG).link(
        data["registry"], [data["coop"], data["ordre"]], model=result.model, previous_keys=previous
    )
    joined = previous.join(again.clusters, on=["source", "record_id"], suffix="_new")
    assert joined.height == previous.height
    assert (joined["beneficiary_key"] == joined["beneficiary_key_new"]).all()


def test_reviewer_decisions_are_applied(data, result: LinkResult) -> None:
    matched = result.links.filter(pl.col("decision") == "match").head(3)
    reviewed = result.links.filter(pl.col("decision") == "review").head(1)
    prior = pl.concat(
        [
            matched.select("source", "record_id", "person_id", decision=pl.lit("reject")),
            reviewed.select("source", "record_id", "person_id", decision=pl.lit("accept")),
        ]
    )
    assert (matched.height, reviewed.height) == (3, 1)  # both kinds of decision are exercised
    again = Linker.from_config(MODEL_CONFIG).link(
        data["registry"], [data["coop"], data["ordre"]], model=result.model, prior_decisions=prior
    )
    links = again.links.join(prior, on=["source", "record_id"], suffix="_prior")
    for r in links.iter_rows(named=True):
        if r["decision_prior"] == "reject":
            assert r["person_id"] != r["person_id_prior"]
        else:
            assert (r["decision"], r["person_id"]) == ("match", r["person_id_prior"])
            assert "accepted by" in r["reason"]


def test_a_partner_list_given_twice_is_a_usage_error(data) -> None:
    with pytest.raises(UsageError, match="given twice"):
        Linker.from_config(MODEL_CONFIG).link(data["registry"], [data["coop"], data["coop"]])


def test_no_partner_list_is_a_usage_error(data) -> None:
    with pytest.raises(UsageError, match="at least one partner list"):
        Linker.from_config(MODEL_CONFIG).link(data["registry"], [])


@pytest.mark.parametrize("side", ["partner", "registry"])
def test_a_non_standardised_frame_is_a_usage_error(data, side: str) -> None:
    raw = pl.DataFrame({"nom": ["Alaoui"], "prenom": ["Mohamed"], "ddn": ["1980"]})
    registry, partners = data["registry"], [data["coop"]]
    if side == "partner":
        partners = [raw]
    else:
        registry = raw
    with pytest.raises(UsageError, match="not a standardised frame") as info:
        Linker.from_config(MODEL_CONFIG).link(registry, partners)
    assert "load_standardised" in str(info.value)


def test_inputs_are_standardised(data) -> None:
    assert isinstance(data["coop"], StandardisedList)
    assert list(data["coop"].frame.columns[: len(STANDARDISED_SCHEMA)]) == list(STANDARDISED_SCHEMA)


def test_records_cut_off_by_blocking_limits_say_so(data) -> None:
    """With tight max_candidates, records whose every block was skipped get a reason naming
    the rules, not the bare "no candidate pair"; the summary counts them per rule."""
    import dataclasses
    import warnings

    from registry_link.block.candidates import OversizedBlockWarning
    from registry_link.model import load_model_config

    settings = load_model_config(MODEL_CONFIG)
    tight = dataclasses.replace(
        settings,
        blocking_rules=tuple(
            r if r.name == "cin" else dataclasses.replace(r, max_candidates=1)
            for r in settings.blocking_rules
        ),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OversizedBlockWarning)
        result = Linker(tight).link(data["registry"], [data["coop"], data["ordre"]])
    in_skipped = result.summary["records_in_skipped_blocks"]
    assert in_skipped and set(in_skipped) <= {r.name for r in tight.blocking_rules}
    cut = result.links.filter(pl.col("reason").str.starts_with("no candidate pair ("))
    assert cut.height > 0
    assert (cut["decision"] == "non_match").all() and cut["person_id"].is_null().all()
    assert cut["reason"].str.contains("its keys are too common").all()
    assert cut.height <= sum(in_skipped.values())
    assert result.summary["records_cut_off_by_blocking_limits"] == cut.height
    # without limits, each of them has a candidate
    plain = Linker(settings).link(data["registry"], [data["coop"], data["ordre"]]).links
    again = plain.join(cut.select("source", "record_id"), on=["source", "record_id"])
    assert (again["reason"] != "no candidate pair").all()


def test_records_are_prepared_once_only_when_the_u_sample_reaches_most_of_them(data) -> None:
    """Shared per-record work for a side the u sample reaches more than half of; not for a
    side (a large registry) it reaches less of."""
    from registry_link.compare import CompareEngine
    from registry_link.model import load_model_config

    right = data["registry"].frame  # type: ignore[union-attr]
    left = data["coop"].frame  # type: ignore[union-attr]
    comps = load_model_config(MODEL_CONFIG).comparisons
    n = right.height
    assert left.height < n

    def whole(u: int, caches: bool = True) -> tuple[str, ...]:
        with CompareEngine(left, right, comps, random_pairs=u, caches=caches) as engine:
            return engine.whole_sides

    assert whole(1_000_000) == ("left", "right")
    # u ln 2 < n: the registry is not prepared, the (shorter) partner list still is
    assert whole(n // 2) == ("left",)
    assert whole(left.height // 2) == ()
    assert whole(1_000_000, caches=False) == ()


@pytest.mark.parametrize(("workers", "caches"), [(1, False), (2, False), (1, True)])
def test_the_engine_knobs_change_no_result(data, workers: int, caches: bool) -> None:
    """The records' prepared comparison work serves the candidate pairs, the u sample (in the
    background), the household pass's extra pairs and (partner side) the within-list pairs;
    with one thread or without the caches, every output is equal."""
    registry, partners = data["registry"], [data["coop"], data["ordre"]]
    default = Linker.from_config(MODEL_CONFIG, workers=2).link(registry, partners)
    plain = Linker.from_config(MODEL_CONFIG, workers=workers, caches=caches).link(
        registry, partners
    )
    assert plain.model.params == default.model.params
    assert plain.model.tf_tables == default.model.tf_tables
    assert plain.links.equals(default.links)
    assert plain.households.equals(default.households)
    assert plain.review.equals(default.review)
    assert plain.clusters.equals(default.clusters)
    assert set(plain.timings) == set(default.timings) == set(default.summary["timings_s"])


def test_the_scored_pairs_columns_are_chunked_alike_whatever_the_compare_chunks(
    data, result: LinkResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compared in chunks of 400 pairs (the engine's chunks: one per million pairs at scale),
    the same outputs, and every column of the scored pairs in the same chunks (the first
    pass's pairs, the household pass's extra ones): filtered or gathered (review, decide),
    no column is copied whole first to match the others' chunks."""
    import functools

    import registry_link.linker as linker_module
    from registry_link.compare import CompareEngine

    registry, partners = data["registry"], [data["coop"], data["ordre"]]
    whole = Linker.from_config(MODEL_CONFIG, workers=1).link(registry, partners, model=result.model)
    monkeypatch.setattr(
        linker_module, "CompareEngine", functools.partial(CompareEngine, chunk_size=400)
    )
    small = Linker.from_config(MODEL_CONFIG, workers=1).link(registry, partners, model=result.model)
    frame = small.pairs.frame
    assert frame.height > 2_000  # (several compare chunks)
    # (a column of one value may be held as that value: one chunk)
    assert {frame[c].n_chunks() for c in frame.columns} <= {1, frame["l_idx"].n_chunks()}
    assert frame["l_idx"].n_chunks() <= 2
    assert small.links.equals(whole.links)
    assert small.review.equals(whole.review)
    assert small.households.equals(whole.households)
    assert small.clusters.equals(whole.clusters)


def test_the_within_list_pairs_are_blocked_in_the_background_of_the_household_pass(
    data, result: LinkResult
) -> None:
    """The within-list dedupe: with two workers its pairs are blocked in the link engine's
    helper thread, submitted before the first pass is scored (so beside score, decide and
    the household pass), then compared there once the final decisions are known (beside the
    review pairs), and the outputs are the one-thread ones; with one worker both run in
    their own stage after the household pass, as they did before."""
    import threading

    seen: list[str] = []
    started: list[tuple[str, str, list[str]]] = []

    class Watched(Linker):
        def _within_candidates(self, engine):  # type: ignore[no-untyped-def]
            started.append(("block", threading.current_thread().name, list(seen)))
            return super()._within_candidates(engine)

        def _within_lists(self, engine, model, candidates, links):  # type: ignore[no-untyped-def]
            started.append(("compare", threading.current_thread().name, list(seen)))
            return super()._within_lists(engine, model, candidates, links)

    linker = Watched(
        model_module.load_model_config(MODEL_CONFIG),
        on_stage=lambda name, _s: seen.append(name),
        workers=2,
    )
    got = linker.link(data["registry"], [data["coop"], data["ordre"]])
    [(first, thread, before), (second, then, after)] = started
    assert (first, second) == ("block", "compare")
    assert thread != threading.main_thread().name and then != threading.main_thread().name
    assert "train" in before and "score" not in before and "household_context" not in before
    assert "household_context" in after and "review" not in after
    assert seen.index("household_context") < seen.index("dedupe")
    assert got.clusters.equals(result.clusters)
    assert got.links.equals(result.links)
    assert got.review.equals(result.review)
    # one worker: in its own stage, after the household pass, as before
    started.clear()
    seen.clear()
    linker.workers = 1
    alone = linker.link(data["registry"], [data["coop"], data["ordre"]])
    assert [what for what, _, _ in started] == ["block", "compare"]
    for _, thread, before in started:
        assert thread == threading.main_thread().name
        assert "review" in before and "dedupe" not in before
    assert alone.clusters.equals(result.clusters)


def test_the_within_list_pairs_of_two_matched_records_are_not_compared(
    data, result: LinkResult
) -> None:
    """Clustering ignores a within-list pair whose records are both matched to the registry
    (the registry decided): the dedupe compares only pairs with an unmatched record, and the
    clusters are those of every candidate pair compared (the pairs at or above the threshold
    of all candidates, given to ``cluster``)."""
    from registry_link.cluster.components import cluster, matched_persons
    from registry_link.compare import CompareEngine as Engine

    linker = Linker.from_config(MODEL_CONFIG, workers=1)
    left = Linker._partners([data["coop"], data["ordre"]])
    links = result.links.select("source", "record_id", "person_id", "decision")
    pass1 = linker._first_pass_model(result.model)
    with Engine(left, left, pass1.comparisons, workers=1) as engine:
        candidates = linker._within_candidates(engine)
        compared: list[int] = []
        real_compare = engine.compare

        def counted(pairs: pl.DataFrame) -> pl.DataFrame:
            compared.append(pairs.height)
            return real_compare(pairs)

        engine.compare = counted  # type: ignore[method-assign]
        kept = linker._within_lists(engine, pass1, candidates, links)
        everyone = linker._within_lists(
            engine, pass1, candidates, links.with_columns(decision=pl.lit("non_match"))
        )
    matched = matched_persons(links, left).is_not_null()
    both = matched.gather(candidates["l_idx"]) & matched.gather(candidates["r_idx"])
    assert both.any() and not both.all()  # (both kinds of pairs among the candidates)
    assert compared == [candidates.height - int(both.sum()), candidates.height]
    assert kept.height < everyone.height
    threshold = linker.settings.match_threshold
    assert cluster(links, kept, left, threshold=threshold).equals(
        cluster(links, everyone, left, threshold=threshold)
    )
    assert cluster(links, kept, left, threshold=threshold).equals(result.clusters)


def test_saved_model_holds_no_name_fewer_than_ten_registry_persons_share(
    data, result: LinkResult, tmp_path: Path
) -> None:
    """Privacy of model.json (issue 19): every name or place it keeps is held by at least
    TF_MIN_PERSONS registry persons, counted here on the registry itself; the rarer ones the
    trained model knows are absent from the file, and its header says what it holds."""
    path = tmp_path / "model.json"
    save_model(result.model, path)
    text = path.read_text(encoding="utf-8")
    saved = load_model(path)
    registry = data["registry"].frame
    left_out = 0
    for column, table in result.model.tf_tables.items():
        counts = dict(registry.get_column(column).drop_nulls().value_counts().iter_rows())
        for value in saved.tf_tables[column]:
            assert counts[value] >= model_module.TF_MIN_PERSONS, (column, value)
        rare = [v for v in table if counts[v] < model_module.TF_MIN_PERSONS]
        left_out += len(rare)
        assert not set(rare) & set(saved.tf_tables[column])
    assert left_out > 0  # the check saw rare names (the registry has them)
    assert '"personal_data"' in text.split('"comparisons"')[0]


def test_a_model_compares_with_its_own_comparisons_whatever_the_config_says_today(
    data, tmp_path: Path
) -> None:
    """A model trained before a comparison gained a level (here: the birth date without
    "one character differs") links with today's config as with the config it was trained
    with: the engine compares with the model's comparisons, so its m and u keep their
    meaning (before, the config's new level gave gammas the model has no weight for)."""
    older = tmp_path / "model_before.yaml"
    text = MODEL_CONFIG.read_text(encoding="utf-8")
    assert "one_character: true" in text
    older.write_text(text.replace(", one_character: true", ""), encoding="utf-8")
    partners = [data["coop"], data["ordre"]]
    model = Linker.from_config(older).train(data["registry"], partners)
    birth = next(c for c in model.comparisons if c.name == "birth_date")
    today = next(
        c for c in Linker.from_config(MODEL_CONFIG).settings.comparisons if c.name == "birth_date"
    )
    assert birth.n_levels == today.n_levels - 1  # the configs do differ
    path = tmp_path / "model.json"
    save_model(model, path)
    cols = ["source", "record_id", "person_id", "decision", "match_probability"]
    as_trained = Linker.from_config(older).link(data["registry"], partners, model=load_model(path))
    with_today = Linker.from_config(MODEL_CONFIG).link(
        data["registry"], partners, model=load_model(path)
    )
    assert as_trained.links.select(cols).equals(with_today.links.select(cols))
    assert as_trained.model.params == with_today.model.params
