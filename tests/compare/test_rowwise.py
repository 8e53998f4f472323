"""The comparisons' expressions evaluated in Python (registry_link.compare.rowwise) give polars'
values and dtypes: on drawn expressions of the nodes read there (nulls, Kleene logic, casts,
integer arithmetic), and on every select the few-pairs path runs for the shipped comparisons."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from registry_link.compare import COMPARISON_KINDS, rowwise, small
from registry_link.compare.rowwise import Unsupported, compile_rowwise
from registry_link.compare.small import DerivedMemo, FewPairs
from tests.compare.test_small import _all_pairs, _comparisons, sides  # noqa: F401 (fixture)


@pytest.fixture(scope="module", autouse=True)
def _compiled_whatever_the_polars() -> Iterator[None]:
    """The equality tests run on any installed polars: they are how a new release is checked
    before it joins :data:`~registry_link.compare.rowwise.CHECKED_POLARS`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rowwise, "ENABLED", True)
        yield


def _polars_checked() -> bool:
    return rowwise._release(pl.__version__) in rowwise.CHECKED_POLARS


_INTS = st.one_of(st.none(), st.integers(min_value=-30, max_value=30))
_BOOLS = st.one_of(st.none(), st.booleans())


def _int_leaf() -> st.SearchStrategy[pl.Expr]:
    return st.one_of(
        st.sampled_from([pl.col("a"), pl.col("b")]),
        st.integers(min_value=-5, max_value=5).map(pl.lit),
    )


def _bool_leaf() -> st.SearchStrategy[pl.Expr]:
    return st.one_of(
        st.sampled_from([pl.col("p"), pl.col("q")]),
        st.booleans().map(pl.lit),
    )


