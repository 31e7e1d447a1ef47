"""Real pipeline output validates against the published JSON Schemas (pipeline/schemas/).

Feeds (the demo feeds and the fixture feeds below, each stating what it expects) go through
the real parser and the real chain (clean → dedup → tag); raw articles, clean articles,
articles, duplicates, revisions and dead letters are validated as they come out. The
schemas are also compared with ``pipeline/models.py`` field by field, so the published
contract and the code cannot drift apart.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from types import SimpleNamespace, UnionType
from typing import Any, Literal, Union, get_args, get_origin

import orjson
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from agents.dead_letters import DeadLetters
from newsflow.process import run_process
from pipeline import codec
from pipeline.chain import Chain, ChainResult, Rejected
from pipeline.cleaning import clean_article
from pipeline.clock import SystemClock
from pipeline.config import PollerSettings, load_settings
from pipeline.dedup import Fresh, decide
from pipeline.errors import InvalidArticle
from pipeline.metrics import PipelineMetrics
from pipeline.models import Article, CleanArticle, Duplicate, RawArticle, Tag, TagMatch
from pipeline.poller.parser import parse_feed
from pipeline.schemas import SCHEMA_KINDS, TOPIC_KINDS, load_schema
from pipeline.tagging import Tagger
from pipeline.taxonomy import load_taxonomy
from pipeline.topics import TopicNames

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "newsflow" / "demo"
FETCHED_AT = "2026-11-21T10:00:00.000Z"
TAGGER = Tagger(load_taxonomy(DEMO / "taxonomy.yaml"))

# --- validation ---------------------------------------------------------------------------

# The wire format is RFC 3339 in UTC with a "Z" suffix (pipeline.clock.rfc3339); jsonschema
# only asserts "date-time" with an optional dependency, so the check is ours (and stricter).
_RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
FORMATS = FormatChecker(formats=())


def _is_rfc3339_utc(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339_UTC.match(value):
        return False
    datetime.fromisoformat(value[:19])  # month 13 or hour 25 raise ValueError
    return True


FORMATS.checks("date-time", raises=ValueError)(_is_rfc3339_utc)


@cache
def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(kind), format_checker=FORMATS)


def errors(kind: str, instance: object) -> list[str]:
    found = sorted(validator(kind).iter_errors(instance), key=lambda error: list(error.absolute_path))
    return [f"{kind}: /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


def assert_valid(kind: str, instance: object) -> None:
    problems = errors(kind, instance)
    assert not problems, "\n".join(problems)


# --- feeds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedCase:
    name: str
    body: bytes
    entries: int  # raw entries the parser returns
    articles: int  # of those, how many the chain accepts (the rest are rejected as invalid)
    duplicate_kinds: frozenset[str]  # what dedup reports when the feed is polled again

    def parse(self, body: bytes | None = None) -> tuple[RawArticle, ...]:
        return parse_feed(
            self.body if body is None else body,
            {"content-type": "application/xml"},
            url=f"https://fixture.example/feeds/{self.name}.xml",
            feed_id=self.name,
            fetched_at=FETCHED_AT,
        ).entries


# Identity cascade: canonical URL (upper-case host, default port, tracking parameters and a
# fragment to strip), GUID only, neither (content hash), no title, and an entry with nothing
# usable, which the chain rejects. Odd dates: an offset, garbage, far future.
CASCADE = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
<channel>
<title>Fixture: identity cascade</title>
<link>https://fixture.example/</link>
<language>en-us</language>
<item>
  <title>Truce holds in the north</title>
  <link>HTTPS://Fixture.Example:443/news/truce?id=7&amp;utm_source=rss&amp;fbclid=abc#comments</link>
  <guid>https://fixture.example/news/truce</guid>
  <pubDate>Mon, 16 Nov 2026 08:00:00 +0100</pubDate>
  <category>World</category>
  <description>&lt;p&gt;The truce held for a second night.&lt;/p&gt;</description>
</item>
<item>
  <guid isPermaLink="false">fixture-guid-only-1</guid>
  <title>Aid convoy reaches the city</title>
  <pubDate>not a date</pubDate>
  <description>An aid convoy reached the city on Sunday.</description>
</item>
<item>
  <title>Earthquake felt across the region</title>
  <description>A magnitude 5 earthquake was felt across the region.</description>
</item>
<item>
  <link>https://fixture.example/news/untitled?utm_source=rss</link>
  <pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate>
  <description>&lt;p&gt;Officials announced a recount in two districts.&lt;/p&gt;</description>
</item>
<item>
  <link>https://fixture.example/news/empty</link>
</item>
</channel>
</rss>
"""

