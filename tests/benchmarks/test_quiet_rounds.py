"""The linkage benchmark states a speed goal only from rounds where the machine was quiet
(issue 20): other processes' CPU share and the hypervisor's steal are measured per run."""

from __future__ import annotations

import sys
from collections import namedtuple
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from linkage_measure import QUIET_OTHERS, ChildRun, others_share
from linkage_report import SystemRow, goals_section

Times = namedtuple("Times", "user system idle iowait steal")


def test_others_share_is_the_busy_time_the_child_did_not_use() -> None:
    before = Times(0.0, 0.0, 0.0, 0.0, 0.0)
    # 2 cores for 10 s = 20 CPU s: 4 idle, 1 iowait, 1 stolen, 14 busy, 12 of them the child's
    after = Times(10.0, 4.0, 4.0, 1.0, 1.0)
    assert others_share(before, after, own_cpu_s=12.0) == pytest.approx(2 / 20)
    assert others_share(before, after, own_cpu_s=30.0) == 0.0  # never negative
    assert others_share(before, before, own_cpu_s=0.0) is None


@pytest.mark.parametrize(
    ("others", "steal", "quiet"),
    [(0.02, 0.0, True), (QUIET_OTHERS + 0.01, 0.0, False), (0.02, 0.2, False), (None, 0.0, False)],
)
def test_a_run_is_quiet_only_when_others_and_steal_are_low(
    others: float | None, steal: float, quiet: bool
) -> None:
    run = ChildRun(0, 1.0, 0, stolen_share=steal, others_share=others, load_before=0.1)
    assert run.quiet is quiet
    assert run.machine_state().startswith("quiet" if quiet else "BUSY")


def _row(system: str, wall: float) -> SystemRow:
    return SystemRow(system, "1 × 1", 10, wall, wall, 100, 100, 0.99, 0.99, 0.99, 0.5)


@pytest.mark.parametrize(
    ("quiet_ratios", "verdict"),
    [
        ([3.2, 3.4], "met in the quiet rounds (lowest 3.20×"),
        ([3.4, 2.9], "NOT met in the quiet rounds (lowest 2.90×"),
        ([], "not evaluated: no round was quiet"),
    ],
)
def test_the_speed_goal_is_judged_on_quiet_rounds_only(
    quiet_ratios: list[float], verdict: str
) -> None:
    text = goals_section([_row("ours", 6.0)], [_row("splink", 30.0)], quiet_ratios)
    speed = next(line for line in text.splitlines() if "speed" in line)
    assert "5.00×" in speed  # the last run's ratio is still shown
    assert verdict in speed
