"""XSS corpus: hostile markup in every field a feed controls never survives into what we store.

Each payload goes into title, summary, content, link and author, both directly (a raw
article as the poller would publish it) and through a real RSS document and the feed parser.
The checks read the stored HTML with an HTML parser, so an attribute hidden by odd quoting or
entity-encoding is found as a browser would find it.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
from selectolax.lexbor import LexborHTMLParser

from pipeline.cleaning import clean_article
from pipeline.models import CleanArticle, RawArticle
from pipeline.poller.parser import parse_feed

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script/xss src=//evil.example/x.js></script>",
    '<<script>alert("x");//<</script>',
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)">',
    "<IMG SRC=javascript:alert('XSS')>",
    "<img src=JaVaScRiPt:alert(1)>",
    '<img src="jav&#x09;ascript:alert(1)">',
    '<img src="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">',
    "<img src=`javascript:alert(1)`>",
    '<img """><script>alert("x")</script>">',
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href='javascript:alert(1)'><text>x</text></a></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<object data=javascript:alert(1)></object>",
    "<embed src=data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JAVASCRIPT:alert(1)">click</a>',
    '<a href=" javascript:alert(1)">leading space</a>',
    '<a href="java\tscript:alert(1)">tab</a>',
    '<a href="&#0000106&#0000097vascript:alert(1)">entities</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    '<a href="data:text/html,<script>alert(1)</script>">data</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">b64</a>',
    '<a href="http://ok.example/" onclick="alert(1)">handler</a>',
    '<a href="http://ok.example/" onmouseover=alert(1)>bare handler</a>',
    "<div style=\"background:url('javascript:alert(1)')\">style</div>",
    '<div style="width: expression(alert(1))">expression</div>',
    "<style>@import 'javascript:alert(1)';</style>",
    "<link rel=stylesheet href=javascript:alert(1)>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<base href=javascript:alert(1)//>",
    '<form action="javascript:alert(1)"><input type=submit></form>',
    '<button formaction="javascript:alert(1)">x</button>',
    "<input onfocus=alert(1) autofocus>",
    "<details open ontoggle=alert(1)>",
    '<video><source onerror="alert(1)"></video>',
    "<video poster=javascript:alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<table background=javascript:alert(1)><tr><td>x</td></tr></table>",
    '<img srcset="javascript:alert(1) 1x">',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<!--<img src=x onerror=alert(1)>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<p>Normal text<img src="https://ok.example/a.png" onload="alert(1)"></p>',
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "<xss onafterscriptexecute=alert(1)><script>1</script>",
    '<a href="https://ok.example/" style="position:fixed;top:0">overlay</a>',
    "<template><script>alert(1)</script></template>",
]

URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "xlink:href", "poster", "background", "srcset",
    "data", "cite", "longdesc", "lowsrc", "dynsrc", "manifest", "codebase", "ping",
}  # fmt: skip
SAFE_SCHEMES = {"http", "https", "mailto", ""}
FIELDS = ["title", "summary", "content", "link", "author"]


def raw_with(field: str, payload: str) -> RawArticle:
    values = {
        "title": "A headline",
        "summary": "<p>A summary of the story.</p>",
        "content": "<p>The story itself, with enough words to be an article.</p>",
        "link": "https://news.example/story",
        "authors": ("Jane Doe",),
    }
    if field == "author":
        values["authors"] = (payload,)
    elif field == "link":
        values["link"] = payload
    else:
        values[field] = f"{values[field]}{payload}" if field != "title" else f"Headline {payload}"
    return RawArticle(
        article_key="https://news.example/story",
        feed_id="xss",
        fetched_at="2026-11-21T12:00:00.000Z",
        **values,
    )


def unsafe_in_html(markup: str) -> list[str]:
    """Every problem a browser could execute in ``markup``."""
    problems = []
    if re.search(r"<\s*script", markup, re.IGNORECASE):
        problems.append("<script")
    tree = LexborHTMLParser(markup)
    for node in tree.root.traverse() if tree.root is not None else ():
        if node.tag in {"script", "iframe", "object", "embed", "style", "link", "meta", "base", "form"}:
            problems.append(f"<{node.tag}> element")
        for name, value in (node.attributes or {}).items():
            if name.lower().startswith("on"):
                problems.append(f"handler {name}")
            if name.lower() == "style":
                problems.append("style attribute")
            if name.lower() in URL_ATTRIBUTES and value is not None and _scheme(value) not in SAFE_SCHEMES:
                problems.append(f"{name}={value[:40]!r}")
    return problems


def _scheme(url: str) -> str:
    cleaned = re.sub(r"[\x00-\x20]", "", html.unescape(url))
    return urlsplit(cleaned).scheme.lower() if ":" in cleaned.split("/")[0] else ""


def assert_safe(article: CleanArticle) -> None:
    assert unsafe_in_html(article.content_html) == []
    for text in (article.title, *article.authors, article.source or ""):
        assert not re.search(r"<[A-Za-z/!?]", text), f"markup in a text field: {text!r}"
    for url in (article.url, article.canonical_url):
        assert url is None or urlsplit(url).scheme in {"http", "https"}


def test_the_corpus_is_big_enough() -> None:
    assert len(PAYLOADS) >= 50


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("payload", PAYLOADS, ids=[f"p{i:02d}" for i in range(len(PAYLOADS))])
def test_payload_in_raw_article(field: str, payload: str) -> None:
    assert_safe(clean_article(raw_with(field, payload)))


def rss_with(payload: str) -> bytes:
    escaped = html.escape(payload)
    item = f"""<item>
      <title>Headline {escaped}</title>
      <link>https://news.example/story?{escaped}</link>
      <guid>story-1</guid>
      <author>jane@news.example ({escaped})</author>
      <description><![CDATA[<p>Summary</p>{payload.replace("]]>", "")}]]></description>
      <content:encoded>{escaped}&lt;p&gt;Body text of the story.&lt;/p&gt;</content:encoded>
    </item>"""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>XSS test</title><link>https://news.example/</link>{item}</channel></rss>"
    ).encode()


@pytest.mark.parametrize("payload", PAYLOADS, ids=[f"p{i:02d}" for i in range(len(PAYLOADS))])
def test_payload_through_the_feed_parser(payload: str) -> None:
    parsed = parse_feed(
        rss_with(payload),
        {},
        url="https://news.example/rss",
        feed_id="xss",
        fetched_at="2026-11-21T12:00:00.000Z",
    )
    assert parsed.entries, "the feed must still yield its entry"
    for entry in parsed.entries:
        assert_safe(clean_article(entry))


def test_the_checker_finds_what_it_looks_for() -> None:
    """The checks above are only worth something if they fail on unsafe HTML."""
    assert unsafe_in_html('<a href="javascript:alert(1)">x</a>')
    assert unsafe_in_html('<a href=" jav&#x09;ascript:alert(1)">x</a>')
    assert unsafe_in_html('<img src="data:image/svg+xml,<svg onload=alert(1)>">')
    assert unsafe_in_html("<p onclick=alert(1)>x</p>")
    assert unsafe_in_html("<script>alert(1)</script>")
    assert unsafe_in_html('<p style="x">y</p>')
    assert unsafe_in_html('<a href="https://ok.example/" rel="noopener">x</a>') == []