# Atom with rich content: several authors and categories, summary and content, hostile HTML,
# an HTML-typed title, non-Latin text, and two entries sharing one link (a live page).
ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ar">
<title>Fixture: Atom</title>
<id>tag:fixture.example,2026:atom</id>
<updated>2026-11-20T12:00:00Z</updated>
<entry>
  <title>وقف إطلاق النار في حلب</title>
  <link rel="alternate" href="https://fixture.example/ar/halab"/>
  <id>tag:fixture.example,2026:halab</id>
  <updated>2026-11-20T11:00:00Z</updated>
  <author><name>مراسل</name></author>
  <author><name>Second Author</name></author>
  <category term="سوريا"/>
  <category term="world"/>
  <summary>هدنة في حلب</summary>
  <content type="html">&lt;p&gt;أعلن وقف إطلاق النار في حلب.&lt;/p&gt;
    &lt;script&gt;x()&lt;/script&gt;</content>
</entry>
<entry>
  <title type="html">&lt;b&gt;Cease-fire&lt;/b&gt; talks resume</title>
  <link rel="alternate" href="https://fixture.example/live"/>
  <id>tag:fixture.example,2026:live-1</id>
  <updated>2026-11-20T10:00:00Z</updated>
  <content type="html">&lt;p&gt;Talks resumed.&lt;/p&gt;
    &lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt;&lt;nav&gt;menu&lt;/nav&gt;</content>
</entry>
<entry>
  <title>Election turnout at record high</title>
  <link rel="alternate" href="https://fixture.example/live"/>
  <id>tag:fixture.example,2026:live-2</id>
  <updated>2026-11-20T09:00:00Z</updated>
  <content type="html">&lt;p&gt;Turnout reached a record.&lt;/p&gt;</content>
</entry>
</feed>
""".encode()

# Reused GUIDs without links, and content:encoded next to a description.
REUSED_GUID = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
<title>Fixture: reused GUID</title>
<item>
  <guid isPermaLink="false">same</guid>
  <title>Flood warning issued</title>
  <description>Short summary of the flood warning.</description>
  <content:encoded><![CDATA[<p>The agency issued a flood warning for the valley.</p>
    <p>Residents were told to move to higher ground.</p>]]></content:encoded>
</item>
<item>
  <guid isPermaLink="false">same</guid>
  <title>Sanctions extended for a year</title>
  <description>The embargo was extended.</description>
</item>
</channel>
</rss>
"""


def _demo_case(path: Path) -> FeedCase:
    body = path.read_bytes()
    items = len(re.findall(rb"<(?:item|entry)[\s>]", body))
    return FeedCase(f"demo-{path.stem}", body, items, items, frozenset({"exact-url"}))


FEED_CASES = [
    *(_demo_case(path) for path in sorted((DEMO / "feeds").glob("*.xml"))),
    FeedCase("fixture-identity-cascade", CASCADE, 5, 4, frozenset({"exact-url", "guid", "content"})),
    FeedCase("fixture-atom", ATOM, 3, 3, frozenset({"exact-url"})),
    FeedCase("fixture-reused-guid", REUSED_GUID, 2, 2, frozenset({"guid"})),
]
FEEDS = [pytest.param(case, id=case.name) for case in FEED_CASES]


