"""Taxonomy hot reload: notice a new version of the taxonomy file and compile it off the hot
path; a broken new version is reported and the running one kept (never a crash, never an
untagged gap). Framework-free: the tagging agent calls :meth:`TaxonomyWatcher.check` from a
timer, in a thread, and swaps the tagger it returns."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.tagging import Tagger
from pipeline.taxonomy import Taxonomy, load_taxonomy


@dataclass(frozen=True, slots=True)
class Reloaded:
    tagger: Tagger


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str  # one line: file, key and reason, as `newsflow taxonomy check` prints it


class TaxonomyWatcher:
    """Compares the file's content with the version in use; a change is loaded once."""

    def __init__(self, path: Path, build: Callable[[Taxonomy], Tagger]) -> None:
        self.path = path
        self._build = build
        self._digest = self._read_digest()

    def _read_digest(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def check(self) -> Reloaded | Rejected | None:
        """None when the file is unchanged (or unchanged since a rejected version)."""
        digest = self._read_digest()
        if digest == self._digest:
            return None
        self._digest = digest
        if digest is None:
            return Rejected(f"{self.path}: cannot read taxonomy; keeping the version in use")
        try:
            return Reloaded(self._build(load_taxonomy(self.path)))
        except ConfigError as exc:
            return Rejected(f"{exc}; keeping the version in use")
