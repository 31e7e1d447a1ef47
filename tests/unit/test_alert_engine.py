"""The alerting engine (pipeline/alerting): match semantics, spikes with an injected clock,
story suppression, quiet hours, rate limit, digests, deterministic ids, JSON state, and real
engine output validated against the published schema (pipeline/schemas/alert.json)."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker
from pydantic import BaseModel

from pipeline.alerting import spike
from pipeline.alerting.engine import Held, Outcome, evaluate_article, evaluate_copy, rule_key, story_key, tick
from pipeline.alerting.match import match_article
from pipeline.alerting.message import Alert, DigestEntry, alert_id
from pipeline.alerting.rules import AlertRules, SpikeRule, alert_rules_from_data
from pipeline.clock import FakeClock, rfc3339
from pipeline.matching import FieldName
from pipeline.models import Article, Duplicate, Tag, TagMatch
from pipeline.schemas import load_schema

T0 = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)  # a midnight, UTC
CHANNELS = {"ops": {"type": "webhook", "url": "https://hooks.example.org/x"}}
EXAMPLE_SPIKE = {"topic": "aleppo", "window": "10m", "baseline": "6h", "factor": 3, "min_count": 5}


def hex_id(seed: str) -> str:
    return hashlib.md5(seed.encode()).hexdigest()


def tag(name: str, field: FieldName = "title") -> Tag:
    return Tag(name=name, score=3.0, kind="topic", matches=(TagMatch(term=name, field=field, count=1),))


def article(
    seed: str = "a",
    *,
    title: str = "",
    summary: str = "",
    text: str = "",
    tags: Iterable[Tag] = (),
    source: str | None = "Example News",
    feed_id: str = "example-world",
    lang: str | None = "en",
    story_id: str | None = None,
    revision: int = 1,
) -> Article:
    return Article(
        id=hex_id(seed),
        article_key=f"https://example.org/{seed}",
        revision=revision,
        update_of=hex_id(seed) if revision > 1 else None,
        url=f"https://example.org/{seed}",
        canonical_url=f"https://example.org/{seed}",
        feed_id=feed_id,
        source=source,
        title=title or f"Story {seed}",
        summary=summary,
        text=text,
        content_html="",
        lang=lang,
        authors=(),
        published_at=rfc3339(T0),
        published_raw=None,
        fetched_at=rfc3339(T0),
        content_hash="h",
        processed_at=rfc3339(T0),
        tags=tuple(tags),
        story_id=story_id,
    )


def config(*rules: dict[str, Any]) -> AlertRules:
    return alert_rules_from_data({"channels": CHANNELS, "rules": list(rules)}, "alerts.yaml")


class Runner:
    """Drives the engine like the agent does: state read from a table, written back as JSON."""

    def __init__(self, rules: AlertRules, start: datetime = T0, roundtrip: bool = True) -> None:
        self.rules, self.clock, self.roundtrip = rules, FakeClock(start), roundtrip
        self.states: dict[str, Any] = {}
        self.sent: list[Alert] = []
        self.outcomes: list[Outcome] = []

    def at(self, moment: datetime) -> Runner:
        self.clock.advance((moment - self.clock.now()).total_seconds())
        return self

    def _apply(self, outcome: Outcome, before: dict[str, Any]) -> Outcome:
        assert self.states == before, "the engine changed its input state"
        for key, value in outcome.states.items():
            if value is None:
                self.states.pop(key, None)
            else:  # what a Faust table with a JSON serializer hands back next time
                self.states[key] = orjson.loads(orjson.dumps(value)) if self.roundtrip else value
        self.sent += outcome.alerts
        self.outcomes.append(outcome)
        return outcome

    def article(self, item: Article) -> Outcome:
        before = copy.deepcopy(self.states)
        return self._apply(evaluate_article(self.rules, item, self.clock.now(), self.states), before)

    def tick(self) -> Outcome:
        before = copy.deepcopy(self.states)
        return self._apply(tick(self.rules, self.clock.now(), self.states), before)


# --- match semantics ----------------------------------------------------------------------

MATCHES = [
    # (case, query, article, matches?)
    ("tag", "aleppo", article(tags=[tag("aleppo")]), True),
    ("tag name case-insensitive", "Aleppo", article(tags=[tag("aleppo")]), True),
    ("raw term in text", "aleppo", article(text="Shelling in Aleppo's old city"), True),
    ("hyphen-insensitive term", "ceasefire", article(title="A cease-fire holds"), True),
    ("spaced term", "ceasefire", article(summary="the cease fire"), True),
    ("whole words only", "truce", article(text="intrucers were seen"), False),
    ("plural", "convoy", article(text="aid convoys arrive"), True),
    ("non-Latin script", "حلب", article(text="قصف في حلب اليوم"), True),
    (
        "AND of tag and term",
        "aleppo AND ceasefire",
        article(tags=[tag("aleppo")], text="truce and ceasefire"),
        True,
    ),
    ("AND missing one side", "aleppo AND ceasefire", article(tags=[tag("aleppo")]), False),
    ("NOT excludes", "aleppo AND NOT sport", article(tags=[tag("aleppo"), tag("sport")]), False),
    ("NOT passes", "aleppo AND NOT sport", article(tags=[tag("aleppo")]), True),
    ("NOT of a term", "NOT football", article(text="Football tonight"), False),
    ("OR with parentheses", "(truce OR ceasefire) AND aleppo", article(title="Truce in Aleppo"), True),
    ("phrase is a term", '"aid convoy"', article(text="the aid convoy left"), True),
    ("phrase is never a tag", '"aleppo"', article(tags=[tag("aleppo")]), False),
    ("tag: needs the tag", "tag:aleppo", article(text="Aleppo"), False),
    ("tag: matches the tag", "tag:aleppo", article(tags=[tag("aleppo")]), True),
    ("topic: is tag:", "topic:aleppo", article(tags=[tag("aleppo")]), True),
    ("title: term in title", "title:aleppo", article(title="Aleppo today"), True),
    ("title: term only in text", "title:aleppo", article(title="Syria", text="Aleppo"), False),
    ("title: tag with title evidence", "title:aleppo", article(tags=[tag("aleppo", "title")]), True),
    ("title: tag with text evidence only", "title:aleppo", article(tags=[tag("aleppo", "text")]), False),
    ("title: tag: scoped tag", "title:tag:aleppo", article(tags=[tag("aleppo", "text")]), False),
    ("source: site name", "source:reuters", article(source="Reuters"), True),
    ("source: quoted name", 'source:"BBC News"', article(source="BBC News"), True),
    ("source: hyphen-insensitive", "source:bbc-news", article(source="BBC News"), True),
    ("source: feed id", "source:reuters-world", article(source="Reuters", feed_id="reuters-world"), True),
    ("source: other site", "source:reuters", article(source="AFP", feed_id="afp"), False),
    ("source: not a substring", "source:bbc", article(source="BBC News", feed_id="bbc-news"), False),
    ("source: without source", "source:afp", article(source=None, feed_id="afp"), True),
    ("lang: equal", "lang:en", article(lang="en"), True),
    ("lang: region", "lang:en", article(lang="en-GB"), True),
    ("lang: case", "lang:EN", article(lang="en"), True),
    ("lang: other", "lang:en", article(lang="fr"), False),
    ("lang: unknown", "lang:en", article(lang=None), False),
    ("lang: not a prefix of a longer code", "lang:en", article(lang="eng"), False),
    (
        "sources, language and NOT",
        "(source:reuters OR source:afp) AND lang:en AND ceasefire AND NOT title:sport",
        article(source="AFP", lang="en", title="Ceasefire agreed"),
        True,
    ),
]


@pytest.mark.parametrize(("case", "query", "item", "expected"), MATCHES, ids=[c[0] for c in MATCHES])
def test_match_semantics(case: str, query: str, item: Article, expected: bool) -> None:
    rules = config({"name": "r", "match": query})
    assert match_article(rules, item) == (["r"] if expected else [])


def test_match_article_names_rules_in_file_order_and_skips_spike_rules() -> None:
    rules = config(
        {"name": "b", "match": "ceasefire"},
        {"name": "spiky", "spike": EXAMPLE_SPIKE},
        {"name": "a", "match": "aleppo OR truce"},
        {"name": "never", "match": "football"},
    )
    item = article(title="Ceasefire in Aleppo", tags=[tag("aleppo")])
    assert match_article(rules, item) == ["b", "a"]
    assert match_article(rules.rules, item) == ["b", "a"]


# --- spikes, with an injected clock -------------------------------------------------------

SPIKE_RULES = config({"name": "aleppo-spike", "spike": EXAMPLE_SPIKE, "notify": ["ops"]})


def topic_article(seed: str, topic: str = "aleppo") -> Article:
    return article(seed, tags=[tag(topic)])


def steady(start: datetime, hours: float, interval: float, prefix: str) -> list[tuple[datetime, Article]]:
    count = int(hours * 3600 / interval)
    return [(start + timedelta(seconds=i * interval), topic_article(f"{prefix}{i}")) for i in range(count)]


def drive(
    runner: Runner, events: Sequence[tuple[datetime, Article]], tick_every: float = 300.0
) -> list[Alert]:
    """Feed articles at their times, with the agent's timer ticking in between."""
    next_tick = runner.clock.now()
    for moment, item in sorted(events, key=lambda event: event[0]):
        while next_tick <= moment:
            runner.at(next_tick).tick()
            next_tick += timedelta(seconds=tick_every)
        runner.at(moment).article(item)
    return [alert for alert in runner.sent if alert.kind == "spike"]