def retracked(body: bytes) -> bytes:
    """The same feed with a new tracking parameter on every entry link (canonical URL unchanged)."""

    def add_parameter(match: re.Match[bytes]) -> bytes:
        url = match.group(2)
        base, hash_, fragment = url.partition(b"#")
        separator = b"&amp;" if b"?" in base else b"?"
        return match.group(1) + base + separator + b"utm_campaign=repoll" + hash_ + fragment + match.group(3)

    body = re.sub(rb"(<link>)(https?://[^<]+)(</link>)", add_parameter, body, flags=re.IGNORECASE)
    return re.sub(rb'(<link [^>]*href=")(https?://[^"]+)(")', add_parameter, body)


def run_chain(chain: Chain, raws: Sequence[RawArticle]) -> list[ChainResult]:
    return [result for result in chain.process_all(raws) if not isinstance(result, Rejected)]


# --- the schemas themselves -----------------------------------------------------------------


@pytest.mark.parametrize("kind", SCHEMA_KINDS)
def test_schema_is_valid_draft_2020_12(kind: str) -> None:
    schema = load_schema(kind)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is True  # "holds at least": newer producers may add fields
    if "schema" in schema["properties"]:
        assert schema["properties"]["schema"]["const"] == schema["title"] == f"newsflow.{kind}/1"
        assert "schema" in schema["required"]


def test_every_topic_has_a_schema() -> None:
    assert set(TopicNames("news.").all()) <= set(TOPIC_KINDS)
    assert set(TOPIC_KINDS.values()) == set(SCHEMA_KINDS)


def test_unknown_schema_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown schema kind"):
        load_schema("../config")


# --- real output ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", FEEDS)
def test_parser_output_matches_raw_schema(case: FeedCase) -> None:
    raws = case.parse()
    assert len(raws) == case.entries
    for raw in raws:
        assert_valid("raw", codec.to_dict(raw))


@pytest.mark.parametrize("case", FEEDS)
def test_cleaning_and_dedup_output_matches_clean_schema(case: FeedCase) -> None:
    accepted = 0
    for raw in case.parse():
        try:
            clean = clean_article(raw)  # what news.clean carries
        except InvalidArticle:
            continue  # dead-lettered by the agent: covered by the dead-letter tests
        assert_valid("clean", codec.to_dict(clean))
        unique = decide(clean, None, SystemClock().now())  # what news.unique carries
        assert isinstance(unique, Fresh)
        assert_valid("clean", codec.to_dict(unique.article))
        accepted += 1
    assert accepted == case.articles


@pytest.mark.parametrize("case", FEEDS)
def test_chain_articles_match_article_schema(case: FeedCase) -> None:
    results = run_chain(Chain(TAGGER, SystemClock()), case.parse())
    assert len(results) == case.articles
    for result in results:
        assert result.duplicate is None
        assert_valid("article", codec.to_dict(result.article))


@pytest.mark.parametrize("case", FEEDS)
def test_repoll_with_new_tracking_parameters_yields_valid_duplicates(case: FeedCase) -> None:
    chain = Chain(TAGGER, SystemClock())
    first = run_chain(chain, case.parse())
    second = run_chain(chain, case.parse(retracked(case.body)))
    duplicates = [result.duplicate for result in second if result.duplicate is not None]
    assert len(duplicates) == len(second) == len(first)
    assert {duplicate.kind for duplicate in duplicates} == case.duplicate_kinds
    first_urls = {result.article.url for result in first}
    for result, duplicate in zip(second, duplicates, strict=True):
        assert_valid("duplicate", codec.to_dict(duplicate))
        assert_valid("article", codec.to_dict(result.article))
        assert duplicate.duplicate_of == duplicate.id
        assert duplicate.url is None or duplicate.url not in first_urls  # the link really changed


def test_changed_content_is_a_valid_revision() -> None:
    case = FEED_CASES[[c.name for c in FEED_CASES].index("demo-world-wire")]
    chain = Chain(TAGGER, SystemClock())
    first = {r.article.article_key: r.article for r in run_chain(chain, case.parse())}
    edited = case.body.replace(b"Veterans laid wreaths", b"Veterans laid flowers", 1)
    assert edited != case.body
    revisions = [r.article for r in run_chain(chain, case.parse(edited)) if r.duplicate is None]
    assert len(revisions) == 1
    revision = revisions[0]
    assert (revision.revision, revision.update_of) == (2, first[revision.article_key].id)
    assert_valid("article", codec.to_dict(revision))


