"""The report in a real browser: headless Chromium opens it from disk, offline.

Fails on any console or page error and on any request leaving the machine; checks that every
section and every chart is drawn with a non-zero size, that Arabic names read right-to-left
and that the page prints; saves a screenshot (``report.png`` beside the page under test).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from registry_link.report import write_report
from registry_link.report.render import SECTIONS
from tests.report.browser import PageLog, open_page, require_browser
from tests.report.conftest import TRUTH


@pytest.fixture(scope="module")
def page_path(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_browser()
    return write_report(run_dir, truth=TRUTH, out=tmp_path_factory.mktemp("browser") / "r.html")


@pytest.fixture(scope="module")
def opened(page_path: Path) -> Iterator[tuple[Any, PageLog]]:
    """The report open in Chromium (once for the module; the print test comes last)."""
    with open_page(page_path) as opened:
        yield opened


def test_every_section_and_chart_renders_without_error(
    opened: tuple[Any, PageLog], page_path: Path
) -> None:
    page, log = opened
    boxes = {sid: page.locator(f"section#{sid}").bounding_box() for sid, _ in SECTIONS}
    figures = page.locator("figure.chart")
    n = figures.count()
    chart_boxes = [figures.nth(i).locator("svg").first.bounding_box() for i in range(n)]
    names = [figures.nth(i).get_attribute("data-chart") for i in range(n)]
    shot = page_path.with_name("report.png")
    page.screenshot(path=str(shot), full_page=True)
    assert log.console_errors == [] and log.page_errors == []
    assert log.external_requests() == []
    assert log.requests == [page_path.resolve().as_uri()]  # the page itself, nothing else
    for sid, box in boxes.items():
        assert box is not None and box["width"] > 0 and box["height"] > 0, sid
    assert n >= 11
    for name, box in zip(names, chart_boxes, strict=True):
        assert box is not None and box["width"] > 50 and box["height"] > 30, name
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_arabic_names_read_right_to_left(opened: tuple[Any, PageLog]) -> None:
    page, log = opened
    directions = page.evaluate(
        """() => [...document.querySelectorAll('bdi')]
            .filter(e => /[\\u0600-\\u06FF]/.test(e.textContent))
            .map(e => e.matches(':dir(rtl)'))"""
    )
    latin = page.evaluate(
        """() => [...document.querySelectorAll('bdi')]
            .filter(e => /^[A-Za-z ]+$/.test(e.textContent.trim()))
            .map(e => e.matches(':dir(ltr)'))"""
    )
    assert log.console_errors == []
    assert directions and all(directions)
    assert latin and all(latin)


def test_the_page_prints(opened: tuple[Any, PageLog], tmp_path: Path) -> None:
    page, log = opened
    page.emulate_media(media="print")
    nav = page.locator("nav").bounding_box()
    run = page.locator("section#run").bounding_box()
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4")
    assert log.console_errors == []
    assert nav is None  # the section links are not printed
    assert run is not None and run["height"] > 0
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-" and data.count(b"/Type /Page") - data.count(b"/Type /Pages") > 3