def test_a_burst_against_a_low_baseline_fires_exactly_once() -> None:
    # 2/hour for 12 hours, then 30 articles in 10 minutes, then 2/hour again for 6 hours.
    before = steady(T0, 12, 1800, "steady")
    burst_start = T0 + timedelta(hours=12, seconds=10)
    burst = steady(burst_start, 10 / 60, 20, "burst")
    after = steady(T0 + timedelta(hours=12, minutes=30), 6, 1800, "after")
    assert len(burst) == 30
    [alert] = drive(Runner(SPIKE_RULES), before + burst + after)
    assert alert.rule == "aleppo-spike" and alert.tags == ("aleppo",) and alert.channels == ("ops",)
    assert alert.count == 5  # it fires as the window crosses min_count, not at the end
    assert alert.baseline == pytest.approx(2 * 10 / 60, abs=0.01)  # 2/hour scaled to 10 minutes
    assert alert.window == 600.0
    assert alert.fired_at == rfc3339(burst_start + timedelta(seconds=4 * 20))
    assert list(alert.article_ids) == [item.id for _, item in burst[:5]]


@pytest.mark.parametrize(
    ("case", "interval"),
    [("2 per hour for 12 hours", 1800.0), ("30 per 10 minutes for 12 hours", 20.0)],
)
def test_a_steady_rate_never_fires(case: str, interval: float) -> None:
    runner = Runner(SPIKE_RULES)
    assert drive(runner, steady(T0, 12, interval, "s")) == []
    state = runner.states[rule_key("aleppo-spike")]["spike"]
    assert len(state["buckets"]) <= 10 + 360  # bounded: window + baseline, one bucket a minute


