"""A split name looked up in an unsplit full name (:func:`pairwise_name_in_unsplit`).

A given or family name is found in a full name when it is the same name
(:func:`~registry_link.names.matcher.pairwise_same_name`) as one of the full name's tokens or
as two adjacent ones (a compound: Fatima Zahra in "fatma zhra ezizi"), or a variant of one
(:func:`~registry_link.names.matcher.pairwise_name_variant`). Deciding that for a (name,
part) pair is costly, and a link asks it for millions of pairs of records, most of them (its
random pairs for the u-probabilities) nowhere near each other. So:

* the work is done per distinct value, never per pair of records: per distinct name and
  distinct full name of a call, then each pair looks its answer up by two integer codes;
* only the (name, part) pairs that meet a cheap necessary condition are checked
  (:func:`_look_up`): they share a *match key* — the cross-script key of the name or
  part, of one of its readings (:data:`~registry_link.names.matcher.LATIN_READINGS`), of
  it without a Ben/Bel prefix or a glued article, or, for a partial compound, of a token
  (:func:`_match_keys`). The same name and every variant need one: the same-name decision
  starts from equal keys (of the forms, or of one side read another way, or without the
  article), a dropped prefix is the same name once the prefix is gone, and a partial
  compound is a token the same name as a token. Pairs sharing none are found in no way;
* within :func:`~registry_link.names.matcher.remembered_forms` (the compare engine's
  memo), each form's match keys, each full name's parts and each checked (name, part) pair
  are worked out once per link, not once per chunk and comparison, and a call looks up only
  the names and full names no call has looked up before (:func:`_found`).

The answer is the unfiltered one: the largest code over every part of the full name (a
property test checks it on arbitrary and near-miss names).
"""

from __future__ import annotations

from typing import Final

import polars as pl

from registry_link.names.keys import name_key_expr
from registry_link.names.matcher import (
    _FORMS,
    LATIN_READINGS,
    _check_lengths,
    _per_form,
    _readings,
    _same_name_frame,
    forms_apart,
    matching_forms,
    pairwise_name_variant,
    without_prefix_expr,
)

#: :func:`pairwise_name_in_unsplit`: the name is the same as a token (or two adjacent tokens)
#: of the unsplit name, a variant of one, or neither.
IN_UNSPLIT_SAME: Final[int] = 2
IN_UNSPLIT_VARIANT: Final[int] = 1
IN_UNSPLIT_NONE: Final[int] = 0

#: The columns of :func:`~registry_link.names.matcher._readings` holding keys: the form's
#: and each reading's.
_KEY_COLUMNS: Final[tuple[str, ...]] = (
    "key",
    *(f"{name}_key" for name, _, _ in LATIN_READINGS),
)

#: A form that may carry the article glued as a bare l (see ``glued_article``).
_GLUED_ARTICLE: Final[str] = r"^l[aeiou]"


def unsplit_parts(unsplit: pl.Series) -> pl.DataFrame:
    """The parts a split name may be of each unsplit full name (Latin matching forms):
    ``{i, part}``, one row per token and per two adjacent tokens (a compound given or family
    name written in two: Fatima Zahra, Alaoui Ismaili), ``i`` the position in ``unsplit``."""
    tokens = (
        pl.DataFrame({"full": unsplit}, schema={"full": pl.Utf8})
        .with_row_index("i")
        .drop_nulls()
        .select("i", t=pl.col("full").str.split(" "))
        .with_columns(j=pl.int_ranges(0, pl.col("t").list.len()))
        .explode("t", "j")
        .filter(pl.col("t").str.len_chars() > 0)
    )
    after = tokens.select("i", pl.col("j") - 1, nxt="t")
    two = tokens.join(after, on=["i", "j"]).select("i", part=pl.col("t") + " " + pl.col("nxt"))
    return pl.concat([tokens.select("i", part="t"), two]).sort("i", maintain_order=True)


