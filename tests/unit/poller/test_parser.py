"""Parser tests driven by fixture feeds that state their own expectation (tests/fixtures/feeds)."""

import re
from pathlib import Path

import pytest

from pipeline.chain import Chain, ChainResult
from pipeline.clock import SystemClock
from pipeline.errors import ParseError
from pipeline.poller.parser import parse_feed
from pipeline.tagging import Tagger
from pipeline.taxonomy import Taxonomy

FIXTURES = sorted((Path(__file__).parents[2] / "fixtures" / "feeds").glob("*.xml"))
FETCHED = "2026-11-21T12:00:00.000Z"


def expectation(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("latin-1")
    match = re.search(r"Expect:\s*(.*?)\s*-->", text, re.DOTALL)
    assert match, "fixture must state its expectation"
    fields = re.findall(r"(\w+)(>=|=)(.*?)(?=\s+\w+(?:>=|=)|$)", match.group(1))
    return {key + ("+" if op == ">=" else ""): value.strip() for key, op, value in fields}


def parse(path: Path):  # type: ignore[no-untyped-def]
    return parse_feed(
        path.read_bytes(),
        {},
        url=f"https://fixture.example/{path.name}",
        feed_id=path.stem,
        fetched_at=FETCHED,
    )


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_fixture_feed(path: Path) -> None:
    expect = expectation(path.read_bytes())
    if "error" in expect:
        with pytest.raises(ParseError) as caught:
            parse(path)
        assert caught.value.reason == expect["error"]
        return
    parsed = parse(path)
    titles = [entry.title for entry in parsed.entries]
    if "entries" in expect:
        assert len(parsed.entries) == int(expect["entries"])
    if "entries+" in expect:
        assert len(parsed.entries) >= int(expect["entries+"])
    if "titles" in expect:
        assert titles == expect["titles"].split("|")
    if "titles_include" in expect:
        assert expect["titles_include"] in titles
    if "distinct_keys" in expect:
        assert len({entry.article_key for entry in parsed.entries}) == int(expect["distinct_keys"])


def by_name(name: str) -> Path:
    return next(path for path in FIXTURES if path.name == name)


def clean_results(name: str) -> list[ChainResult]:
    chain = Chain(Tagger(Taxonomy()), SystemClock())
    return [chain.process(entry) for entry in parse(by_name(name)).entries]


def test_relative_links_resolve_against_the_feed_url() -> None:
    # The feed's own URL is the base (no xml:base in the document), as XML Base specifies.
    [_, drought] = parse(by_name("atom-basic.xml")).entries
    assert drought.link == "https://fixture.example/stories/drought"


def test_html_title_is_flattened_and_script_never_reaches_text() -> None:
    [talks, _] = clean_results("atom-basic.xml")
    assert talks.article.title == "Truce talks & aid"
    assert "steal()" not in talks.article.text
    assert "<script" not in talks.article.content_html
    assert (
        talks.article.text
        == "Negotiators met again on Friday.\n\nA cessation of hostilities is on the table."
    )
    assert talks.article.summary == "Negotiators met again."


def test_hostile_title_stays_text_and_javascript_link_is_dropped() -> None:
    [result] = clean_results("script-title.xml")
    assert result.article.title == "<script>alert(1)</script> Breaking"
    assert result.article.url is None
    assert "onerror" not in result.article.content_html


def test_feed_language_becomes_bcp47() -> None:
    [first, *_] = clean_results("rss2-basic.xml")
    assert first.article.lang == "en-US"
    assert first.article.canonical_url == "https://fixture.example/world/ceasefire-aleppo"


def test_empty_body_is_a_parse_error() -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(b"  \n", {}, url="https://x.example/", feed_id="x", fetched_at=FETCHED)
    assert caught.value.reason == "empty-body"


def test_utf16_entity_declaration_is_rejected() -> None:
    body = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "x">]><rss/>'.encode("utf-16-le")
    with pytest.raises(ParseError):
        parse_feed(body, {}, url="https://x.example/", feed_id="x", fetched_at=FETCHED)
