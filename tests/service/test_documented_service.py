"""The service block of docs/service.md runs as written, in bash, on the sample: demo, a key,
the server in the background, the two curl searches, ``kill %1``.

Only the port is changed (8000 → a free one: the machine is shared). The README's service
example is the same block; tests/cli/test_documented_commands.py leaves its ``serve``, ``curl``,
``KEY=`` and ``kill`` lines to this test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_block(page: str = "docs/service.md") -> str:
    """The bash block of a page (docs/service.md, README.md) that starts the service and
    searches it."""
    text = (ROOT / page).read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    (block,) = [b for b in blocks if "registry-link serve" in b]
    return block


def test_the_readme_gives_the_same_service_block() -> None:
    """The README's service example is the block run below, word for word."""
    assert service_block("README.md") == service_block()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_documented_service_example_runs(tmp_path: Path) -> None:
    for folder in ("sample_data", "configs", "docs"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    port = _free_port()
    block = service_block()
    assert block.count(":8000") == 2 and "--port 8000" in block
    script = block.replace(":8000", f":{port}").replace("--port 8000", f"--port {port}")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("REGISTRY_LINK_DB", None)
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answers = _answers(done.stdout)
    assert len(answers) == 2
    by_cin, by_names = answers
    (cin,) = by_cin["message"]["search_response"]
    assert cin["reference_id"] == "ref-1" and cin["status"] == "succ"
    assert cin["data"]["reg_records"][0]["person_id"] == "7986700026"
    arabic, latin = by_names["message"]["search_response"]
    assert arabic["data"]["reg_records"][0]["person_id"] == "7986700026"
    assert latin["data"]["reg_records"][0]["person_id"] == "7986700026"
    assert latin["data"]["reg_records"][0]["decision"] == "match"
    assert "rlk_" not in done.stderr  # the key is printed once, on stdout, into $KEY


def _answers(stdout: str) -> list[dict[str, object]]:
    """The JSON documents curl printed (one after the other, no newline between them)."""
    decoder = json.JSONDecoder()
    found, at = [], stdout.find('{"signature"')
    while at != -1:
        document, end = decoder.raw_decode(stdout, at)
        found.append(document)
        at = stdout.find('{"signature"', end)
    return found
