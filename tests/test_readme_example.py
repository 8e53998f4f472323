"""The library example in the README runs as written (from the project folder)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


@pytest.mark.slow
def test_readme_library_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    blocks = _python_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert blocks, "the README has no python example"
    cwd = Path.cwd()
    os.chdir(ROOT)
    try:
        namespace: dict[str, object] = {}
        exec(compile(blocks[0], "README.md", "exec"), namespace)
    finally:
        os.chdir(cwd)
    result = namespace["result"]
    links = result.links  # type: ignore[attr-defined]
    coop = namespace["coop"]
    assert links.height == coop.frame.height  # type: ignore[attr-defined]
    assert set(links["decision"].unique()) <= {"match", "review", "non_match"}
    assert namespace["same_name"]("محمد", "Mhamed") is True  # type: ignore[operator]
    assert "records read" in capsys.readouterr().out
