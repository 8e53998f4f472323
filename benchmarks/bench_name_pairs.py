"""Measure the cross-script name matcher on the project pair table and the public pair sets.

Run: ``.venv/bin/python benchmarks/bench_name_pairs.py`` (prints and writes
``benchmarks/results/name_pairs.md``).

Figures: share of true pairs judged the same name (recall, goal ≥ 97 %) and share of
different-name pairs judged the same (false-positive rate, goal ≤ 1 %); how the pairs are built
is described in :mod:`registry_link.names.evaluation`. Baselines for comparison:

* ``naive+soundex``: letter-by-letter romanisation of the Arabic (no vowels, no rules), Latin
  lowercased without accents, same name when jellyfish Soundex codes are equal;
* ``naive+JW≥0.85``: the same romanisation, same name when Jaro-Winkler ≥ 0.85.

If ``arabic-name-romanizer`` is importable (it is not a project dependency), two more rows:
its ``country="MA"`` romanisation compared with our matcher, and "ours OR it".
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import jellyfish
import numpy as np
import polars as pl
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from registry_link.names import matching_form_expr, pairwise_name_similarity, pairwise_same_name
from registry_link.names.arabic import normalise_arabic_expr
from registry_link.names.evaluation import (
    Decider,
    Rates,
    family_decider,
    load_pair_table,
    project_arabic_latin,
    project_decider,
    project_dropped_prefix,
    project_latin_latin,
    public_set_rates,
    same_or_variant_decider,
)

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "tests" / "data" / "moroccan_name_pairs.tsv"
PUBLIC = ROOT.parent / "shared" / "data" / "name-pairs"
OUT = ROOT / "benchmarks" / "results" / "name_pairs.md"

_NAIVE = dict(
    zip(
        "ابتثجحخدذرزسشصضطظعغفقكلمنهةويڭ",
        "abttjhkddrzsssdtdaafkklmnhawyg",
        strict=True,
    )
)


def naive_form(names: pl.Series) -> pl.Series:
    """Naive romanisation: Arabic letter by letter, Latin lowercased without accents."""
    arabic = normalise_arabic_expr(pl.lit(names)).str.replace_many(
        list(_NAIVE), list(_NAIVE.values())
    )
    latin = pl.lit(names).str.normalize("NFKD").str.replace_all(r"\p{M}", "").str.to_lowercase()
    has_ar = pl.lit(names).str.contains(r"[\x{0600}-\x{06FF}]")
    out = pl.select(pl.when(has_ar).then(arabic).otherwise(latin).str.replace_all("[^a-z]", ""))
    return out.to_series().fill_null("")


def soundex_decider(a: pl.Series, b: pl.Series) -> pl.Series:
    """Baseline: equal Soundex codes of the naive romanisations."""
    na, nb = naive_form(a).to_list(), naive_form(b).to_list()
    codes_a = [jellyfish.soundex(x) if x else "" for x in na]
    codes_b = [jellyfish.soundex(x) if x else "" for x in nb]
    return pl.Series([x == y and x != "" for x, y in zip(codes_a, codes_b, strict=True)])


def jw_decider(a: pl.Series, b: pl.Series) -> pl.Series:
    """Baseline: Jaro-Winkler ≥ 0.85 between the naive romanisations."""
    sim = process.cpdist(
        naive_form(a).to_list(), naive_form(b).to_list(), scorer=JaroWinkler.similarity
    )
    return pl.Series(np.asarray(sim) >= 0.85)


def romanizer_deciders() -> dict[str, Decider]:
    """Deciders using arabic-name-romanizer when it is importable, else none."""
    try:
        from arabic_name_romanizer import transliterate_many
    except ImportError:
        return {}
    cache: dict[str, str] = {}

    def romanise(names: pl.Series) -> pl.Series:
        todo = sorted({n for n in names.drop_nulls().to_list() if n not in cache})
        todo = [n for n in todo if any("\u0600" <= ch <= "\u06ff" for ch in n)]
        if todo:
            for name, cand in zip(todo, transliterate_many(todo, country="MA"), strict=True):
                cache[name] = str(cand.text if hasattr(cand, "text") else cand)
        return pl.Series([cache.get(n, n) if n is not None else None for n in names.to_list()])

    def romanizer(a: pl.Series, b: pl.Series) -> pl.Series:
        return project_decider(romanise(a), romanise(b))

    def either(a: pl.Series, b: pl.Series) -> pl.Series:
        return project_decider(a, b) | romanizer(a, b)

    return {"arabic-name-romanizer (MA) + ours": romanizer, "ours OR romanizer": either}


def romanizer_note() -> list[str]:
    """A line saying whether the optional arabic-name-romanizer rows are present."""
    try:
        from importlib.metadata import version

        import arabic_name_romanizer  # noqa: F401
    except ImportError:
        return ["arabic-name-romanizer not importable: its comparison rows are omitted.", ""]
    try:
        found = version("arabic-name-romanizer")
    except Exception:  # pragma: no cover - metadata missing when imported from a path
        found = "unknown version"
    return [
        f"arabic-name-romanizer {found} importable (not a project dependency): rows "
        "`arabic-name-romanizer (MA) + ours` (its top romanisation of the Arabic, then our "
        "matcher) and `ours OR romanizer` are shown.",
        "",
    ]


def _pct(x: float, digits: int = 1) -> str:
    return "n/a" if x != x else f"{100 * x:.{digits}f} %"


def _row(label: str, r: Rates) -> str:
    return (
        f"| {label} | {r.true_pairs:,} | {_pct(r.recall)} | {r.different_pairs:,} "
        f"| {_pct(r.false_positive_rate, 2)} |"
    )


_HEAD = [
    "| method | true pairs | judged same (recall) | different pairs | judged same (false pos.) |",
    "|---|---:|---:|---:|---:|",
]


def project_section(deciders: dict[str, Decider]) -> list[str]:
    """Markdown lines for the project table."""
    table = load_pair_table(TABLE)
    lines = [
        "## Project table `tests/data/moroccan_name_pairs.tsv`",
        "",
        f"{len(table)} (Arabic, Latin) rows, {table['concept'].n_unique()} concepts. "
        "Different-name pairs: all cross-concept pairs of the same kind.",
        "",
        "### Arabic ↔ Latin",
        "",
        *_HEAD,
    ]
    for label, decider in deciders.items():
        lines.append(_row(label, project_arabic_latin(table, decider)))
    lines += ["", "### Latin ↔ Latin (two spellings of one name)", "", *_HEAD]
    for label, decider in deciders.items():
        if "romanizer" in label:
            continue  # Latin-only pairs: the romaniser plays no part
        lines.append(_row(label, project_latin_latin(table, decider)))
    family = table.filter(pl.col("kind") == "family")
    lines += [
        "",
        "### Family names only: default vs `glued_article=True` (Lamrani = El Amrani)",
        "",
        "The table keeps لعروسي/Laaroussi and العروسي/Aroussi (also لمراني/Lamrani and "
        "العمراني/Amrani) as separate concepts, so the extra matches `glued_article` makes "
        "between them count here as false positives.",
        "",
        *_HEAD,
    ]
    for label, decider in (
        ("default, Arabic↔Latin", project_decider),
        ("glued_article, Arabic↔Latin", family_decider),
    ):
        lines.append(_row(label, project_arabic_latin(family, decider)))
    for label, decider in (
        ("default, Latin↔Latin", project_decider),
        ("glued_article, Latin↔Latin", family_decider),
    ):
        lines.append(_row(label, project_latin_latin(family, decider)))
    lines += [
        "",
        "### The comparisons' `variant` level: the same name or a variant",
        "",
        'What the `given`/`family` comparisons count at their level "variant" or above (a '
        "dropped Ben/Bel/Ibn/Ould prefix; part of a compound name, not its common first part "
        "alone), on the same pairs. Dropped prefix: each family name of the table written with "
        "a Ben/Bel prefix, against the same Latin without it (its Arabic and its Latin; Ben "
        "Slimane → Slimane), and all cross-concept family pairs.",
        "",
        *_HEAD,
        _row("same or variant, Arabic↔Latin", project_arabic_latin(table, same_or_variant_decider)),
        _row("same or variant, Latin↔Latin", project_latin_latin(table, same_or_variant_decider)),
        _row("dropped Ben/Bel prefix", project_dropped_prefix(table, same_or_variant_decider)),
    ]
    return lines


def public_section(deciders: dict[str, Decider]) -> list[str]:
    """Markdown lines for the public sets (skipped when the folder is absent)."""
    if not PUBLIC.is_dir():
        return ["## Public sets", "", f"Skipped: {PUBLIC} not found."]
    lines = [
        "## Public sets `../shared/data/name-pairs/` (mostly English-style spellings)",
        "",
        "Different-name pairs: each row's Arabic with the Latin of a row drawn by a seeded "
        "permutation of the same slice (seed 20240601).",
    ]
    for file in ("google_ar2en.tsv", "wikidata_person_tokens.tsv"):
        frame = pl.read_csv(PUBLIC / file, separator="\t", infer_schema=False, quote_char=None)
        for hint, title in (("1", "native_hint=1 (Arabic origin)"), ("0", "rest")):
            part = frame.filter(pl.col("native_hint") == hint)
            lines += ["", f"### {file} — {title}", "", *_HEAD]
            for label, decider in deciders.items():
                lines.append(_row(label, public_set_rates(part, decider)))
    return lines


def speed_section() -> list[str]:
    """Throughput of the pairwise functions on 1,000,000 pairs of matching forms."""
    table = load_pair_table(TABLE)
    forms = pl.select(matching_form_expr(pl.lit(table["latin"]))).to_series().drop_nulls()
    rng = np.random.default_rng(7)
    n = 1_000_000
    a = forms.gather(rng.integers(0, len(forms), n))
    b = forms.gather(rng.integers(0, len(forms), n))
    t0 = time.perf_counter()
    pairwise_same_name(a, b)
    t1 = time.perf_counter()
    pairwise_name_similarity(a, b)
    t2 = time.perf_counter()
    return [
        "## Speed (this machine, 2 cores)",
        "",
        f"- `pairwise_same_name`: {n:,} pairs in {t1 - t0:.2f} s",
        f"- `pairwise_name_similarity`: {n:,} pairs in {t2 - t1:.2f} s",
    ]


def main() -> int:
    """Run every measurement, print the report and write it to benchmarks/results."""
    deciders: dict[str, Decider] = {
        "registry-link matcher": project_decider,
        "naive+soundex": soundex_decider,
        "naive+JW≥0.85": jw_decider,
        **romanizer_deciders(),
    }
    start = time.perf_counter()
    lines = ["# Name pairs benchmark", "", "Generated by `benchmarks/bench_name_pairs.py`.", ""]
    lines += romanizer_note()
    lines += [*project_section(deciders), "", *public_section(deciders), ""]
    lines += speed_section()
    lines += ["", f"Total run time: {time.perf_counter() - start:.0f} s."]
    text = "\n".join(lines) + "\n"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
