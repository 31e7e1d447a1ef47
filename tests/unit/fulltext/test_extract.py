"""pipeline/fulltext/extract.py: article text without the page furniture, charsets, page facts,
AMP → canonical, and hostile pages. Fixture pages (tests/fixtures/pages) describe themselves in
a header comment; what each must yield is in the tables below."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trafilatura

from pipeline.fulltext import extract
from pipeline.fulltext.extract import ExtractedPage, amp_canonical, decode_html, extract_page

PAGES = Path(__file__).parents[2] / "fixtures" / "pages"


@dataclass(frozen=True)
class PageCase:
    name: str
    file: str
    url: str | None
    present: tuple[str, ...]  # article text that must be in the main text
    absent: tuple[str, ...]  # boilerplate that must not
    facts: dict[str, Any] = field(default_factory=dict)  # other ExtractedPage fields
    content_type: str | None = None
    amp_canonical: str | None = None


GAZETTE = "https://www.riverside-gazette.example/news/2026/11/20/council-school-budget"
HERALD = "https://www.coastal-herald.example/2026/11/20/harbour-bridge-reopens/"
MUSIC = "https://music.example.com/amp/2026/11/festival-line-up"
GERMAN = (
    "Der Stadtrat hat am Donnerstagabend nach einer langen Debatte beschlossen",
    "Die Bürgerinitiative „Grüne Straße“ begrüßte die Entscheidung",
    "bis zum Herbst des kommenden Jahres abgeschlossen sein – sofern das Wetter mitspielt.",
)
FURNITURE_DE = ("Impressum", "Datenschutz", "Politik |")

PAGE_CASES = [
    PageCase(
        "article inside the page furniture",
        "news-article-boilerplate.html",
        f"{GAZETTE}?utm_source=rss",
        present=(
            "Riverside council has approved a forty million pound budget for its secondary schools",
            "Opposition members had argued that the money should be spread more evenly",
            "Long debate over class sizes",
            '"Every child in this borough deserves a classroom with a roof that keeps the rain out',
            "Head teachers welcomed the decision",  # after the newsletter box
        ),
        absent=(
            "Skip to main content",
            "Accept all cookies",  # cookie banner
            "We use cookies",
            "Crosswords and puzzles",  # section nav
            "Flood warning issued",  # ticker
            "Search the Gazette",
            "Share on Facebook",  # share bar
            "Email this article",
            "Jump to 14 comments",
            "Parents protest over leaking school roofs",  # read-more box inside the body
            "Subscribe to our free newsletter",  # newsletter box inside the body
            "Riverside Morning Briefing",
            "Riverside United snatch late derby winner",  # related stories
            "About time somebody fixed those roofs",  # comments
            "Once again the north gets nothing",
            "Log in to join the conversation",
            "Privacy policy",  # footer
            "All rights reserved",
            "dataLayer",  # script
            "position:fixed",  # style
        ),
        facts={
            "title": "Council approves £40m school budget after late-night vote",
            "canonical_url": GAZETTE,  # relative rel=canonical, resolved against the page URL
            "is_amp": False,
            "amp_url": None,
            "lang": "en-GB",
            "published": "2026-11-20T21:45:00Z",
        },
    ),
    PageCase(
        "AMP page naming its canonical page",
        "amp-article.html",
        f"{HERALD}amp/",
        present=(
            "The harbour bridge reopened to traffic on Friday morning",
            "The repairs cost eighteen million pounds",
            "Ferry operators, who carried commuters across the estuary",
        ),
        absent=(
            "Obituaries",
            "Share on WhatsApp",
            "You may also like",
            "Lighthouse keeper",
            "View the full site",
        ),
        facts={"is_amp": True, "canonical_url": HERALD, "amp_url": None, "lang": "en"},
        amp_canonical=HERALD,
    ),
    PageCase(
        "canonical page pointing to its AMP copy (an 'amp' section, not AMP)",
        "canonical-with-amphtml.html",
        MUSIC,
        present=(
            "Organisers of the riverside music festival have announced a line-up of forty acts",
            "Early tickets go on sale on Monday",
        ),
        absent=("The Amplifier newsletter", "Reviews"),
        facts={"is_amp": False, "canonical_url": MUSIC, "amp_url": f"{MUSIC}?amp=1"},
        amp_canonical=None,
    ),
    PageCase(
        "windows-1252 declared in a meta tag",
        "charset-windows-1252-meta.html",
        None,
        present=GERMAN,
        absent=FURNITURE_DE,
        facts={
            "title": "Stadtrat beschließt Sanierung der Mühlenbrücke",
            "lang": "de",
            "canonical_url": None,
        },
    ),
    PageCase(
        "windows-1252 undeclared",
        "charset-undeclared-cp1252.html",
        None,
        present=GERMAN,
        absent=FURNITURE_DE,
    ),
    PageCase(
        "UTF-8 bytes under a gb2312 declaration",
        "charset-utf8-declared-gb2312.html",
        None,
        present=(
            "深度学习公司今天发布了一种新的计算机系统",
            "专家认为，这项研究让人工智能向前迈出了重要的一步",
        ),
        absent=FURNITURE_DE,
        facts={"title": "新电脑已可利用记忆自学", "lang": "zh-CN"},
    ),
    PageCase(
        "Shift_JIS declared only by the HTTP header",
        "charset-shift-jis-header.html",
        None,
        content_type="text/html; charset=Shift_JIS",
        present=(
            "宮崎県で震度五弱の揺れを観測する地震がありました。",
            "高知県と宮崎県に津波注意報が出されましたが",
        ),
        absent=FURNITURE_DE,
        facts={"title": "宮崎県で震度5弱", "lang": "ja"},
    ),
]


def read(case: PageCase) -> ExtractedPage:
    return extract_page(decode_html((PAGES / case.file).read_bytes(), case.content_type), case.url)


@pytest.mark.parametrize("case", PAGE_CASES, ids=[case.name for case in PAGE_CASES])
def test_fixture_page(case: PageCase) -> None:
    page = read(case)
    for text in case.present:
        assert text in page.text
    for text in case.absent:
        assert text not in page.text
    for name, value in case.facts.items():
        assert getattr(page, name) == value, name
    if case.url is not None:
        assert amp_canonical(case.url, page) == case.amp_canonical


@pytest.mark.parametrize("case", PAGE_CASES, ids=[case.name for case in PAGE_CASES])
def test_text_is_paragraphs_separated_by_a_blank_line(case: PageCase) -> None:
    text = read(case).text
    assert text == text.strip()
    assert "\n\n" in text
    assert "\n\n\n" not in text
    assert all(paragraph.strip() == paragraph for paragraph in text.split("\n\n"))


# ---- decoding ---------------------------------------------------------------------------------------

DECODE_CASES = [
    ("valid UTF-8 beats a wrong declaration", "<meta charset=gb2312>深度学习".encode(), None, "深度学习"),
    ("UTF-8 BOM stripped", b"\xef\xbb\xbf<p>caf\xc3\xa9", None, "<p>café"),
    ("UTF-16 with a BOM", "<p>café".encode("utf-16"), None, "<p>café"),
    (
        "header charset",
        "<p>café “quoted”".encode("cp1252"),
        "text/html; charset=windows-1252",
        "café “quoted”",
    ),
    (
        "header beats meta",
        "<meta charset=iso-8859-1>Новости".encode("cp1251"),
        "text/html;charset=windows-1251",
        "Новости",
    ),
    (
        "meta http-equiv",
        "<meta http-equiv='Content-Type' content='text/html; charset=koi8-r'>Новости".encode("koi8-r"),
        None,
        "Новости",
    ),
    ("latin-1 label read as windows-1252", b"<meta charset=iso-8859-1>\x93q\x94", None, "“q”"),
    ("gb2312 label read as its superset", "<meta charset=gb2312>朱镕基".encode("gbk"), None, "朱镕基"),
    ("declared UTF-8 that is not: windows-1252", b"<meta charset=utf-8>caf\xe9", None, "café"),
    ("unknown label: windows-1252", b"<meta charset=x-no-such>caf\xe9", None, "café"),
    ("UTF-7 never used", b"<meta charset=utf-7>+AGEAYgBj- caf\xe9", None, "+AGEAYgBj- café"),
    (
        "undecodable in its charset: windows-1252",
        b"<meta charset=shift_jis>\x82\xa0\x81 ",
        None,
        "‚\xa0\ufffd ",
    ),
    ("no declaration: windows-1252", b"<p>Caf\xe9 na\xefve \x80", None, "<p>Café naïve €"),
    ("bytes no charset has: replacement", b"<p>\x81\x8d", None, "<p>\ufffd\ufffd"),
]


@pytest.mark.parametrize(
    ("name", "body", "content_type", "expected"), DECODE_CASES, ids=[case[0] for case in DECODE_CASES]
)
def test_decode_html(name: str, body: bytes, content_type: str | None, expected: str) -> None:
    assert decode_html(body, content_type).endswith(expected)


# ---- page facts -------------------------------------------------------------------------------------

ARTICLE = (
    "<body><article><p>" + "A sentence of article text about the harbour. " * 12 + "</p></article></body>"
)
FACT_CASES: list[tuple[str, str, str | None, dict[str, Any]]] = [
    (
        "og:url when there is no rel=canonical",
        '<head><meta property="og:url" content="https://a.example/story"></head>',
        "https://a.example/story?x=1",
        {"canonical_url": "https://a.example/story"},
    ),
    (
        "rel=canonical beats og:url",
        '<link rel="canonical" href="https://a.example/c"><meta property="og:url" content="https://a.example/o">',
        None,
        {"canonical_url": "https://a.example/c"},
    ),
    (
        "rel tokens, any case",
        '<link rel="Canonical alternate" href="https://a.example/c">',
        None,
        {"canonical_url": "https://a.example/c"},
    ),
    (
        "relative canonical without a page URL",
        '<link rel="canonical" href="/story">',
        None,
        {"canonical_url": None},
    ),
    (
        "javascript: canonical refused",
        '<link rel="canonical" href="javascript:alert(1)">',
        "https://a.example/",
        {"canonical_url": None},
    ),
    ("empty canonical", '<link rel="canonical" href="  ">', "https://a.example/", {"canonical_url": None}),
    ("<html amp>", "<html amp><head></head>", None, {"is_amp": True}),
    ("<html ⚡>", "<html ⚡ lang=fr><head></head>", None, {"is_amp": True, "lang": "fr"}),
    ("/amp/ in the path", "", "https://a.example/amp/story", {"is_amp": True}),
    ("/amp at the end", "", "https://a.example/story/amp", {"is_amp": True}),
    ("?amp=1", "", "https://a.example/story?amp=1", {"is_amp": True}),
    ("?amp", "", "https://a.example/story?amp", {"is_amp": True}),
    (".amp", "", "https://a.example/story.amp", {"is_amp": True}),
    (".amp.html", "", "https://a.example/story.amp.html", {"is_amp": True}),
    ("amp. host", "", "https://amp.a.example/story", {"is_amp": True}),
    ("'amp' inside a word is not AMP", "", "https://a.example/campaign/example?ampm=1", {"is_amp": False}),
    (
        "an AMP-shaped URL with rel=amphtml is the canonical page",
        '<link rel="amphtml" href="/amp/x.amp">',
        "https://a.example/amp/x",
        {"is_amp": False, "amp_url": "https://a.example/amp/x.amp"},
    ),
    (
        "title from og:title",
        '<meta property="og:title" content="Clean title"><title>Clean title | Site</title>',
        None,
        {"title": "Clean title"},
    ),
    (
        "title entities decoded",
        "<title>T&#252;rkiye&#39;de  şarj\n istasyonu</title>",
        None,
        {"title": "Türkiye'de şarj istasyonu"},
    ),
    ("no title, no lang", "<head></head>", None, {"title": None, "lang": None}),
    ("xml:lang", '<html xml:lang="cs"><head></head>', None, {"lang": "cs"}),
    (
        "published time",
        '<meta property="article:published_time" content=" 2026-11-20T08:00:00+01:00 ">',
        None,
        {"published": "2026-11-20T08:00:00+01:00"},
    ),
]


@pytest.mark.parametrize(
    ("name", "head", "url", "expected"), FACT_CASES, ids=[case[0] for case in FACT_CASES]
)
def test_page_facts(name: str, head: str, url: str | None, expected: dict[str, Any]) -> None:
    page = extract_page(head + ARTICLE, url)
    for field_name, value in expected.items():
        assert getattr(page, field_name) == value, field_name
    assert "A sentence of article text about the harbour." in page.text


# ---- AMP → canonical ---------------------------------------------------------------------------------


def facts(canonical: str | None, *, is_amp: bool = True, amp_url: str | None = None) -> ExtractedPage:
    return ExtractedPage("text", None, canonical, is_amp=is_amp, amp_url=amp_url, lang=None, published=None)


AMP_CASES = [
    (
        "AMP page names its canonical page",
        "https://a.example/s/amp/",
        facts("https://a.example/s/"),
        "https://a.example/s/",
    ),
    (
        "AMP by URL shape only",
        "https://a.example/s?amp=1",
        facts("https://a.example/s", is_amp=False),
        "https://a.example/s",
    ),
    (
        "amp. host to www.",
        "https://amp.theguardian.com/world/x",
        facts("https://www.theguardian.com/world/x"),
        "https://www.theguardian.com/world/x",
    ),
    (
        "mobile .amp.html to www.",
        "http://mobile.nytimes.com/2017/a.amp.html",
        facts("https://www.nytimes.com/2017/a.html"),
        "https://www.nytimes.com/2017/a.html",
    ),
    (
        "same site under co.uk",
        "https://amp.bbc.co.uk/news/1",
        facts("https://www.bbc.co.uk/news/1"),
        "https://www.bbc.co.uk/news/1",
    ),
    (
        "another site under co.uk refused",
        "https://amp.bbc.co.uk/news/1",
        facts("https://evil.co.uk/news/1"),
        None,
    ),
    ("another site refused", "https://a.example/s/amp/", facts("https://b.example/s/"), None),
    ("names itself", "https://a.example/s/amp/", facts("https://a.example/s/amp/?utm_source=x"), None),
    ("no canonical", "https://a.example/s/amp/", facts(None), None),
    ("not AMP", "https://a.example/s", facts("https://a.example/t", is_amp=False), None),
    (
        "AMP-shaped URL of a page with an AMP copy",
        "https://a.example/amp/s",
        facts("https://a.example/x", is_amp=False, amp_url="https://a.example/amp/s.amp"),
        None,
    ),
]


@pytest.mark.parametrize(("name", "url", "page", "expected"), AMP_CASES, ids=[case[0] for case in AMP_CASES])
def test_amp_canonical(name: str, url: str, page: ExtractedPage, expected: str | None) -> None:
    assert amp_canonical(url, page) == expected


# ---- hostile pages -----------------------------------------------------------------------------------

SECONDS = 8.0  # each, on a slow CI core; measured ≤ 1.5 s (benchmarks/results/extract.json: hostile)
PARAGRAPH = "<p>" + "The council voted on the new budget for the city schools today. " * 5 + "</p>\n"
HOSTILE: list[tuple[str, Callable[[], str], str | None]] = [
    ("5 MB of 200,000 divs", lambda: "<html><body>" + "<div><span>x</span></div>" * 200_000, None),
    (
        "5 MB of paragraphs",
        lambda: "<body><article>" + PARAGRAPH * (5_000_000 // len(PARAGRAPH)),
        "city schools",
    ),
    (
        "10,000-deep divs around a paragraph",
        lambda: "<body>" + "<div>" * 10_000 + PARAGRAPH + "</div>" * 10_000,
        "city schools",
    ),
    ("10,000-deep unclosed formatting", lambda: "<body>" + "<div><p><b>" * 10_000 + "text", None),
    ("1,700,000-deep <i> (5 MB)", lambda: "<i>" * 1_700_000, None),
    ("2,500,000 '<a' (5 MB)", lambda: "<a" * 2_500_000, None),
    ("NULs", lambda: "<body><article>" + ("<p>" + "a\x00b " * 60 + "</p>") * 20, "ab ab"),
    ("only NULs", lambda: "\x00" * 100_000, None),
    ("empty", lambda: "", None),
    ("tag soup", lambda: "<<<>>><!-- <![CDATA[ &#0; &#xD800; &#99999999; <p <html amp", None),
    ("invalid bytes decoded", lambda: decode_html(b"\xff\xfe\x00<p>\x80\x81\xc3" * 300_000, None), None),
]


@pytest.mark.parametrize(("name", "build", "kept"), HOSTILE, ids=[case[0] for case in HOSTILE])
def test_hostile_page_neither_crashes_nor_hangs(
    name: str, build: Callable[[], str], kept: str | None
) -> None:
    html = build()
    started = time.perf_counter()
    page = extract_page(html, "https://a.example/story")
    assert time.perf_counter() - started < SECONDS
    assert isinstance(page.text, str)
    assert "\x00" not in page.text
    if kept is not None:
        assert kept in page.text


# ---- a library that fails ----------------------------------------------------------------------------

BOILERPLATE_PAGE = (PAGES / "news-article-boilerplate.html").read_text(encoding="utf-8")
LEDE = "Riverside council has approved a forty million pound budget"


def fail(*_args: object, **_kwargs: object) -> str:
    raise ValueError("library bug")


def test_trafilatura_failing_falls_back_to_resiliparse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trafilatura, "extract", fail)
    assert LEDE in extract_page(BOILERPLATE_PAGE, GAZETTE).text


def test_resiliparse_failing_falls_back_to_trafilatura(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract, "extract_plain_text", fail)
    assert LEDE in extract_page(BOILERPLATE_PAGE, GAZETTE).text


def test_both_failing_gives_empty_text_and_the_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trafilatura, "extract", fail)
    monkeypatch.setattr(extract, "extract_plain_text", fail)
    page = extract_page(BOILERPLATE_PAGE, GAZETTE)
    assert page.text == ""
    assert page.canonical_url == GAZETTE


def test_memory_error_is_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    def exhausted(*_args: object, **_kwargs: object) -> str:
        raise MemoryError

    monkeypatch.setattr(trafilatura, "extract", exhausted)
    with pytest.raises(MemoryError):
        extract_page(BOILERPLATE_PAGE, GAZETTE)
