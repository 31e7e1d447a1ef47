"""TaxonomyWatcher: hot reload of the taxonomy file; a broken version is reported once and the
running one kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.tagging import Tagger
from pipeline.taxonomy import Taxonomy
from pipeline.taxonomy_watch import Rejected, Reloaded, TaxonomyWatcher

V1 = "topics:\n  - name: ceasefire\n    terms: [truce]\n"
V2 = "topics:\n  - name: ceasefire\n    terms: [truce, armistice]\n  - name: quake\n    terms: [earthquake]\n"
KEEPING = "; keeping the version in use"

# (id, content, what the one-line reason says after the file name)
BROKEN = [
    ("invalid YAML", "topics: [\n", ": line 2: invalid YAML: "),
    (
        "unknown key",
        "topics:\n  - name: a\n    terms: [x]\n    colour: red\n",
        ": topics[0]: colour: unknown key",
    ),
    ("empty term", "topics:\n  - name: a\n    terms: [' ']\n", ": topics[0] (a): terms: empty term"),
    ("query syntax", "topics:\n  - name: a\n    query: 'x AND'\n", ": topics[0] (a): query: "),
    (
        "query cycle",
        "topics:\n  - {name: p, query: q}\n  - {name: q, query: p}\n",
        ": query rules form a cycle: ",
    ),
    ("not a mapping", "- a\n", ": top level must be a mapping with one key, 'topics'"),
    ("empty file", "", ": top level must be a mapping with one key, 'topics'"),
    ("bad country", "topics:\n  - {name: a, terms: [x], country: sy}\n", ": topics[0] (a): country: "),
    ("bad stream", "topics:\n  - {name: a, terms: [x], stream: 'yes'}\n", ": topics[0] (a): stream: "),
]


def build(taxonomy: Taxonomy) -> Tagger:
    return Tagger(taxonomy)


def names(tagger: Tagger, title: str) -> list[str]:
    return [tag.name for tag in tagger.tag(title, "", "")]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "taxonomy.yaml"
    file.write_text(V1, encoding="utf-8")
    return file


def reloaded(result: Reloaded | Rejected | None) -> Tagger:
    assert isinstance(result, Reloaded), result
    return result.tagger


def test_unchanged_file_gives_none(path: Path) -> None:
    watcher = TaxonomyWatcher(path, build)
    assert watcher.check() is None
    assert watcher.check() is None


def test_rewriting_identical_content_gives_none(path: Path) -> None:
    watcher = TaxonomyWatcher(path, build)
    path.write_text(V1, encoding="utf-8")
    assert watcher.check() is None


def test_changed_valid_file_is_reloaded_once(path: Path) -> None:
    watcher = TaxonomyWatcher(path, build)
    path.write_text(V2, encoding="utf-8")
    tagger = reloaded(watcher.check())
    assert names(tagger, "Armistice after the earthquake") == ["ceasefire", "quake"]
    assert tagger.topic_names == frozenset({"ceasefire", "quake"})
    assert watcher.check() is None


@pytest.mark.parametrize(("name", "content", "reason"), BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_version_is_rejected_once_then_fixed(path: Path, name: str, content: str, reason: str) -> None:
    watcher = TaxonomyWatcher(path, build)
    path.write_text(content, encoding="utf-8")
    result = watcher.check()
    assert isinstance(result, Rejected), result
    assert result.reason.startswith(f"{path}{reason}")
    assert result.reason.endswith(KEEPING)
    assert "\n" not in result.reason
    assert watcher.check() is None  # reported once
    path.write_text(content, encoding="utf-8")  # the same broken content written again
    assert watcher.check() is None
    path.write_text(V2, encoding="utf-8")
    assert names(reloaded(watcher.check()), "Armistice") == ["ceasefire"]
    assert watcher.check() is None


def test_a_different_broken_version_is_reported_again(path: Path) -> None:
    watcher = TaxonomyWatcher(path, build)
    path.write_text(BROKEN[0][1], encoding="utf-8")
    assert isinstance(watcher.check(), Rejected)
    path.write_text(BROKEN[1][1], encoding="utf-8")
    result = watcher.check()
    assert isinstance(result, Rejected)
    assert result.reason == f"{path}: topics[0]: colour: unknown key{KEEPING}"


def test_deleted_file_is_rejected_once_then_recreated(path: Path) -> None:
    watcher = TaxonomyWatcher(path, build)
    path.unlink()
    assert watcher.check() == Rejected(f"{path}: cannot read taxonomy{KEEPING}")
    assert watcher.check() is None
    path.write_text(V2, encoding="utf-8")
    assert names(reloaded(watcher.check()), "Earthquake") == ["quake"]


def test_file_missing_at_start_is_loaded_when_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "later.yaml"
    watcher = TaxonomyWatcher(path, build)
    assert watcher.check() is None
    path.write_text(V1, encoding="utf-8")
    assert names(reloaded(watcher.check()), "Truce") == ["ceasefire"]


def test_build_receives_the_new_taxonomy(path: Path) -> None:
    seen: list[Taxonomy] = []

    def recording(taxonomy: Taxonomy) -> Tagger:
        seen.append(taxonomy)
        return Tagger(taxonomy)

    watcher = TaxonomyWatcher(path, recording)
    assert seen == []  # nothing built at start: the caller already has the version in use
    path.write_text(V2, encoding="utf-8")
    tagger = reloaded(watcher.check())
    assert [topic.name for topic in seen[0].topics] == ["ceasefire", "quake"]
    assert tagger.taxonomy is seen[0]
