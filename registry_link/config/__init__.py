"""Source configs: YAML files describing one partner list or registry extract."""

from __future__ import annotations

from registry_link.config.codes import code_key
from registry_link.config.loader import (
    SourceSettings,
    load_source_config,
    settings_from_dict,
    valid_fields,
)

__all__ = ["SourceSettings", "code_key", "load_source_config", "settings_from_dict", "valid_fields"]
