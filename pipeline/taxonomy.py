"""The taxonomy file contract (DESIGN §3): loading and validation with file/key/reason errors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import read_yaml
from pipeline.errors import ConfigError
from pipeline.query import Node, QuerySyntaxError, operands, parse_query

# The world-news taxonomy shipped with the project: used when no taxonomy_file is configured.
DEFAULT_TAXONOMY = Path(__file__).parent / "taxonomies" / "world-news.yaml"
_NAME = re.compile(r"^[^\s:()\"]+$")
_TOPIC_KEYS = {"name", "kind", "terms", "query", "min_mentions", "min_score", "stream", "description"}
_TOPIC_KEYS |= {"country"}
_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    kind: str = "topic"
    terms: tuple[str, ...] = ()
    query: Node | None = None
    query_text: str | None = None
    min_mentions: int = 1
    min_score: float = 0.0
    stream: bool = False
    country: str | None = None  # ISO 3166-1 alpha-2, for place topics


@dataclass(frozen=True, slots=True)
class Taxonomy:
    topics: tuple[Topic, ...] = field(default_factory=tuple)

    def by_name(self) -> dict[str, Topic]:
        return {topic.name: topic for topic in self.topics}


def load_taxonomy(path: Path) -> Taxonomy:
    return taxonomy_from_data(read_yaml(path, "taxonomy"), str(path))


def taxonomy_from_data(data: Any, source: str = "taxonomy") -> Taxonomy:
    if not isinstance(data, dict) or set(data) - {"topics"}:
        raise ConfigError(f"{source}: top level must be a mapping with one key, 'topics'")
    entries = data.get("topics") or []
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: topics: must be a list")
    topics = [_topic(entry, f"{source}: topics[{index}]") for index, entry in enumerate(entries)]
    taxonomy = Taxonomy(tuple(topics))
    _check_references(taxonomy, source)
    return taxonomy


def _topic(entry: Any, where: str) -> Topic:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: each topic must be a mapping")
    unknown = sorted(set(entry) - _TOPIC_KEYS)
    if unknown:
        raise ConfigError(f"{where}: {unknown[0]}: unknown key")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"{where}: name: required, one word without spaces, ':' or quotes")
    where = f"{where} ({name})"
    terms = entry.get("terms", [])
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise ConfigError(f"{where}: terms: must be a list of strings")
    if any(not term.strip() for term in terms):
        raise ConfigError(f"{where}: terms: empty term")
    query_text = entry.get("query")
    if bool(terms) == bool(query_text):
        raise ConfigError(f"{where}: needs either 'terms' or a 'query' (exactly one)")
    query = None
    if query_text is not None:
        if not isinstance(query_text, str):
            raise ConfigError(f"{where}: query: must be a string")
        try:
            query = parse_query(query_text)
        except QuerySyntaxError as exc:
            raise ConfigError(f"{where}: query: {exc}") from None
    return Topic(
        name=name,
        kind=_kind(entry, where),
        terms=tuple(terms),
        query=query,
        query_text=query_text,
        min_mentions=_whole(entry, "min_mentions", where),
        min_score=_number(entry, "min_score", 0.0, float, where),
        stream=_flag(entry, "stream", where),
        country=_country(entry, where),
    )


def _kind(entry: dict[str, Any], where: str) -> str:
    value = entry.get("kind", "topic")
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: kind: must be a non-empty string such as place")
    return value


def _whole(entry: dict[str, Any], key: str, where: str) -> int:
    value = entry.get(key, 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}: {key}: must be a non-negative whole number")
    return value


def _flag(entry: dict[str, Any], key: str, where: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: {key}: must be true or false")
    return value


def _country(entry: dict[str, Any], where: str) -> str | None:
    value = entry.get("country")
    if value is False:  # YAML 1.1 reads an unquoted NO (Norway) as false
        raise ConfigError(f'{where}: country: write the code in quotes ("NO"): YAML reads NO as false')
    if value is not None and (not isinstance(value, str) or not _COUNTRY.match(value)):
        raise ConfigError(f"{where}: country: must be an ISO 3166-1 alpha-2 code such as SY")
    return value


def _number(entry: dict[str, Any], key: str, default: float, kind: type, where: str) -> Any:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: {key}: must be a non-negative number")
    return kind(value)


def _check_references(taxonomy: Taxonomy, source: str) -> None:
    names = [topic.name for topic in taxonomy.topics]
    duplicates = {name for name in names if names.count(name) > 1}
    if duplicates:
        raise ConfigError(f"{source}: topics: name {sorted(duplicates)[0]!r} appears twice")
    for topic in taxonomy.topics:
        if topic.query is None:
            continue
        for operand in operands(topic.query):
            if operand.explicit_topic and operand.value not in names:
                raise ConfigError(f"{source}: {topic.name}: query names unknown topic {operand.value!r}")
    query_order(taxonomy, source)


def topic_references(topic: Topic, names: set[str]) -> list[str]:
    if topic.query is None:
        return []
    return [op.value for op in operands(topic.query) if not op.quoted and op.value in names]


def query_order(taxonomy: Taxonomy, source: str = "taxonomy") -> list[Topic]:
    """Query topics in dependency order; a cycle between query rules is a config error."""
    by_name = taxonomy.by_name()
    names = set(by_name)
    ordered: list[Topic] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = " -> ".join([*path[path.index(name) :], name])
            raise ConfigError(f"{source}: query rules form a cycle: {cycle}")
        state[name] = "visiting"
        topic = by_name[name]
        for reference in topic_references(topic, names):
            visit(reference, [*path, name])
        state[name] = "done"
        if topic.query is not None:
            ordered.append(topic)

    for topic in taxonomy.topics:
        visit(topic.name, [])
    return ordered