def test_a_second_burst_fires_again_once_the_first_has_ended() -> None:
    events = steady(T0, 12, 1800, "steady")
    events += steady(T0 + timedelta(hours=12), 10 / 60, 20, "first")
    events += steady(T0 + timedelta(hours=15), 10 / 60, 20, "second")
    first, second = drive(Runner(SPIKE_RULES), events)
    assert first.id != second.id and second.count == 5


def test_a_long_burst_is_one_alert() -> None:
    events = steady(T0, 12, 1800, "steady") + steady(T0 + timedelta(hours=12), 1, 20, "long")
    assert len(drive(Runner(SPIKE_RULES), events)) == 1


def test_no_spike_before_a_full_baseline_has_been_watched() -> None:
    # A burst in the first hour: without history there is nothing to compare it with.
    assert drive(Runner(SPIKE_RULES), steady(T0 + timedelta(minutes=5), 10 / 60, 20, "early")) == []


def test_the_timer_starts_the_warm_up_of_a_silent_topic() -> None:
    runner = Runner(SPIKE_RULES)
    runner.tick()  # the agent's timer, long before the topic's first article
    burst = steady(T0 + timedelta(hours=7), 10 / 60, 20, "new")
    assert len(drive(runner, burst)) == 1


def test_revisions_and_replays_do_not_count_as_new_articles() -> None:
    runner = Runner(SPIKE_RULES)
    drive(runner, steady(T0, 7, 1800, "steady"))
    runner.at(T0 + timedelta(hours=7))
    item = topic_article("one")
    for repeat in range(10):
        runner.article(item)  # the same article redelivered
        runner.article(article("one", tags=[tag("aleppo")], revision=2 + repeat))
    assert [alert for alert in runner.sent if alert.kind == "spike"] == []
    count, _ = spike.counts(SPIKE_RULES.spike_rules[0], runner.states[rule_key("aleppo-spike")]["spike"], T0)
    assert count == 1


