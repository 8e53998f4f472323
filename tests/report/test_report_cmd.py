"""``registry-link report``: writes the page, prints where; user mistakes exit 2 cleanly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from registry_link.cli import cli, main
from tests.report.conftest import TRUTH


def run_error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main(args)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("error: ")
    return err


def test_builds_the_report_in_the_run_folder(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    main(["report", str(folder)])
    captured = capsys.readouterr()
    page = folder / "report.html"
    assert page.is_file() and '<section id="households"' in page.read_text(encoding="utf-8")
    assert f"wrote {page}" in captured.out  # the result on stdout
    assert "report built in" in captured.err  # progress on stderr


def test_out_and_truth(run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "pages" / "demo.html"
    main(["report", str(run_dir), "--truth", str(TRUTH), "--out", str(target)])
    text = target.read_text(encoding="utf-8")
    assert "Per slice" in text and "precision-recall" in text
    assert str(target) in capsys.readouterr().out


def test_not_a_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = run_error(["report", str(tmp_path)], capsys)
    assert str(tmp_path) in err and "lacks summary.json" in err and "registry-link match" in err


def test_a_bad_truth_file(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("source,record_id\npartner_coop_ar,1\n", encoding="utf-8")
    err = run_error(
        ["report", str(run_dir), "--truth", str(truth), "--out", str(tmp_path / "r.html")], capsys
    )
    assert "truth.csv" in err and "true_person_uid" in err


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["report", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "registry-link report out/demo" in result.output


def test_a_recorded_run_is_found_by_its_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(__file__).resolve().parents[2]
    db = f"sqlite:///{tmp_path / 'rl.db'}"
    out = tmp_path / "coop"
    main(
        [
            "match",
            "--registry",
            str(root / "sample_data" / "registry.csv"),
            "--partner",
            str(root / "sample_data" / "partner_coop_ar.csv"),
            "--config",
            str(root / "configs" / "partner_coop_ar.yaml"),
            "--db",
            db,
            "--out",
            str(out),
        ]
    )
    (out / "report.html").unlink()
    capsys.readouterr()
    main(["report", "--run", "1", "--db", db])
    assert (out / "report.html").is_file()
    assert f"wrote {out / 'report.html'}" in capsys.readouterr().out
    err = run_error(["report", "--run", "2", "--db", db], capsys)
    assert "no run 2" in err
    err = run_error(["report", str(out), "--run", "1", "--db", db], capsys)
    assert "either RUN_DIR or --run" in err
