"""Article page → main text and page facts (title, canonical URL, AMP, language).

The main text is what two extractors agree on: trafilatura's paragraphs (the more precise of
the two; comments excluded), keeping those whose words are ≥ 80% in resiliparse's main-content
extract (where trafilatura lets a comment thread, a share bar or a paywall notice through,
resiliparse usually does not). On the 49 real pages of ``article-html`` the mean token F1 is
0.960, against 0.948 for trafilatura and 0.921 for resiliparse alone; thresholds 0.7–1.0 all
give 0.959–0.961 (``python -m benchmarks.bench_extract``). When one library fails or finds
nothing, the other's text is used; when both fail, "".

Pages are hostile input. Before any parser sees a page, one linear scan measures it: a page
nested deeper than ``MAX_DEPTH`` has its container tags dropped (the HTML parsers slow down
quadratically with depth: 100,000 levels took resiliparse 290 s), and a page with more than
``MAX_TAGS`` tags skips trafilatura (≈ 35 µs a tag). Measured worst cases (5 MB pages, a
million levels, NULs, tag soup) take ≤ 1.5 s; the sandbox's deadline (poller/sandbox.py) stays
the last line of defence.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import trafilatura
from resiliparse.extract.html2text import extract_plain_text
from selectolax.lexbor import LexborHTMLParser

from pipeline.cleaning.text import matching_form, normalize_text, single_line
from pipeline.cleaning.urls import canonical_url, safe_http_url

log = logging.getLogger("newsflow.fulltext.extract")

MAX_DEPTH = 1_000  # real pages in the corpus: ≤ 300 by this estimate (most ≤ 30)
MAX_TAGS = 50_000  # real pages: ≤ 6,000; trafilatura needs ≈ 2 s for 50,000
AGREEMENT = 0.8  # share of a trafilatura line's words resiliparse must also have
_HEAD_CHARS = 262_144  # where to look for <head> facts when there is no </head>

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# Labels browsers read as a superset (WHATWG Encoding Standard); others go to Python's codecs.
# fmt: off
_SUPERSETS = {"iso-8859-1": "cp1252", "latin1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252",
              "gb2312": "gb18030", "gbk": "gb18030", "shift_jis": "cp932", "sjis": "cp932",
              "x-sjis": "cp932", "euc-kr": "cp949", "big5": "big5hkscs", "iso-8859-9": "cp1254"}
# fmt: on
# Start and end tags of elements that can nest: not void ones, not those closed by a sibling;
# group 2 is the "/" of a self-closing tag.
_NESTING_TAG = re.compile(
    r"<(/?)(?!(?:area|base|br|col|embed|hr|img|input|link|meta|source|track|wbr|param|p|li|dt|dd"
    r"|option|optgroup|tr|td|th|tbody|thead|tfoot|colgroup|caption|rp|rt)[\s/>])[A-Za-z][^<>]*?(/?)>",
    re.I,
)
# Tags dropped from a page nested too deep: all but those that never nest and the <head>'s.
_CONTAINER_TAG = re.compile(
    r"</?(?!(?:p|h[1-6]|li|br|title|meta|link|html|head|body|script|style)\b)[A-Za-z][^<>]*>", re.I
)
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_WORD = re.compile(f"[{_CJK}]|[^\\W{_CJK}]+")  # CJK characters are words of their own
# resiliparse's main-content extract as plain paragraphs: no bullets, alt texts or comments.
_RESILIPARSE: dict[str, Any] = {"preserve_formatting": True, "main_content": True, "list_bullets": False}
_RESILIPARSE |= {"alt_texts": False, "comments": False}
_TRAFILATURA: dict[str, Any] = {"include_comments": False}  # its defaults otherwise
_HEAD_END = re.compile(r"</head\s*>|<body[\s>]", re.I)


@dataclass(frozen=True)
class ExtractedPage:
    text: str  # main text, paragraphs separated by a blank line ("" if none found)
    title: str | None
    canonical_url: str | None  # absolute http(s), from <link rel=canonical> or og:url
    is_amp: bool
    amp_url: str | None  # a page's <link rel=amphtml>: its AMP copy
    lang: str | None  # <html lang>, as written
    published: str | None  # <meta property=article:published_time>, as written


def decode_html(body: bytes, content_type: str | None) -> str:
    """UTF-8 if the bytes are valid UTF-8 (pages often declare a charset they do not use),
    else the charset of the header or a <meta> tag, else cp1252 with replacement characters."""
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", errors="replace")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    labels = []
    if header := _HEADER_CHARSET.search(content_type or ""):
        labels.append(header.group(1).lower())
    if meta := _META_CHARSET.search(body[:8192]):
        labels.append(meta.group(1).decode("ascii").lower())
    for label in labels:
        if label.startswith(("utf-8", "utf8", "utf-16", "utf-7")):  # not UTF-8 after all; UTF-7: never
            continue
        try:
            return body.decode(_SUPERSETS.get(label, label))
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return body.decode("cp1252", errors="replace")


def extract_page(html: str, url: str | None, *, agreement: float = AGREEMENT) -> ExtractedPage:
    """The page's main text and facts; never raises on bad HTML (a failed library is logged).
    ``agreement`` is there for the benchmark's sensitivity sweep."""
    html = html.replace("\x00", "")
    depth, tags = _shape(html)
    if depth > MAX_DEPTH:
        html = _CONTAINER_TAG.sub(" ", html)  # the text stays, the nesting goes
        if _shape(html)[0] > MAX_DEPTH:  # nesting that pattern cannot see: not an article page
            return ExtractedPage("", None, None, is_amp=False, amp_url=None, lang=None, published=None)
    facts = _head_facts(html, url)
    rough = _guarded("resiliparse", url, lambda: extract_plain_text(html, **_RESILIPARSE))
    precise = ""
    if tags <= MAX_TAGS:  # beyond, trafilatura is too slow (≈ 35 µs a tag): resiliparse alone
        precise = _guarded("trafilatura", url, lambda: trafilatura.extract(html, url=url, **_TRAFILATURA))
    text = _agreed(precise, rough, agreement) if precise and rough else precise or rough
    return replace(facts, text=normalize_text("\n\n".join(text.splitlines())))


