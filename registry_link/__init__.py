"""registry-link: link partner beneficiary lists to the population and social registries."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
