"""The browser harness itself (tests/report/browser.py) catches what the report tests rely on:
console errors, script errors and requests that would leave the machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.browser import open_page, require_browser


def test_the_harness_catches_console_errors_and_fetches(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><body><img src="https://example.invalid/x.png">'
        '<script>console.error("broken chart"); undefinedFunction();</script></body></html>',
        encoding="utf-8",
    )
    with open_page(bad) as (_, log):
        pass
    assert "broken chart" in log.console_errors
    assert any("undefinedFunction" in e for e in log.page_errors)
    assert log.external_requests() == ["https://example.invalid/x.png"]


def test_a_missing_browser_skips_locally_but_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("REGISTRY_LINK_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed"):
        require_browser()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must run in CI"):
        require_browser()
