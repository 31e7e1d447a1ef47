"""Validation of the topic keys `country`, `stream` and `kind` (pipeline/taxonomy.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import ConfigError
from pipeline.tagging import Tagger
from pipeline.taxonomy import Topic, load_taxonomy, taxonomy_from_data

COUNTRY_ERROR = "tax.yaml: topics[0] (a): country: must be an ISO 3166-1 alpha-2 code such as SY"
STREAM_ERROR = "tax.yaml: topics[0] (a): stream: must be true or false"


def topic(**keys: Any) -> Topic:
    [only] = taxonomy_from_data({"topics": [{"name": "a", "terms": ["x"], **keys}]}, "tax.yaml").topics
    return only


# (id, keys, attribute, value)
ACCEPTED = [
    ("country upper case", {"country": "SY"}, "country", "SY"),
    ("country absent", {}, "country", None),
    ("country null", {"country": None}, "country", None),
    ("stream true", {"stream": True}, "stream", True),
    ("stream false", {"stream": False}, "stream", False),
    ("stream absent", {}, "stream", False),
    ("kind absent", {}, "kind", "topic"),
    ("kind free text", {"kind": "person"}, "kind", "person"),
]


@pytest.mark.parametrize(("name", "keys", "attribute", "value"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_accepted(name: str, keys: dict[str, Any], attribute: str, value: object) -> None:
    assert getattr(topic(**keys), attribute) == value


# (id, keys, exact message)
REJECTED = [
    ("country lower case", {"country": "sy"}, COUNTRY_ERROR),
    ("country mixed case", {"country": "Sy"}, COUNTRY_ERROR),
    ("country alpha-3", {"country": "SYR"}, COUNTRY_ERROR),
    ("country one letter", {"country": "S"}, COUNTRY_ERROR),
    ("country empty", {"country": ""}, COUNTRY_ERROR),
    ("country with space", {"country": " SY"}, COUNTRY_ERROR),
    ("country digits", {"country": "12"}, COUNTRY_ERROR),
    ("country number", {"country": 12}, COUNTRY_ERROR),
    ("country list", {"country": ["SY"]}, COUNTRY_ERROR),
    ("stream string yes", {"stream": "yes"}, STREAM_ERROR),
    ("stream string true", {"stream": "true"}, STREAM_ERROR),
    ("stream 1", {"stream": 1}, STREAM_ERROR),
    ("stream null", {"stream": None}, STREAM_ERROR),
]


@pytest.mark.parametrize(("name", "keys", "message"), REJECTED, ids=[c[0] for c in REJECTED])
def test_rejected(name: str, keys: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        topic(**keys)
    assert str(error.value) == message


def test_keys_on_a_query_topic() -> None:
    taxonomy = taxonomy_from_data(
        {
            "topics": [
                {"name": "a", "terms": ["Aleppo"]},
                {"name": "q", "query": "a", "country": "SY", "stream": True, "kind": "place"},
            ]
        }
    )
    tagger = Tagger(taxonomy)
    assert tagger.stream_topics == frozenset({"q"})
    assert [(t.name, t.kind, t.country) for t in tagger.tag("Aleppo", "", "")] == [
        ("a", "topic", None),
        ("q", "place", "SY"),
    ]


def test_stream_topics() -> None:
    taxonomy = taxonomy_from_data(
        {
            "topics": [
                {"name": "a", "terms": ["x"], "stream": True},
                {"name": "b", "terms": ["y"], "stream": False},
                {"name": "c", "terms": ["z"]},
            ]
        }
    )
    assert Tagger(taxonomy).stream_topics == frozenset({"a"})


def test_country_is_copied_to_the_tag() -> None:
    tagger = Tagger(
        taxonomy_from_data({"topics": [{"name": "a", "kind": "place", "terms": ["x"], "country": "FR"}]})
    )
    assert [(t.kind, t.country, t.geonameid) for t in tagger.tag("x", "", "")] == [("place", "FR", None)]


# YAML spellings, through load_taxonomy: (value as written, attribute, expected)
YAML_VALUES = [
    pytest.param("stream: yes", "stream", True, id="stream yes (YAML 1.1 boolean)"),
    pytest.param("stream: True", "stream", True, id="stream True"),
    pytest.param('country: "SY"', "country", "SY", id="country quoted"),
    pytest.param("country: SY", "country", "SY", id="country plain"),
]


@pytest.mark.parametrize(("line", "attribute", "value"), YAML_VALUES)
def test_yaml_values(tmp_path: Path, line: str, attribute: str, value: object) -> None:
    path = tmp_path / "tax.yaml"
    path.write_text(f"topics:\n  - name: a\n    terms: [x]\n    {line}\n", encoding="utf-8")
    [only] = load_taxonomy(path).topics
    assert getattr(only, attribute) == value


def test_stream_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tax.yaml"
    path.write_text("topics:\n  - name: a\n    terms: [x]\n    stream: 'yes'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_taxonomy(path)
    assert str(error.value) == f"{path}: topics[0] (a): stream: must be true or false"


KIND_REJECTED = [
    pytest.param({"kind": None}, id="kind null (becomes the string 'None')"),
    pytest.param({"kind": ""}, id="kind empty string"),
    pytest.param({"kind": 3}, id="kind number (becomes '3')"),
    pytest.param({"kind": ["place"]}, id="kind list (becomes \"['place']\")"),
]


@pytest.mark.parametrize("keys", KIND_REJECTED)
def test_kind_must_be_a_non_empty_string(keys: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"^tax\.yaml: topics\[0\] \(a\): kind: "):
        topic(**keys)


def test_fractional_min_mentions_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"min_mentions"):
        topic(min_mentions=1.5)


def test_unquoted_norway_code_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "tax.yaml"
    path.write_text("topics:\n  - name: a\n    terms: [x]\n    country: NO\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_taxonomy(path)
    assert (
        str(error.value)
        == f'{path}: topics[0] (a): country: write the code in quotes ("NO"): YAML reads NO as false'
    )
