"""Deterministic synthetic registry extracts and partner lists (``registry-link synth``).

>>> from registry_link.synth import make_registry
>>> persons, households = make_registry(1_000, seed=7)
>>> persons.height
1000
"""

from registry_link.synth.generate import SynthSummary, generate
from registry_link.synth.noise import NoiseRates
from registry_link.synth.partners import LIST_SPECS, ListSpec, PartnerRecords, make_partner_lists
from registry_link.synth.registry import make_registry, public_registry

__all__ = [
    "LIST_SPECS",
    "ListSpec",
    "NoiseRates",
    "PartnerRecords",
    "SynthSummary",
    "generate",
    "make_partner_lists",
    "make_registry",
    "public_registry",
]
