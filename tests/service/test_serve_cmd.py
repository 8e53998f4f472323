"""The ``serve`` command: its help and example, and a clean message without the extra."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from registry_link.cli import cli, main

ROOT = Path(__file__).resolve().parents[2]


def test_serve_help_has_an_example_on_the_sample() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert "registry-link serve --registry sample_data/registry.csv" in result.output
    for option in ("--registry", "--model", "--db", "--host", "--port"):
        assert option in result.output
    keys = CliRunner().invoke(cli, ["keys", "add", "--help"])
    assert "search:id" in keys.output and "registry:write" in keys.output


def test_serve_options_reach_the_service_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``--key-cache-seconds`` (and its default) and ``--max-signature-age`` are the settings
    the application is created with."""
    import registry_link.service as service
    import registry_link.service.server as server

    made: list[Any] = []

    class NoServer:
        def run(self) -> None:
            pass

    monkeypatch.setattr(service, "create_app", lambda settings: made.append(settings))
    monkeypatch.setattr(server, "make_server", lambda app, host, port: NoServer())
    model = tmp_path / "model.json"
    model.write_text("{}", encoding="utf-8")
    base = [
        "serve",
        "--registry",
        str(ROOT / "sample_data" / "registry.csv"),
        "--model",
        str(model),
    ]
    for extra, seconds in (([], 5.0), (["--key-cache-seconds", "0"], 0.0)):
        result = CliRunner().invoke(cli, [*base, "--max-signature-age", "300", *extra])
        assert result.exit_code == 0, result.output
        assert made[-1].key_cache_seconds == seconds
        assert made[-1].max_signature_seconds == 300
    refused = CliRunner().invoke(cli, [*base, "--key-cache-seconds", "-1"])
    assert refused.exit_code == 2 and "--key-cache-seconds" in refused.output
    # the garbage collector kept off the heap: on for serve (off in a settings made alone)
    assert made[-1].gc_freeze is True
    result = CliRunner().invoke(cli, [*base, "--no-gc-freeze"])
    assert result.exit_code == 0, result.output
    assert made[-1].gc_freeze is False
    assert service.ServiceSettings(registry=model, model=model).gc_freeze is False


def test_without_the_serve_extra_the_message_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    real = importlib.util.find_spec

    def without_fastapi(name: str, *args: Any) -> Any:
        return None if name == "fastapi" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_fastapi)
    model = tmp_path / "model.json"
    model.write_text("{}", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "serve",
                "--registry",
                str(ROOT / "sample_data" / "registry.csv"),
                "--model",
                str(model),
            ]
        )
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "install registry-link[serve]" in err and "fastapi" in err
    assert "Traceback" not in err


def test_the_service_modules_import_on_a_core_install(tmp_path: Path) -> None:
    """Without fastapi, uvicorn and httpx (blocked in a fresh interpreter), every module of
    registry_link.service imports, and create_app says what to install."""
    import os
    import subprocess
    import sys

    script = """
import sys
for name in ("fastapi", "uvicorn", "httpx", "starlette", "multipart"):
    sys.modules[name] = None  # import fails and find_spec finds nothing: not installed
import pkgutil, registry_link.service as service
for module in pkgutil.iter_modules(service.__path__):
    __import__(f"registry_link.service.{module.name}")
from pathlib import Path
from registry_link.errors import UsageError
try:
    service.create_app(service.ServiceSettings(registry=Path("r.csv"), model=Path("m.json")))
except UsageError as exc:
    print("refused:", exc)
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "install registry-link[serve]" in done.stdout