def test_other_topics_do_not_count() -> None:
    events = steady(T0, 12, 1800, "steady")
    events += [(T0 + timedelta(hours=12, seconds=i * 20), topic_article(f"o{i}", "homs")) for i in range(30)]
    assert drive(Runner(SPIKE_RULES), events) == []


@settings(max_examples=40, deadline=None)
@given(
    window_minutes=st.integers(1, 30),
    baseline_windows=st.integers(1, 12),
    per_window=st.floats(0.05, 20),
    factor=st.floats(2, 10),
    min_count=st.integers(5, 50),
    offset=st.floats(0, 86400),
)
def test_a_constant_rate_never_fires(
    window_minutes: int,
    baseline_windows: int,
    per_window: float,
    factor: float,
    min_count: int,
    offset: float,
) -> None:
    window = window_minutes * 60.0
    rule = SpikeRule("r", "t", window, window * baseline_windows, factor, min_count)
    interval = window / per_window
    start = T0 + timedelta(seconds=offset)
    state: spike.SpikeState | None = None
    moment, index = start, 0
    while moment < start + timedelta(seconds=3 * (rule.window + rule.baseline)):
        state, fire = spike.observe(rule, state, hex_id(str(index)), moment)
        assert fire is None, (index, spike.counts(rule, state, moment))
        index += 1
        moment = start + timedelta(seconds=index * interval)


# --- story suppression ----------------------------------------------------------------------

CEASEFIRE = {"name": "ceasefire", "match": "ceasefire", "notify": ["ops"]}


def test_a_revision_does_not_re_alert_and_links_to_the_first_alert() -> None:
    runner = Runner(config(CEASEFIRE))
    [first] = runner.article(article("x", title="Ceasefire agreed")).alerts
    assert first.escalation == 0 and first.story_id == hex_id("x")
    assert first.id == alert_id("match", "ceasefire", hex_id("x"), 0)
    outcome = runner.at(T0 + timedelta(hours=1)).article(
        article("x", title="Ceasefire agreed, updated", revision=2)
    )
    assert outcome.alerts == ()
    [link] = outcome.links
    assert (link.rule, link.story_id, link.article_id, link.alert_id) == (
        "ceasefire",
        hex_id("x"),
        hex_id("x"),
        first.id,
    )


def test_a_syndicated_copy_does_not_re_alert_and_links_to_the_first_alert() -> None:
    runner = Runner(config(CEASEFIRE))
    [first] = runner.article(article("x", title="Ceasefire agreed", story_id="story-1")).alerts
    copy_ = article("y", title="Ceasefire agreed", story_id="story-1", source="Wire Copy", feed_id="wire")
    outcome = runner.article(copy_)
    assert outcome.alerts == () and outcome.links[0].alert_id == first.id
    assert runner.states[story_key("ceasefire", "story-1")]["article_ids"] == [hex_id("x"), hex_id("y")]