def test_process_command_output_matches_article_schema(tmp_path: Path) -> None:
    source = DEMO / "feeds" / "world-wire.xml"
    repoll = tmp_path / "world-wire-repoll.xml"
    repoll.write_bytes(retracked(source.read_bytes()))
    out, err = io.BytesIO(), io.StringIO()
    code = run_process(
        [str(source), str(repoll)],
        TAGGER,
        PollerSettings(),
        include_duplicates=True,
        feed_id="world-wire",
        out=out,
        err=err,
    )
    assert (code, err.getvalue()) == (0, "")
    lines = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 2 * _demo_case(source).entries
    assert sum("duplicate_of" in line for line in lines) == len(lines) // 2
    for line in lines:
        assert_valid("article", line)  # extra duplicate_of/duplicate_kind are allowed


def test_configured_feeds_are_valid_registry_records() -> None:
    settings = load_settings(REPO / "deploy" / "config" / "newsflow.yaml")
    assert settings.feeds
    for feed in settings.feeds:
        record = {
            "schema": "newsflow.feed/1",
            "id": feed.id,
            "url": feed.url,
            "interval_seconds": feed.interval,
            "title": feed.title,
        }
        assert_valid("feed", record)


# --- dead letters: real records from agents/dead_letters.py --------------------------------


