"""Parser tests driven by fixture feeds that state their own expectation (tests/fixtures/feeds),
plus the hostile-input rules (T7, T15 of notes/reliability.md) as table-driven cases."""

import http.server
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.chain import Chain, ChainResult
from pipeline.clock import SystemClock
from pipeline.errors import ParseError
from pipeline.poller.parser import REASONS, WARNINGS, ParsedFeed, parse_feed
from pipeline.tagging import Tagger
from pipeline.taxonomy import Taxonomy

FIXTURE_DIR = Path(__file__).parents[2] / "fixtures" / "feeds"
FIXTURES = sorted([*FIXTURE_DIR.glob("*.xml"), *FIXTURE_DIR.glob("*.json")])
FETCHED = "2026-11-21T12:00:00.000Z"
# What a header comment may state: `key=value` pairs, `key>=number` for a minimum.
FIELD = re.compile(r"(\w+)(>=|=)(.*?)(?=\s+\w+(?:>=|=)|$)")


def header_comment(body: bytes) -> str:
    """The fixture's header comment (XML comment or JSON `_expect` member), as text.

    Only the comment is decoded, so fixtures in legacy charsets can state their expectation
    in their own charset (UTF-8 first, windows-1252 otherwise).
    """
    match = re.search(rb"<!--(.*?)-->", body, re.DOTALL) or re.search(rb'"_expect"\s*:\s*"(.*?)"', body)
    assert match, "fixture must state its expectation in a header comment"
    try:
        return match.group(1).decode("utf-8")
    except UnicodeDecodeError:
        return match.group(1).decode("cp1252")


def expectation(body: bytes) -> dict[str, str]:
    match = re.search(r"Expect:\s*(.*)", header_comment(body), re.DOTALL)
    assert match, "fixture must state its expectation"
    fields = FIELD.findall(match.group(1).strip())
    return {key + ("+" if op == ">=" else ""): value.strip() for key, op, value in fields}


def response_headers(body: bytes) -> dict[str, str]:
    """`Header: Name: value` lines: the HTTP response headers the fixture is served with."""
    found = re.findall(r"Header:\s*([\w-]+):\s*(.*?)\s*$", header_comment(body), re.MULTILINE)
    return dict(found)


def parse(path: Path) -> ParsedFeed:
    body = path.read_bytes()
    return parse_feed(
        body,
        response_headers(body),
        url=f"https://fixture.example/{path.name}",
        feed_id=path.stem,
        fetched_at=FETCHED,
    )


def parse_body(body: bytes, headers: dict[str, str] | None = None) -> ParsedFeed:
    return parse_feed(body, headers or {}, url="https://x.example/feed", feed_id="x", fetched_at=FETCHED)


def listed(value: str) -> set[str]:
    return {item for item in value.split(",") if item}


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_fixture_feed(path: Path) -> None:
    expect = expectation(path.read_bytes())
    assert expect, "the expectation states nothing"
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
    if "links" in expect:
        assert [entry.link for entry in parsed.entries] == expect["links"].split("|")
    if "distinct_keys" in expect:
        assert len({entry.article_key for entry in parsed.entries}) == int(expect["distinct_keys"])
    if "ttl" in expect:
        assert parsed.ttl_seconds == float(expect["ttl"])
    if "skip_hours" in expect:
        assert parsed.skip_hours == {int(hour) for hour in listed(expect["skip_hours"])}
    if "skip_days" in expect:
        assert parsed.skip_days == listed(expect["skip_days"])
    if "warnings" in expect:
        assert parsed.warnings == listed(expect["warnings"])


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
    # A text title that spells out markup is reduced to what a browser would show: titles
    # never carry markup, not even as literal text a careless consumer could render.
    assert result.article.title == "Breaking"
    assert result.article.url is None
    assert "onerror" not in result.article.content_html


def test_feed_language_becomes_bcp47() -> None:
    [first, *_] = clean_results("rss2-basic.xml")
    assert first.article.lang == "en-US"
    assert first.article.canonical_url == "https://fixture.example/world/ceasefire-aleppo"