def test_escalation_re_alerts_once_per_n_new_sources() -> None:
    runner = Runner(config(CEASEFIRE))  # escalate_sources: 3 by default
    sources = ["A", "B", "C", "C", "D", "E", "F", "F", "G"]
    escalations = []
    for index, source in enumerate(sources):
        item = article(f"s{index}", title="Ceasefire", story_id="st", source=source, feed_id=source.lower())
        escalations.append([alert.escalation for alert in runner.article(item).alerts])
    # A alerts; B, C link; D is the 3rd new source → escalation 1; G the 3rd after it → 2.
    assert escalations == [[0], [], [], [], [1], [], [], [], [2]]
    ids = [alert.id for alert in runner.sent]
    assert ids == [alert_id("match", "ceasefire", "st", level) for level in (0, 1, 2)]
    assert runner.sent[1].article_ids[:5] == tuple(hex_id(f"s{i}") for i in (0, 1, 2, 3, 4))


def test_escalation_can_be_turned_off() -> None:
    runner = Runner(config({**CEASEFIRE, "escalate_sources": False}))
    for index in range(10):
        runner.article(article(f"s{index}", title="Ceasefire", story_id="st", source=f"S{index}"))
    assert len(runner.sent) == 1


def test_a_stale_story_is_forgotten_by_the_timer() -> None:
    runner = Runner(config({**CEASEFIRE, "story_ttl": "1h"}))
    runner.article(article("x", title="Ceasefire"))
    runner.at(T0 + timedelta(minutes=59)).tick()
    assert story_key("ceasefire", hex_id("x")) in runner.states
    runner.at(T0 + timedelta(minutes=61)).tick()
    assert story_key("ceasefire", hex_id("x")) not in runner.states


def test_the_timer_drops_the_state_of_removed_rules() -> None:
    runner = Runner(config(CEASEFIRE, {"name": "other", "match": "ceasefire"}))
    runner.article(article("x", title="Ceasefire"))
    runner.rules = config(CEASEFIRE)
    runner.tick()
    assert not any("other" in key for key in runner.states)
    assert story_key("ceasefire", hex_id("x")) in runner.states


# --- quiet hours, rate limit, digest --------------------------------------------------------


def test_quiet_hours_hold_alerts_and_send_them_as_one_message_when_they_end() -> None:
    runner = Runner(config({**CEASEFIRE, "quiet_hours": "22:00-07:00"}))
    late = T0 + timedelta(hours=23)
    first = runner.at(late).article(article("x", title="Ceasefire"))
    second = runner.at(late + timedelta(hours=2)).article(article("y", title="Ceasefire talks"))
    linked = runner.at(late + timedelta(hours=3)).article(article("x", title="Ceasefire", revision=2))
    assert runner.sent == [] and [h.reason for h in first.held + second.held] == ["quiet-hours"] * 2
    assert linked.links[0].alert_id == first.held[0].alert_id  # linked to the held alert
    runner.at(late + timedelta(hours=7, minutes=59)).tick()  # 06:59
    assert runner.sent == []
    runner.at(late + timedelta(hours=8)).tick()  # 07:00
    [digest] = runner.sent
    assert digest.digest and [entry.id for entry in digest.alerts] == [
        first.held[0].alert_id,
        second.held[0].alert_id,
    ]
    assert digest.article_ids == (hex_id("x"), hex_id("y")) and digest.fired_at == rfc3339(
        late + timedelta(hours=8)
    )
    runner.tick()
    assert len(runner.sent) == 1  # released once


