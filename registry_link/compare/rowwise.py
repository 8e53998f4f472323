"""The comparisons' polars expressions evaluated in Python, on a few rows.

A comparison's levels, masks and helper columns are polars expressions
(:mod:`~registry_link.compare.levels`); polars takes in an expression at a cost that grows
with its size whatever the number of rows — about a millisecond for a name comparison's
"decided" column, whether on thirty pairs or on millions. :class:`RowwiseExpr` reads the SAME
expression (its serialised tree, :meth:`polars.Expr.meta.serialize`) and evaluates it in
Python, column by column over plain lists: what a search's few pairs
(:mod:`~registry_link.compare.small`) take in tens of microseconds.

One definition, two evaluations: the nodes read here are those the comparison library builds
(columns, literals, ``when/then/otherwise``, comparisons, Kleene ``&``/``|``/``^``/``~``,
``is_null``, ``fill_null``, ``coalesce``, the horizontal any/all/sum/min, integer arithmetic
and ``abs``, casts between booleans and integers, ``list.len``/``list.contains``, a date's
year/month/day), with polars' null rules. An expression holding any other node is not
compiled (:func:`compile_rowwise` gives ``None``), and a value the evaluator does not take
(a float where integers are asked, a division by zero, an integer outside its node's width,
NaN, strings ordered, a bitwise ``&`` of integers) raises :class:`Unsupported` at run time:
the caller then asks polars. Polars computes integer arithmetic in the width of its node's
dtype and wraps past it (``UInt8`` 1 - 2 is 255; a list's length is ``UInt32``; an ``Int8``
sum stays ``Int8``), Python does not: each arithmetic node (``+ - * // %``, ``abs``, the
horizontal sum) checks its operands and its result against its own dtype's range, found by
polars on no rows per dtypes of the columns read (:meth:`RowwiseExpr.widths`). Inside that
range the two agree (the operands cast to the node's dtype unchanged, the exact result
representable: wrapping arithmetic gives it); outside it the value is refused and polars
evaluates the select. A node whose dtype is not an integer's is left to polars. The
output's dtype is polars' own: the
expression's last strict cast, else found by polars on no rows (once per dtypes of the columns
it reads).
``tests/compare/test_rowwise.py`` holds both evaluations equal on drawn expressions and on
every select the few-pairs path runs for the shipped comparisons.
"""

from __future__ import annotations

import io
import json
import operator
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import polars as pl

__all__ = ["CHECKED_POLARS", "ENABLED", "RowwiseExpr", "Unsupported", "compile_rowwise"]

#: The polars releases (major, minor) whose expressions this module was checked against.
CHECKED_POLARS: frozenset[tuple[int, int]] = frozenset({(2, 1)})


def _release(version: str) -> tuple[int, int] | None:
    """``(major, minor)`` of a version string such as ``"2.1.0"``; None if unreadable."""
    parts = version.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return None


#: Whether :func:`compile_rowwise` compiles at all: the installed polars is a checked one.
ENABLED: bool = _release(pl.__version__) in CHECKED_POLARS

#: Columns by name, each a list of one value per row (only those an expression reads).
Columns = Mapping[str, list[Any]]
#: Per arithmetic node of an expression (in compile order), the least and greatest value of
#: its dtype over the columns read (:meth:`RowwiseExpr.widths`).
Widths = tuple[tuple[int, int], ...]
#: A compiled node: its values over ``n`` rows, the arithmetic nodes' widths given.
_Node = Callable[[Columns, int, Widths], list[Any]]


class Unsupported(Exception):
    """A node or a value the Python evaluation does not read (polars evaluates it)."""