def _match_keys(forms: pl.DataFrame) -> pl.DataFrame:
    """Per form of ``{form}`` (distinct), lists of match keys:

    * ``whole`` — the key and the readings' keys
      (:func:`~registry_link.names.matcher._readings`) of the form and of the form without
      its Ben/Bel/Ibn/Ould prefix;
    * ``glued`` — the key of the form without its first letter when it starts with l + a
      vowel (the article glued as a bare l: Lamrani), else empty.
    """
    form = pl.col("form")
    stripped = without_prefix_expr(form)
    pieces = forms.select("form", stripped=pl.when(stripped != form).then(stripped))
    distinct = pl.concat([pieces["form"], pieces["stripped"]]).drop_nulls().unique()
    keys = _per_form(distinct.to_frame("form"), "readings", _readings).select(
        "form", keys=pl.concat_list(_KEY_COLUMNS).list.drop_nulls()
    )
    pieces = pieces.join(keys, on="form", how="left", maintain_order="left").join(
        keys.select(stripped="form", stripped_keys="keys"),
        on="stripped",
        how="left",
        maintain_order="left",
    )
    no_keys = pl.lit([], dtype=pl.List(pl.Utf8))
    return pieces.select(
        "form",
        whole=pl.concat_list("keys", pl.col("stripped_keys").fill_null(no_keys)),
        glued=pl.when(form.str.contains(_GLUED_ARTICLE))
        .then(pl.concat_list(name_key_expr(form.str.slice(1))))
        .otherwise(no_keys),
    )


def _keys_of(forms: pl.Series) -> pl.DataFrame:
    """:func:`_match_keys` of the distinct ``forms`` (through the memo of
    :func:`~registry_link.names.matcher.remembered_forms`)."""
    return _per_form(forms.unique().drop_nulls().to_frame("form"), "match_keys", _match_keys)


def _long(keys: pl.DataFrame, columns: list[str], as_name: str, via: str) -> pl.DataFrame:
    """``{<as_name>, mk, via}``: one row per form of ``keys`` and match key in ``columns``."""
    listed = keys.select(pl.col("form").alias(as_name), mk=pl.concat_list(columns), via=pl.lit(via))
    return listed.explode("mk").drop_nulls("mk")


def _name_keys(names: pl.Series) -> pl.DataFrame:
    """``{name, mk, via}``: the match keys of each distinct name (``via``: ``whole``,
    ``glued``) and, for a name of two words or more, those of each word (``token``)."""
    keys = _keys_of(names)
    found = [_long(keys, ["whole"], "name", "whole"), _long(keys, ["glued"], "name", "glued")]
    compounds = names.filter(names.str.contains(" ", literal=True))
    if compounds.len():  # (few names are written in two or more words)
        words = compounds.unique().to_frame("name").with_columns(form=pl.col("name").str.split(" "))
        words = words.explode("form")
        by_word = words.join(_keys_of(words["form"]), on="form")
        found.append(
            _long(by_word.drop("form").rename({"name": "form"}), ["whole"], "name", "token")
        )
    return pl.concat(found).unique()


def _part_keys(fulls: pl.DataFrame) -> pl.DataFrame:
    """Per full name of ``{form}`` (distinct), one row per part (:func:`unsplit_parts`) and
    match key: ``{form, part, mk, via}`` (``via``: ``whole``, ``glued``, or ``first``, the
    keys of the part's first word)."""
    parts = unsplit_parts(fulls["form"]).join(fulls.with_row_index("i"), on="i").drop("i")
    distinct = parts["part"].unique()
    keys = _keys_of(distinct)
    firsts = distinct.to_frame("part").with_columns(
        first=pl.col("part").str.split(" ").list.first()
    )
    by_first = firsts.join(_keys_of(firsts["first"]), left_on="first", right_on="form")
    long = pl.concat(
        [
            _long(keys, ["whole"], "part", "whole"),
            _long(keys, ["glued"], "part", "glued"),
            _long(by_first.drop("first").rename({"part": "form"}), ["whole"], "part", "first"),
        ]
    )
    return parts.join(long, on="part").select("form", "part", "mk", "via")


