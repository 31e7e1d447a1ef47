"""Story-level suppression: one alert per (rule, story), re-alerts only as a story escalates.

A story is ``article.story_id`` when clustering set one, else the article id (which a
revision keeps). The first matching article of a story alerts (escalation 0). Later ones —
a revision, a syndicated copy, a follow-up — are *linked* to that first alert instead,
until the story has been reported by ``escalate_sources`` more distinct sources (source
name, or feed id when the feed names none) than at its last alert: then it alerts again
(escalation 1, 2, …). A story unseen for ``story_ttl`` is forgotten; if it returns, it gets
the id of its first alert again, which consumers have already deduplicated.

The state of one (rule, story) is a small JSON-serialisable dict (:class:`StoryState`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from pipeline.alerting.match import normalised
from pipeline.alerting.message import alert_id
from pipeline.alerting.rules import MatchRule
from pipeline.models import Article

MAX_ARTICLES = 50  # article ids a story keeps to list in its alerts
MAX_SOURCES = 1000  # distinct sources counted per story


class StoryState(TypedDict):
    first_alert: str
    last_alert: str
    escalation: int
    sources: list[str]  # distinct, normalised, in the order first seen
    sources_at_alert: int  # len(sources) when it last alerted
    article_ids: list[str]  # the first MAX_ARTICLES distinct ids
    last_seen: float  # epoch seconds
    # What a re-alert needs when a copy (which carries no article) escalates the story:
    feeds: list[str]  # feed ids the story came from (copies are known by their feed only)
    title: str | None
    url: str | None
    tags: list[str]


@dataclass(frozen=True, slots=True)
class StoryDecision:
    state: StoryState
    escalation: int | None  # None: no alert, the article is linked to ``first_alert``
    alert_id: str  # the new alert, or the latest alert of the story when linked
    first_alert: str


def story_of(article: Article) -> str:
    return article.story_id or article.id


def source_of(article: Article) -> str:
    return normalised(article.source or "") or normalised(article.feed_id) or article.feed_id


def expired(rule: MatchRule, state: StoryState, now: datetime) -> bool:
    return now.timestamp() - state["last_seen"] > rule.options.story_ttl


def decide(rule: MatchRule, state: StoryState | None, article: Article, now: datetime) -> StoryDecision:
    """Alert, re-alert or link one matching article of a story; the caller's state is kept."""
    story, source = story_of(article), source_of(article)
    if state is None or expired(rule, state, now):
        first = alert_id("match", rule.name, story, 0)
        fresh: StoryState = {
            "first_alert": first,
            "last_alert": first,
            "escalation": 0,
            "sources": [source],
            "sources_at_alert": 1,
            "article_ids": [article.id],
            "last_seen": now.timestamp(),
            "feeds": [article.feed_id],
            "title": article.title or None,
            "url": article.url,
            "tags": [tag.name for tag in article.tags],
        }
        return StoryDecision(fresh, 0, first, first)
    feeds = state["feeds"] if article.feed_id in state["feeds"] else [*state["feeds"], article.feed_id]
    return _follow(rule, {**state, "feeds": feeds[:MAX_SOURCES]}, story, source, article.id, now)


def decide_copy(
    rule: MatchRule, state: StoryState | None, story: str, feed_id: str, copy_id: str, now: datetime
) -> StoryDecision | None:
    """A syndicated copy of a story (``news.duplicates``: the same story under another URL)
    links to the story's alert, and its feed is one more source when the story has not come
    from that feed yet. None: the story never alerted for this rule (or was forgotten)."""
    if state is None or expired(rule, state, now):
        return None
    if feed_id in state["feeds"]:
        source = state["sources"][0]  # the same feed again: not a new source
        feeds = state["feeds"]
    else:
        source = "feed " + (normalised(feed_id) or feed_id)
        feeds = [*state["feeds"], feed_id][:MAX_SOURCES]
    return _follow(rule, {**state, "feeds": feeds}, story, source, copy_id, now)


def _follow(
    rule: MatchRule, state: StoryState, story: str, source: str, article_id: str, now: datetime
) -> StoryDecision:
    """A later article of a known story: linked to its alert, or a re-alert if it escalated."""
    sources = list(state["sources"])
    if source not in sources and len(sources) < MAX_SOURCES:
        sources.append(source)
    ids = list(state["article_ids"])
    if article_id not in ids and len(ids) < MAX_ARTICLES:
        ids.append(article_id)
    updated: StoryState = {**state, "sources": sources, "article_ids": ids, "last_seen": now.timestamp()}
    step = rule.options.escalate_sources
    if step is None or len(sources) - state["sources_at_alert"] < step:
        return StoryDecision(updated, None, state["last_alert"], state["first_alert"])
    escalation = state["escalation"] + 1
    new_id = alert_id("match", rule.name, story, escalation)
    updated["last_alert"], updated["escalation"], updated["sources_at_alert"] = (
        new_id,
        escalation,
        len(sources),
    )
    return StoryDecision(updated, escalation, new_id, state["first_alert"])
