"""Rewrite chains as data: one table of steps, two evaluations.

The name rules (:mod:`~registry_link.names.latin`, :mod:`~registry_link.names.translit`,
:mod:`~registry_link.names.arabic`, :mod:`~registry_link.names.keys`) are chains of string
rewrites. Each is written once, as a tuple of steps (:data:`Chain`), and evaluated either

* by polars (:func:`chain_expr`: the expression the batch runs on whole columns, step for
  step the expression the rules always built), or
* in pure Python (:func:`chain_text`: one value at a time, with :mod:`re` and
  :mod:`unicodedata`) — what a search standardising one new name uses: polars takes in an
  expression at a cost that grows with its depth whatever the number of rows (about 10 ms
  for one name's rules), Python runs the same chain on one value in tens of microseconds.

The two agree on the text each chain meets: any text for the chains that read raw values
(``latin.CLEAN + latin.NAME_RULES``, ``arabic.NORMALISE`` and the transliteration, the code
key), and a later chain (``latin.NAME_RULES``, the key) on its predecessor's output, which
holds no combining mark (beside a letter, a mark is a word character for Rust's ``\\b`` and
not for Python's). ``tests/names/test_rewrite.py`` holds them equal with hypothesis on odd
input, for every chain. A pattern is written in polars' (Rust) regex syntax; the few
constructs Python's ``re`` spells differently are translated (:func:`python_pattern`), and
``\\p{...}`` classes are given the very code points polars' regex matches.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import polars as pl

__all__ = [
    "Chain",
    "Literal_",
    "Lower",
    "Many",
    "NewerUnicode",
    "NonEmpty",
    "Normalize",
    "Pad",
    "Step",
    "Strip",
    "Sub",
    "chain_expr",
    "chain_text",
    "compile_chain",
    "compiled_pattern",
    "python_pattern",
    "python_replacement",
]


@functools.cache
def _all_characters() -> pl.Series:
    """Every Unicode scalar value (no surrogates: polars holds UTF-8), as a polars series."""
    return pl.Series(
        [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF], dtype=pl.Utf8
    )


def _polars_hits(pattern: str) -> list[str]:
    """Every character polars' regex ``pattern`` (one character class) matches."""
    chars = _all_characters()
    return chars.filter(chars.str.contains(f"^{pattern}$")).to_list()


@functools.cache
def _class_body(pattern: str) -> str:
    """The code points polars' regex ``pattern`` (one character class) matches, as ranges:
    the body of a Python character class, exact by construction (polars decides)."""
    ranges: list[tuple[int, int]] = []
    for c in map(ord, _polars_hits(pattern)):
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1] = (ranges[-1][0], c)
        else:
            ranges.append((c, c))
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


def python_pattern(pattern: str) -> str:
    """``pattern`` (polars' regex syntax) in Python's ``re`` syntax.

    The classes whose meaning differs (``\\p{Name}``, ``\\s``, ``\\d``, ``\\w``) become the
    code points polars' regex gives them; ``\\x{HHHH}`` the character; a final ``$`` (the
    end of the text in Rust) ``\\Z``. ``\\b`` is kept: Python's word characters differ from
    Rust's on a few (marks, some numbers and connectors), which the rules' patterns with
    ``\\b`` do not meet (they run on text already cleaned to letters, digits and spaces;
    the property tests feed them any character).

    Raises:
        ValueError: a negated class (``\\P{..}``, ``\\S``, ``\\D``, ``\\W``) inside brackets.
    """
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1 : i + 2]
            if nxt in ("p", "P", "x") and pattern[i + 2 : i + 3] == "{":
                close = pattern.index("}", i)
                name, i = pattern[i + 3 : close], close + 1
                if nxt == "x":
                    out.append(re.escape(chr(int(name, 16))))
                    continue
                body = _class_body(rf"\p{{{name}}}")
                negated = nxt == "P"
            elif nxt in ("s", "d", "w", "S", "D", "W"):
                body, negated, i = _class_body(rf"\{nxt.lower()}"), nxt.isupper(), i + 2
            else:
                out.append(pattern[i : i + 2])
                i += 2
                continue
            if negated and in_class:
                raise ValueError(f"negated class inside brackets in {pattern!r}: not translated")
            out.append(body if in_class else f"[{'^' if negated else ''}{body}]")
            continue
        if c == "[" and not in_class:
            in_class = True
        elif c == "]" and in_class and pattern[i - 1] not in "[^":
            in_class = False
        out.append(c)
        i += 1
    python = "".join(out)
    if python.endswith("$") and not python.endswith("\\$"):
        python = python[:-1] + r"\Z"
    return python


@functools.lru_cache(maxsize=4096)
def compiled_pattern(pattern: str) -> re.Pattern[str]:
    """``pattern`` (polars' regex syntax) translated (:func:`python_pattern`) and compiled,
    once per pattern: a step made anew (e.g. a name's readings, one :class:`Sub` per reading
    and form) does not translate it again, and :mod:`re`'s own cache (512 patterns) is not
    relied on."""
    return re.compile(python_pattern(pattern))


def python_replacement(replacement: str) -> str:
    """A polars replacement in Python's ``re.sub`` syntax (groups written ``${1}``).

    Raises:
        ValueError: another ``$`` form (``$1x`` is the group named ``1x`` in Rust) or a
            backslash (an escape in Python, a letter in Rust).
    """
    if "\\" in replacement:
        raise ValueError(f"backslash in replacement {replacement!r}: not supported")
    out = re.sub(r"\$\{(\d+)\}", r"\\g<\1>", replacement)
    if "$" in out:
        raise ValueError(f"write group references as ${{1}}, not {replacement!r}")
    return out