class RecordingTopic:
    """Stands in for the Faust dead-letter topic: records what is sent, acks at once."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, *, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]) -> Any:
        self.sent.append({"key": key, "value": value, "headers": headers})
        acked: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        acked.set_result(None)
        return acked


def _text(data: bytes | None) -> str | None:
    return None if data is None else data.decode("utf-8", "replace")


def rendered(record: dict[str, Any]) -> dict[str, Any]:
    """The record as the dead-letter schema describes it (and `newsflow tail` shows it)."""
    headers = {name: _text(value) for name, value in record["headers"]}
    return {"key": _text(record["key"]), "value": _text(record["value"]), "headers": headers}


def _decode_and_clean(value: bytes | None) -> None:
    clean_article(codec.decode(value, RawArticle))


def _bug(value: bytes | None) -> None:
    raise RuntimeError("a bug in a stage")


EMPTY_ENTRY = orjson.dumps(
    {"schema": "newsflow.raw/1", "article_key": "k", "feed_id": "f", "fetched_at": FETCHED_AT}
)
DEAD_LETTER_CASES = [
    pytest.param(b"\xff\xfe not json", _decode_and_clean, "undecodable", id="undecodable-bytes"),
    pytest.param(None, _decode_and_clean, "empty-message", id="no-value"),
    pytest.param(b'{"schema": "newsflow.raw/1"}', _decode_and_clean, "schema-invalid", id="schema-invalid"),
    pytest.param(EMPTY_ENTRY, _decode_and_clean, "empty-article", id="empty-article"),
    pytest.param(b'{"any": "thing"}', _bug, "unexpected-error", id="unexpected-error"),
]


@pytest.mark.parametrize(("value", "stage_function", "reason_code"), DEAD_LETTER_CASES)
async def test_dead_letter_records_match_schema(
    value: bytes | None, stage_function: Callable[[bytes | None], None], reason_code: str
) -> None:
    topic = RecordingTopic()
    dead_letters = DeadLetters(topic, PipelineMetrics.create(CollectorRegistry()))  # type: ignore[arg-type]
    message = SimpleNamespace(topic="news.raw", partition=1, offset=42, key=b"key-1", value=value)

    async def handler() -> None:
        stage_function(value)

    await dead_letters.handle(SimpleNamespace(message=message), "cleaning", handler)  # type: ignore[arg-type]
    [record] = topic.sent
    assert record["value"] == value  # the original bytes, unchanged
    assert_valid("dead-letter", rendered(record))
    assert rendered(record)["headers"]["x-newsflow-reason-code"] == reason_code


# --- contract vs models ---------------------------------------------------------------------

MODEL_CONTRACTS = [
    pytest.param(RawArticle, "raw", "", id="raw"),
    pytest.param(CleanArticle, "clean", "", id="clean"),
    pytest.param(Article, "article", "", id="article"),
    pytest.param(Tag, "article", "/$defs/tag", id="article-tag"),
    pytest.param(TagMatch, "article", "/$defs/tag_match", id="article-tag-match"),
    pytest.param(Duplicate, "duplicate", "", id="duplicate"),
]
_JSON_TYPES: dict[object, str] = {str: "string", bool: "boolean", int: "integer", float: "number"}


def subschema(root: dict[str, Any], pointer: str) -> dict[str, Any]:
    node = root
    for part in filter(None, pointer.split("/")):
        node = node[part]
    return node


def resolved(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return subschema(root, ref.removeprefix("#")) if ref else node


def model_fields(model: type[BaseModel]) -> dict[str, Any]:
    """Wire name (alias) → field info."""
    return {field.alias or name: field for name, field in model.model_fields.items()}


def json_types(annotation: object) -> set[str]:
    """The JSON types a Python annotation of a model field serialises to."""
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        return set().union(*(json_types(arg) for arg in get_args(annotation)))
    if origin is Literal:
        return {_JSON_TYPES[type(value)] for value in get_args(annotation)}
    if origin in (tuple, list):
        return {"array"}
    if annotation is type(None):
        return {"null"}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {"object"}
    return {_JSON_TYPES[annotation]}


def schema_types(root: dict[str, Any], node: dict[str, Any]) -> set[str]:
    declared = resolved(root, node)["type"]
    return {declared} if isinstance(declared, str) else set(declared)


@pytest.mark.parametrize(("model", "kind", "pointer"), MODEL_CONTRACTS)
def test_required_fields_match_the_model(model: type[BaseModel], kind: str, pointer: str) -> None:
    schema = subschema(load_schema(kind), pointer)
    fields = model_fields(model)
    expected = {name for name, field in fields.items() if field.is_required()}
    if "schema" in fields:
        # Every message carries "schema" (DESIGN §2): producers always write it; the models
        # only default it on decode, so the contract requires it on top of the model.
        expected.add("schema")
    assert sorted(schema["required"]) == sorted(expected)


@pytest.mark.parametrize(("model", "kind", "pointer"), MODEL_CONTRACTS)
def test_properties_and_types_match_the_model(model: type[BaseModel], kind: str, pointer: str) -> None:
    root = load_schema(kind)
    properties = subschema(root, pointer)["properties"]
    fields = model_fields(model)
    assert sorted(properties) == sorted(fields)
    for name, field in fields.items():
        prop = properties[name]
        assert schema_types(root, prop) == json_types(field.annotation), name
        if get_origin(field.annotation) is Literal:
            allowed = set(prop["enum"]) if "enum" in prop else {prop["const"]}
            assert allowed == set(get_args(field.annotation)), name
        if get_origin(field.annotation) is tuple:
            item = get_args(field.annotation)[0]
            assert schema_types(root, prop["items"]) == json_types(item), name
    if "schema" in fields:
        assert properties["schema"]["const"] == fields["schema"].default


# --- the schemas refuse what breaks the contract --------------------------------------------


def _article() -> dict[str, Any]:
    case = FEED_CASES[0]
    return codec.to_dict(run_chain(Chain(TAGGER, SystemClock()), case.parse())[0].article)


def _duplicate() -> dict[str, Any]:
    return {
        "schema": "newsflow.duplicate/1",
        "id": "0" * 32,
        "duplicate_of": "0" * 32,
        "kind": "exact-url",
        "similarity": 1.0,
        "url": None,
        "feed_id": "f",
        "detected_at": FETCHED_AT,
    }


def _alert(**changes: Any) -> dict[str, Any]:
    alert = {
        "schema": "newsflow.alert/1",
        "id": "alert-1",
        "rule": "aleppo-ceasefire",
        "kind": "match",
        "article_ids": ["a" * 32],
        "tags": ["aleppo", "ceasefire"],
        "title": "Ceasefire holds in Aleppo",
        "url": "https://example.org/a",
        "fired_at": FETCHED_AT,
        "window": None,
        "count": None,
        "baseline": None,
    }
    return {**alert, **changes}


def _feed(**changes: Any) -> dict[str, Any]:
    feed = {"schema": "newsflow.feed/1", "id": "bbc-world", "url": "https://feeds.bbci.co.uk/x.xml"}
    return {**feed, "interval_seconds": 300.0, "title": None, **changes}


def _dead_letter(**header_changes: str | None) -> dict[str, Any]:
    headers: dict[str, str | None] = {
        "x-newsflow-stage": "cleaning",
        "x-newsflow-reason": "undecodable: not UTF-8 JSON",
        "x-newsflow-reason-code": "undecodable",
        "x-newsflow-source-topic": "news.raw",
        "x-newsflow-partition": "0",
        "x-newsflow-offset": "7",
        **header_changes,
    }
    return {"key": "k", "value": "\ufffd", "headers": {k: v for k, v in headers.items() if v is not None}}


def _without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in record.items() if name != key}


INSTANCES = [
    # (kind, instance builder, valid?)
    pytest.param("article", lambda: {**_article(), "future_field": [1]}, True, id="article-extra-field-ok"),
    pytest.param("article", lambda: _without(_article(), "tags"), False, id="article-without-tags"),
    pytest.param("article", lambda: {**_article(), "schema": "newsflow.article/2"}, False, id="article-v2"),
    pytest.param("article", lambda: {**_article(), "fetched_at": "yesterday"}, False, id="article-bad-time"),
    pytest.param("article", lambda: {**_article(), "id": "not-hex"}, False, id="article-bad-id"),
    pytest.param(
        "article",
        lambda: {**_article(), "tags": [{"name": "x", "score": 1, "kind": "topic", "matches": [{}]}]},
        False,
        id="article-bad-tag-match",
    ),
    pytest.param("duplicate", _duplicate, True, id="duplicate-ok"),
    pytest.param("duplicate", lambda: {**_duplicate(), "kind": "fuzzy"}, False, id="duplicate-bad-kind"),
    pytest.param("duplicate", lambda: {**_duplicate(), "similarity": 1.5}, False, id="duplicate-similarity"),
    pytest.param(
        "raw", lambda: {"schema": "newsflow.raw/1", "feed_id": "f"}, False, id="raw-minimal-missing"
    ),
    pytest.param("alert", _alert, True, id="alert-match-ok"),
    pytest.param(
        "alert",
        lambda: _alert(kind="spike", window=3600.0, count=12, baseline=2.5),
        True,
        id="alert-spike-ok",
    ),
    pytest.param("alert", lambda: _alert(kind="spike"), False, id="alert-spike-without-window"),
    pytest.param("alert", lambda: _alert(kind="digest"), False, id="alert-bad-kind"),
    pytest.param("alert", lambda: _without(_alert(), "baseline"), False, id="alert-missing-baseline"),
    pytest.param("feed", _feed, True, id="feed-ok"),
    pytest.param("feed", lambda: _feed(url="ftp://example.org/feed"), False, id="feed-not-http"),
    pytest.param("feed", lambda: _feed(interval_seconds=0), False, id="feed-zero-interval"),
    pytest.param("feed", lambda: _feed(id="has space"), False, id="feed-bad-id"),
    pytest.param("dead-letter", _dead_letter, True, id="dead-letter-ok"),
    pytest.param("dead-letter", lambda: {**_dead_letter(), "value": None}, True, id="dead-letter-no-value"),
    pytest.param(
        "dead-letter",
        lambda: _dead_letter(**{"x-newsflow-reason-code": None}),
        False,
        id="dead-letter-without-code",
    ),
    pytest.param(
        "dead-letter",
        lambda: _dead_letter(**{"x-newsflow-offset": "-1"}),
        False,
        id="dead-letter-bad-offset",
    ),
]


@pytest.mark.parametrize(("kind", "build", "valid"), INSTANCES)
def test_schema_accepts_or_refuses(kind: str, build: Callable[[], dict[str, Any]], valid: bool) -> None:
    assert (not errors(kind, build())) is valid, errors(kind, build())
