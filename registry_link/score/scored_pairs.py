"""Scored pairs, wide or narrow, read the same way by the stages after scoring.

*Wide* scored pairs carry who they are and why they weigh what they weigh:
``{source, record_id, person_id, match_probability, match_weight, bf_* ...}`` (frames built by
hand, tests, older callers). The engine keeps its millions of pairs *narrow* —
``{l_idx, r_idx, gamma_* ..., match_weight, match_probability}``, about a quarter of the
memory — and fetches the rest for the few rows that need it (best candidates, review pairs):
``source``/``record_id`` from the partner records ``l_idx`` indexes, ``person_id`` from the
registry records ``r_idx`` indexes, ``bf_*`` computed again by
:func:`registry_link.score.scoring.contributions`, identical to the ones scoring would have kept.

:class:`ScoredPairs` hides the difference from ``decide`` and ``review_pairs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import polars as pl

from registry_link.errors import UsageError
from registry_link.model import TrainedModel
from registry_link.score.scoring import contributions

#: The pair's identity columns, as a wide frame has them.
KEY_COLUMNS: tuple[str, ...] = ("source", "record_id", "person_id")


@dataclass(frozen=True)
class ScoredPairs:
    """Scored pairs and what is needed to read their identity and contributions.

    Args:
        frame: the scored pairs, wide or narrow (see the module docstring).
        left: for a narrow frame, the partner records ``l_idx`` indexes.
        right: for a narrow frame, the registry records ``r_idx`` indexes.
        model: for a narrow frame, the model the pairs were scored with.
    """

    frame: pl.DataFrame
    left: pl.DataFrame | None = None
    right: pl.DataFrame | None = None
    model: TrainedModel | None = None

    def __post_init__(self) -> None:
        if not self.narrow:
            return
        missing = [c for c in ("l_idx", "r_idx") if c not in self.frame.columns]
        if missing or self.left is None or self.right is None or self.model is None:
            raise UsageError(
                f"scored pairs without {list(KEY_COLUMNS)} need l_idx and r_idx (missing: "
                f"{missing}) and the partner records, registry records and model they index; "
                f"give them, or give scored pairs with {list(KEY_COLUMNS)}"
            )
        if "person_id" not in self.right.columns:
            raise UsageError(
                f"the registry records lack 'person_id' (they have {self.right.columns[:12]}); "
                f"give the registry frame the pairs were scored against"
            )

    @property
    def narrow(self) -> bool:
        """True when the identity columns are fetched from the records, not the frame."""
        return not all(c in self.frame.columns for c in KEY_COLUMNS)

    @property
    def bf_columns(self) -> list[str]:
        """The names of the pairs' ``bf_<name>`` columns (narrow: the model's, in its order)."""
        if self.narrow:
            assert self.model is not None
            return [f"bf_{c.name}" for c in self.model.comparisons]
        return [c for c in self.frame.columns if c.startswith("bf_")]

    @cached_property
    def _registry_hashes(self) -> pl.Series:
        """The hash of each registry record's ``person_id`` (narrow frames), once."""
        assert self.right is not None
        return self.right.get_column("person_id").hash()

    def person_hash(self, rows: pl.Series | None = None) -> pl.Series:
        """``_pid``: the hash of the ``person_id`` of the pairs at ``rows`` (default every
        pair); a narrow frame hashes each registry record's once, then gathers."""
        if not self.narrow:
            pid = self.frame.get_column("person_id")
            return (pid if rows is None else pid.gather(rows)).hash().alias("_pid")
        r_idx = self.frame.get_column("r_idx")
        return self._registry_hashes.gather(r_idx if rows is None else r_idx.gather(rows)).alias(
            "_pid"
        )

    def has_person(self) -> pl.Series:
        """Whether each pair's registry side has a ``person_id``."""
        if not self.narrow:
            return self.frame.get_column("person_id").is_not_null()
        assert self.right is not None
        return self.right.get_column("person_id").is_not_null().gather(self.frame["r_idx"])

    def take(self, rows: pl.Series, columns: list[str] | tuple[str, ...]) -> pl.DataFrame:
        """``columns`` of the pairs at ``rows`` (identity columns fetched when narrow)."""
        if not self.narrow:
            return self.frame.select(pl.col(list(columns)).gather(rows))
        assert self.left is not None and self.right is not None
        own = [c for c in columns if c in self.frame.columns]
        picked = self.frame.select(pl.col([*own, "l_idx", "r_idx"]).gather(rows))
        sides = {"source": self.left, "record_id": self.left, "person_id": self.right}
        fetched = {
            c: sides[c].get_column(c).gather(picked["l_idx" if c != "person_id" else "r_idx"])
            for c in columns
            if c in sides and c not in own
        }
        return picked.with_columns(**fetched).select(columns)

    def contributions(self, rows: pl.Series) -> pl.DataFrame:
        """The ``bf_*`` columns of the pairs at ``rows`` (nulls where ``rows`` is null)."""
        cols = self.bf_columns
        if not self.narrow:
            return self.frame.select(pl.col(cols).gather(rows))
        assert self.model is not None and self.right is not None
        gamma_cols = [c.output_column for c in self.model.comparisons]
        picked = self.frame.select(pl.col(["l_idx", "r_idx", *gamma_cols]).gather(rows))
        valid = rows.is_not_null()
        bf = contributions(picked.fill_null(0), self.model, self.right)
        if bool(valid.all()):
            return bf
        return bf.select(pl.when(valid).then(pl.col(c)).alias(c) for c in cols)

    def wide(self, rows: pl.Series | None = None) -> pl.DataFrame:
        """The pairs at ``rows`` (all when ``None``) with their identity and ``bf_*`` columns:
        the wide form, whatever form the frame is kept in."""
        if not self.narrow:
            return self.frame if rows is None else self.frame[rows]
        picked = self.frame if rows is None else self.frame[rows]
        view = ScoredPairs(picked, self.left, self.right, self.model)
        every = pl.int_range(picked.height, dtype=pl.UInt32, eager=True)
        keys = view.take(every, KEY_COLUMNS)
        return pl.concat([keys, picked, view.contributions(every)], how="horizontal")