def amp_canonical(page_url: str, page: ExtractedPage) -> str | None:
    """The canonical page an AMP variant names, to key the article by; None if the page is not
    AMP, names no canonical page, names itself, or names another site's page."""
    amp = page.is_amp or (_amp_shaped(page_url) and page.amp_url is None)
    target = page.canonical_url
    if not amp or target is None or canonical_url(target) == canonical_url(page_url):
        return None
    return target if _site(target) == _site(page_url) else None


# ---- the two extractors and their agreement ---------------------------------------------------------


def _guarded(library: str, url: str | None, call: Callable[[], str | None]) -> str:
    """``call``'s text, or "" if the library fails: a library bug on hostile input must not lose
    the page (the other library's text is used). Memory running out is the sandbox's limit."""
    try:
        return call() or ""
    except MemoryError:
        raise
    except Exception as exc:
        log.warning("%s failed on %s: %r", library, url, exc)
        return ""


def _words(text: str) -> list[str]:
    return _WORD.findall(matching_form(text))


def _agreed(precise: str, rough: str, agreement: float) -> str:
    """The lines of ``precise`` whose words ``rough`` mostly has too; ``precise`` whole when the
    two extractors chose different parts of the page (then agreement says nothing)."""
    seen = set(_words(rough))
    words = _words(precise)
    if sum(word in seen for word in words) < 0.5 * len(words):
        return precise
    kept = []
    for line in precise.splitlines():
        line_words = _words(line)
        if line_words and sum(word in seen for word in line_words) >= agreement * len(line_words):
            kept.append(line)
    return "\n".join(kept)


# ---- page shape and <head> facts ----------------------------------------------------------------------


def _shape(html: str) -> tuple[int, int]:
    """(an upper estimate of the nesting depth, of the number of tags), in one linear scan."""
    depth = deepest = 0
    for match in _NESTING_TAG.finditer(html):
        if match.group(2):
            continue
        if match.group(1):
            depth = max(depth - 1, 0)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest, html.count("<")


def _head_facts(html: str, url: str | None) -> ExtractedPage:
    """Everything but the text, from the <html> tag and the <head>."""
    end = _HEAD_END.search(html, 0, _HEAD_CHARS)
    tree = LexborHTMLParser(html[: end.end() if end else _HEAD_CHARS])
    root = tree.css_first("html")
    attributes = root.attributes if root is not None else {}
    links: dict[str, str] = {}
    for link in tree.css("link[rel][href]"):
        for rel in (link.attributes.get("rel") or "").lower().split():
            links.setdefault(rel, link.attributes.get("href") or "")
    meta: dict[str, str | None] = {}
    for node in tree.css("meta[content]"):
        name = node.attributes.get("property") or node.attributes.get("name") or ""
        meta.setdefault(name.lower(), node.attributes.get("content"))
    title_node = tree.css_first("title")
    title = single_line(meta.get("og:title") or (title_node.text() if title_node else "") or "")
    lang = (attributes.get("lang") or attributes.get("xml:lang") or "").strip()
    return ExtractedPage(
        text="",
        title=title or None,
        canonical_url=_absolute(links.get("canonical") or meta.get("og:url"), url),
        is_amp="amp" in attributes or "⚡" in attributes or (_amp_shaped(url) and "amphtml" not in links),
        amp_url=_absolute(links.get("amphtml"), url),
        lang=lang[:35] or None,
        published=(meta.get("article:published_time") or "").strip()[:64] or None,
    )


def _absolute(href: str | None, base: str | None) -> str | None:
    if not href or not href.strip():
        return None
    try:
        return safe_http_url(urljoin(base or "", href.strip()))
    except ValueError:
        return None


def _amp_shaped(url: str | None) -> bool:
    """/amp/ in the path, an ``amp`` query parameter, a path ending .amp(.html), an amp. host."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    path = parts.path.lower()
    return (
        "amp" in path.split("/")
        or path.endswith((".amp", ".amp.html"))
        or any(name.lower() == "amp" for name, _ in parse_qsl(parts.query, keep_blank_values=True))
        or (parts.hostname or "").startswith("amp.")
    )


def _site(url: str) -> str:
    """The registrable domain, roughly: the last two host labels, three under co.uk-like suffixes."""
    try:
        labels = (urlsplit(url).hostname or "").split(".")
    except ValueError:
        return ""
    second_level = (
        len(labels) > 2 and len(labels[-1]) == 2 and labels[-2] in ("co", "com", "org", "net", "ac")
    )
    return ".".join(labels[-3:] if second_level else labels[-2:])
