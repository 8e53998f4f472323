"""``registry-link match``: the four outputs on a small synthetic set, clean errors (exit 2).

The data is a 3,000-person synthetic registry with its cooperative list (``synth.generate``,
seed 5) in a temporary folder; one successful run per module (a few seconds).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from registry_link.cli import main

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from registry_link.synth import generate

    out = tmp_path_factory.mktemp("synth_match")
    generate(3000, 5, out)
    return out


def base_args(data_dir: Path) -> list[str]:
    return [
        "match",
        "--registry",
        str(data_dir / "registry.csv"),
        "--registry-config",
        str(CONFIGS / "registry.yaml"),
        "--model-config",
        str(CONFIGS / "model.yaml"),
    ]


@pytest.fixture(scope="module")
def run(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("match_out") / "coop"
    main(
        [
            *base_args(data_dir),
            "--partner",
            str(data_dir / "partner_coop_ar.csv"),
            "--config",
            str(CONFIGS / "partner_coop_ar.yaml"),
            "--out",
            str(out),
        ]
    )
    return out


def run_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_writes_the_four_outputs_and_the_model(run: Path, data_dir: Path) -> None:
    for stem in ("links", "review", "households"):
        assert (run / f"{stem}.parquet").is_file()
        assert (run / f"{stem}.csv").is_file()
    assert (run / "summary.json").is_file()
    assert (run / "model.json").is_file()
    partner_rows = pl.read_csv(data_dir / "partner_coop_ar.csv").height
    links = pl.read_parquet(run / "links.parquet")
    assert links.height == partner_rows
    assert links.select("source", "record_id").n_unique() == partner_rows
    assert pl.read_parquet(run / "households.parquet").height == partner_rows


def test_summary_names_the_inputs_and_counts(run: Path, data_dir: Path) -> None:
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    partner = (data_dir / "partner_coop_ar.csv").resolve()
    assert summary["inputs"]["partners"] == [
        {"path": str(partner), "sha256": hashlib.sha256(partner.read_bytes()).hexdigest()}
    ]
    assert summary["inputs"]["model"] is None
    assert Path(summary["inputs"]["registry"]["path"]).is_absolute()
    links = pl.read_parquet(run / "links.parquet")
    assert summary["records"]["partner"] == links.height
    assert summary["decisions"] == dict(links.group_by("decision").len().iter_rows())
    assert "summary.json" in summary["files"]


def test_reusing_the_saved_model_gives_the_same_links(
    run: Path, data_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "again"
    main(
        [
            *base_args(data_dir),
            "--partner",
            str(data_dir / "partner_coop_ar.csv"),
            "--config",
            str(CONFIGS / "partner_coop_ar.yaml"),
            "--model",
            str(run / "model.json"),
            "--out",
            str(out),
        ]
    )
    cols = ["source", "record_id", "person_id", "decision"]
    first = pl.read_parquet(run / "links.parquet").select(cols)
    again = pl.read_parquet(out / "links.parquet").select(cols)
    assert first.equals(again)
    assert not (out / "model.json").exists()  # a given model is not written again


def test_a_partner_without_its_config_is_a_clean_usage_error(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = run_error(
        [
            *base_args(data_dir),
            "--partner",
            str(data_dir / "partner_coop_ar.csv"),
            "--partner",
            str(data_dir / "partner_ordre_fullname.xlsx"),
            "--config",
            str(CONFIGS / "partner_coop_ar.yaml"),
            "--out",
            str(tmp_path / "o"),
        ],
        capsys,
    )
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ") and "--config" in lines[0]
    assert not (tmp_path / "o").exists()


def test_no_config_at_all_is_exit_2_without_traceback(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = run_error(
        [
            *base_args(data_dir),
            "--partner",
            str(data_dir / "partner_coop_ar.csv"),
            "--out",
            str(tmp_path / "o"),
        ],
        capsys,
    )
    assert "Missing option '--config'" in err


def test_a_config_naming_an_absent_column_names_file_and_column(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (CONFIGS / "partner_coop_ar.yaml").read_text(encoding="utf-8")
    assert '"اسم الأب"' in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace('"اسم الأب"', '"اسم الأم"'), encoding="utf-8")
    err = run_error(
        [
            *base_args(data_dir),
            "--partner",
            str(data_dir / "partner_coop_ar.csv"),
            "--config",
            str(bad),
            "--out",
            str(tmp_path / "o"),
        ],
        capsys,
    )
    # progress lines come first on stderr; the error is one line of its own
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1
    assert "partner_coop_ar.csv" in errors[0]
    assert "اسم الأم" in errors[0]
    assert "father_given_name" in errors[0]


def test_an_out_that_is_a_file_is_a_clean_usage_error(
    run: Path, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "a_file"
    target.write_text("x", encoding="utf-8")
    err = run_error(
        [
            *base_args(data_dir),
            "--partner",
            str(data_dir / "partner_coop_ar.csv"),
            "--config",
            str(CONFIGS / "partner_coop_ar.yaml"),
            "--model",
            str(run / "model.json"),
            "--out",
            str(target),
        ],
        capsys,
    )
    # refused by the option itself, before anything is read
    assert "Invalid value for '--out'" in err and "is a file" in err
    assert "registry:" not in err


@pytest.mark.filterwarnings("ignore::registry_link.block.candidates.OversizedBlockWarning")
def test_records_cut_off_by_tight_blocking_limits_are_counted_and_explained(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (CONFIGS / "model.yaml").read_text(encoding="utf-8")
    tight = tmp_path / "model_tight.yaml"
    tight.write_text(text.replace("max_candidates: 100", "max_candidates: 1"), encoding="utf-8")
    out = tmp_path / "out"
    args = [*base_args(data_dir), "--partner", str(data_dir / "partner_coop_ar.csv")]
    args[args.index("--model-config") + 1] = str(tight)
    capsys.readouterr()
    main([*args, "--config", str(CONFIGS / "partner_coop_ar.yaml"), "--out", str(out)])
    printed = capsys.readouterr().out  # the summary table goes to stdout, progress to stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    cut = summary["records_cut_off_by_blocking_limits"]
    assert cut > 0
    assert "no candidate: keys too common" in printed
    links = pl.read_parquet(out / "links.parquet")
    assert links.filter(pl.col("reason").str.contains("its keys are too common")).height == cut
