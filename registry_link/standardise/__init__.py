"""Standardisation of source rows: identifiers, dates, sex, relationships, places and names.

The public entry points are :func:`standardise` (raw frame -> standardised frame) and
:func:`load_standardised` (file + config -> :class:`StandardisedList`). They are imported
lazily so the rule modules (ids, dates, sex, codes) load without the name machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from registry_link.standardise.pipeline import (
        StandardisedList,
        load_standardised,
        standardise,
    )

__all__ = ["StandardisedList", "load_standardised", "standardise"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from registry_link.standardise import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