def _look_up(names: pl.Series, fulls: pl.Series, glued_article: bool) -> pl.DataFrame:
    """``{full, name, code}``: the distinct ``names`` found in the distinct ``fulls`` (code >
    0, the best over the full name's parts); a pair absent is found in no way.

    Only the (name, part) pairs that share a match key are checked (:func:`_codes`), which is
    necessary for each way of being found:

    * the same name (:func:`~registry_link.names.matcher.pairwise_same_name`): equal keys, or
      one side's reading's key equal to the other's key, or (``glued_article``) the key of
      one side without its glued l equal to the other's key (``whole``, ``glued``);
    * a dropped prefix: one side without it is the same name as the other (``whole``);
    * a partial compound: every word of the name with fewer words is the same name as a
      word of the other, so its first word and a word of the other share a key. Where the
      part has fewer words (a one-word part, a compound name), the part's ``first`` word
      meets a ``token`` of the name. Where the name has fewer (one word in a two-word part),
      the name is the same name as a word of the part, itself a part of the full name: the
      full name has the same name already, which the variant cannot better (and where the
      name is also the same name as the two-word part, ``whole`` keeps the pair).
    """
    whole = ["whole", "glued"] if glued_article else ["whole"]
    name_keys = _name_keys(names)
    part_keys = _per_form(fulls.to_frame("form"), "unsplit_part_keys", _part_keys)
    part_keys = part_keys.drop_nulls("mk").rename({"form": "full"})
    joined = [
        name_keys.filter(pl.col("via").is_in(whole)).join(
            part_keys.filter(pl.col("via").is_in(whole)), on="mk"
        ),
        name_keys.filter(pl.col("via") == "token").join(
            part_keys.filter(pl.col("via") == "first"), on="mk"
        ),
    ]
    candidates = pl.concat([j.select("name", "full", "part") for j in joined]).unique()
    checked = _codes(candidates.select("name", "part").unique(), glued_article)
    hits = checked.filter(pl.col("code") > IN_UNSPLIT_NONE)
    return (
        candidates.join(hits, on=["name", "part"])
        .group_by("full", "name")
        .agg(pl.col("code").max())
    )


def _codes(pairs: pl.DataFrame, glued_article: bool) -> pl.DataFrame:
    """``pairs`` (``{name, part}``, distinct) with the ``code`` of each: 2 × the same name
    (with ``glued_article``) + a variant (never both but where only the glued article
    makes the same name: 3, as it always was)."""

    def work(new: pl.DataFrame) -> pl.DataFrame:
        same = _same_name_frame(new["name"], new["part"], glued_article)["same"]
        variant = pairwise_name_variant(new["name"], new["part"])
        code = (
            same.fill_null(False).cast(pl.Int8) * IN_UNSPLIT_SAME
            + variant.fill_null(False).cast(pl.Int8) * IN_UNSPLIT_VARIANT
        )
        return new.with_columns(code=code)

    kind = f"in_unsplit_glued={glued_article}"
    return _per_form(pairs, kind, work, on=("name", "part"))


#: The state of :func:`_found` in the memo: ``{full, name, code}`` rows of three kinds — a
#: full name looked up (name null), a name looked up (full null), and a pair found (both).
_FOUND_SCHEMA: Final[dict[str, type[pl.DataType]]] = {
    "full": pl.Utf8,
    "name": pl.Utf8,
    "code": pl.Int8,
}


