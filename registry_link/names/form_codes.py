"""Integer codes of Latin matching forms, with each form's per-form columns gathered by code.

The name matcher decides millions of pairs of forms, and a link asks about the same few ten
thousand forms in every chunk and comparison. A :class:`FormTable` gives each distinct form a
code once (a polars ``Categorical`` of categories of its own: one hash look-up per value) and
works out its columns (keys, ending, vowel gaps, readings: the caller's ``work``) once, when
the form is first coded. A pair's checks are then numpy gathers by code: no string is hashed
again, however many calls, retries or checks look at it.

Keys are coded the same way (:data:`FormTable.key_columns`: equal codes ⇔ equal keys), so
the checks compare integers.

Codes only grow: a form keeps its code for the table's life, and the columns a call reads
(:class:`FormColumns`) are a snapshot that later calls extend but never change, so a call
can go on reading its snapshot while another thread codes new forms.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

#: Code of a null form (or a null key).
NULL_CODE = -1


@dataclass(frozen=True)
class FormColumns:
    """Per form code ``0 .. size - 1``: its columns (numpy arrays for numbers and key codes,
    polars Series for strings and lists). Read-only: a snapshot of a :class:`FormTable`."""

    size: int
    arrays: dict[str, np.ndarray]
    series: dict[str, pl.Series]

    def array(self, name: str) -> np.ndarray:
        """The numeric column ``name`` (key codes: ``NULL_CODE`` for a null key)."""
        return self.arrays[name]

    def gather(self, name: str, codes: np.ndarray) -> pl.Series:
        """The string or list column ``name`` at ``codes`` (codes of this snapshot; null at
        ``NULL_CODE``)."""
        index = pl.Series(codes, dtype=pl.Int64)
        missing = codes < 0
        if missing.any():
            index = index.scatter(np.flatnonzero(missing), None)
        return self.series[name].gather(index)


class FormTable:
    """Integer codes of distinct forms and their columns, kept across calls (thread-safe).

    ``work(forms)`` maps a frame ``{form}`` (one row per form, in code order; a null form may
    appear and gets nulls) to a frame of the forms' columns, row for row. Its columns named in
    ``key_columns`` are key strings, kept as key codes (equal codes ⇔ equal keys; a null
    ``NULL_CODE``) and as the strings themselves; the other numeric and Boolean columns are
    kept as numpy arrays, the rest (strings, lists) as Series. The form itself is kept as the
    column ``form``.
    """

    def __init__(
        self,
        work: Callable[[pl.DataFrame], pl.DataFrame],
        key_columns: Sequence[str] = (),
    ) -> None:
        self._work = work
        self.key_columns = tuple(key_columns)
        self._lock = threading.Lock()
        self._forms = pl.Categorical(pl.Categories.random())
        self._keys = pl.Categorical(pl.Categories.random())
        # (the categories live as long as some data uses them)
        self._alive = [pl.Series([], dtype=self._forms), pl.Series([], dtype=self._keys)]
        self._buffers: dict[str, np.ndarray] = {}
        self._columns = FormColumns(0, {}, {})

    def code(self, values: pl.Series) -> tuple[np.ndarray, FormColumns]:
        """Each value's code (int64; ``NULL_CODE`` for null) and the columns of every form
        coded so far (new forms' columns worked out now)."""
        strings = values if values.dtype == pl.Utf8 else values.cast(pl.Utf8)
        with self._lock:
            physical = strings.cast(self._forms).to_physical()
            top = physical.max()
            if top is not None and int(top) >= self._columns.size:  # type: ignore[arg-type]
                self._add(strings, physical, int(top))  # type: ignore[arg-type]
            columns = self._columns
        codes = physical.cast(pl.Int64).fill_null(NULL_CODE).to_numpy()
        return codes, columns

    def _add(self, strings: pl.Series, physical: pl.Series, top: int) -> None:
        """Works out the columns of the codes ``size .. top`` (new forms, all in ``strings``)."""
        size = self._columns.size
        seen = pl.DataFrame({"code": physical, "form": strings}).filter(pl.col("code") >= size)
        seen = seen.unique(subset="code").sort("code")
        if seen.height != top + 1 - size:  # (a code never given to a form here: null form)
            every = pl.DataFrame({"code": pl.int_range(size, top + 1, dtype=pl.UInt32, eager=True)})
            seen = every.join(seen, on="code", how="left", maintain_order="left")
        new = self._work(seen.select("form"))
        arrays = dict(self._columns.arrays)
        series = dict(self._columns.series)
        for name in ("form", *new.columns):
            column = seen["form"] if name == "form" else new[name]
            if name in self.key_columns:
                codes = column.cast(self._keys).to_physical().cast(pl.Int64)
                self._append(arrays, name, codes.fill_null(NULL_CODE).to_numpy(), size)
                self._extend(series, f"{name}_text", column)
            elif column.dtype.is_numeric() or column.dtype == pl.Boolean:
                self._append(arrays, name, column.to_numpy(), size)
            else:
                self._extend(series, name, column)
        self._columns = FormColumns(top + 1, arrays, series)

    def _append(
        self, arrays: dict[str, np.ndarray], name: str, values: np.ndarray, at: int
    ) -> None:
        """``arrays[name]`` extended by ``values`` from ``at``: written into the spare room of
        its buffer (no snapshot reads past its size) or into a new buffer twice as large."""
        buffer = self._buffers.get(name)
        end = at + len(values)
        if buffer is None or len(buffer) < end or buffer.dtype != values.dtype:
            grown = np.empty(max(2 * end, 16), dtype=values.dtype)
            if buffer is not None:
                grown[:at] = buffer[:at]
            buffer = self._buffers[name] = grown
        buffer[at:end] = values
        arrays[name] = buffer[:end]

    @staticmethod
    def _extend(series: dict[str, pl.Series], name: str, values: pl.Series) -> None:
        old = series.get(name)
        values = values.alias(name)
        if old is None:
            series[name] = values
            return
        out = pl.concat([old, values], rechunk=False)
        series[name] = out.rechunk() if out.n_chunks() > 16 else out
