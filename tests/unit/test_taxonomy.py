from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.query import And, Not, Operand, Or, QuerySyntaxError, parse_query
from pipeline.taxonomy import load_taxonomy, taxonomy_from_data

PARSES = [
    ("AND chain", "a AND b AND NOT c", And((Operand("a"), Operand("b"), Not(Operand("c"))))),
    ("OR binds looser than AND", "a OR b AND c", Or((Operand("a"), And((Operand("b"), Operand("c")))))),
    ("parentheses", "(a OR b) AND c", And((Or((Operand("a"), Operand("b"))), Operand("c")))),
    ("quoted phrase", '"cease fire" OR x', Or((Operand("cease fire", quoted=True), Operand("x")))),
    ("field scope", "title:aleppo", Operand("aleppo", "title")),
    ("field scoped phrase", 'title:"aid convoy"', Operand("aid convoy", "title", quoted=True)),
    ("explicit topic", "topic:aleppo", Operand("aleppo", explicit_topic=True)),
]


@pytest.mark.parametrize(("name", "text", "tree"), PARSES, ids=[c[0] for c in PARSES])
def test_parse_query(name: str, text: str, tree: object) -> None:
    assert parse_query(text) == tree


SYNTAX_ERRORS = [
    ("empty", ""),
    ("dangling operator", "a AND"),
    ("missing operator", "a b"),
    ("unbalanced", "(a OR b"),
    ("unknown field", "body:x"),
    ("stray close", "a)"),
]


@pytest.mark.parametrize(("name", "text"), SYNTAX_ERRORS, ids=[c[0] for c in SYNTAX_ERRORS])
def test_query_syntax_errors(name: str, text: str) -> None:
    with pytest.raises(QuerySyntaxError):
        parse_query(text)


INVALID = [
    ("unknown key", {"topics": [{"name": "a", "terms": ["x"], "colour": "red"}]}, "colour: unknown key"),
    ("empty term", {"topics": [{"name": "a", "terms": ["x", " "]}]}, "empty term"),
    ("no terms and no query", {"topics": [{"name": "a"}]}, "needs either"),
    ("terms and query", {"topics": [{"name": "a", "terms": ["x"], "query": "b"}]}, "needs either"),
    ("name with space", {"topics": [{"name": "a b", "terms": ["x"]}]}, "name:"),
    ("duplicate name", {"topics": [{"name": "a", "terms": ["x"]}, {"name": "a", "terms": ["y"]}]}, "twice"),
    ("unknown topic", {"topics": [{"name": "q", "query": "topic:missing"}]}, "unknown topic 'missing'"),
    (
        "cycle",
        {"topics": [{"name": "p", "query": "q AND x"}, {"name": "q", "query": "p OR y"}]},
        "cycle",
    ),
    ("bad query", {"topics": [{"name": "q", "query": "a AND"}]}, "query:"),
    (
        "negative min_mentions",
        {"topics": [{"name": "a", "terms": ["x"], "min_mentions": -1}]},
        "min_mentions",
    ),
    ("not a mapping", ["a"], "top level"),
]


@pytest.mark.parametrize(("name", "data", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_taxonomies_name_the_key_and_reason(name: str, data: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        taxonomy_from_data(data, "tax.yaml")


def test_load_taxonomy_reports_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tax.yaml"
    path.write_text("topics: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=str(path)):
        load_taxonomy(path)


def test_demo_taxonomy_is_valid() -> None:
    taxonomy = load_taxonomy(Path(__file__).parents[2] / "newsflow" / "demo" / "taxonomy.yaml")
    assert "aleppo-ceasefire" in taxonomy.by_name()
