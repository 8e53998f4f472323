"""Files written by ``generate`` / ``registry-link synth``: bytes, encodings, layouts, configs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest
import yaml
from click.testing import CliRunner

from registry_link.errors import UsageError
from registry_link.synth import generate

SEED = 20261122
CONFIGS = Path(__file__).resolve().parents[2] / "configs"
PARTNER_FILES = (
    "partner_coop_ar.csv",
    "partner_chambre_fr.csv",
    "partner_chambre_fr_ayants_droit.csv",
    "partner_ordre_fullname.xlsx",
)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 12,000-person sample written once for the module."""
    path = tmp_path_factory.mktemp("synth")
    generate(12_000, SEED, path)
    return path


def _csv(path: Path, encoding: str, sep: str) -> pl.DataFrame:
    text = path.read_bytes().decode(encoding)
    return pl.read_csv(io.StringIO(text), separator=sep, infer_schema=False)


def test_files_written(out: Path) -> None:
    names = {p.name for p in out.iterdir()}
    expected = {"registry.csv", "registry_households.csv", "ground_truth.csv"}
    assert expected | set(PARTNER_FILES) | {"synth_manifest.json"} == names


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_byte_identical(out: Path, tmp_path: Path, fmt: str) -> None:
    first = tmp_path / "a"
    generate(12_000, SEED, first, fmt=fmt)  # type: ignore[arg-type]
    second = tmp_path / "b"
    generate(12_000, SEED, second, fmt=fmt)  # type: ignore[arg-type]
    for path in first.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name
    if fmt == "csv":  # and identical to the module's sample
        for path in first.iterdir():
            assert path.read_bytes() == (out / path.name).read_bytes(), path.name


def test_registry_file(out: Path) -> None:
    reg = pl.read_csv(out / "registry.csv", separator=";", infer_schema=False)
    assert reg.columns[:3] == ["id_personne", "id_menage", "lien_chef"]
    assert reg.height == 12_000
    hh = pl.read_csv(out / "registry_households.csv", separator=";", infer_schema=False)
    assert hh["id_menage"].n_unique() == hh.height == reg["id_menage"].n_unique()


def test_parquet_registry(tmp_path: Path) -> None:
    summary = generate(3_000, SEED, tmp_path, partners=False, fmt="parquet")
    reg = pl.read_parquet(tmp_path / "registry.parquet")
    assert reg.height == summary.persons == 3_000
    assert "id_personne" in reg.columns
    assert not (tmp_path / "ground_truth.csv").exists()


