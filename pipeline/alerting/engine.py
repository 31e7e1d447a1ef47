"""The alerting stage: an article in, alerts out; state passed in and handed back.

    outcome = evaluate_article(rules, article, now, states)   # for every article
    outcome = evaluate_copy(rules, duplicate, now, states)    # for every syndicated copy
    outcome = tick(rules, now, states)                         # from a timer (e.g. every 30 s)
    send outcome.alerts to news.alerts; write outcome.states back (None: delete the key)

``states`` is any read-only mapping of string keys to JSON values (a dict in tests, a Faust
table in the agent); nothing in it is changed here. Keys:

    rule:NAME           RuleState: the rule's delivery state and, for a spike rule, its counts
    story:NAME:STORY    StoryState of one story under one match rule (suppression.py)

Spike rules and rate limits look at every article, so all of them must reach the same
state: the agent runs on one partition (or re-keys news.articles to one key first).
``now`` is the time an article counts at; the agent passes the Kafka record's timestamp,
which a replay repeats, so replayed input gives the same decisions and the same alert ids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from pipeline.alerting import spike, throttle
from pipeline.alerting.match import match_article
from pipeline.alerting.message import Alert, match_alert, spike_alert, story_alert
from pipeline.alerting.rules import AlertRules, MatchRule, Rule
from pipeline.alerting.suppression import decide, decide_copy, expired, story_of
from pipeline.models import Article, Duplicate

RULE_PREFIX, STORY_PREFIX = "rule:", "story:"
# Duplicates that are the same story under another URL (another outlet, usually); exact-url
# and guid duplicates are the same item polled again, not a new source.
COPY_KINDS = frozenset({"content", "near"})


class RuleState(TypedDict):
    throttle: throttle.ThrottleState
    spike: spike.SpikeState | None


@dataclass(frozen=True, slots=True)
class Link:
    """A matching article that joined an earlier alert of its story instead of alerting."""

    rule: str
    story_id: str
    article_id: str
    alert_id: str  # the story's first alert
    latest_alert_id: str  # its latest (re-)alert


@dataclass(frozen=True, slots=True)
class Held:
    """An alert not sent yet: it goes out later in a digest or when quiet hours end."""

    rule: str
    alert_id: str
    reason: throttle.Held


@dataclass(frozen=True, slots=True)
class Outcome:
    alerts: tuple[Alert, ...] = ()  # to send on news.alerts, in this order
    links: tuple[Link, ...] = ()
    held: tuple[Held, ...] = ()
    states: dict[str, Any] = field(default_factory=dict)  # key → new JSON value; None: delete


def rule_key(rule: str) -> str:
    return RULE_PREFIX + rule


def story_key(rule: str, story: str) -> str:
    return f"{STORY_PREFIX}{rule}:{story}"


def _rule_state(value: Any) -> RuleState:
    if value is None:
        return {"throttle": throttle.new_state(), "spike": None}
    state: RuleState = value
    return state


def evaluate_article(
    rules: AlertRules, article: Article, now: datetime, states: Mapping[str, Any]
) -> Outcome:
    changed: dict[str, Any] = {}

    def read(key: str) -> Any:
        return changed[key] if key in changed else states.get(key)

    alerts: list[Alert] = []
    links: list[Link] = []
    held: list[Held] = []
    # 1. Which match queries hold (one automaton pass over the article for every rule).
    matched = set(match_article(rules, article))
    topics = {tag.name.casefold() for tag in article.tags}
    for rule in rules.rules:
        key = rule_key(rule.name)
        if isinstance(rule, MatchRule):
            if rule.name not in matched:
                continue
            # 2. Story suppression: a revision or another copy of a story links to its alert.
            story = story_of(article)
            decision = decide(rule, read(story_key(rule.name, story)), article, now)
            changed[story_key(rule.name, story)] = decision.state
            if decision.escalation is None:
                links.append(Link(rule.name, story, article.id, decision.first_alert, decision.alert_id))
                continue
            ids = decision.state["article_ids"]
            candidate = match_alert(rule, article, story, decision.escalation, ids, now)
        else:
            # 3. Spikes count new articles of the topic; a revision is not a new article.
            if rule.topic.casefold() not in topics or article.revision > 1:
                continue
            state = _rule_state(read(key))
            counted, fire = spike.observe(rule, state["spike"], article.id, now)
            changed[key] = {**state, "spike": counted}
            if fire is None:
                continue
            candidate = spike_alert(rule, fire, now)
        # 4. Delivery policy: first what is due (keeps the order), then the new alert.
        _deliver(rule, candidate, now, read, changed, alerts, held)
    return Outcome(tuple(alerts), tuple(links), tuple(held), changed)


def evaluate_copy(rules: AlertRules, copy: Duplicate, now: datetime, states: Mapping[str, Any]) -> Outcome:
    """A syndicated copy (``news.duplicates``, kind content or near: the same story under
    another URL) never alerts on its own: it links to the alert of the story it copies, and
    its feed counts as one more source, which may escalate the story (a re-alert)."""
    changed: dict[str, Any] = {}

    def read(key: str) -> Any:
        return changed[key] if key in changed else states.get(key)

    alerts: list[Alert] = []
    links: list[Link] = []
    held: list[Held] = []
    if copy.kind not in COPY_KINDS:
        return Outcome()
    story = copy.duplicate_of
    for rule in rules.rules:
        if not isinstance(rule, MatchRule):
            continue
        decision = decide_copy(rule, read(story_key(rule.name, story)), story, copy.feed_id, copy.id, now)
        if decision is None:
            continue
        changed[story_key(rule.name, story)] = decision.state
        if decision.escalation is None:
            links.append(Link(rule.name, story, copy.id, decision.first_alert, decision.alert_id))
            continue
        state = decision.state
        about = (state["title"], state["url"], state["tags"])
        candidate = story_alert(rule, story, decision.escalation, state["article_ids"], about, now)
        _deliver(rule, candidate, now, read, changed, alerts, held)
    return Outcome(tuple(alerts), tuple(links), tuple(held), changed)


def _deliver(
    rule: Rule,
    candidate: Alert,
    now: datetime,
    read: Callable[[str], Any],
    changed: dict[str, Any],
    alerts: list[Alert],
    held: list[Held],
) -> None:
    """The rule's delivery policy: what is due goes first (keeps the order), then the new
    alert, unless quiet hours, the rate limit or a digest hold it."""
    key = rule_key(rule.name)
    state = _rule_state(read(key))
    delivery, due = throttle.release(rule, state["throttle"], now)
    delivery, sent, reason = throttle.admit(rule, delivery, candidate, now)
    changed[key] = {**state, "throttle": delivery}
    alerts += due + sent
    if reason is not None:
        held.append(Held(rule.name, candidate.id, reason))


def tick(rules: AlertRules, now: datetime, states: Mapping[str, Any]) -> Outcome:
    """Time passing without articles: due digests and held alerts go out, spike rules re-arm
    (and start their warm-up), stale stories and the state of removed rules are dropped."""
    changed: dict[str, Any] = {}
    alerts: list[Alert] = []
    by_name: dict[str, Rule] = {rule.name: rule for rule in rules.rules}
    for rule in rules.rules:
        key = rule_key(rule.name)
        old = states.get(key)
        state = _rule_state(old)
        delivery, due = throttle.release(rule, state["throttle"], now)
        watched = state["spike"]
        if not isinstance(rule, MatchRule):
            watched = spike.check(rule, watched, now)
        new: RuleState = {"throttle": delivery, "spike": watched}
        alerts += due
        if new != old:  # unchanged state is not rewritten (each write is a changelog record)
            changed[key] = new
    for key, value in states.items():
        if key.startswith(RULE_PREFIX) and key.removeprefix(RULE_PREFIX) not in by_name:
            changed[key] = None
        elif key.startswith(STORY_PREFIX):
            owner = by_name.get(key.removeprefix(STORY_PREFIX).split(":", 1)[0])
            if not isinstance(owner, MatchRule) or expired(owner, value, now):
                changed[key] = None
    return Outcome(alerts=tuple(alerts), states=changed)
