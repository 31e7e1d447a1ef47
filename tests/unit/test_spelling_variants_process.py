"""Spelling variants across RSS and Atom, through `newsflow process`: every item of the two
fixture feeds gets exactly the tags that tests/fixtures/feeds/spelling-variants.expected.yaml
lists (the Kafka path is checked against the same file in tests/integration/test_tagging_kafka.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pipeline.schemas import load_schema

ROOT = Path(__file__).parents[2]
FEEDS = ROOT / "tests" / "fixtures" / "feeds"
SOURCES = (FEEDS / "spelling-variants.rss", FEEDS / "spelling-variants.atom")
EXPECTED_FILE = FEEDS / "spelling-variants.expected.yaml"
TAXONOMY = ROOT / "tests" / "fixtures" / "taxonomy-spelling.yaml"


def expected() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXPECTED_FILE.read_text(encoding="utf-8"))
    assert (EXPECTED_FILE.parent / data["taxonomy"]).resolve() == TAXONOMY.resolve()
    return data


def tag_names(article: dict[str, Any]) -> list[str]:
    return sorted(tag["name"] for tag in article["tags"])


def tag_summary(tag: dict[str, Any]) -> dict[str, Any]:
    """The parts of a tag the expectation file states (``country`` is not one of them)."""
    return {key: tag[key] for key in ("name", "score", "kind", "matches")}


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    # An empty configuration, and no NEWSFLOW_* variables: the defaults, whatever the machine has.
    config = tmp_path_factory.mktemp("process") / "newsflow.yaml"
    config.write_text("{}\n", encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith("NEWSFLOW_")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsflow",
            "--config",
            str(config),
            "process",
            *(str(source.relative_to(ROOT)) for source in SOURCES),
            "--taxonomy",
            str(TAXONOMY.relative_to(ROOT)),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # no entry skipped, no source failed
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_every_item_is_printed_once_and_valid(processed: list[dict[str, Any]]) -> None:
    schema = load_schema("article")
    for article in processed:
        jsonschema.validate(article, schema)
    urls = [article["url"] for article in processed]
    assert sorted(urls) == sorted(expected()["articles"])  # 6 RSS + 6 Atom, none dropped as a duplicate


def test_tag_sets_equal_the_expectation_file(processed: list[dict[str, Any]]) -> None:
    wanted = {url: sorted(tags) for url, tags in expected()["articles"].items()}
    got = {article["url"]: tag_names(article) for article in processed}
    mismatches = {
        url: {"expected": wanted[url], "got": got.get(url)} for url in wanted if got.get(url) != wanted[url]
    }
    assert not mismatches, mismatches


def test_evidence_of_one_item(processed: list[dict[str, Any]]) -> None:
    evidence = expected()["evidence"]
    [article] = [a for a in processed if a["url"] == evidence["url"]]
    assert [tag_summary(tag) for tag in article["tags"]] == evidence["tags"]


def test_traps_carry_no_tag_and_variants_name_the_taxonomy_term(processed: list[dict[str, Any]]) -> None:
    by_url = {article["url"]: article for article in processed}
    for url, tags in expected()["articles"].items():
        if not tags:
            assert by_url[url]["tags"] == [], url
    # Evidence names the term as the taxonomy writes it, whatever the spelling in the text.
    terms = {
        (tag["name"], match["term"])
        for article in processed
        for tag in article["tags"]
        for match in tag["matches"]
    }
    assert ("ceasefire", "ceasefire") in terms  # Cease-fire, CEASE FIRE, cease fire, cease‑fire
    assert ("ceasefire", "truce") in terms  # truce, Truce's
    assert ("ceasefire", "Waffenstillstand") in terms
    assert {("aleppo", "Aleppo"), ("aleppo", "Halab"), ("aleppo", "حلب")} <= terms
    assert ("aid-convoy", "aid convoy") in terms  # aid convoys, Aid convoy


def test_stream_topics_of_the_fixture_taxonomy() -> None:
    from pipeline.tagging import Tagger
    from pipeline.taxonomy import load_taxonomy

    assert Tagger(load_taxonomy(TAXONOMY)).stream_topics == frozenset(expected()["stream_topics"])