def test_coop_file_is_utf8_bom_comma(out: Path) -> None:
    raw = (out / "partner_coop_ar.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    coop = _csv(out / "partner_coop_ar.csv", "utf-8-sig", ",")
    assert "الاسم العائلي" in coop.columns
    assert set(coop["الجنس"].drop_nulls()) == {"ذكر", "أنثى"}
    assert coop["تاريخ الازدياد"].str.contains(r"^\d{2}/\d{2}/\d{4}$").mean() > 0.85  # type: ignore[operator]


def test_chambre_files_are_windows_1256(out: Path) -> None:
    raw = (out / "partner_chambre_fr.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert b"\r\n" in raw
    workers = _csv(out / "partner_chambre_fr.csv", "cp1256", ";")
    deps = _csv(out / "partner_chambre_fr_ayants_droit.csv", "cp1256", ";")
    assert workers.columns[:4] == ["N° adhérent", "CIN", "Nom", "Prénom"]
    assert set(workers["Sexe"].drop_nulls()) == {"H", "F"}
    assert set(deps["N° adhérent"]) <= set(workers["N° adhérent"])
    assert set(deps["Lien"]) <= {"Conjoint", "Conjointe", "Enfant"}
    dates = pl.concat([workers["Date de naissance"], deps["Date de naissance"]]).drop_nulls()
    assert dates.str.contains(r"^\d{4}-\d{2}-\d{2}$").sum() > 0
    assert dates.str.contains(r"^\d{5}$").sum() > 0  # Excel serial numbers
    assert (dates == "??").sum() + dates.str.starts_with("31/02/").sum() > 0


def test_ordre_sheet(out: Path) -> None:
    sheet = pl.read_excel(out / "partner_ordre_fullname.xlsx", sheet_name="Adherents")
    names = sheet["Nom et prénom"].drop_nulls()
    family_first = names.str.contains(r"^[A-Z][A-Z' -]+ [A-Z][a-z]")
    assert 0.5 < family_first.mean() < 0.85  # type: ignore[operator]
    assert names.str.contains(r"[\u0600-\u06FF]").mean() > 0.05  # type: ignore[operator]
    assert set(sheet["Code lien"]) == {"ASS", "CJ", "ENF"}
    years = sheet["Date de naissance"].drop_nulls().str.contains(r"^\d{4}$")
    assert years.mean() > 0.6  # type: ignore[operator]
    principals = sheet.filter(pl.col("Code lien") == "ASS")
    assert principals["N° CNSS"].null_count() == 0


def test_ground_truth_file(out: Path) -> None:
    truth = pl.read_csv(out / "ground_truth.csv", infer_schema=False)
    assert truth.columns == [
        "source",
        "record_id",
        "true_person_uid",
        "person_id",
        "household_id",
        "birth_date_error",
        "cin_of_relative",
        "name_variant",
        "cin_of_lookalike",
        "place_spelling",
        "in_registry",
        "beneficiary_household_id",
    ]
    manifest = json.loads((out / "synth_manifest.json").read_text(encoding="utf-8"))
    rows = manifest["files"]
    n_partner = sum(rows[f] for f in PARTNER_FILES)
    assert truth.height == n_partner
    coop = _csv(out / "partner_coop_ar.csv", "utf-8-sig", ",")
    in_truth = truth.filter(pl.col("source") == "partner_coop_ar")["record_id"]
    assert set(coop["رقم التسجيل"]) == set(in_truth)
    assert set(truth["source"]) == {
        "partner_coop_ar",
        "partner_chambre_fr",
        "partner_ordre_fullname",
    }


def _headers(out: Path, name: str) -> list[str]:
    if name.endswith(".xlsx"):
        return pl.read_excel(out / name).columns
    if name == "partner_coop_ar.csv":
        return _csv(out / name, "utf-8-sig", ",").columns
    if name.startswith("partner_chambre"):
        return _csv(out / name, "cp1256", ";").columns
    return pl.read_csv(out / name, separator=";", n_rows=1).columns


@pytest.mark.parametrize(
    ("config", "data_file"),
    [
        ("registry.yaml", "registry.csv"),
        ("partner_coop_ar.yaml", "partner_coop_ar.csv"),
        ("partner_chambre_fr.yaml", "partner_chambre_fr.csv"),
        ("partner_ordre_fullname.yaml", "partner_ordre_fullname.xlsx"),
    ],
)
def test_configs_match_files(out: Path, config: str, data_file: str) -> None:
    cfg = yaml.safe_load((CONFIGS / config).read_text(encoding="utf-8"))
    assert cfg["source"] == Path(data_file).stem
    assert set(cfg["columns"].values()) <= set(_headers(out, data_file))
    deps = cfg.get("dependants", {})
    if deps.get("mode") == "file":
        dep_name = deps["file"].replace("{stem}", Path(data_file).stem)
        assert set(deps["columns"].values()) <= set(_headers(out, dep_name))


def test_bad_format_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="format"):
        generate(100, SEED, tmp_path, fmt="json")  # type: ignore[arg-type]


def test_cli(tmp_path: Path) -> None:
    from registry_link.cli.synth_cmd import command  # here: the CLI package imports every command

    result = CliRunner().invoke(
        command, ["--persons", "3000", "--seed", "5", "--out", str(tmp_path / "s")]
    )
    assert result.exit_code == 0, result.output
    assert "3,000 persons" in result.output
    assert (tmp_path / "s" / "ground_truth.csv").exists()
    helped = CliRunner().invoke(command, ["--help"])
    assert "Example" in helped.output and "--no-partners" in helped.output
    bad = CliRunner().invoke(command, ["--persons", "0", "--out", str(tmp_path / "x")])
    assert bad.exit_code != 0
