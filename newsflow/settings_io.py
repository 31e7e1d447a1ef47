"""Finding and loading the configuration and rule files at the process edge."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.config import Settings, load_settings
from pipeline.taxonomy import Taxonomy, load_taxonomy

DEFAULT_CONFIG = Path("newsflow.yaml")


def resolve_config_path(option: str | None) -> Path | None:
    """--config, else $NEWSFLOW_CONFIG, else ./newsflow.yaml if present, else defaults."""
    if option:
        return Path(option)
    if os.environ.get("NEWSFLOW_CONFIG"):
        return Path(os.environ["NEWSFLOW_CONFIG"])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def settings_from(option: str | None) -> Settings:
    return load_settings(resolve_config_path(option))


def taxonomy_for(settings: Settings, override: str | None = None) -> Taxonomy:
    path = Path(override) if override else settings.taxonomy_file
    return load_taxonomy(path) if path else Taxonomy()