class RowwiseExpr:
    """A polars expression and its Python evaluation (see the module docstring)."""

    def __init__(self, expr: pl.Expr, node: _Node, arithmetic: tuple[pl.Expr, ...] = ()) -> None:
        self.expr = expr
        self.name = expr.meta.output_name()
        self.reads = tuple(dict.fromkeys(expr.meta.root_names()))
        self._node = node
        self._arithmetic = arithmetic
        self._dtypes: dict[tuple[pl.DataType, ...], pl.DataType] = {}
        self._widths: dict[tuple[pl.DataType, ...], Widths | None] = {}
        self._cast = _cast_dtype(expr)

    def widths(self, frame: pl.DataFrame) -> Widths | None:
        """Over ``frame``'s dtypes, each arithmetic node's range (``+ - * // %``, ``abs``,
        the horizontal sum: the least and greatest value of the dtype polars computes it
        in, where it wraps), in compile order; ``None`` when one of them is not an integer
        there (polars evaluates the expression). Kept per dtypes of the columns read."""
        if not self._arithmetic:
            return ()
        key = tuple(frame.get_column(c).dtype for c in self.reads)
        if key in self._widths:
            return self._widths[key]
        empty = pl.DataFrame(schema=dict(zip(self.reads, key, strict=True)))
        try:
            dtypes = empty.select(e.alias(f"a{i}") for i, e in enumerate(self._arithmetic)).dtypes
        except pl.exceptions.PolarsError:
            found = None
        else:
            ranges = [r for r in map(_integer_range, dtypes) if r is not None]
            found = tuple(ranges) if len(ranges) == len(dtypes) else None
        self._widths[key] = found
        return found

    def takes(self, frame: pl.DataFrame) -> bool:
        """Whether the Python evaluation may be asked over ``frame``'s dtypes: every
        arithmetic node computes in an integer dtype there (:meth:`widths`)."""
        return self.widths(frame) is not None

    def values(self, columns: Columns, n: int, widths: Widths | None = None) -> list[Any]:
        """The expression's value on each of the ``n`` rows of ``columns``; ``widths``: the
        arithmetic nodes' ranges over the columns' dtypes (:meth:`widths`; default every
        one ``Int32``'s, as over ``Int32`` columns).

        Raises:
            Unsupported: a value the Python evaluation does not take (an integer outside its
                node's range among them).
        """
        if widths is None:
            widths = (_INT32_RANGE,) * len(self._arithmetic)
        return self._node(columns, n, widths)

    def dtype(self, frame: pl.DataFrame) -> pl.DataType:
        """The dtype polars gives the expression over ``frame``: the dtype its last cast
        makes, else found by polars on no rows (kept per dtypes of the columns it reads)."""
        if self._cast is not None:
            return self._cast
        key = tuple(frame.get_column(c).dtype for c in self.reads)
        found = self._dtypes.get(key)
        if found is None:
            empty = pl.DataFrame(schema=dict(zip(self.reads, key, strict=True)))
            found = self._dtypes[key] = empty.select(self.expr).dtypes[0]
        return found


def _cast_dtype(expr: pl.Expr) -> pl.DataType | None:
    """The dtype of ``expr`` when it ends with a strict cast to one of :data:`_CASTS`."""
    tree = json.loads(expr.meta.serialize(format="json"))
    while isinstance(tree, dict) and "Alias" in tree:
        tree = tree["Alias"][0]
    cast = tree.get("Cast") if isinstance(tree, dict) else None
    if cast is None or cast.get("options") != "Strict":
        return None
    target = cast["dtype"].get("Literal") if isinstance(cast["dtype"], dict) else None
    return _DTYPES.get(target) if isinstance(target, str) else None


def compile_rowwise(expr: pl.Expr) -> RowwiseExpr | None:
    """``expr``'s Python evaluation, or ``None`` when it holds a node not read here (or the
    installed polars is not one of :data:`CHECKED_POLARS`)."""
    if not ENABLED:
        return None
    try:
        tree = json.loads(expr.meta.serialize(format="json"))
        arithmetic: list[Any] = []
        node = _compile(tree, arithmetic)
        nodes = tuple(
            pl.Expr.deserialize(io.StringIO(json.dumps(a)), format="json") for a in arithmetic
        )
        return RowwiseExpr(expr, node, nodes)
    except (Unsupported, ValueError, KeyError, TypeError, pl.exceptions.PolarsError):
        return None


