"""Every command the README shows, and every example in every command's --help, runs.

The commands run in order, in one sandbox folder holding a copy of the shipped ``sample_data/``
and ``configs/``, through the CLI's entry point, and must exit 0: the README's, then the help
examples, which start without the README's exported variables, as in a new shell (their
database is ``./registry-link.db``, where the README recorded the chamber list as run 1).
``export NAME=VALUE`` lines set the environment of the commands after them, as in a shell. In
a --help example, ``...`` stands for the options of the first full example of the same command
(less its ``--out``).

Not run here, each for a stated reason (:data:`NOT_RUN`): the two install-and-run commands
(``.ci/run`` runs them exactly as written, in fresh virtual environments), the interactive review
tool (tests/review drive it through a pty), examples that need a PostgreSQL server at a fixed
address, and a 10-million-person synth run.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from registry_link.cli import cli, main

ROOT = Path(__file__).resolve().parents[2]

#: Command lines (as words) not run here, with the reason.
NOT_RUN: dict[str, str] = {
    "python3 -m venv": ".ci/run runs the README's two install commands in fresh venvs",
    ". .venv/bin/activate": "a shell's own step",
    "registry-link review --reviewer": "interactive: driven through a pty in tests/review",
    "postgresql+psycopg://": "needs a PostgreSQL server at that address (tests/db use one)",
    "--persons 10000000": "10,000,000 persons: a minute and 1 GB (the 50,000 example runs)",
    ".venv/bin/python -m pytest": "this suite itself",
    ".venv/bin/ruff": "tests/test_code_quality.py runs it",
    ".venv/bin/mypy": "tests/test_code_quality.py runs it",
    "benchmarks/": "a benchmark: minutes to hours, and Splink from the bench extra",
    "registry-link serve": "a server, running until stopped: tests/service/"
    "test_documented_service.py runs docs/service.md's block (serve, KEY=, curl, kill)",
    "registry-link keys revoke": "needs the id of a key made before (tests/service revoke one)",
    "registry-link keys public-key": "needs the id of a key made before and a partner's public "
    "key file (tests/service/test_signed_requests.py runs it)",
    "--public-key cnss-public.pem": "needs a partner's public key file "
    "(tests/service/test_signed_requests.py makes one and runs it)",
    "KEY=$(": "the service block: tests/service/test_documented_service.py runs it as written",
    "curl ": "the service block: tests/service/test_documented_service.py runs it as written",
    "kill %1": "the service block: tests/service/test_documented_service.py runs it as written",
}


def bash_blocks(markdown: str) -> Iterator[str]:
    """The lines of every ```bash block, continuation lines joined."""
    for block in re.findall(r"```bash\n(.*?)```", markdown, flags=re.S):
        yield from joined_lines(block)


def joined_lines(text: str) -> Iterator[str]:
    """Lines with backslash continuations joined, blank lines left out."""
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        if current and not current.startswith("#"):
            yield current
        current = ""


def help_examples() -> Iterator[tuple[str, str]]:
    """(command path, example line) of every command's --help, in the order of the commands."""

    def walk(cmd: click.Command, path: list[str]) -> Iterator[tuple[str, click.Command]]:
        yield " ".join(path), cmd
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                yield from walk(sub, [*path, name])

    for path, cmd in walk(cli, []):
        text = cmd.help or ""
        if "Example:" not in text:
            continue
        block = text.split("Example:", 1)[1].split("\n\n", 1)[0]
        for line in joined_lines(block):
            if line.startswith("registry-link"):
                yield path, line


def words_of(line: str) -> list[str]:
    """The shell words of a command line, comments left out."""
    return shlex.split(line, comments=True)


def expand_ellipsis(words: list[str], full: dict[str, list[str]]) -> list[str]:
    """``registry-link match ... --model m.json`` → the first full ``match`` example's options
    (less its ``--out``) in place of ``...``."""
    if "..." not in words:
        return words
    command = words[1]
    base = full[command]
    kept: list[str] = []
    skip = False
    for word in base[2:]:
        if skip:
            skip = False
            continue
        if word == "--out":
            skip = True
            continue
        kept.append(word)
    at = words.index("...")
    return [*words[:at], *kept, *words[at + 1 :]]


def reason_not_run(line: str) -> str | None:
    """Why a documented line is not run here, or None (comments do not count)."""
    command = line if line.startswith(".") else " ".join(words_of(line))
    for marker, reason in NOT_RUN.items():
        if marker in command:
            return reason
    return None


@pytest.fixture()
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder as a newcomer's clone looks for these commands: the sample data and configs."""
    shutil.copytree(ROOT / "sample_data", tmp_path / "sample_data")
    shutil.copytree(ROOT / "configs", tmp_path / "configs", symlinks=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REGISTRY_LINK_DB", raising=False)
    return tmp_path


def run_line(line: str, monkeypatch: pytest.MonkeyPatch, full: dict[str, list[str]]) -> None:
    """Run one documented command line as a shell would; fail on a non-zero exit."""
    words = words_of(line)
    if words[0] == "export":
        name, value = words[1].split("=", 1)
        monkeypatch.setenv(name, value)
        return
    assert words[0] == "registry-link", f"not a registry-link command: {line}"
    words = expand_ellipsis(words, full)
    try:
        main(words[1:])
    except SystemExit as exc:
        assert exc.code in (0, None), f"`{line}` exited {exc.code}"


@pytest.mark.slow
def test_every_readme_command_then_every_help_example_runs(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    readme_lines = list(bash_blocks(readme))
    examples = list(help_examples())
    full = {}
    for _, line in examples:
        words = words_of(line)
        if "..." not in words and len(words) > 1:
            full.setdefault(words[1], words)
    ran: list[str] = []
    for n, line in enumerate([*readme_lines, *(line for _, line in examples)]):
        if n == len(readme_lines):  # the help examples start as a new shell would
            monkeypatch.delenv("REGISTRY_LINK_DB", raising=False)
        if reason_not_run(line) or line in ran:
            continue
        run_line(line, monkeypatch, full)
        ran.append(line)
        capsys.readouterr()  # keep the captured output small
    assert any(line.startswith("registry-link match") for line in ran)
    assert any(line.startswith("registry-link review") for line in ran)
    assert (sandbox / "out" / "coop" / "links.csv").is_file()


def test_the_readme_shows_both_install_commands_and_the_help_examples_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = list(bash_blocks(readme))
    assert (
        "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/registry-link demo"
        in lines
    )
    assert (
        "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && "
        ".venv/bin/python -m pytest -q" in lines
    )
    commands = {path for path, _ in help_examples()}
    leaves = {"synth", "standardise", "blocking", "train", "match", "demo", "init"}
    assert leaves <= commands, leaves - commands


def test_every_line_left_out_says_why() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for line in [*bash_blocks(readme), *(line for _, line in help_examples())]:
        words = words_of(line) if not line.startswith(".") else ["."]
        if reason_not_run(line) is None:
            assert words[0] in ("registry-link", "export"), f"cannot run documented line: {line}"
