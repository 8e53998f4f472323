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
  (:func:`_candidates`): they share a *match key* — the cross-script key of the name or
  part, of one of its readings (:data:`~registry_link.names.matcher.LATIN_READINGS`), of
  it without a Ben/Bel prefix or a glued article, or, for a partial compound, of a token
  (:func:`_match_keys`). The same name and every variant need one: the same-name decision
  starts from equal keys (of the forms, or of one side read another way, or without the
  article), a dropped prefix is the same name once the prefix is gone, and a partial
  compound is a token the same name as a token. Pairs sharing none are found in no way;
* within :func:`~registry_link.names.matcher.remembered_forms` (the compare engine's
  memo), each form's match keys and parts and each checked (name, part) pair are worked
  out once per link, not once per chunk and comparison.

The answer is the unfiltered one: the largest code over every part of the full name (a
property test checks it on arbitrary and near-miss names).
"""

from __future__ import annotations

from typing import Final

import polars as pl

from registry_link.names.keys import name_key_expr
from registry_link.names.matcher import (
    LATIN_READINGS,
    _check_lengths,
    _per_form,
    _readings,
    _same_name_frame,
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
    """Per form of ``{form}`` (distinct), lists of keys (``key`` and the readings' keys of
    :func:`~registry_link.names.matcher._readings`, of some pieces of the form):

    * ``whole`` — of the form and of the form without its Ben/Bel/Ibn/Ould prefix;
    * ``glued`` — the key of the form without its first letter when it starts with l + a
      vowel (the article glued as a bare l: Lamrani), else empty;
    * ``first`` — of its first token; ``tokens`` — of each of its tokens.
    """
    form = pl.col("form")
    pieces = forms.select(
        "form",
        whole=pl.concat_list(form, without_prefix_expr(form)),
        tokens=form.str.split(" "),
    ).with_columns(first=pl.col("tokens").list.head(1))
    distinct = pl.concat([pieces["whole"].explode(), pieces["tokens"].explode()])
    keys = _per_form(distinct.unique().drop_nulls().to_frame("form"), "readings", _readings)
    keys = keys.select(piece="form", keys=pl.concat_list(_KEY_COLUMNS).list.drop_nulls())

    def keys_of(column: str) -> pl.DataFrame:
        long = pieces.select("form", piece=column).explode("piece")
        found = long.join(keys, on="piece", how="left").explode("keys").drop_nulls("keys")
        return found.group_by("form").agg(pl.col("keys").unique().alias(column))

    glued = forms.select(
        "form",
        glued=pl.when(form.str.contains(_GLUED_ARTICLE))
        .then(pl.concat_list(name_key_expr(form.str.slice(1))))
        .otherwise(pl.lit([], dtype=pl.List(pl.Utf8))),
    )
    out = forms.join(glued, on="form", how="left", maintain_order="left")
    for column in ("whole", "first", "tokens"):
        out = out.join(keys_of(column), on="form", how="left", maintain_order="left")
    return out.with_columns(pl.col("whole", "first", "tokens").fill_null([]))


def _keys_long(keys: pl.DataFrame, columns: list[str], as_name: str) -> pl.DataFrame:
    """``{<as_name>, mk}``: one row per form of ``keys`` and key in ``columns`` (distinct)."""
    listed = keys.select(pl.col("form").alias(as_name), mk=pl.concat_list(columns))
    return listed.explode("mk").drop_nulls().unique()


def _candidates(names: pl.Series, parts: pl.Series, glued_article: bool) -> pl.DataFrame:
    """``{name, part}``: the pairs of a distinct name and a distinct part that may be the same
    name or variants (:func:`_codes`), those that share a match key (:func:`_match_keys`).

    Necessary for each way of being found:

    * the same name (:func:`~registry_link.names.matcher.pairwise_same_name`): equal keys, or
      one side's reading's key equal to the other's key, or (``glued_article``) the key of
      one side without its glued l equal to the other's key — all in ``whole`` / ``glued``;
    * a dropped prefix: one side without it is the same name as the other (``whole``);
    * a partial compound: every token of the name with fewer tokens is the same name as a
      token of the other, so its first token and a token of the other share a key. Where the
      part has fewer tokens (a one-token part, a compound name), ``first`` of the part meets
      ``tokens`` of the name. Where the name has fewer (one token in a two-token part), the
      name is the same name as a token of the part, itself a part of the full name: the
      full name has the same name already, which the variant cannot better (and where the
      name is also the same name as the two-token part, ``whole`` keeps the pair).
    """
    names_keys = _per_form(names.to_frame("form"), "match_keys", _match_keys)
    parts_keys = _per_form(parts.to_frame("form"), "match_keys", _match_keys)
    whole = ["whole", "glued"] if glued_article else ["whole"]
    found = [
        _keys_long(names_keys, whole, "name").join(_keys_long(parts_keys, whole, "part"), on="mk")
    ]
    compounds = names_keys.filter(pl.col("form").str.contains(" ", literal=True))
    if compounds.height:  # (few names are written in two or more words)
        found.append(
            _keys_long(compounds, ["tokens"], "name").join(
                _keys_long(parts_keys, ["first"], "part"), on="mk"
            )
        )
    return pl.concat(found).select("name", "part").unique()


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


def _found(names: pl.Series, fulls: pl.Series, glued_article: bool) -> pl.DataFrame:
    """``{n, f, code}``: the positions in ``names`` and ``fulls`` (distinct Latin matching
    forms; ``fulls`` may repeat) of the pairs found one way or another, with the best code
    over the full name's parts; the pairs absent are found in no way."""
    parts = unsplit_parts(fulls).rename({"i": "f"})
    candidates = _candidates(names, parts["part"].unique(), glued_article)
    hits = _codes(candidates, glued_article).filter(pl.col("code") > IN_UNSPLIT_NONE)
    named = names.to_frame("name").with_row_index("n")
    return (
        hits.join(named, on="name")
        .join(parts, on="part")
        .group_by("n", "f")
        .agg(pl.col("code").max())
    )


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
    full_forms = matching_forms(full_values) if unsplit_as_written else full_values
    found = _found(name_values, full_forms, glued_article)
    key = (name_codes * (1 << 32) + full_codes).alias("k")
    table = found.select(k=pl.col("n").cast(pl.UInt64) * (1 << 32) + pl.col("f"), code="code")
    out = key.to_frame().join(table, on="k", how="left", maintain_order="left")["code"]
    out = out.fill_null(IN_UNSPLIT_NONE).cast(pl.Int8)
    valid = key.is_not_null()
    return (out.set(~valid, None) if (~valid).any() else out).alias("name_in_unsplit")
