"""Finding and loading the configuration and rule files at the process edge."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.config import Settings, load_settings
from pipeline.places import load_gazetteer
from pipeline.tagging import Tagger
from pipeline.taxonomy import DEFAULT_TAXONOMY, Taxonomy, load_taxonomy

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


def taxonomy_path(settings: Settings, override: str | None = None) -> Path:
    """The taxonomy in use: ``--taxonomy``, else ``taxonomy_file``, else the shipped
    world-news taxonomy (docs/taxonomy.md §6)."""
    return Path(override) if override else settings.taxonomy_file or DEFAULT_TAXONOMY


def taxonomy_for(settings: Settings, override: str | None = None) -> Taxonomy:
    return load_taxonomy(taxonomy_path(settings, override))


def tagger_for(settings: Settings, taxonomy: Taxonomy) -> Tagger:
    """The tagger, with the gazetteer when ``tagging.gazetteer`` is on (built once per process)."""
    gazetteer = (
        load_gazetteer(settings.tagging.gazetteer_min_population) if settings.tagging.gazetteer else None
    )
    return Tagger(taxonomy, gazetteer)