def test_schedule_hints_default_to_nothing() -> None:
    parsed = parse(by_name("rss2-basic.xml"))
    assert (parsed.ttl_seconds, parsed.skip_hours, parsed.skip_days) == (None, frozenset(), frozenset())


# ---- T15: charsets, byte-order marks, empty and non-feed bodies --------------------------------------

TITLE = "Ünïcödé – naïve ✓"
UNICODE_FEED = (
    '<?xml version="1.0" encoding="{declared}"?>\n<rss version="2.0"><channel><title>Wide</title>'
    "<link>https://wide.example/</link><description>x</description>"
    f"<item><title>{TITLE}</title><link>https://wide.example/1</link></item></channel></rss>"
)


@dataclass(frozen=True)
class Encoded:
    name: str
    body: bytes
    headers: dict[str, str]


def encoded(name: str, codec: str, declared: str, bom: bytes = b"", content_type: str = "") -> Encoded:
    body = bom + UNICODE_FEED.format(declared=declared).encode(codec)
    return Encoded(name, body, {"Content-Type": content_type} if content_type else {})


ENCODINGS = [
    encoded("utf-8 with BOM", "utf-8", "utf-8", b"\xef\xbb\xbf"),
    encoded("utf-16-le with BOM", "utf-16-le", "utf-16", b"\xff\xfe"),
    encoded("utf-16-be with BOM", "utf-16-be", "utf-16", b"\xfe\xff"),
    encoded("utf-32-le with BOM", "utf-32-le", "utf-32", b"\xff\xfe\x00\x00"),
    encoded("utf-32-be with BOM", "utf-32-be", "utf-32", b"\x00\x00\xfe\xff"),
    encoded("utf-16-le without BOM", "utf-16-le", "utf-16"),
    encoded("utf-16-be without BOM", "utf-16-be", "utf-16"),
    encoded("utf-32-le without BOM", "utf-32-le", "utf-32"),
    encoded("utf-16 BOM beats a utf-8 declaration", "utf-16-le", "utf-8", b"\xff\xfe"),
    encoded(
        "utf-16 BOM beats a header charset", "utf-16-le", "utf-16", b"\xff\xfe", "text/xml; charset=utf-8"
    ),
    encoded("utf-8 body, header says us-ascii", "utf-8", "utf-8", b"", "text/xml; charset=us-ascii"),
    encoded(
        "utf-8 body, header quotes its charset", "utf-8", "utf-8", b"", "application/xml; charset='UTF-8'"
    ),
    encoded("utf-8 body, text/html content type", "utf-8", "utf-8", b"", "text/html; charset=utf-8"),
    encoded("utf-8 body, header names no charset", "utf-8", "utf-8", b"", "text/xml"),
    encoded("utf-8 body declared as utf-16 (no BOM)", "utf-8", "utf-16"),
]


