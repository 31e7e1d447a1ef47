"""The ``news.alerts`` message (DESIGN §2; JSON Schema ``pipeline/schemas/alert.json``).

Alert ids are derived from what the alert *is* — (rule, story, escalation) for a match,
(rule, topic, burst) for a spike, the member ids for a digest — never from a clock or a
counter, so reprocessing the same input after a crash (at-least-once) gives the same id and
downstream consumers and webhook receivers deduplicate by it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.clock import rfc3339
from pipeline.models import Article

if TYPE_CHECKING:
    from pipeline.alerting.rules import MatchRule, Rule, SpikeRule
    from pipeline.alerting.spike import SpikeFire

ALERT_SCHEMA = "newsflow.alert/1"
AlertKind = Literal["match", "spike"]
_DIGEST_TITLES = 3  # member titles quoted in a digest's title line


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class DigestEntry(_Message):
    """One alert listed in a digest message."""

    id: str
    title: str | None
    url: str | None
    fired_at: str
    article_ids: tuple[str, ...]
    story_id: str | None = None
    escalation: int = 0
    count: int | None = None


class Alert(_Message):
    """One message on ``news.alerts``: a fired rule, or a digest of several (``digest``)."""

    schema_: str = Field(ALERT_SCHEMA, alias="schema", pattern="^" + re.escape(ALERT_SCHEMA) + "$")
    id: str = Field(min_length=1)
    rule: str = Field(min_length=1)
    kind: AlertKind
    article_ids: tuple[str, ...]
    tags: tuple[str, ...]
    title: str | None
    url: str | None
    fired_at: str
    window: float | None  # spike: window seconds
    count: int | None  # spike: articles in the window when it fired
    baseline: float | None  # spike: expected count for the window
    # Additions to DESIGN §2 (optional on the wire: consumers ignore what they do not know).
    story_id: str | None = None  # match: the story this alert is about
    channels: tuple[str, ...] = ()  # the rule's notify list
    escalation: int = 0  # 0 first alert of a story, 1.. re-alerts as it gains sources
    digest: bool = False  # one message for several alerts (quiet hours, rate limit, digest)
    alerts: tuple[DigestEntry, ...] = ()  # digest: the alerts it stands for
    omitted: int = 0  # digest: more alerts held than listed (counted, never silently dropped)


def alert_id(*parts: str | int) -> str:
    """32 hex characters from the alert's identity (the parts never contain \\x1f)."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()[:32]


def match_alert(
    rule: MatchRule, article: Article, story: str, escalation: int, article_ids: Sequence[str], now: datetime
) -> Alert:
    tags = [tag.name for tag in article.tags]
    return story_alert(rule, story, escalation, article_ids, (article.title or None, article.url, tags), now)


def story_alert(
    rule: MatchRule,
    story: str,
    escalation: int,
    article_ids: Sequence[str],
    about: tuple[str | None, str | None, Sequence[str]],
    now: datetime,
) -> Alert:
    """A match alert about a story: ``about`` is (title, url, tags) of the article it is about."""
    title, url, tags = about
    return Alert(
        id=alert_id("match", rule.name, story, escalation),
        rule=rule.name,
        kind="match",
        article_ids=tuple(article_ids),
        tags=tuple(tags),
        title=title,
        url=url,
        fired_at=rfc3339(now),
        window=None,
        count=None,
        baseline=None,
        story_id=story,
        channels=rule.notify,
        escalation=escalation,
    )


def spike_alert(rule: SpikeRule, fire: SpikeFire, now: datetime) -> Alert:
    window = _seconds(rule.window)
    return Alert(
        id=alert_id("spike", rule.name, rule.topic, fire.burst),
        rule=rule.name,
        kind="spike",
        article_ids=fire.article_ids,
        tags=(rule.topic,),
        title=f"{rule.topic}: {fire.count} articles in {window} (expected {fire.expected:.1f})",
        url=None,
        fired_at=rfc3339(now),
        window=rule.window,
        count=fire.count,
        baseline=round(fire.expected, 3),
        channels=rule.notify,
    )


def digest_alert(rule: Rule, members: Sequence[Alert], omitted: int, now: datetime) -> Alert:
    """One message standing for ``members`` (and ``omitted`` more that were not kept)."""
    last = members[-1]
    total = len(members) + omitted
    quoted = "; ".join(member.title or member.rule for member in members[:_DIGEST_TITLES])
    more = f"; +{total - _DIGEST_TITLES} more" if total > _DIGEST_TITLES else ""
    return Alert(
        id=alert_id("digest", rule.name, *(member.id for member in members)),
        rule=rule.name,
        kind=last.kind,
        article_ids=tuple(dict.fromkeys(i for member in members for i in member.article_ids)),
        tags=tuple(dict.fromkeys(tag for member in members for tag in member.tags)),
        title=f"{total} alerts ({rule.name}): {quoted}{more}",
        url=None,
        fired_at=rfc3339(now),
        # A spike digest reports its latest burst; a match digest has no window.
        window=last.window,
        count=last.count,
        baseline=last.baseline,
        channels=rule.notify,
        digest=True,
        alerts=tuple(
            DigestEntry(
                id=member.id,
                title=member.title,
                url=member.url,
                fired_at=member.fired_at,
                article_ids=member.article_ids,
                story_id=member.story_id,
                escalation=member.escalation,
                count=member.count,
            )
            for member in members
        ),
        omitted=omitted,
    )


def _seconds(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