def _found(names: pl.Series, fulls: pl.Series, glued_article: bool) -> pl.DataFrame:
    """``{n, f, code}``: the positions in ``names`` and ``fulls`` (Latin matching forms;
    ``names`` distinct, ``fulls`` may repeat) of the pairs found one way or another, with the
    best code over the full name's parts; the pairs absent are found in no way.

    Within :func:`~registry_link.names.matcher.remembered_forms`, the memo holds every name and
    full name looked up so far and the pairs of them found (:data:`_FOUND_SCHEMA`, one frame:
    replaced whole, so a thread always reads a state whose pairs are complete): only the new
    full names (with every name) and the new names (with the full names looked up before)
    are looked up (:func:`_look_up`).
    """
    memo = _FORMS.get()
    kind = f"in_unsplit_found_glued={glued_article}"
    state = memo.get(kind) if memo is not None else None
    if state is None:
        state = pl.DataFrame(schema=_FOUND_SCHEMA)
    known_fulls = state.filter(pl.col("name").is_null())["full"]
    known_names = state.filter(pl.col("full").is_null())["name"]
    distinct = fulls.drop_nulls().unique()
    new_fulls = distinct.filter(~distinct.is_in(known_fulls.implode()))
    new_names = names.filter(~names.is_in(known_names.implode()))
    added = []
    if new_fulls.len():
        every_name = pl.concat([known_names, new_names])
        added.append(_look_up(every_name, new_fulls, glued_article))
    if new_names.len() and known_fulls.len():
        added.append(_look_up(new_names, known_fulls, glued_article))
    if new_fulls.len() or new_names.len():
        none = {"code": pl.lit(IN_UNSPLIT_NONE, pl.Int8)}
        state = pl.concat(
            [
                state,
                *(a.select(_FOUND_SCHEMA.keys()) for a in added),
                new_fulls.to_frame("full").select("full", name=pl.lit(None, pl.Utf8), **none),
                new_names.to_frame("name").select(full=pl.lit(None, pl.Utf8), name="name", **none),
            ],
            how="vertical",
        )
        if memo is not None:
            memo[kind] = state
    named = names.to_frame("name").with_row_index("n")
    positions = fulls.to_frame("full").with_row_index("f")
    return state.join(named, on="name").join(positions, on="full").select("n", "f", "code")


def _codes_of(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """The distinct values of ``values`` (nulls left out) and each position's index among
    them (UInt64; null for null)."""
    distinct = values.unique().drop_nulls()
    return distinct, values.cast(pl.Enum(distinct)).to_physical().cast(pl.UInt64)


def pairwise_name_in_unsplit(
    names: pl.Series,
    unsplit: pl.Series,
    *,
    glued_article: bool = False,
    unsplit_as_written: bool = False,
) -> pl.Series:
    """Element-wise: how a split name is found in an unsplit full name (both Latin matching
    forms): :data:`IN_UNSPLIT_SAME` when it is the same name
    (:func:`~registry_link.names.matcher.pairwise_same_name`) as one of the full name's tokens
    or as two adjacent ones (a compound: Fatima Zahra in "fatma zhra ezizi"),
    :data:`IN_UNSPLIT_VARIANT` when it is a variant of one
    (:func:`~registry_link.names.matcher.pairwise_name_variant`: Ben Moussa in "moussa
    abdellah", Fatim Zahra in "azhari zahra"), else :data:`IN_UNSPLIT_NONE` (Int8; null if
    either is null).

    A token key alone is not enough, as for split names: Azzouzi and the token ``ezizi``
    (العزيزي) share the key ``zz`` but not their vowels. ``unsplit_as_written``: the full
    names as written (either script): their matching forms are made here, once per distinct
    value. The work is per distinct value (see the module's docstring).
    """
    _check_lengths(names, unsplit)
    name_values, name_codes = _codes_of(names.cast(pl.Utf8))
    full_values, full_codes = _codes_of(unsplit.cast(pl.Utf8))
    with forms_apart("unsplit:"):  # (tens of thousands of parts no other call asks for)
        full_forms = matching_forms(full_values) if unsplit_as_written else full_values
        found = _found(name_values, full_forms, glued_article)
    key = (name_codes * (1 << 32) + full_codes).alias("k")
    table = found.select(k=pl.col("n").cast(pl.UInt64) * (1 << 32) + pl.col("f"), code="code")
    out = key.to_frame().join(table, on="k", how="left", maintain_order="left")["code"]
    out = out.fill_null(IN_UNSPLIT_NONE).cast(pl.Int8)
    valid = key.is_not_null()
    return (out.set(~valid, None) if (~valid).any() else out).alias("name_in_unsplit")