def _extend(
    children: st.SearchStrategy[tuple[str, pl.Expr]],
) -> st.SearchStrategy[tuple[str, pl.Expr]]:
    """Expressions of either kind (``"i"``: integers, ``"b"``: booleans) over smaller ones."""
    ints = children.filter(lambda c: c[0] == "i").map(lambda c: c[1])
    bools = children.filter(lambda c: c[0] == "b").map(lambda c: c[1])
    anys = children.map(lambda c: c[1])
    both = st.tuples
    return st.one_of(
        both(ints, ints, st.sampled_from(["==", "!=", "<", "<=", ">", ">="])).map(
            lambda t: ("b", _compare(*t))
        ),
        both(bools, bools, st.sampled_from(["&", "|", "^"])).map(lambda t: ("b", _logic(*t))),
        bools.map(lambda e: ("b", ~e)),
        anys.map(lambda e: ("b", e.is_null())),
        anys.map(lambda e: ("b", e.is_not_null())),
        bools.map(lambda e: ("b", e.fill_null(False))),
        st.lists(bools, min_size=1, max_size=3).map(lambda es: ("b", pl.any_horizontal(es))),
        st.lists(bools, min_size=1, max_size=3).map(lambda es: ("b", pl.all_horizontal(es))),
        both(bools, bools, bools).map(lambda t: ("b", pl.when(t[0]).then(t[1]).otherwise(t[2]))),
        both(bools, ints, ints).map(lambda t: ("i", pl.when(t[0]).then(t[1]).otherwise(t[2]))),
        both(bools, ints).map(lambda t: ("i", pl.when(t[0]).then(t[1]))),
        bools.map(lambda e: ("i", e.cast(pl.Int8))),
        ints.map(lambda e: ("b", e.cast(pl.Boolean))),
        ints.map(lambda e: ("i", e.fill_null(0))),
        ints.map(lambda e: ("i", e.abs())),
        both(ints, st.integers(min_value=1, max_value=7)).map(lambda t: ("i", t[0] // t[1])),
        both(ints, st.integers(min_value=1, max_value=7)).map(lambda t: ("i", t[0] % t[1])),
        both(ints, ints, st.sampled_from(["+", "-"])).map(lambda t: ("i", _arith(*t))),
        st.lists(ints, min_size=1, max_size=3).map(lambda es: ("i", pl.coalesce(es))),
        st.lists(ints, min_size=1, max_size=3).map(lambda es: ("i", pl.sum_horizontal(es))),
        st.lists(ints, min_size=1, max_size=3).map(lambda es: ("i", pl.min_horizontal(es))),
    )


def _compare(x: pl.Expr, y: pl.Expr, op: str) -> pl.Expr:
    ops = {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}
    return ops[op]


def _logic(x: pl.Expr, y: pl.Expr, op: str) -> pl.Expr:
    return {"&": x & y, "|": x | y, "^": x ^ y}[op]


def _arith(x: pl.Expr, y: pl.Expr, op: str) -> pl.Expr:
    return x + y if op == "+" else x - y


_EXPRS = st.recursive(
    st.one_of(_int_leaf().map(lambda e: ("i", e)), _bool_leaf().map(lambda e: ("b", e))),
    _extend,
    max_leaves=12,
)


@st.composite
def _frames(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(min_value=1, max_value=8))
    column = {"a": _INTS, "b": _INTS, "p": _BOOLS, "q": _BOOLS}
    return pl.DataFrame(
        {c: draw(st.lists(s, min_size=n, max_size=n)) for c, s in column.items()},
        schema={"a": pl.Int32, "b": pl.Int32, "p": pl.Boolean, "q": pl.Boolean},
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=_frames(), drawn=_EXPRS)
def test_drawn_expressions_read_in_python_give_polars_values(
    frame: pl.DataFrame, drawn: tuple[str, pl.Expr]
) -> None:
    expr = drawn[1].alias("out")
    compiled = compile_rowwise(expr)
    assert compiled is not None
    want = frame.select(expr).to_series()
    columns = {c: frame[c].to_list() for c in frame.columns}
    values = compiled.values(columns, frame.height, compiled.widths(frame))
    if want.len() == 1 and frame.height > 1:  # (literals only: polars gives one row)
        want = pl.repeat(want.item(), frame.height, dtype=want.dtype, eager=True)
    assert values == want.to_list()
    assert compiled.dtype(frame) == want.dtype


#: Integer dtypes of the narrow columns drawn (polars computes arithmetic in its node's width).
_NARROW = [pl.Int8, pl.Int16, pl.UInt8, pl.UInt16, pl.UInt32, pl.Int32, pl.Int64]


def _values_of(dtype: type[pl.DataType]) -> st.SearchStrategy[int | None]:
    """Values of an integer dtype, often at or near its ends (where polars wraps)."""
    span = rowwise._integer_range(dtype())
    assert span is not None
    lo, hi = span
    near = [lo, lo + 1, lo + 2, hi - 2, hi - 1, hi, 0, 1, 2, 3]
    return st.one_of(
        st.none(),
        st.sampled_from([v for v in near if lo <= v <= hi]),
        st.integers(min_value=lo, max_value=hi),
    )


@st.composite
def _narrow_frames(draw: st.DrawFn) -> pl.DataFrame:
    n = draw(st.integers(min_value=1, max_value=8))
    da, db = draw(st.sampled_from(_NARROW)), draw(st.sampled_from(_NARROW))
    column = {"a": _values_of(da), "b": _values_of(db), "p": _BOOLS, "q": _BOOLS}
    return pl.DataFrame(
        {c: draw(st.lists(s, min_size=n, max_size=n)) for c, s in column.items()},
        schema={"a": da, "b": db, "p": pl.Boolean, "q": pl.Boolean},
    )


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=_narrow_frames(), drawn=_EXPRS)
def test_drawn_expressions_over_narrow_integers_give_polars_values_or_are_refused(
    frame: pl.DataFrame, drawn: tuple[str, pl.Expr]
) -> None:
    """Over integers of any width, near their ends: each arithmetic node checked against its
    own dtype's range, the Python evaluation gives polars' values (wrapped or not) or
    refuses; the few-pairs path's select gives polars' values either way."""
    expr = drawn[1].alias("out")
    compiled = compile_rowwise(expr)
    assert compiled is not None
    try:
        want = frame.select(expr).to_series()
    except pl.exceptions.PolarsError:
        assume(False)  # (polars refuses the expression over these dtypes: nothing to match)
        raise
    assume(want.len() == frame.height)  # (literals only: polars gives one row)
    columns = {c: frame[c].to_list() for c in frame.columns}
    widths = compiled.widths(frame)
    if widths is None:
        event("arithmetic in another dtype than an integer")
    else:
        try:
            values = compiled.values(columns, frame.height, widths)
        except Unsupported:
            event("refused")
        else:
            event("read in Python")
            assert values == want.to_list()
    select = small._Select([expr], [compiled])
    assert select(frame, columns) == {"out": (want.to_list(), want.dtype)}


@pytest.mark.parametrize(
    ("flags", "within_int8"),
    [([[1, 0, 1], [0, 0, 1]], True), ([[100, 27, 0], [100, 28, 0]], False)],
    ids=["flags", "past Int8"],
)
def test_an_int8_sum_is_read_in_python_within_its_dtype(
    flags: list[list[int]], within_int8: bool
) -> None:
    # the dates' one-character mask is a sum of Int8 flags: read in Python within the dtype
    # polars sums them in: Int8 up to polars 2.1 (wraps past 127: such a row is refused and
    # polars evaluates it), Int64 from 2.2
    frame = pl.DataFrame(
        {f"f{i}": [row[i] for row in flags] for i in range(3)},
        schema={f"f{i}": pl.Int8 for i in range(3)},
    )
    expr = (pl.sum_horizontal("f0", "f1", "f2") <= 1).alias("out")
    compiled = compile_rowwise(expr)
    assert compiled is not None
    widths = compiled.widths(frame)
    summed_in = frame.select(pl.sum_horizontal("f0", "f1", "f2")).to_series().dtype
    ranges = {pl.Int8: (-(2**7), 2**7 - 1), pl.Int64: (-(2**63), 2**63 - 1)}
    assert widths == (ranges[summed_in],)
    columns = {c: frame[c].to_list() for c in frame.columns}
    want = frame.select(expr).to_series().to_list()
    if within_int8 or summed_in == pl.Int64:
        assert compiled.values(columns, frame.height, widths) == want
    else:
        with pytest.raises(Unsupported):
            compiled.values(columns, frame.height, widths)
    assert small._Select([expr], [compiled])(frame, columns) == {"out": (want, pl.Boolean)}


@pytest.mark.parametrize(
    "expr",
    [
        pl.col("s").str.len_chars(),
        pl.col("a").is_in([1, 2]),
        pl.col("a").cast(pl.Float64),
        pl.col("a").sum(),
    ],
    ids=["string function", "is_in", "cast to float", "aggregation"],
)
def test_a_node_not_read_is_left_to_polars(expr: pl.Expr) -> None:
    assert compile_rowwise(expr) is None


@pytest.mark.parametrize(
    ("expr", "columns"),
    [
        (pl.col("x") // 2, {"x": [1.5]}),  # arithmetic on floats
        (pl.col("a") // pl.col("b"), {"a": [1], "b": [0]}),  # division by zero
        (pl.col("a") * pl.col("b"), {"a": [2**20], "b": [2**20]}),  # outside Int32
        (pl.col("s") < pl.col("t"), {"s": ["a"], "t": ["b"]}),  # strings ordered
        (pl.col("a") == pl.col("p"), {"a": [1], "p": [True]}),  # number against boolean
        (pl.col("x") == 1.0, {"x": [float("nan")]}),  # NaN
        (pl.col("a") & pl.col("b"), {"a": [1], "b": [3]}),  # bitwise and
    ],
)
def test_a_value_not_taken_raises(expr: pl.Expr, columns: dict[str, list[Any]]) -> None:
    compiled = compile_rowwise(expr)
    assert compiled is not None
    with pytest.raises(Unsupported):
        compiled.values(columns, 1)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(picks=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=60))
def test_every_select_of_the_few_pairs_path_reads_as_polars_does(
    sides: tuple[pl.DataFrame, pl.DataFrame],  # noqa: F811 (the fixture)
    picks: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each stage's select, the gammas' select and the masked expression helpers' own selects,
    on the pair frames of drawn pairs of every kind's example and the shipped model's
    comparisons: the Python evaluation gives polars' values and dtypes (and, for the shipped
    model's comparisons, is used by every stage's and the gammas' select)."""
    left, right = sides
    pairs = _all_pairs(left, right)
    rows = pairs[[p % pairs.height for p in picks]]
    checked: list[str] = []
    original = small._Select.__call__

    def both(self: small._Select, frame: pl.DataFrame, lists: small._Lists) -> Any:
        got = original(self, frame, lists)
        if self.exprs:
            used.append((self, self.rowwise is not None))
        if self.exprs and self.rowwise is not None:
            want = frame.select(self.exprs)
            assert got == {c.name: (c.to_list(), c.dtype) for c in want.get_columns()}
            checked.extend(got)
        return got

    monkeypatch.setattr(small._Select, "__call__", both)
    used: list[tuple[small._Select, bool]] = []
    model = FewPairs(_comparisons()[len(COMPARISON_KINDS) :], DerivedMemo())
    model.compare(left, right, rows["l_idx"].to_numpy(), rows["r_idx"].to_numpy())
    assert used
    # (a masked helper's own select: its expression may hold a node not read, list.unique)
    alone = {
        id(select)
        for comparer in (model, *model._subsets.values())
        for select in comparer._alone_selects.values()
    }
    if _polars_checked():  # the shipped model's stages' and gammas' selects: read in Python
        assert all(read for select, read in used if id(select) not in alone)
    assert "gamma_given" in checked
    every = FewPairs(_comparisons(), DerivedMemo())  # (some kinds' examples: not all read)
    every.compare(left, right, rows["l_idx"].to_numpy(), rows["r_idx"].to_numpy())


@pytest.mark.parametrize(
    ("version", "release"),
    [("2.1.0", (2, 1)), ("2.1.0b1", (2, 1)), ("10.0", (10, 0)), ("2", None), ("x.y", None)],
)
def test_a_release_is_read_from_the_version(version: str, release: tuple[int, int] | None) -> None:
    assert rowwise._release(version) == release


def test_on_a_polars_not_checked_nothing_is_compiled_and_polars_evaluates(
    sides: tuple[pl.DataFrame, pl.DataFrame],  # noqa: F811 (the fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the Python evaluation off (another polars release), the few-pairs path's
    comparison vectors are those it gives with it on."""
    left, right = sides
    pairs = _all_pairs(left, right)[:40]
    l_idx, r_idx = pairs["l_idx"].to_numpy(), pairs["r_idx"].to_numpy()
    comparisons = _comparisons()[len(COMPARISON_KINDS) :]
    on = FewPairs(comparisons, DerivedMemo()).compare(left, right, l_idx, r_idx)
    monkeypatch.setattr(rowwise, "ENABLED", False)
    assert compile_rowwise(pl.col("a") + 1) is None
    used: list[bool] = []
    original = small._Select.__call__

    def noted(self: small._Select, frame: pl.DataFrame, lists: small._Lists) -> Any:
        used.append(self.rowwise is not None)
        return original(self, frame, lists)

    monkeypatch.setattr(small._Select, "__call__", noted)
    off = FewPairs(comparisons, DerivedMemo()).compare(left, right, l_idx, r_idx)
    assert used and not any(used)
    assert off.equals(on)


@pytest.mark.parametrize(
    ("expr", "frame"),
    [
        (  # polars computes in UInt8 and wraps: 1 - 2 is 255
            pl.col("a") - pl.col("b"),
            pl.DataFrame({"a": [1, 5], "b": [2, 3]}, schema={"a": pl.UInt8, "b": pl.UInt8}),
        ),
        (  # a list's length is UInt32: 0 - 1 wraps
            pl.col("t").list.len() - 1,
            pl.DataFrame({"t": [[], ["x"]]}, schema={"t": pl.List(pl.Utf8)}),
        ),
        (  # the horizontal sum of UInt8 stays UInt8: 200 + 100 is 44
            pl.sum_horizontal("a", "b"),
            pl.DataFrame({"a": [200], "b": [100]}, schema={"a": pl.UInt8, "b": pl.UInt8}),
        ),
        (  # abs of Int8's least value is itself
            pl.col("a").abs(),
            pl.DataFrame({"a": [-128, 3]}, schema={"a": pl.Int8}),
        ),
        (  # Int32 overflow: refused in Python, polars decides
            pl.col("a") * pl.col("b"),
            pl.DataFrame({"a": [2**20], "b": [2**20]}, schema={"a": pl.Int32, "b": pl.Int32}),
        ),
        (  # a lenient cast out of range is null in polars
            pl.col("a").cast(pl.Int8, strict=False),
            pl.DataFrame({"a": [300, 4]}, schema={"a": pl.Int32}),
        ),
        (  # signed 32- and 64-bit operands: read in Python
            (pl.col("a") - pl.col("b")).abs() + pl.sum_horizontal("a", "b"),
            pl.DataFrame({"a": [1, None], "b": [-7, 2]}, schema={"a": pl.Int32, "b": pl.Int64}),
        ),
    ],
    ids=[
        "uint8 minus",
        "list length minus",
        "uint8 sum",
        "int8 abs",
        "int32 times",
        "cast",
        "int32",
    ],
)
def test_arithmetic_past_its_width_is_left_to_polars(expr: pl.Expr, frame: pl.DataFrame) -> None:
    """Polars computes arithmetic in its node's width and wraps past it; Python's integers
    do not: a value past it is refused and the select evaluated by polars, with polars'
    values (the few-pairs path)."""
    expr = expr.alias("out")
    compiled = compile_rowwise(expr)
    assert compiled is not None
    select = small._Select([expr], [compiled])
    lists = {c: frame[c].to_list() for c in frame.columns}
    want = frame.select(expr).to_series()
    assert select(frame, lists) == {"out": (want.to_list(), want.dtype)}
    # integers of any width are taken; a value past its node's width is refused
    widths = compiled.widths(frame)
    assert widths is not None
    try:
        values = compiled.values(lists, frame.height, widths)
    except Unsupported:
        return
    assert values == want.to_list()
