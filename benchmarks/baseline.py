"""The naive stack newsflow is compared with: what the chain would look like written the
obvious way. Same input bytes, same kinds of work, none of newsflow's choices:

- parse: ``feedparser.parse(bytes)`` with its defaults (its own HTML sanitiser on);
- clean: a regex that deletes anything between ``<`` and ``>``;
- dedup: a dict from link (or GUID, or title) to a hash of the text;
- tag: for each topic, for each term, ``re.search(r"\\b" + re.escape(term) + r"\\b", text, re.I)``
  (relying on ``re``'s internal pattern cache, as such code does).

It does less than newsflow (no URL canonicalisation, no text normalisation, no inflections,
no query topics, no validated models), so the ratios are, if anything, in the baseline's favour.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import feedparser

TermLists = Sequence[tuple[str, Sequence[str]]]
_TAG = re.compile("<[^>]+>")


def parse(body: bytes) -> list[Mapping[str, Any]]:
    return list(feedparser.parse(body).entries)


def entry_html(entry: Mapping[str, Any]) -> str:
    contents = entry.get("content") or []
    if contents and contents[0].get("value"):
        return str(contents[0]["value"])
    return str(entry.get("summary") or "")


def strip_html(html: str) -> str:
    return re.sub(_TAG, "", html)


def clean(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "key": entry.get("link") or entry.get("id") or entry.get("title") or "",
        "url": entry.get("link"),
        "title": strip_html(str(entry.get("title") or "")),
        "text": strip_html(entry_html(entry)),
        "published": entry.get("published"),
    }


def is_duplicate(article: Mapping[str, Any], seen: dict[str, int]) -> bool:
    digest = hash((article["title"], article["text"]))
    if seen.get(article["key"]) == digest:
        return True
    seen[article["key"]] = digest
    return False


def tag(text: str, term_lists: TermLists) -> list[tuple[str, str]]:
    """Every (topic, term) found in ``text``; one regex search per term, per article."""
    found = []
    for topic, terms in term_lists:
        for term in terms:
            if re.search(r"\b" + re.escape(term) + r"\b", text, re.I):
                found.append((topic, term))
    return found


def tag_article(article: dict[str, Any], term_lists: TermLists) -> dict[str, Any]:
    return {**article, "tags": tag(f"{article['title']}\n{article['text']}", term_lists)}


def chain(bodies: Iterable[bytes], term_lists: TermLists) -> int:
    """The whole naive chain over feed bodies; returns how many entries it handled."""
    seen: dict[str, int] = {}
    handled = 0
    for body in bodies:
        for entry in parse(body):
            handled += 1
            article = clean(entry)
            if not is_duplicate(article, seen):
                tag_article(article, term_lists)
    return handled
