"""``registry-link evaluate``: a run folder scored against its truth, per list and per slice.

The data is a 6,000-person synthetic registry with the slice noises on (``synth.generate``,
seed 5) and two of its lists, matched once for the module; the last test runs the shipped
sample end to end (``demo`` then ``evaluate``).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from registry_link.cli import main
from registry_link.report.evaluation import SLICES, evaluate_links

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
LISTS = (
    ("partner_coop_ar.csv", "partner_coop_ar.yaml"),
    ("partner_ordre_fullname.xlsx", "partner_ordre_fullname.yaml"),
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from registry_link.synth import generate
    from registry_link.synth.noise import SliceNoiseRates

    out = tmp_path_factory.mktemp("synth_eval")
    generate(6000, 5, out, slice_noise=SliceNoiseRates())
    return out


def partner_args(data_dir: Path) -> list[str]:
    args = []
    for data, config in LISTS:
        args += ["--partner", str(data_dir / data), "--config", str(CONFIGS / config)]
    return args


@pytest.fixture(scope="module")
def run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("eval_run") / "run"
    main(
        [
            "match",
            "--registry",
            str(data_dir / "registry.csv"),
            "--registry-config",
            str(CONFIGS / "registry.yaml"),
            *partner_args(data_dir),
            "--out",
            str(out),
        ]
    )
    return out


def truth_of(data_dir: Path) -> pl.DataFrame:
    truth = pl.read_csv(data_dir / "ground_truth.csv", infer_schema=False)
    return truth.filter(pl.col("source").is_in([Path(d).stem for d, _ in LISTS]))


def evaluate_json(run: Path, truth: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    capsys.readouterr()
    main(["evaluate", str(run), "--truth", str(truth), "--json", *extra])
    return json.loads(capsys.readouterr().out)


def run_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_scores_every_slice_of_a_run(
    run: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scores = evaluate_json(run, data_dir / "ground_truth.csv", capsys)
    assert scores == json.loads((run / "evaluation.json").read_text(encoding="utf-8"))
    rows = {(r["slice"], r["source"]): r for r in scores["slices"]}
    sources = [d.removesuffix(".csv").removesuffix(".xlsx") for d, _ in LISTS]
    assert set(rows) == {(s, src) for s in SLICES for src in [*sources, "all"]}
    assert all(r["measurable"] and r["unlabelled"] == 0 for r in rows.values())
    links = pl.read_parquet(run / "links.parquet")
    whole = evaluate_links(links, truth_of(data_dir)).to_dicts()
    assert scores["links"] == whole
    for r in whole:
        assert rows[("all", r["source"])]["recall"] == r["recall"]
    truth = truth_of(data_dir)
    labelled = {
        "mistyped_birth_date": truth["birth_date_error"].is_not_null().sum(),
        "relative_cin": (truth["cin_of_relative"] == "true").sum(),
        "name_variant": (truth["name_variant"] == "true").sum(),
        "not_in_registry": truth["person_id"].is_null().sum(),
    }
    for name, count in labelled.items():
        assert rows[(name, "all")]["records"] == count > 0, name
    coop = rows[("arabic_script", "partner_coop_ar")]
    # Arabic names only, but for the two rows with no name at all (NoiseRates.empty_name_rows)
    assert coop["records"] == rows[("all", "partner_coop_ar")]["records"] - 2
    assert rows[("unsplit_name", "partner_coop_ar")]["records"] == 0
    ordre = rows[("unsplit_name", "partner_ordre_fullname")]
    assert ordre["records"] == rows[("all", "partner_ordre_fullname")]["records"] - 2


def test_prints_the_tables(run: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    main(["evaluate", str(run), "--truth", str(data_dir / "ground_truth.csv")])
    captured = capsys.readouterr()
    assert "Links per list" in captured.out
    scores = json.loads((run / "evaluation.json").read_text(encoding="utf-8"))
    exact = scores["households_reproduced"]
    assert 0 < exact["reproduced"] <= exact["true_households"]
    assert re.search(
        rf"reproduced exactly \(≥ 2 records\) +{exact['share']:.4f} +"
        rf"{exact['reproduced']:,} of {exact['true_households']:,}",
        captured.out,
    )
    assert "Per slice" in captured.out
    for name in SLICES:
        assert name in captured.out
    assert "reading and standardising" in captured.err  # progress on stderr only
    assert "reading" not in captured.out


def test_inputs_given_explicitly_give_the_same_scores(
    run: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorded = evaluate_json(run, data_dir / "ground_truth.csv", capsys)
    given = evaluate_json(
        run,
        data_dir / "ground_truth.csv",
        capsys,
        *partner_args(data_dir),
        "--registry",
        str(data_dir / "registry.csv"),
        "--registry-config",
        str(CONFIGS / "registry.yaml"),
    )
    assert given == recorded


def test_a_truth_without_labels_leaves_their_slices_unmeasured(
    run: Path, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = tmp_path / "truth.csv"
    truth_of(data_dir).select(
        "source", "record_id", "true_person_uid", "person_id", "household_id"
    ).write_csv(truth)
    scores = evaluate_json(run, truth, capsys)
    unmeasured = {r["slice"] for r in scores["slices"] if not r["measurable"]}
    assert unmeasured == {
        "mistyped_birth_date",
        "relative_cin",
        "lookalike_cin",
        "name_variant",
        "place_spelling",
    }
    capsys.readouterr()
    main(["evaluate", str(run), "--truth", str(truth)])
    printed = capsys.readouterr().out
    assert "not measurable" in printed
    assert re.search(r"relative_cin +n/m +n/m", printed)


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda item: item.update(sha256="0" * 64), "changed since the run"),
        (lambda item: item.update(path="/nonexistent/list.csv"), "no longer exists"),
    ],
    ids=["changed", "gone"],
)
def test_a_changed_input_is_refused(
    edit, words: str, run: Path, data_dir: Path, tmp_path: Path, capsys
) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    summary = json.loads((copy / "summary.json").read_text(encoding="utf-8"))
    edit(summary["inputs"]["partners"][0])
    (copy / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    err = run_error(["evaluate", str(copy), "--truth", str(data_dir / "ground_truth.csv")], capsys)
    assert words in err
    assert "--partner" in err


def test_user_mistakes_are_one_clean_message(
    run: Path, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    err = run_error(["evaluate", str(empty), "--truth", str(data_dir / "ground_truth.csv")], capsys)
    assert "links.parquet" in err and "registry-link match" in err
    bad = tmp_path / "truth.csv"
    bad.write_text("source,record_id\na,1\n", encoding="utf-8")
    err = run_error(["evaluate", str(run), "--truth", str(bad)], capsys)
    assert "true_person_uid" in err


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / "sample_data").is_dir(), reason="no sample_data/")
def test_the_shipped_sample_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "demo"
    main(["demo", "--out", str(out)])
    truth = ROOT / "sample_data" / "ground_truth.csv"
    scores = evaluate_json(out, truth, capsys)
    rows = {(r["slice"], r["source"]): r for r in scores["slices"]}
    labels = set(pl.read_csv(truth, n_rows=1).columns)
    for name in SLICES:
        by_truth = {
            "mistyped_birth_date": "birth_date_error",
            "relative_cin": "cin_of_relative",
            "name_variant": "name_variant",
        }
        expected = name not in by_truth or by_truth[name] in labels
        assert rows[(name, "all")]["measurable"] is expected, name
        assert rows[(name, "all")]["records"] > 0, name  # the sample has every slice
    assert rows[("all", "all")]["records"] == 15_928
    assert rows[("cross_script", "all")]["records"] > 0
    assert rows[("arabic_script", "partner_coop_ar")]["records"] == 5_194 - 2  # 2 unnamed
    assert rows[("all", "all")]["recall"] > 0.95
