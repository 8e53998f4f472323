"""Goals on the project pair table: ≥ 97 % of true pairs, ≤ 1 % of different-name pairs.

The figures are computed here from tests/data/moroccan_name_pairs.tsv, not hard-coded.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from registry_link.errors import InputError
from registry_link.names.evaluation import (
    load_pair_table,
    project_arabic_latin,
    project_dropped_prefix,
    project_latin_latin,
    public_set_rates,
    same_or_variant_decider,
    shuffled_different_pairs,
)

TABLE = Path(__file__).resolve().parents[1] / "data" / "moroccan_name_pairs.tsv"


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    return load_pair_table(TABLE)


def test_table_shape(table: pl.DataFrame) -> None:
    assert table.columns == ["concept", "kind", "arabic", "latin"]
    assert len(table) >= 400
    assert set(table["kind"].unique()) == {"given", "family"}
    assert table.select(pl.all().is_null().any()).row(0) == (False,) * 4
    assert table["arabic"].str.contains(r"^[\x{0600}-\x{06FF} ]+$").all()
    assert not table["latin"].str.contains(r"[\x{0600}-\x{06FF}]").any()
    assert table.n_unique() == len(table)
    # several spellings for the names that have them
    spellings = table.group_by("concept").agg(pl.col("latin").n_unique())
    assert (spellings["latin"] >= 3).sum() >= 60


def test_arabic_latin_goals(table: pl.DataFrame) -> None:
    rates = project_arabic_latin(table)
    assert rates.true_pairs == len(table)
    assert rates.different_pairs > 100_000
    assert rates.recall >= 0.97, rates
    assert rates.false_positive_rate <= 0.01, rates


def test_latin_latin_goals(table: pl.DataFrame) -> None:
    rates = project_latin_latin(table)
    assert rates.true_pairs > 500
    assert rates.recall >= 0.97, rates
    assert rates.false_positive_rate <= 0.01, rates


def test_variant_level_goals(table: pl.DataFrame) -> None:
    """The comparisons' "variant" level or above: still ≤ 1 % of different-name pairs, the
    true pairs as the same-name decision finds them, a dropped Ben/Bel prefix ≥ 97 %."""
    for measure in (project_arabic_latin, project_latin_latin):
        same = measure(table)
        either = measure(table, same_or_variant_decider)
        assert either.recall >= same.recall
        assert either.false_positive_rate <= 0.01, either
    dropped = project_dropped_prefix(table, same_or_variant_decider)
    assert dropped.true_pairs > 50
    assert dropped.recall >= 0.97, dropped
    assert dropped.false_positive_rate <= 0.01, dropped


def test_confusable_names_are_different_concepts(table: pl.DataFrame) -> None:
    concepts = set(table["concept"])
    for pair in [("g:amine", "g:amina"), ("g:said", "g:saad"), ("g:said", "g:saida")]:
        assert set(pair) <= concepts


def test_shuffled_different_pairs_seeded() -> None:
    frame = pl.DataFrame({"arabic": ["محمد", "يوسف", "علي", "سعيد"], "latin": ["a", "b", "c", "d"]})
    first = shuffled_different_pairs(frame, seed=1)
    assert first.equals(shuffled_different_pairs(frame, seed=1))
    own = dict(zip(frame["arabic"], frame["latin"], strict=True))
    assert all(own[a] != b for a, b in first.iter_rows())
    rates = public_set_rates(
        frame.with_columns(latin=pl.Series(["Mohamed", "Youssef", "Ali", "Said"]))
    )
    assert rates.recall == 1.0 and rates.false_positive_rate == 0.0


def test_load_pair_table_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_pair_table(tmp_path / "missing.tsv")
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\n1\t2\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing columns"):
        load_pair_table(bad)