class Step:
    """One rewrite of a chain: a polars expression and the same on one Python string."""

    def expr(self, e: pl.Expr) -> pl.Expr:  # pragma: no cover - abstract
        raise NotImplementedError

    def text(self, s: str) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Sub(Step):
    """Every match of the regex ``pattern`` replaced (``str.replace_all``)."""

    pattern: str
    replacement: str

    @cached_property
    def _compiled(self) -> tuple[re.Pattern[str], str]:
        return compiled_pattern(self.pattern), python_replacement(self.replacement)

    def expr(self, e: pl.Expr) -> pl.Expr:
        return e.str.replace_all(self.pattern, self.replacement)

    def text(self, s: str) -> str:
        compiled, replacement = self._compiled
        return compiled.sub(replacement, s)


@dataclass(frozen=True)
class Literal_(Step):
    """Every occurrence of the text ``old`` replaced by ``new`` (no regex)."""

    old: str
    new: str

    def expr(self, e: pl.Expr) -> pl.Expr:
        return e.str.replace_all(self.old, self.new, literal=True)

    def text(self, s: str) -> str:
        return s.replace(self.old, self.new)


@dataclass(frozen=True)
class Many(Step):
    """Each key replaced by its value in one pass (``str.replace_many``).

    The keys have one length (so polars' matching and the leftmost one agree).
    """

    table: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        lengths = {len(k) for k, _ in self.table}
        if len(lengths) > 1:
            raise ValueError(f"replace_many keys of several lengths {sorted(lengths)}")

    @classmethod
    def of(cls, mapping: Mapping[str, str] | list[tuple[str, str]]) -> Many:
        """From a mapping or a list of pairs."""
        pairs = mapping.items() if isinstance(mapping, Mapping) else mapping
        return cls(tuple(pairs))

    @cached_property
    def _compiled(self) -> tuple[re.Pattern[str], dict[str, str]]:
        keys = [k for k, _ in self.table]
        return re.compile("|".join(re.escape(k) for k in keys)), dict(self.table)

    def expr(self, e: pl.Expr) -> pl.Expr:
        return e.str.replace_many([k for k, _ in self.table], [v for _, v in self.table])

    def text(self, s: str) -> str:
        compiled, table = self._compiled
        return compiled.sub(lambda m: table[m.group()], s)


class NewerUnicode(ValueError):
    """A character Python's Unicode database does not know (Python's ``unicodedata`` may be
    older than polars' tables): its normal form, case and classes may differ there."""


@dataclass(frozen=True)
class Normalize(Step):
    """Unicode normal form (``str.normalize``).

    In Python, a text holding a character unassigned in Python's Unicode database raises
    :class:`NewerUnicode` (:func:`chain_text` then asks polars).
    """

    form: Literal["NFC", "NFKC", "NFD", "NFKD"]

    def expr(self, e: pl.Expr) -> pl.Expr:
        return e.str.normalize(self.form)

    def text(self, s: str) -> str:
        if not s.isascii() and any(unicodedata.category(c) == "Cn" for c in s):
            raise NewerUnicode(s)
        return unicodedata.normalize(self.form, s)


@dataclass(frozen=True)
class Lower(Step):
    """Lowercase."""

    def expr(self, e: pl.Expr) -> pl.Expr:
        return e.str.to_lowercase()

    def text(self, s: str) -> str:
        return s.lower()


@dataclass(frozen=True)
class Strip(Step):
    """Leading and trailing whitespace removed (Unicode White_Space, as Rust's ``trim``: not
    Python's wider ``str.isspace``, which also takes the separators U+001C-U+001F)."""

    def expr(self, e: pl.Expr) -> pl.Expr:
        return e.str.strip_chars()

    def text(self, s: str) -> str:
        return s.strip(_whitespace())


@functools.cache
def _whitespace() -> str:
    """The characters polars' ``\\s`` (Unicode White_Space) matches."""
    return "".join(_polars_hits(r"\s"))


@dataclass(frozen=True)
class Pad(Step):
    """One space added at each end (so a rule can match whole tokens with spaces)."""

    def expr(self, e: pl.Expr) -> pl.Expr:
        return " " + e + " "

    def text(self, s: str) -> str:
        return f" {s} "


@dataclass(frozen=True)
class NonEmpty(Step):
    """The text, or null when it is empty."""

    def expr(self, e: pl.Expr) -> pl.Expr:
        return pl.when(e.str.len_chars() > 0).then(e).otherwise(None)

    def text(self, s: str) -> str | None:
        return s or None


Chain = tuple[Step, ...]


def chain_expr(chain: Chain, e: pl.Expr) -> pl.Expr:
    """The polars expression of ``chain`` on ``e`` (null stays null)."""
    for step in chain:
        e = step.expr(e)
    return e


def compile_chain(chain: Chain) -> None:
    """Prepare ``chain``'s Python evaluation now (its patterns translated and compiled: the
    first translation of a ``\\p{...}`` class asks polars about every code point, ~0.5 s
    once), not on the first value a search meets."""
    for step in chain:
        step.text("")


def chain_text(chain: Chain, s: str | None) -> str | None:
    """``chain`` on one value in Python: what :func:`chain_expr` gives on it (polars reads
    a value with a character newer than Python's Unicode database: :class:`NewerUnicode`)."""
    value = s
    try:
        for step in chain:
            if value is None:
                return None
            value = step.text(value)
    except NewerUnicode:
        return pl.select(chain_expr(chain, pl.lit(s, dtype=pl.Utf8))).item()
    return value
