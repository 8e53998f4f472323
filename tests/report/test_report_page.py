"""registry_link.report.write_report: the page itself (structure, offline, right-to-left)."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest

from registry_link.errors import InputError
from registry_link.report import REPORT_NAME, write_report
from registry_link.report.evaluation import evaluate
from registry_link.report.gather import REVIEW_SAMPLE_SIZE
from registry_link.report.render import SECTIONS
from tests.report.conftest import TRUTH

ARABIC = re.compile(r"[\u0600-\u06FF]")
#: Anything a browser would fetch: a URL in src/href/action/poster/srcset, CSS url() or @import.
#: (SVG's xmlns="http://www.w3.org/2000/svg" is a name, never fetched.)
LOADS = re.compile(
    r"""(?:\b(?:src|href|action|poster|srcset|data)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//)"""
    r"""|url\(\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//|@import""",
    re.IGNORECASE,
)


class PageParser(HTMLParser):
    """Collects ids, sections, chart figures, tags and the Arabic text outside bidi isolation."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.ids: Counter[str] = Counter()
        self.sections: list[str] = []
        self.charts: list[str] = []
        self.tags: Counter[str] = Counter()
        self.arabic_isolated: list[str] = []
        self.arabic_bare: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags[tag] += 1
        if a.get("id"):
            self.ids[str(a["id"])] += 1
        if tag == "section":
            self.sections.append(str(a.get("id")))
        if tag == "figure" and "chart" in (a.get("class") or ""):
            self.charts.append(str(a.get("data-chart")))
        void = {"meta", "br", "img", "input", "link", "hr"}
        if tag not in void:
            self.stack.append((tag, a))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        a = dict(attrs)
        if a.get("id"):
            self.ids[str(a["id"])] += 1

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if not ARABIC.search(data) or any(t == "svg" for t, _ in self.stack):
            return
        isolated = any(t == "bdi" or a.get("dir") in ("auto", "rtl") for t, a in self.stack)
        (self.arabic_isolated if isolated else self.arabic_bare).append(data.strip())


def parse(path: Path) -> tuple[str, PageParser]:
    text = path.read_text(encoding="utf-8")
    parser = PageParser()
    parser.feed(text)
    return text, parser


@pytest.fixture(scope="module")
def page(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("page") / "with-truth.html"
    return write_report(run_dir, truth=TRUTH, out=out)


def test_every_section_and_chart_is_on_the_page(page: Path) -> None:
    _, p = parse(page)
    assert p.sections == [sid for sid, _ in SECTIONS]
    for chart in (
        "timings",
        "fill-rate",
        "script-mix",
        "pairs-per-rule",
        "comparisons",
        "term-frequency",
        "weights",
        "decisions",
        "waterfall",
        "household-sizes",
        "precision-recall",
    ):
        assert chart in p.charts, chart
    assert p.tags["svg"] >= len(p.charts)


def test_the_page_loads_nothing_from_elsewhere(page: Path) -> None:
    text, p = parse(page)
    assert not LOADS.findall(text)
    assert p.tags["script"] == 0 and p.tags["link"] == 0 and p.tags["iframe"] == 0
    assert p.tags["img"] == 0  # charts are inline SVG, not images to fetch


def test_ids_are_unique_across_the_inline_charts(page: Path) -> None:
    _, p = parse(page)
    assert p.ids and max(p.ids.values()) == 1, [i for i, n in p.ids.items() if n > 1][:5]


def test_arabic_text_is_isolated_for_right_to_left(page: Path) -> None:
    _, p = parse(page)
    assert p.arabic_isolated, "the sample's review pairs have Arabic names"
    assert p.arabic_bare == []


def test_the_page_is_printable_and_in_a_system_font_stack(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert "@media print" in text and "@page" in text
    assert re.search(r"font-family:[^;]*Arabic", text)
    assert '<meta charset="utf-8">' in text


def test_the_review_sample_is_bounded(page: Path, run_dir: Path) -> None:
    text = page.read_text(encoding="utf-8")
    pairs = text.count('<div class="pair">')
    assert 1 <= pairs <= REVIEW_SAMPLE_SIZE


def test_the_accuracy_section_scores_every_list_with_a_truth(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    accuracy = text[text.index('<section id="accuracy"') :]
    for source in ("partner_coop_ar", "partner_chambre_fr", "all", "workers", "dependants"):
        assert f"<td>{source}</td>" in accuracy


def test_default_place_and_no_truth(run_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    (folder / "model.json").unlink()
    written = write_report(folder)
    assert written == folder / REPORT_NAME
    text, p = parse(written)
    assert p.sections == [sid for sid, _ in SECTIONS]
    assert "no model.json" in text
    assert "registry-link report RUN_DIR --truth" in text
    assert not (folder / f"{REPORT_NAME}.tmp").exists()


def test_a_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"lacks summary\.json"):
        write_report(tmp_path)


@pytest.mark.parametrize(
    "html",
    [
        '<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>',
        "<link rel=stylesheet href=//fonts.googleapis.com/css>",
        "<style>@import 'x.css';</style>",
        "<div style=\"background: url('http://x/y.png')\"></div>",
        '<img srcset="https://x/a.png 2x">',
    ],
)
def test_the_offline_check_catches_a_fetched_resource(html: str) -> None:
    assert LOADS.search(html)


def test_the_offline_check_ignores_svg_namespaces() -> None:
    assert not LOADS.search('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="x"></svg>')


def test_an_older_run_without_data_quality_and_with_evaluation_json(
    run_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    del summary["data_quality"]
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    links = pl.read_parquet(folder / "links.parquet")
    households = pl.read_parquet(folder / "households.parquet")
    scores = evaluate(links, households, households, pl.read_csv(TRUTH, infer_schema=False))
    (folder / "evaluation.json").write_text(json.dumps(scores), encoding="utf-8")
    text, p = parse(write_report(folder))
    assert p.sections == [sid for sid, _ in SECTIONS]
    assert "has no data-quality section" in text
    accuracy = text[text.index('<section id="accuracy"') :]
    assert "From evaluation.json" in accuracy
    for row in scores["links"]:
        assert f"<td>{row['source']}</td>" in accuracy
        assert f"{100 * row['precision']:.2f} %" in accuracy


def test_the_inclusion_slices_of_evaluation_json_are_shown(run_dir: Path, tmp_path: Path) -> None:
    """evaluation.json's slices (registry-link evaluate) reach the page: who is left out."""
    from registry_link import load_standardised
    from tests.report.conftest import CONFIGS, PARTNERS, SAMPLE

    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    partners = pl.concat(
        [load_standardised(SAMPLE / f, CONFIGS / c).frame for f, c in PARTNERS],
        how="diagonal_relaxed",
    )
    links = pl.read_parquet(folder / "links.parquet")
    households = pl.read_parquet(folder / "households.parquet")
    truth = pl.read_csv(TRUTH, infer_schema=False)
    clusters = households.select("source", "record_id", "beneficiary_key")
    scores = evaluate(links, clusters, households, truth, partners=partners)
    (folder / "evaluation.json").write_text(json.dumps(scores, default=str), encoding="utf-8")
    text = write_report(folder).read_text(encoding="utf-8")
    table = text[text.index('data-table="inclusion"') :]
    table = table[: table.index("</table>")]
    measured = {r["slice"] for r in scores["slices"] if r["measurable"]}
    assert {"no_cin", "birth_year_only", "dependants", "women"} <= measured
    for name in measured:
        assert f"<td>{name}</td>" in table
    assert "not measurable" in table  # cross_script needs the registry, not given here


