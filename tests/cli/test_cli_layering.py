"""The CLI is thin: its modules reach the library through its public faces only.

A command parses options, calls a workflow (:mod:`registry_link.jobs`), the facade
(:mod:`registry_link.linker`) or the public package API (``registry_link``, the model file),
and prints what comes back; errors come from :mod:`registry_link.errors`. Besides those, a
command may be the console of a tool that is its own library API: the database's run history,
review queue and API keys (``registry_link.db.engine``, ``.repository``, ``.queue``,
``.access``), the review tool (``registry_link.review``), the search service
(``registry_link.service``), the generator (``registry_link.synth``), the report writer
(``registry_link.report``, its package only) and the field reference
(``registry_link.config.fields``). The pipeline's stages (standardise, block, compare, train,
score, decide, cluster, households, the run's outputs and evaluation, the run recording) are
reached only through the jobs and the facade.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[2] / "registry_link" / "cli"

ALLOWED = (
    "registry_link",
    "registry_link.jobs",
    "registry_link.linker",
    "registry_link.errors",
    "registry_link.model",
    "registry_link.cli",
    "registry_link.db.engine",
    "registry_link.db.repository",
    "registry_link.db.queue",
    "registry_link.db.access",
    "registry_link.review",
    "registry_link.synth",
    "registry_link.report",
    "registry_link.config.fields",
)
#: Allowed as a prefix of deeper modules (a tool's own package).
PACKAGES = (
    "registry_link.cli.",
    "registry_link.review.",
    "registry_link.synth.",
    "registry_link.service",
)


def imported_modules(path: Path) -> list[str]:
    """The ``registry_link`` modules a file imports (at any depth of the file)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return [m for m in found if m == "registry_link" or m.startswith("registry_link.")]


def allowed(module: str) -> bool:
    return module in ALLOWED or module.startswith(PACKAGES)


@pytest.mark.parametrize("path", sorted(CLI.glob("*.py")), ids=lambda p: p.name)
def test_cli_modules_import_only_the_public_faces(path: Path) -> None:
    stray = [m for m in imported_modules(path) if not allowed(m)]
    assert not stray, (
        f"{path.name} imports pipeline internals {stray}: go through registry_link.jobs"
    )


def test_the_rule_catches_a_stage_import(tmp_path: Path) -> None:
    sample = tmp_path / "cmd.py"
    sample.write_text(
        "from registry_link.decide.decisions import decide\n"
        "def f():\n    from registry_link.jobs import run_match\n",
        encoding="utf-8",
    )
    assert [m for m in imported_modules(sample) if not allowed(m)] == [
        "registry_link.decide.decisions"
    ]