def test_one_alert_held_by_quiet_hours_is_sent_as_itself() -> None:
    runner = Runner(config({**CEASEFIRE, "quiet_hours": "22:00-07:00"}))
    runner.at(T0 + timedelta(hours=23)).article(article("x", title="Ceasefire"))
    runner.at(T0 + timedelta(hours=31)).tick()
    [alert] = runner.sent
    assert not alert.digest and alert.id == alert_id("match", "ceasefire", hex_id("x"), 0)
    assert alert.fired_at == rfc3339(T0 + timedelta(hours=23))


def test_the_rate_limit_holds_the_excess_into_a_digest_never_dropping_it() -> None:
    runner = Runner(config({**CEASEFIRE, "rate_limit": 2}))
    held: list[Held] = []
    for minute in range(5):
        outcome = runner.at(T0 + timedelta(minutes=minute)).article(article(f"s{minute}", title="Ceasefire"))
        held += outcome.held
    assert [alert.story_id for alert in runner.sent] == [hex_id("s0"), hex_id("s1")]
    assert [h.reason for h in held] == ["rate-limit"] * 3
    runner.at(T0 + timedelta(minutes=59)).tick()
    assert len(runner.sent) == 2  # the hour is still full
    runner.at(T0 + timedelta(minutes=60, seconds=1)).tick()
    digest = runner.sent[2]
    assert digest.digest and [e.story_id for e in digest.alerts] == [hex_id(f"s{i}") for i in (2, 3, 4)]
    assert [e.id for e in digest.alerts] == [h.alert_id for h in held]


def test_a_digest_rule_sends_one_message_per_period() -> None:
    runner = Runner(config({**CEASEFIRE, "digest": "1h"}))
    for minute in (5, 20, 40):
        runner.at(T0 + timedelta(minutes=minute)).article(article(f"d{minute}", title="Ceasefire"))
    runner.at(T0 + timedelta(minutes=59)).tick()
    assert runner.sent == []
    runner.at(T0 + timedelta(hours=1)).tick()
    [digest] = runner.sent
    assert digest.digest and len(digest.alerts) == 3 and digest.omitted == 0
    assert digest.title is not None and digest.title.startswith("3 alerts (ceasefire): ")
    runner.at(T0 + timedelta(hours=2)).tick()
    assert len(runner.sent) == 1


def test_a_flooding_rule_keeps_bounded_state_and_counts_what_it_cannot_list() -> None:
    runner = Runner(config({**CEASEFIRE, "digest": "1d"}))
    for index in range(205):
        runner.at(T0 + timedelta(seconds=index)).article(article(f"f{index}", title="Ceasefire"))
    runner.at(T0 + timedelta(days=1)).tick()
    [digest] = runner.sent
    assert (len(digest.alerts), digest.omitted) == (200, 5)
    assert digest.title is not None and digest.title.startswith("205 alerts")


# --- determinism and JSON state -------------------------------------------------------------

MIXED = config(
    {**CEASEFIRE, "escalate_sources": 2, "rate_limit": 6, "quiet_hours": "00:00-05:00"},
    {"name": "digest", "match": "aleppo", "digest": "30m"},
    {"name": "spike", "spike": {"topic": "aleppo", "window": "2m", "baseline": "10m", "min_count": 3}},
)


def scenario() -> list[tuple[datetime, Article]]:
    events = []
    for index in range(120):
        moment = T0 + timedelta(hours=20, minutes=index * 3)
        source = f"S{index % 7}"
        title = "Ceasefire in Aleppo" if index % 3 else "Aleppo"
        events.append(
            (
                moment,
                article(
                    f"m{index}", title=title, tags=[tag("aleppo")], story_id=f"st{index % 9}", source=source
                ),
            )
        )
    burst = T0 + timedelta(hours=26)
    events += [(burst + timedelta(seconds=i), article(f"b{i}", tags=[tag("aleppo")])) for i in range(10)]
    return events


def test_a_replay_produces_the_same_alert_ids() -> None:
    first, second = Runner(MIXED), Runner(MIXED)
    drive(first, scenario(), tick_every=60)
    drive(second, scenario(), tick_every=60)
    assert [alert.id for alert in first.sent] == [alert.id for alert in second.sent]
    assert {alert.kind for alert in first.sent} == {"match", "spike"}
    assert any(alert.digest for alert in first.sent) and any(alert.escalation for alert in first.sent)


