"""The household pass (second pass): household hints, extra pairs, household comparison,
re-score (see :mod:`registry_link.households.context` for the method).

The first-pass pairs are not compared nor scored again: their weights only gain the household
Bayes factor and the new prior (:func:`~registry_link.score.scoring.extend_scores`). The household
comparison's m and the new prior come from :func:`~registry_link.train.training.extend_model`.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from registry_link.compare import CompareEngine
from registry_link.households.context import (
    gate_household,
    hint_keys,
    household_comparison,
    household_pairs,
    household_u,
    with_hints,
)
from registry_link.model import HouseholdContextSettings, TrainedModel, TrainingSettings
from registry_link.score.scoring import extend_scores, score
from registry_link.train.training import extend_model, pair_space


@dataclass(frozen=True)
class HouseholdPass:
    """What the household pass gives.

    Attributes:
        pairs: every candidate pair: the first pass's, then the household rule's new ones.
        scored: every pair scored with :attr:`model` (narrow, as :func:`scoring.score` with
            ``contributions=False``), in the order of :attr:`pairs`.
        model: the model with the household comparison.
    """

    pairs: pl.DataFrame
    scored: pl.DataFrame
    model: TrainedModel


def household_pass(
    engine: CompareEngine,
    pairs: pl.DataFrame,
    scored: pl.DataFrame,
    links: pl.DataFrame,
    pass1: TrainedModel,
    settings: HouseholdContextSettings,
    training: TrainingSettings,
    full: TrainedModel | None = None,
) -> HouseholdPass:
    """Second pass over the engine's records (partner lists × registry).

    Args:
        engine: compares the partner records with the registry's (the extra pairs).
        pairs: the first pass's candidate pairs.
        scored: their scores with ``pass1`` (narrow, same order).
        links: the first pass's decisions (the principals' matches give the hints).
        pass1: the first-pass model.
        settings: the household-context settings.
        training: EM settings for the household comparison.
        full: a given model that already has the household comparison: used as it is;
            otherwise the comparison is estimated on top of ``pass1``.
    """
    left, right = engine.left, engine.right
    left_h, right_h = with_hints(left, right, links, settings.hint_column)
    # the extra pairs, the household levels of the first pass's pairs and of the new ones,
    # and the comparison's u, from the hints encoded once
    keys = hint_keys(left_h, right_h, settings.hint_column)
    new, old_hh, new_hh = household_pairs(left_h, right_h, pairs, settings, keys)
    comp = household_comparison(settings)
    # the hint column is not among the comparisons' columns: the engine compares the extra
    # pairs over the records it has
    new_gammas = engine.compare(new).rechunk()  # (one chunk a column, as the first pass's)
    # the household does not count where the person's own given name and birth date both differ
    old_hh = gate_household(old_hh, scored, settings.not_when_all_different)
    new_hh = gate_household(new_hh, new_gammas, settings.not_when_all_different)
    new_gammas = new_gammas.with_columns(new_hh)
    if full is None:
        gamma_cols = [c.output_column for c in pass1.comparisons]
        full = extend_model(
            pass1,
            comp,
            pl.concat(
                [
                    scored.select(gamma_cols).with_columns(old_hh),
                    new_gammas.select(*gamma_cols, comp.output_column),
                ],
                how="vertical",
            ),
            household_u(keys, right_h.height - right_h[settings.hint_column].null_count()),
            pair_space(left.height, right.height),
            training,
            info={
                "hinted_records": int(left_h[settings.hint_column].is_not_null().sum()),
                "extra_pairs": new.height,
            },
        )
    # scored on the engine's registry records (the hint column is not term-frequency
    # adjusted): their frequencies were looked up for the first pass (the engine's link memo)
    old = extend_scores(scored, old_hh.to_frame(), pass1, full, right)
    fresh = score(new_gammas, full, right=right, contributions=False).select(old.columns)
    return HouseholdPass(
        pairs=pl.concat([pairs, new], how="vertical"),
        scored=pl.concat([old, fresh], how="vertical"),
        model=full,
    )