@pytest.mark.parametrize("case", ENCODINGS, ids=[c.name for c in ENCODINGS])
def test_every_unicode_encoding_reads_the_same_title(case: Encoded) -> None:
    [entry] = parse_body(case.body, case.headers).entries
    assert entry.title == TITLE


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("nothing", b""),
        ("whitespace", b" \r\n\t "),
        ("a lone utf-8 BOM", b"\xef\xbb\xbf"),
        ("a lone utf-16 BOM", b"\xff\xfe"),
        ("NUL bytes only", b"\x00\x00\x00\x00"),
        ("BOM and blank lines", b"\xef\xbb\xbf\n\n  "),
    ],
)
def test_empty_bodies_are_empty_body_errors(name: str, body: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse_body(body)
    assert caught.value.reason == "empty-body", name


@pytest.mark.parametrize(
    ("name", "body", "reason"),
    [
        ("HTML page", b"<!DOCTYPE html><html><body><p>Hello</p></body></html>", "not-a-feed"),
        ("JSON that is not a JSON Feed", b'{"status": "ok", "items": []}', "not-a-feed"),
        (
            "a sitemap",
            b'<?xml version="1.0"?><urlset><url><loc>https://x.example/</loc></url></urlset>',
            "not-a-feed",
        ),
        ("random binary", bytes(range(256)) * 4, "not-a-feed"),
        (
            "a gzip body nobody decompressed",
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\x8b" * 50,
            "not-a-feed",
        ),
        ("XML cut inside the root tag", b'<?xml version="1.0"?><rss versi', "not-a-feed"),
        ("RSS cut before any item", b'<rss version="2.0"><channel><item><title>Never', "malformed-feed"),
    ],
)
def test_bodies_without_a_feed_are_classified(name: str, body: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_body(body)
    assert caught.value.reason == reason, name
    assert caught.value.reason in REASONS


RELATIVE_LINK = (
    b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>t</title><link href="story"/></entry></feed>'
)


@pytest.mark.parametrize(
    ("name", "content_location", "link"),
    [
        ("no header: the feed URL", None, "https://x.example/story"),
        ("relative header: against the feed URL", "/news/", "https://x.example/news/story"),
        ("absolute header", "https://cdn.example/a/", "https://cdn.example/a/story"),
        ("unsafe header ignored", "javascript:alert(1)", "https://x.example/story"),
    ],
)
def test_relative_links_resolve_against_content_location(
    name: str, content_location: str | None, link: str
) -> None:
    headers = {"Content-Location": content_location} if content_location else {}
    [entry] = parse_body(RELATIVE_LINK, headers).entries
    assert entry.link == link, name


@pytest.mark.parametrize(
    ("name", "headers"),
    [
        ("Content-Location with a broken IPv6 host", {"Content-Location": "http://[::1"}),
        ("Content-Location invalid under NFKC", {"Content-Location": "http://a\u2100b/"}),
        ("UTF-7 charset", {"Content-Type": "text/xml; charset=utf-7"}),
        ("codec that is no text encoding", {"Content-Type": "text/xml; charset=rot13"}),
        ("absurd charset label", {"Content-Type": "text/xml; charset=" + "x" * 5000}),
        ("charset label with a NUL", {"Content-Type": "text/xml; charset=utf\x00-8"}),
        ("mixed-case header names", {"CONTENT-TYPE": "application/rss+xml", "content-LOCATION": "/a/"}),
    ],
)
def test_hostile_response_headers_are_harmless(name: str, headers: dict[str, str]) -> None:
    [entry] = parse_body(RELATIVE_LINK, headers).entries
    assert entry.title == "t", name
    assert entry.link is not None
    assert entry.link.startswith("https://x.example/"), name


# ---- T7: entity amplification, XXE, external DTDs ---------------------------------------------------


def test_utf16_entity_declaration_is_rejected() -> None:
    body = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "x">]><rss/>'.encode("utf-16-le")
    with pytest.raises(ParseError):
        parse_feed(body, {}, url="https://x.example/", feed_id="x", fetched_at=FETCHED)


def quadratic_blowup(entity_kib: int, references: int) -> bytes:
    """One big internal entity referenced many times: no nesting, so expat's guard misses it."""
    value = "a" * (entity_kib * 1024)
    refs = "&big;" * references
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "{value}">]>'
        f'<rss version="2.0"><channel><title>{refs}</title><item><title>{refs}</title></item></channel></rss>'
    ).encode()


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("quadratic blowup, 100 KiB x 2000", quadratic_blowup(100, 2000)),
        ("quadratic blowup in UTF-32", quadratic_blowup(10, 100).decode().encode("utf-32")),
        ("entity hidden behind NUL bytes", quadratic_blowup(1, 10).replace(b"<!ENTITY", b"<!\x00ENTITY")),
        (
            "external entity (XXE)",
            b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><title>&x;</title></rss>',
        ),
        ("parameter entity", b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/">%p;]><rss/>'),
    ],
)
def test_entity_declarations_are_rejected_before_parsing(name: str, body: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse_body(body)
    assert caught.value.reason == "entity-declaration", name


@pytest.fixture
def canary_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server that records every request it receives."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'<!ENTITY secret "CANARY-HTTP">')

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    thread.join()


def all_text(parsed: ParsedFeed) -> str:
    return repr([entry.model_dump() for entry in parsed.entries]) + repr(parsed.title)


def test_external_dtds_are_never_read(tmp_path: Path, canary_server: tuple[str, list[str]]) -> None:
    base, hits = canary_server
    canary_file = tmp_path / "canary.dtd"
    canary_file.write_text('<!ENTITY secret "CANARY-FILE">')
    for system_id in (canary_file.as_uri(), f"{base}/remote.dtd"):
        body = (
            f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{system_id}">'
            '<rss version="2.0"><channel><title>x</title>'
            "<item><title>Leak: &secret;</title><link>https://x.example/1</link></item></channel></rss>"
        ).encode()
        parsed = parse_body(body)
        assert "CANARY" not in all_text(parsed), system_id
    assert hits == []


# ---- hostile text never reaches the output --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "title_xml", "expected"),
    [
        ("NUL reference", "a&#0;b", "a\ufffdb"),
        ("NUL reference without semicolon", "a&#0 b", "a\ufffd b"),
        ("lone high surrogate", "a&#xD800;b", "a\ufffdb"),
        ("surrogate pair as two references", "&#55357;&#56832;", "\ufffd\ufffd"),
        ("beyond U+10FFFF", "&#x110000;", "\ufffd"),
        ("absurdly long number", "&#" + "9" * 40 + ";", "\ufffd"),
        ("U+FFFE", "a&#xFFFE;b", "a\ufffdb"),
        ("legal references stay", "&#8220;q&#8221; &#x263A;", "\u201cq\u201d \u263a"),
        ("raw control characters", "a\x01\x02\x1fb", "ab"),
    ],
)
def test_illegal_characters_never_reach_entries(name: str, title_xml: str, expected: str) -> None:
    body = (
        '<rss version="2.0"><channel><title>c</title><item>'
        f"<title>{title_xml}</title><guid>{title_xml}</guid><link>https://x.example/{title_xml}</link>"
        "</item></channel></rss>"
    ).encode()
    [entry] = parse_body(body).entries
    assert entry.title == expected, name
    for value in (entry.title, entry.guid, entry.link, entry.article_key):
        assert value is not None
        assert not re.search("[\x00-\x08\ud800-\udfff]", value)