def test_reprocessing_an_article_on_lost_state_gives_the_same_id() -> None:
    runner = Runner(config(CEASEFIRE))
    item = article("x", title="Ceasefire")
    [alert] = runner.article(item).alerts
    assert runner.article(item).alerts == ()  # redelivered with its state: linked, no alert
    [again] = Runner(config(CEASEFIRE)).article(item).alerts  # state lost: the same id again
    assert again.id == alert.id


EVENT = st.one_of(
    st.tuples(st.just("tick"), st.integers(0, 3600)),
    st.tuples(
        st.sampled_from(["ceasefire", "aleppo", "both", "other"]), st.integers(0, 900), st.integers(0, 5)
    ),
)


@settings(max_examples=30, deadline=None)
@given(events=st.lists(EVENT, max_size=60))
def test_state_round_trips_through_json(events: list[tuple[Any, ...]]) -> None:
    with_json, in_memory = Runner(MIXED, roundtrip=True), Runner(MIXED, roundtrip=False)
    moment = T0 + timedelta(hours=20)
    for index, event in enumerate(events):
        moment += timedelta(seconds=event[1])
        for runner in (with_json, in_memory):
            runner.at(moment)
            if event[0] == "tick":
                runner.tick()
                continue
            title = {"ceasefire": "Ceasefire", "aleppo": "Aleppo", "both": "Ceasefire in Aleppo"}.get(
                event[0], "Other"
            )
            tags = [tag("aleppo")] if "leppo" in title else []
            runner.article(
                article(f"e{index}", title=title, tags=tags, story_id=f"st{event[2]}", source=f"S{index % 4}")
            )
    assert with_json.outcomes == in_memory.outcomes
    assert orjson.loads(orjson.dumps(in_memory.states)) == in_memory.states  # plain JSON values only


# --- the published contract -----------------------------------------------------------------


def _date_time(value: object) -> bool:
    return not isinstance(value, str) or (value.endswith("Z") and bool(datetime.fromisoformat(value[:-1])))


FORMATS = FormatChecker(formats=())
FORMATS.checks("date-time", raises=ValueError)(_date_time)
VALIDATOR = Draft202012Validator(load_schema("alert"), format_checker=FORMATS)


def test_real_engine_output_validates_against_the_alert_schema() -> None:
    runner = Runner(MIXED)
    drive(runner, scenario(), tick_every=60)
    burst = drive(
        Runner(SPIKE_RULES), steady(T0, 12, 1800, "s") + steady(T0 + timedelta(hours=12), 0.2, 20, "b")
    )
    messages = [alert.model_dump(mode="json", by_alias=True) for alert in [*runner.sent, *burst]]
    kinds = {(m["kind"], m["digest"], m["escalation"] > 0) for m in messages}
    assert {
        ("match", False, False),
        ("match", False, True),
        ("match", True, False),
        ("spike", False, False),
    } <= kinds
    for message in messages:
        errors = [
            f"/{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(message)
        ]
        assert errors == [], message
        assert (
            Alert.model_validate(orjson.loads(orjson.dumps(message))).model_dump(mode="json", by_alias=True)
            == message
        )


def _json_types(annotation: object) -> set[str]:
    origin = get_origin(annotation)
    if origin is tuple:
        return {"array"}
    if origin is Literal:
        return {"string"}
    if origin in (Union, UnionType):
        return set().union(*(_json_types(arg) for arg in get_args(annotation)))
    simple: dict[object, str] = {
        str: "string",
        bool: "boolean",
        int: "integer",
        float: "number",
        type(None): "null",
    }
    return {simple[annotation]}


