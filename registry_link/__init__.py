"""registry-link: link partner beneficiary lists to the population and social registries.

The library API (the CLI is a thin layer over it)::

    from registry_link import Linker, load_standardised, same_name

    same_name("محمد", "Mhamed")             # True: one name across scripts
    registry = load_standardised("sample_data/registry.csv", "configs/registry.yaml")
    coop = load_standardised("sample_data/partner_coop_ar.csv", "configs/partner_coop_ar.yaml")
    result = Linker.from_config("configs/model.yaml").link(registry, [coop])
    result.links, result.review, result.households   # polars DataFrames
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "LinkResult",
    "Linker",
    "StandardisedList",
    "__version__",
    "load_model",
    "load_standardised",
    "name_similarity",
    "same_name",
    "save_model",
]

# Imported lazily so that `registry-link --help` and `import registry_link` stay fast.
_LAZY = {
    "Linker": "registry_link.linker",
    "LinkResult": "registry_link.linker",
    "StandardisedList": "registry_link.standardise.pipeline",
    "load_standardised": "registry_link.standardise.pipeline",
    "load_model": "registry_link.model",
    "save_model": "registry_link.model",
    "same_name": "registry_link.names",
    "name_similarity": "registry_link.names",
}

if TYPE_CHECKING:  # pragma: no cover
    from registry_link.linker import Linker, LinkResult
    from registry_link.model import load_model, save_model
    from registry_link.names import name_similarity, same_name
    from registry_link.standardise.pipeline import StandardisedList, load_standardised


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'registry_link' has no attribute {name!r}")
