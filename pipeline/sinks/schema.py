"""Versioned schema migrations: ``migrations/<dialect>/NNNN_name.sql``, applied in order.

Each database records what it has in ``schema_migrations``; ``migrate()`` applies only the
missing versions, each in the same transaction as its record, so a failed migration leaves
nothing half-done and running it twice (or from two processes at once) is harmless.
A migration is never edited once released: a change is a new file with the next number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

Dialect = Literal["sqlite", "postgres"]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str  # the file name without .sql, e.g. "0001_articles"
    sql: str


def migrations(dialect: Dialect) -> list[Migration]:
    """Every migration shipped for ``dialect``, oldest first."""
    folder = resources.files("pipeline.sinks").joinpath("migrations", dialect)
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if not match:
            continue
        version = int(match.group(1))
        if version in found:
            raise RuntimeError(f"two {dialect} migrations numbered {version}: {entry.name}")
        found[version] = Migration(version, entry.name.removesuffix(".sql"), entry.read_text("utf-8"))
    if not found:
        raise RuntimeError(f"no {dialect} migrations shipped (package data missing?)")
    return [found[version] for version in sorted(found)]
