"""Titles: one line of text, without the site name some feeds append (" - BBC News").

Titles (and names) are always text: a feed that double-escapes markup into a title
(``&lt;b&gt;Breaking&lt;/b&gt;``) gets its tags removed, scripts and all, not shown.

A trailing segment is only removed when it names the site: it matches the feed's own title
(``BBC News`` in a feed called ``BBC News - World``) or the article's host
(``Reuters`` on ``www.reuters.com``). Anything else after a dash is part of the headline
("Ceasefire holds - for now") and stays.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

from pipeline.cleaning.text import matching_form, single_line

# " - ", " | ", " – ", " — ", " :: ", " · ", " » " between the headline and the site name.
_SEPARATOR = re.compile(r"\s+(?:[-|–—·»]|::)\s+")
_MAX_SUFFIX_WORDS = 6
# Host labels that say nothing about the site.
_TAG = re.compile(r"<[A-Za-z/!?]")  # what a browser would read as the start of markup
_INVISIBLE_ELEMENTS = "script, style, noscript, template, iframe, object, embed, svg, head"
_SECTION_WORDS = {
    "",
    "news",
    "online",
    "world",
    "politics",
    "business",
    "sport",
    "sports",
    "tech",
    "uk",
    "us",
}
_GENERIC_LABELS = {"www", "m", "mobile", "amp", "news", "feeds", "rss", "com", "org", "net", "co", "uk"}


def plain_line(value: str) -> str:
    """One line of text; anything that reads as markup is reduced to its visible text."""
    if _TAG.search(value):
        tree = LexborHTMLParser(f"<body>{value}</body>")
        for node in tree.css(_INVISIBLE_ELEMENTS):
            node.decompose()
        value = tree.body.text(separator=" ") if tree.body is not None else ""
    return single_line(value)


def clean_title(title: str, source: str | None = None, url: str | None = None) -> str:
    """The headline as readers should see it."""
    text = plain_line(title)
    parts = _SEPARATOR.split(text)
    if len(parts) < 2:
        return text
    suffix = parts[-1]
    headline = _strip_trailing_separator(text, suffix)
    if headline and _names_the_site(suffix, source, url):
        return headline
    return text


def _strip_trailing_separator(text: str, suffix: str) -> str:
    head = text[: len(text) - len(suffix)]
    match = list(_SEPARATOR.finditer(head))
    if not match or match[-1].end() != len(head):
        return ""
    return head[: match[-1].start()].strip()


def _squash(text: str) -> str:
    return "".join(ch for ch in matching_form(text) if ch.isalnum())


def _names_the_site(suffix: str, source: str | None, url: str | None) -> bool:
    if len(suffix.split()) > _MAX_SUFFIX_WORDS:
        return False
    squashed = _squash(suffix)
    if len(squashed) < 2:
        return False
    if source and _source_names(squashed, source):
        return True
    return bool(url) and _host_names(squashed, url or "")


def _source_names(squashed_suffix: str, source: str) -> bool:
    """The suffix is the feed title, or the feed title's leading segment ("BBC News")."""
    segments = [_squash(part) for part in _SEPARATOR.split(single_line(source))]
    whole = _squash(source)
    return squashed_suffix in (whole, *segments) or (
        len(squashed_suffix) >= 4 and whole.startswith(squashed_suffix)
    )


def _host_names(squashed_suffix: str, url: str) -> bool:
    """The suffix spells a distinctive label of the host ("The Guardian" ↔ theguardian.com),
    maybe with a section word ("BBC News" ↔ bbc.co.uk); "Times change" on time.com is not."""
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    labels = [label for label in host.split(".") if label and label not in _GENERIC_LABELS]
    return any(
        len(label) >= 3
        and squashed_suffix.startswith(label)
        and squashed_suffix[len(label) :] in _SECTION_WORDS
        for label in labels
    )
