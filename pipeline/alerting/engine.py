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

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from pipeline.alerting import spike, throttle
from pipeline.alerting.match import match_article
from pipeline.alerting.message import Alert, match_alert, spike_alert, story_alert
from pipeline.alerting.rules import AlertRules, MatchRule, Rule
from pipeline.alerting.suppression import StoryDecision, decide, decide_copy, expired, story_of
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


@dataclass
class _Pass:
    """One evaluation's view of the state (its reads see its own writes) and what it found."""

    states: Mapping[str, Any]
    changed: dict[str, Any] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)

    def read(self, key: str) -> Any:
        return self.changed[key] if key in self.changed else self.states.get(key)

    def story(self, rule: MatchRule, story: str, decision: StoryDecision, article_id: str) -> int | None:
        """Record a story decision: the escalation to alert at, or None (the article is linked)."""
        self.changed[story_key(rule.name, story)] = decision.state
        if decision.escalation is None:
            self.links.append(Link(rule.name, story, article_id, decision.first_alert, decision.alert_id))
        return decision.escalation

    def deliver(self, rule: Rule, candidate: Alert, now: datetime) -> None:
        """The rule's delivery policy: what is due goes first (keeps the order), then the new
        alert, unless quiet hours, the rate limit or a digest hold it."""
        key = rule_key(rule.name)
        state = _rule_state(self.read(key))
        delivery, due = throttle.release(rule, state["throttle"], now)
        delivery, sent, reason = throttle.admit(rule, delivery, candidate, now)
        self.changed[key] = {**state, "throttle": delivery}
        self.alerts += due + sent
        if reason is not None:
            self.held.append(Held(rule.name, candidate.id, reason))

    def outcome(self) -> Outcome:
        return Outcome(tuple(self.alerts), tuple(self.links), tuple(self.held), self.changed)


def evaluate_article(
    rules: AlertRules, article: Article, now: datetime, states: Mapping[str, Any]
) -> Outcome:
    run = _Pass(states)
    # 1. Which match queries hold (one automaton pass over the article for every rule).
    matched = set(match_article(rules, article))
    topics = {tag.name.casefold() for tag in article.tags}
    for rule in rules.rules:
        if isinstance(rule, MatchRule):
            if rule.name not in matched:
                continue
            # 2. Story suppression: a revision or another copy of a story links to its alert.
            story = story_of(article)
            decision = decide(rule, run.read(story_key(rule.name, story)), article, now)
            escalation = run.story(rule, story, decision, article.id)
            if escalation is None:
                continue
            candidate = match_alert(rule, article, story, escalation, decision.state["article_ids"], now)
        else:
            # 3. Spikes count new articles of the topic; a revision is not a new article.
            if rule.topic.casefold() not in topics or article.revision > 1:
                continue
            key = rule_key(rule.name)
            state = _rule_state(run.read(key))
            counted, fire = spike.observe(rule, state["spike"], article.id, now)
            run.changed[key] = {**state, "spike": counted}
            if fire is None:
                continue
            candidate = spike_alert(rule, fire, now)
        # 4. Delivery policy: first what is due (keeps the order), then the new alert.
        run.deliver(rule, candidate, now)
    return run.outcome()


def evaluate_copy(rules: AlertRules, copy: Duplicate, now: datetime, states: Mapping[str, Any]) -> Outcome:
    """A syndicated copy (``news.duplicates``, kind content or near: the same story under
    another URL) never alerts on its own: it links to the alert of the story it copies, and
    its feed counts as one more source, which may escalate the story (a re-alert)."""
    run = _Pass(states)
    if copy.kind not in COPY_KINDS:
        return run.outcome()
    story = copy.duplicate_of
    for rule in rules.rules:
        if not isinstance(rule, MatchRule):
            continue
        decision = decide_copy(rule, run.read(story_key(rule.name, story)), story, copy.feed_id, copy.id, now)
        if decision is None or not run.story(rule, story, decision, copy.id):
            continue
        assert decision.escalation is not None
        state = decision.state
        about = (state["title"], state["url"], state["tags"])
        run.deliver(
            rule, story_alert(rule, story, decision.escalation, state["article_ids"], about, now), now
        )
    return run.outcome()


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