#: The binary operators and functions computed in their node's integer width.
_ARITHMETIC_OPS = frozenset({"Plus", "Minus", "Multiply", "FloorDivide", "Modulus"})
_ARITHMETIC_FUNCTIONS = frozenset({'"Abs"', '{"SumHorizontal": {"ignore_nulls": true}}'})

_INT32_RANGE = (-(2**31), 2**31 - 1)


#: The integer dtypes' widths in bits.
_BITS: dict[pl.DataType, int] = {
    pl.Int8(): 8,
    pl.Int16(): 16,
    pl.Int32(): 32,
    pl.Int64(): 64,
    pl.UInt8(): 8,
    pl.UInt16(): 16,
    pl.UInt32(): 32,
    pl.UInt64(): 64,
}


def _integer_range(dtype: pl.DataType) -> tuple[int, int] | None:
    """The least and greatest value of an integer dtype (``None`` for another dtype)."""
    bits = _BITS.get(dtype)
    if bits is None:
        return None
    if dtype.is_signed_integer():
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def _compile(tree: Any, arithmetic: list[Any]) -> _Node:
    """The compiled node of one serialised expression node; the arithmetic nodes met are
    appended to ``arithmetic`` (each reads its range at that position of the widths)."""
    if not isinstance(tree, dict) or len(tree) != 1:
        raise Unsupported(str(tree)[:80])
    ((kind, body),) = tree.items()
    if kind == "Column":
        name = body
        return lambda cols, n, widths: cols[name]
    if kind == "Alias":
        return _compile(body[0], arithmetic)
    if kind == "Literal":
        value = _literal(body)
        return lambda cols, n, widths: [value] * n
    if kind == "BinaryExpr":
        left, right = _compile(body["left"], arithmetic), _compile(body["right"], arithmetic)
        if body["op"] in _ARITHMETIC_OPS:
            arithmetic.append(tree)
            return _arithmetic_node(left, body["op"], right, len(arithmetic) - 1)
        return _binary(left, body["op"], right)
    if kind == "Ternary":
        return _ternary(
            _compile(body["predicate"], arithmetic),
            _compile(body["truthy"], arithmetic),
            _compile(body["falsy"], arithmetic),
        )
    if kind == "Cast":
        return _cast(_compile(body["expr"], arithmetic), body["dtype"])
    if kind == "Function":
        inputs = [_compile(x, arithmetic) for x in body["input"]]
        name = json.dumps(body["function"], sort_keys=True)
        if name in _ARITHMETIC_FUNCTIONS:
            arithmetic.append(tree)
            return _arithmetic_function(name, inputs, len(arithmetic) - 1)
        return _function(name, inputs)
    raise Unsupported(kind)


