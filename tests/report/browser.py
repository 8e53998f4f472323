"""Headless Chromium (the Debian package) driven through Playwright, for the report tests.

Playwright cannot download its own browsers here; it launches the system's Chromium
(``/usr/bin/chromium``, installed by ``.ci/chromium.sh``; another binary with
``REGISTRY_LINK_CHROMIUM``). When Chromium is absent the browser tests skip, except in CI
(``CI=true``), where they fail: a missing browser must not pass for a checked page.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: The flags every launch uses: no network of its own, no first-run work, no GPU.
CHROMIUM_FLAGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def in_ci() -> bool:
    """True when running in CI (``CI`` set to true)."""
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def chromium_path() -> str | None:
    """The Chromium binary: ``REGISTRY_LINK_CHROMIUM``, else ``chromium`` on the PATH."""
    given = os.environ.get("REGISTRY_LINK_CHROMIUM")
    if given:
        return given if Path(given).is_file() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def require_browser() -> str:
    """The Chromium path, or skip (fail in CI) when Chromium or Playwright is missing."""
    path = chromium_path()
    problem = None
    if path is None:
        problem = "headless Chromium is not installed (run .ci/chromium.sh)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed (pip install -e '.[test]')"
    if problem is None and path is not None:
        return path
    if in_ci():
        pytest.fail(f"{problem}: the browser tests must run in CI")
    pytest.skip(problem or "no browser")


@dataclass
class PageLog:
    """What happened while a page was open: console errors, page errors, requests made."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def external_requests(self) -> list[str]:
        """Requests for anything but the local file itself (``file:``, ``data:``, ``about:``)."""
        return [u for u in self.requests if not u.startswith(("file:", "data:", "about:"))]


@contextmanager
def open_page(path: Path, *, width: int = 1280, height: int = 900) -> Iterator[tuple[Any, PageLog]]:
    """Open ``path`` (``file://``) in headless Chromium; yields the Playwright page and its log.

    Any request that would leave the machine is aborted (and logged).
    """
    binary = require_browser()
    from playwright.sync_api import sync_playwright

    log = PageLog()
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as profile:
        context = pw.chromium.launch_persistent_context(
            profile,  # = --user-data-dir
            executable_path=binary,
            headless=True,
            args=list(CHROMIUM_FLAGS),
            viewport={"width": width, "height": height},
            offline=True,
        )
        try:
            context.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url.startswith(("file:", "data:"))
                    else route.abort()
                ),
            )
            page = context.new_page()
            page.on("request", lambda r: log.requests.append(r.url))
            page.on(
                "console",
                lambda m: log.console_errors.append(m.text) if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: log.page_errors.append(str(e)))
            page.goto(path.resolve().as_uri(), wait_until="load")
            yield page, log
        finally:
            context.close()