@pytest.mark.parametrize(
    ("model", "pointer"), [(Alert, ""), (DigestEntry, "/$defs/digest_entry")], ids=["alert", "digest-entry"]
)
def test_the_schema_matches_the_model(model: type[BaseModel], pointer: str) -> None:
    schema = load_schema("alert")
    if pointer:
        schema = schema["$defs"][pointer.rsplit("/", 1)[1]]
    fields = {field.alias or name: field for name, field in model.model_fields.items()}
    required = {name for name, field in fields.items() if field.is_required()}
    if "schema" in fields:  # producers always write it; the model only defaults it on decode
        required.add("schema")
    assert sorted(schema["required"]) == sorted(required)
    assert sorted(schema["properties"]) == sorted(fields)
    for name, field in fields.items():
        prop = schema["properties"][name]
        declared = prop["type"]
        assert ({declared} if isinstance(declared, str) else set(declared)) == _json_types(
            field.annotation
        ), name
        if get_origin(field.annotation) is Literal:
            assert set(prop["enum"]) == set(get_args(field.annotation))


# --- syndicated copies from news.duplicates ------------------------------------------------


def duplicate(seed: str, of: str, *, kind: str = "near", feed_id: str = "wire") -> Duplicate:
    return Duplicate(
        id=hex_id(seed),
        duplicate_of=hex_id(of),
        kind=kind,  # type: ignore[arg-type]
        similarity=0.9,
        url=f"https://copies.example/{seed}",
        feed_id=feed_id,
        detected_at=rfc3339(T0),
    )


def copy_outcome(runner: Runner, item: Duplicate) -> Outcome:
    before = copy.deepcopy(runner.states)
    return runner._apply(evaluate_copy(runner.rules, item, runner.clock.now(), runner.states), before)


def test_a_copy_from_news_duplicates_links_to_the_story_alert() -> None:
    runner = Runner(config(CEASEFIRE))
    [first] = runner.article(article("x", title="Ceasefire agreed", feed_id="bbc")).alerts
    outcome = copy_outcome(runner, duplicate("y", "x", feed_id="wire"))
    assert outcome.alerts == ()
    assert [(link.article_id, link.alert_id) for link in outcome.links] == [(hex_id("y"), first.id)]
    state = runner.states[story_key("ceasefire", hex_id("x"))]
    assert state["article_ids"] == [hex_id("x"), hex_id("y")] and state["feeds"] == ["bbc", "wire"]


def test_copies_from_new_feeds_escalate_the_story_with_its_own_title() -> None:
    runner = Runner(config(CEASEFIRE))  # escalate_sources: 3
    original = article("x", title="Ceasefire agreed", feed_id="bbc", tags=[tag("ceasefire")])
    runner.article(original)
    feeds = ["wire-a", "wire-a", "bbc", "wire-b", "wire-c"]  # a repeat, the story's own feed, 3 new
    levels = [
        [a.escalation for a in copy_outcome(runner, duplicate(f"c{i}", "x", feed_id=f)).alerts]
        for i, f in enumerate(feeds)
    ]
    assert levels == [[], [], [], [], [1]]
    realert = runner.sent[-1]
    assert realert.id == alert_id("match", "ceasefire", hex_id("x"), 1)
    assert (realert.title, realert.url, realert.tags) == ("Ceasefire agreed", original.url, ("ceasefire",))
    assert realert.story_id == hex_id("x")


@pytest.mark.parametrize("kind", ["exact-url", "guid"])
def test_a_repoll_of_the_same_item_is_not_a_copy(kind: str) -> None:
    runner = Runner(config(CEASEFIRE))
    runner.article(article("x", title="Ceasefire agreed"))
    outcome = copy_outcome(runner, duplicate("y", "x", kind=kind))
    assert outcome == Outcome()


def test_a_copy_of_a_story_that_never_alerted_does_nothing() -> None:
    runner = Runner(config(CEASEFIRE))
    runner.article(article("x", title="Markets calm"))  # does not match the rule
    outcome = copy_outcome(runner, duplicate("y", "x"))
    assert outcome.alerts == () and outcome.links == () and outcome.states == {}