_SCALARS = {"Boolean", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt32", "String", "Float64"}


def _literal(body: Any) -> Any:
    if "Dyn" in body and set(body["Dyn"]) <= {"Int", "Float"}:
        return next(iter(body["Dyn"].values()))
    scalar = body.get("Scalar")
    if isinstance(scalar, dict) and len(scalar) == 1:
        ((kind, value),) = scalar.items()
        if kind == "Null":
            return None
        if kind in _SCALARS:
            return value
    raise Unsupported(str(body)[:80])


def _is_int(x: Any) -> bool:
    return type(x) is int  # (a bool is not one; the values are polars' plain Python ones)


_LOGICAL = frozenset({bool, type(None)})


def _booleans(values: list[Any]) -> list[Any]:
    """``values``, booleans or nulls (a logical operation on integers is bitwise in polars:
    not read here)."""
    if not _LOGICAL.issuperset(map(type, values)):
        raise Unsupported("a logical operation on other than booleans")
    return values


def _and(xs: list[Any], ys: list[Any]) -> list[Any]:
    """Kleene and: false if either is false, else null if either is null."""
    return [
        False if x is False or y is False else None if x is None or y is None else True
        for x, y in zip(_booleans(xs), _booleans(ys), strict=True)
    ]


def _or(xs: list[Any], ys: list[Any]) -> list[Any]:
    """Kleene or: true if either is true, else null if either is null."""
    return [
        True if x is True or y is True else None if x is None or y is None else False
        for x, y in zip(_booleans(xs), _booleans(ys), strict=True)
    ]


def _xor(xs: list[Any], ys: list[Any]) -> list[Any]:
    return [
        None if x is None or y is None else x is not y
        for x, y in zip(_booleans(xs), _booleans(ys), strict=True)
    ]


def _in_range(x: int, lo: int, hi: int) -> int:
    """``x``, refused (:class:`Unsupported`) outside its node's range: polars wraps there."""
    if not lo <= x <= hi:
        raise Unsupported("an integer outside its node's width")
    return x


_OPERATORS: dict[str, Callable[[int, int], int]] = {
    "Plus": operator.add,
    "Minus": operator.sub,
    "Multiply": operator.mul,
    "FloorDivide": operator.floordiv,
    "Modulus": operator.mod,
}


def _arithmetic_node(left: _Node, op: str, right: _Node, at: int) -> _Node:
    """An arithmetic operator on two integer columns, its operands and result checked
    against the range at position ``at`` of the widths."""
    fn = _OPERATORS[op]
    divides = op in ("FloorDivide", "Modulus")

    def apply(x: Any, y: Any, lo: int, hi: int) -> Any:
        if x is None or y is None:
            return None
        if type(x) is not int or type(y) is not int or (divides and y == 0):
            raise Unsupported("arithmetic on other than integers")
        if not (lo <= x <= hi and lo <= y <= hi):
            raise Unsupported("an operand outside its node's width")
        return _in_range(fn(x, y), lo, hi)

    def node(cols: Columns, n: int, widths: Widths) -> list[Any]:
        lo, hi = widths[at]
        return [
            apply(x, y, lo, hi)
            for x, y in zip(left(cols, n, widths), right(cols, n, widths), strict=True)
        ]

    return node


def _comparison(op: Callable[[Any, Any], Any], ordering: bool) -> Callable[[Any, Any], Any]:
    """``op`` on two present values: numbers (NaN aside: polars orders it), or two values of
    one type (strings and booleans compared for equality only, dates either way)."""
    kinds = (date,) if ordering else (str, bool, date)

    def apply(x: Any, y: Any) -> Any:
        if x is None or y is None:
            return None
        if _is_number(x) and _is_number(y):
            if x != x or y != y:
                raise Unsupported("NaN")
            return op(x, y)
        if type(x) is type(y) and isinstance(x, kinds):
            return op(x, y)
        raise Unsupported(f"{type(x).__name__} against {type(y).__name__}")

    return apply


def _compared(
    op: Callable[[Any, Any], Any], ordering: bool
) -> Callable[[list[Any], list[Any]], list[Any]]:
    """:func:`_comparison` applied to two columns, the common case inline: two values of
    one type compared as they are (integers, dates; for equality strings and booleans too),
    the others through :func:`_comparison` (NaN, mixed numbers, refusals)."""
    same = frozenset({int, date} if ordering else {int, str, bool, date})
    each = _comparison(op, ordering)

    def apply(xs: list[Any], ys: list[Any]) -> list[Any]:
        return [
            None
            if x is None or y is None
            else op(x, y)
            if (kind := type(x)) is type(y) and kind in same
            else each(x, y)
            for x, y in zip(xs, ys, strict=True)
        ]

    return apply


_NUMBERS = frozenset({int, float})


def _is_number(x: Any) -> bool:
    return type(x) in _NUMBERS  # (a bool is not one)


#: The binary operators read, each on two columns.
_BINARY: dict[str, Callable[[list[Any], list[Any]], list[Any]]] = {
    "And": _and,
    "Or": _or,
    "Xor": _xor,
    "Eq": _compared(operator.eq, ordering=False),
    "NotEq": _compared(operator.ne, ordering=False),
    "Lt": _compared(operator.lt, ordering=True),
    "LtEq": _compared(operator.le, ordering=True),
    "Gt": _compared(operator.gt, ordering=True),
    "GtEq": _compared(operator.ge, ordering=True),
}


def _binary(left: _Node, op: str, right: _Node) -> _Node:
    fn = _BINARY.get(op)
    if fn is None:
        raise Unsupported(op)
    return lambda cols, n, widths: fn(left(cols, n, widths), right(cols, n, widths))


def _ternary(predicate: _Node, truthy: _Node, falsy: _Node) -> _Node:
    def node(cols: Columns, n: int, widths: Widths) -> list[Any]:
        return [
            t if p is True else f
            for p, t, f in zip(
                _booleans(predicate(cols, n, widths)),
                truthy(cols, n, widths),
                falsy(cols, n, widths),
                strict=True,
            )
        ]

    return node


def _to_int(x: Any) -> Any:
    if x is None or type(x) is int:
        return x
    if type(x) is bool:
        return int(x)
    raise Unsupported(f"a cast of {type(x).__name__} to an integer")


def _to_bool(x: Any) -> Any:
    if x is None or type(x) is bool:
        return x
    if type(x) is int:
        return x != 0
    raise Unsupported(f"a cast of {type(x).__name__} to a boolean")


def _to_width(bits: int) -> Callable[[Any], Any]:
    """A cast to a signed integer of ``bits``: a value outside it refused (polars' strict
    cast fails there, its other casts give null)."""
    bound = 2 ** (bits - 1)

    def cast(x: Any) -> Any:
        if x is None or type(x) is bool:
            return None if x is None else int(x)  # (0 or 1: in every width)
        out = _to_int(x)
        if not -bound <= out < bound:
            raise Unsupported(f"an integer outside Int{bits}")
        return out

    return cast


_CASTS: dict[str, Callable[[Any], Any]] = {
    "Int8": _to_width(8),
    "Int16": _to_width(16),
    "Int32": _to_width(32),
    "Int64": _to_int,
    "Boolean": _to_bool,
}


_DTYPES: dict[str, pl.DataType] = {
    "Int8": pl.Int8(),
    "Int16": pl.Int16(),
    "Int32": pl.Int32(),
    "Int64": pl.Int64(),
    "Boolean": pl.Boolean(),
}


def _cast(inner: _Node, dtype: Any) -> _Node:
    target = dtype.get("Literal") if isinstance(dtype, dict) else None
    fn = _CASTS.get(target) if isinstance(target, str) else None
    if fn is None:
        raise Unsupported(f"cast to {dtype}")
    return lambda cols, n, widths: list(map(fn, inner(cols, n, widths)))


def _any(inputs: list[list[Any]]) -> list[Any]:
    """Kleene any: true if one is true, else null if one is null."""
    rows = zip(*map(_booleans, inputs), strict=True)
    return [True if True in row else None if None in row else False for row in rows]


def _all(inputs: list[list[Any]]) -> list[Any]:
    """Kleene all: false if one is false, else null if one is null."""
    rows = zip(*map(_booleans, inputs), strict=True)
    return [False if False in row else None if None in row else True for row in rows]


def _not(inputs: list[list[Any]]) -> list[Any]:
    return [None if v is None else not v for v in _booleans(inputs[0])]


def _fill_null(inputs: list[list[Any]]) -> list[Any]:
    values, fills = inputs
    return [f if v is None else v for v, f in zip(values, fills, strict=True)]


def _sum(values: tuple[Any, ...], lo: int, hi: int) -> Any:
    """The sum of the values present (0 when none is: ``ignore_nulls``), in ``lo..hi``."""
    present = [v for v in values if v is not None]
    if not all(_is_int(v) and lo <= v <= hi for v in present):
        raise Unsupported("a sum of other than integers in its node's width")
    return _in_range(sum(present), lo, hi)


def _min(values: tuple[Any, ...]) -> Any:
    """The least value present (null when none is)."""
    present = [v for v in values if v is not None]
    if not all(_is_number(v) for v in present):
        raise Unsupported("a minimum of other than numbers")
    return min(present) if present else None


def _abs(values: tuple[Any, ...], lo: int, hi: int) -> Any:
    (x,) = values
    if x is not None and not _is_int(x):
        raise Unsupported("the absolute value of other than an integer")
    return None if x is None else _in_range(abs(_in_range(x, lo, hi)), lo, hi)


def _coalesce(values: tuple[Any, ...]) -> Any:
    return next((v for v in values if v is not None), None)


def _contains(values: tuple[Any, ...]) -> bool | None:
    """``list.contains(item, nulls_equal=True)``: null for a null list."""
    items, item = values
    return None if items is None else item in items


def _length(values: tuple[Any, ...]) -> int | None:
    (items,) = values
    return None if items is None else len(items)


def _date_part(part: str) -> Callable[[tuple[Any, ...]], Any]:
    def apply(values: tuple[Any, ...]) -> Any:
        (day,) = values
        if day is None:
            return None
        if not isinstance(day, date):
            raise Unsupported(f"a date part of {type(day).__name__}")
        return getattr(day, part)

    return apply


def _by_row(fn: Callable[[tuple[Any, ...]], Any]) -> Callable[[list[list[Any]]], list[Any]]:
    """A function of one row's inputs applied to every row."""
    return lambda inputs: list(map(fn, zip(*inputs, strict=True)))


#: The functions read, by their serialised name, each on its input columns.
_FUNCTIONS: dict[str, Callable[[list[list[Any]]], list[Any]]] = {
    '{"Boolean": "IsNull"}': lambda inputs: [x is None for x in inputs[0]],
    '{"Boolean": "IsNotNull"}': lambda inputs: [x is not None for x in inputs[0]],
    '{"Boolean": "Not"}': _not,
    '{"Boolean": "AnyHorizontal"}': _any,
    '{"Boolean": "AllHorizontal"}': _all,
    '"MinHorizontal"': _by_row(_min),
    '"Coalesce"': _by_row(_coalesce),
    '"FillNull"': _fill_null,
    '{"ListExpr": {"Contains": {"nulls_equal": true}}}': _by_row(_contains),
    '{"ListExpr": "Length"}': _by_row(_length),
    '{"TemporalExpr": "Year"}': _by_row(_date_part("year")),
    '{"TemporalExpr": "Month"}': _by_row(_date_part("month")),
    '{"TemporalExpr": "Day"}': _by_row(_date_part("day")),
}


#: The arithmetic functions, by their serialised name: one row's inputs and the node's range.
_ARITHMETIC: dict[str, Callable[[tuple[Any, ...], int, int], Any]] = {
    '{"SumHorizontal": {"ignore_nulls": true}}': _sum,
    '"Abs"': _abs,
}


def _function(name: str, inputs: list[_Node]) -> _Node:
    """A function (by its serialised name) of its input columns."""
    fn = _FUNCTIONS.get(name)
    if fn is None or not inputs:
        raise Unsupported(name[:80])

    return lambda cols, n, widths: fn([x(cols, n, widths) for x in inputs])


def _arithmetic_function(name: str, inputs: list[_Node], at: int) -> _Node:
    """An arithmetic function of its input columns, row by row, checked against the range
    at position ``at`` of the widths."""
    fn = _ARITHMETIC[name]
    if not inputs:
        raise Unsupported(name[:80])

    def node(cols: Columns, n: int, widths: Widths) -> list[Any]:
        lo, hi = widths[at]
        rows = zip(*[x(cols, n, widths) for x in inputs], strict=True)
        return [fn(row, lo, hi) for row in rows]

    return node