SEEDS = [path.read_bytes()[:4000] for path in FIXTURES]
HOSTILE = [
    *(b"\x00", b"&#0;", b"&#xD800;", b"\xff\xfe", b"\xef\xbb\xbf", b"\xc3"),  # bytes and references
    *(b"<", b"&", b"]]>", b"</item>", b"</category>", b"<!ENTITY"),  # markup
    *(b"http://[::1", b' href="//[" ', b"<link>http://[::1</link>"),  # URLs urljoin refuses
]


@st.composite
def mangled_feeds(draw: st.DrawFn) -> bytes:
    """A fixture feed cut, spliced with hostile fragments and random bytes."""
    body = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(body)))
        fragment = draw(st.one_of(st.sampled_from(HOSTILE), st.binary(max_size=8)))
        if draw(st.booleans()):
            body[at:at] = fragment
        else:
            del body[at : at + draw(st.integers(1, 400))]
    return bytes(body)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(mangled_feeds(), st.binary(max_size=300)))
def test_any_body_ends_in_entries_or_a_classified_error(body: bytes) -> None:
    try:
        parsed = parse_body(body)
    except ParseError as exc:
        assert exc.reason in REASONS
        return
    assert parsed.warnings <= WARNINGS
    for entry in parsed.entries:
        for value in entry.model_dump().values():
            text = value if isinstance(value, str) else repr(value)
            assert not re.search("[\x00\ud800-\udfff]", text)
