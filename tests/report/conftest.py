"""A real run folder for the report tests: the shipped sample registry linked with two of the
sample partner lists (Arabic and French layouts), written as ``registry-link match`` does.

Built once per session (about 10 s): standardise, link, write the outputs and the model.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from registry_link import Linker, load_standardised
from registry_link.model import save_model
from registry_link.report.outputs import write_outputs

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data"
CONFIGS = ROOT / "configs"
TRUTH = SAMPLE / "ground_truth.csv"
#: The two partner lists linked: one with Arabic names, one with French-style names.
PARTNERS = (
    ("partner_coop_ar.csv", "partner_coop_ar.yaml"),
    ("partner_chambre_fr.csv", "partner_chambre_fr.yaml"),
)


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of a match run on the sample data (with model.json)."""
    if not TRUTH.is_file():
        pytest.skip("sample_data/ is not shipped here")
    registry = load_standardised(SAMPLE / "registry.csv", CONFIGS / "registry.yaml")
    lists = [load_standardised(SAMPLE / f, CONFIGS / c) for f, c in PARTNERS]
    result = Linker.from_config(CONFIGS / "model.yaml").link(registry, lists)
    out = tmp_path_factory.mktemp("report-run") / "out"
    summary = dict(result.summary)
    summary["inputs"] = {
        "registry": "sample_data/registry.csv",
        "partners": [f"sample_data/{f}" for f, _ in PARTNERS],
        "configs": [f"configs/{c}" for _, c in PARTNERS],
        "model_config": "configs/model.yaml",
        "model": None,
    }
    write_outputs(out, result.links, result.review, result.households, summary)
    save_model(result.model, out / "model.json")
    return out
