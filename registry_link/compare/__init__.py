"""Comparisons of record pairs as ordered agreement levels (the engine's comparison stage).

Public API::

    build_comparison(spec: dict) -> Comparison          # spec = {name, kind, <params>}
    comparison_problems(spec, key_path="") -> list[ConfigProblem]
    COMPARISON_KINDS: dict[str, ComparisonKind]          # kind -> params_model (pydantic), builder
    register_kind(ComparisonKind(name, params_model, builder, summary, example))
        # a kind of your own: builder(params, tag) -> KindLevels (its levels, typed)
    compare(left, right, pairs, comparisons, *, chunk_size=...) -> pl.DataFrame
        # {l_idx: UInt32, r_idx: UInt32, gamma_<name>: Int8 ...}
    CompareEngine(left, right, comparisons, *, workers=None, caches=True).compare(pairs)
        # the same vectors, for one link's several calls: prepared records, caches, threads

A :class:`Comparison` has ``name``, ``kind``, ``output_column`` (``gamma_<name>``),
``levels`` indexed by gamma (``levels[0]`` = "different", last = closest), ``missing`` (gamma
-1), ``level(gamma)``, ``tf_columns()`` (gamma -> record column for term-frequency
adjustment), ``describe()``, ``to_dict()`` (rebuilt by ``build_comparison``).
"""

from registry_link.compare.compute import (
    PreparedRecords,
    compare,
    needed_columns,
    prepare_records,
)
from registry_link.compare.engine import CompareEngine
from registry_link.compare.levels import Comparison, Derived, Level
from registry_link.compare.library import (
    COMPARISON_KINDS,
    ComparisonKind,
    KindLevels,
    build_comparison,
    comparison_problems,
    kind_schemas,
    register_kind,
)
from registry_link.compare.similarity import (
    damerau_levenshtein_distance,
    jaro_winkler_similarity,
    max_token_similarity,
    name_similarity,
    osa_distance,
)

__all__ = [
    "COMPARISON_KINDS",
    "CompareEngine",
    "Comparison",
    "ComparisonKind",
    "Derived",
    "KindLevels",
    "Level",
    "PreparedRecords",
    "build_comparison",
    "compare",
    "comparison_problems",
    "damerau_levenshtein_distance",
    "jaro_winkler_similarity",
    "kind_schemas",
    "max_token_similarity",
    "name_similarity",
    "needed_columns",
    "osa_distance",
    "prepare_records",
    "register_kind",
]