def test_the_households_of_evaluation_json_are_shown(run_dir: Path, tmp_path: Path) -> None:
    """evaluation.json's households reproduced exactly, with the pair scores, reach the page;
    an evaluation.json written before it had them shows no such table."""
    folder = tmp_path / "run"
    shutil.copytree(run_dir, folder)
    households = pl.read_parquet(folder / "households.parquet")
    links = pl.read_parquet(folder / "links.parquet")
    scores = evaluate(links, households, households, pl.read_csv(TRUTH, infer_schema=False))
    (folder / "evaluation.json").write_text(json.dumps(scores, default=str), encoding="utf-8")
    text = write_report(folder).read_text(encoding="utf-8")
    table = text[text.index('data-table="households-truth"') :]
    table = table[: table.index("</table>")]
    exact, pairs = scores["households_reproduced"], scores["same_household"]["all"]
    assert exact["true_households"] > 0
    assert f"{100 * exact['share']:.2f} %" in table
    assert f"{exact['reproduced']:,} of {exact['true_households']:,}" in table
    assert f"{100 * pairs['precision']:.2f} %" in table
    assert f"{100 * pairs['recall']:.2f} %" in table
    del scores["households_reproduced"]
    (folder / "evaluation.json").write_text(json.dumps(scores, default=str), encoding="utf-8")
    assert 'data-table="households-truth"' not in write_report(folder).read_text(encoding="utf-8")


def test_the_largest_blocks_are_shown_by_shape(page: Path, run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    largest = summary["largest_blocks"]
    assert largest and all(b["pairs"] > 0 for b in largest)
    text = page.read_text(encoding="utf-8")
    table = text[text.index('data-table="largest-blocks"') :]
    table = table[: table.index("</table>")]
    for b in largest:
        assert f"<td>{b['rule']}</td>" in table
        assert not re.search(r"[0-8]", b["key"])  # digits shown as 9: no birth year, no CIN
