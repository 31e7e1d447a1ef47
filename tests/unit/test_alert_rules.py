"""The alert rules file contract (pipeline/alerting/rules.py, channels.py): every error names
file, rule and reason; the issue's example loads as is; secrets never show."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.alerting.channels import Channel, ChannelTarget, redact_url, resolve_channels
from pipeline.alerting.options import QuietHours, RuleOptions
from pipeline.alerting.rules import AlertRules, MatchRule, SpikeRule, alert_rules_from_data, load_alert_rules
from pipeline.errors import ConfigError
from pipeline.query import Operand, QuerySyntaxError, parse_query
from pipeline.taxonomy import taxonomy_from_data

EXAMPLE = (Path(__file__).parents[1] / "fixtures" / "alerts-example.yaml").read_text("utf-8")
SOURCE = "alerts.yaml"
CHANNELS = {"ops": {"type": "webhook", "url": "https://hooks.example.org/x"}}


def rules_with(*rules: Any, **top: Any) -> dict[str, Any]:
    return {"channels": CHANNELS, "rules": list(rules), **top}


MATCH = {"name": "m", "match": "aleppo"}
SPIKE_SPEC: dict[str, Any] = {"topic": "aleppo", "window": "10m", "baseline": "6h"}
SPIKE = {"name": "s", "spike": SPIKE_SPEC}


def spike(**changes: Any) -> dict[str, Any]:
    return {"name": "s", "spike": {**SPIKE_SPEC, **changes}}


def test_the_issues_example_loads_as_is(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text(EXAMPLE, encoding="utf-8")
    rules = load_alert_rules(path)
    assert [channel.name for channel in rules.channels] == ["ops", "newsroom"]
    assert rules.channels[0] == Channel(
        "ops", "webhook", "https://hooks.example.org/newsflow", None, "NEWSFLOW_OPS_SECRET"
    )
    assert rules.channels[1] == Channel("newsroom", "slack", None, "NEWSFLOW_SLACK_URL", None)
    match, spiking = rules.rules
    assert isinstance(match, MatchRule) and match.query_text == "aleppo AND ceasefire"
    assert match.notify == ("ops", "newsroom") and match.options == RuleOptions()
    assert spiking == SpikeRule("aleppo-spike", "aleppo", 600.0, 21600.0, 3.0, 5, ("ops",), RuleOptions())
    assert rules.match_rules == (match,) and rules.spike_rules == (spiking,)


INVALID: list[tuple[str, Any, str]] = [
    # (case, file contents, expected error after "alerts.yaml: ")
    ("top level not a mapping", ["a"], "top level must be a mapping"),
    ("unknown top-level key", rules_with(MATCH, rule=[]), "rule: unknown key"),
    ("rules not a list", {"rules": {"name": "m"}}, "rules: must be a list"),
    ("rule not a mapping", rules_with("aleppo"), "rules[0]: each rule must be a mapping"),
    ("rule without a name", rules_with({"match": "a"}), "rules[0]: name: required"),
    ("name with a space", rules_with({"name": "a b", "match": "a"}), "rules[0]: name:"),
    ("unknown rule key", rules_with({**MATCH, "notfiy": ["ops"]}), "rules[0] (m): notfiy: unknown key"),
    ("neither match nor spike", rules_with({"name": "m", "notify": ["ops"]}), "rules[0] (m): needs either"),
    ("both match and spike", rules_with({**MATCH, "spike": SPIKE["spike"]}), "rules[0] (m): needs either"),
    ("duplicate rule names", rules_with(MATCH, SPIKE, MATCH), "rules[2] (m): name: duplicate of rules[0]"),
    ("unknown channel", rules_with({**MATCH, "notify": ["ops", "pager"]}), "unknown channel 'pager'"),
    ("notify not a list", rules_with({**MATCH, "notify": "ops"}), "rules[0] (m): notify: must be a list"),
    ("empty query", rules_with({"name": "m", "match": ""}), "rules[0] (m): match: empty query"),
    ("blank query", rules_with({"name": "m", "match": "   "}), "rules[0] (m): match: empty query"),
    ("query not a string", rules_with({"name": "m", "match": 3}), "rules[0] (m): match: must be a query"),
    ("dangling operator", rules_with({"name": "m", "match": "a AND"}), "match: query ends where an operand"),
    ("unbalanced", rules_with({"name": "m", "match": "(a OR b"}), "match: missing closing parenthesis"),
    (
        "unknown prefix",
        rules_with({"name": "m", "match": "author:x"}),
        "match: unknown field or empty operand",
    ),
    ("empty source", rules_with({"name": "m", "match": "source:"}), "match: unknown field or empty operand"),
    (
        "bad language",
        rules_with({"name": "m", "match": "lang:english1"}),
        "lang:english1: expected a language",
    ),
    ("deeply nested", rules_with({"name": "m", "match": "(" * 5000 + "a" + ")" * 5000}), "nested too deeply"),
    ("deep NOT chain", rules_with({"name": "m", "match": "NOT " * 5000 + "a"}), "nested too deeply"),
    (
        "scoped source",
        rules_with({"name": "m", "match": "title:source:x"}),
        "title:source: a source has no field",
    ),
    (
        "spike not a mapping",
        rules_with({"name": "s", "spike": "aleppo"}),
        "rules[0] (s): spike: must be a mapping",
    ),
    ("unknown spike key", rules_with(spike(treshold=3)), "rules[0] (s): spike.treshold: unknown key"),
    ("spike topic empty", rules_with(spike(topic="")), "rules[0] (s): spike.topic: required"),
    ("spike topic blank", rules_with(spike(topic="  ")), "rules[0] (s): spike.topic: required"),
    (
        "spike topic missing",
        rules_with({"name": "s", "spike": {"window": "1m", "baseline": "1h"}}),
        "spike.topic",
    ),
    ("spike topic with space", rules_with(spike(topic="new york")), "spike.topic: a tag name has no spaces"),
    (
        "window missing",
        rules_with({"name": "s", "spike": {"topic": "a", "baseline": "1h"}}),
        "spike.window: required",
    ),
    (
        "bad duration",
        rules_with(spike(window="ten minutes")),
        "spike.window: 'ten minutes' is not a duration",
    ),
    ("zero duration", rules_with(spike(baseline=0)), "spike.baseline: a duration must be positive"),
    ("negative duration", rules_with(spike(window="-5m")), "spike.window: '-5m' is not a duration"),
    (
        "baseline shorter than window",
        rules_with(spike(baseline="5m")),
        "spike.baseline: must be at least the window",
    ),
    (
        "baseline too long",
        rules_with(spike(window="1m", baseline="30d")),
        "spike.baseline: at most 2000 windows",
    ),
    (
        "factor of 1",
        rules_with(spike(factor=1)),
        "rules[0] (s): spike.factor: must be a number greater than 1",
    ),
    ("factor below 1", rules_with(spike(factor=0.5)), "spike.factor: must be a number greater than 1"),
    ("factor not a number", rules_with(spike(factor="3x")), "spike.factor: must be a number greater than 1"),
    (
        "min_count of 0",
        rules_with(spike(min_count=0)),
        "spike.min_count: must be a whole number of at least 1",
    ),
    ("min_count fraction", rules_with(spike(min_count=2.5)), "spike.min_count: must be a whole number"),
    (
        "escalate_sources on a spike",
        rules_with({**SPIKE, "escalate_sources": 2}),
        "escalate_sources: only match",
    ),
    ("escalate_sources 0", rules_with({**MATCH, "escalate_sources": 0}), "rules[0] (m): escalate_sources:"),
    ("rate_limit 0", rules_with({**MATCH, "rate_limit": 0}), "rules[0] (m): rate_limit: a whole number"),
    (
        "rate_limit true",
        rules_with({**MATCH, "rate_limit": True}),
        "rules[0] (m): rate_limit: a whole number",
    ),
    (
        "quiet hours bad",
        rules_with({**MATCH, "quiet_hours": "10pm-7am"}),
        'quiet_hours: expected "HH:MM-HH:MM"',
    ),
    ("quiet hours 24:00", rules_with({**MATCH, "quiet_hours": "22:00-24:00"}), "quiet_hours: expected"),
    (
        "quiet hours empty",
        rules_with({**MATCH, "quiet_hours": "07:00-07:00"}),
        "quiet_hours: start and end are",
    ),
    ("digest zero", rules_with({**MATCH, "digest": 0}), "rules[0] (m): digest: a duration must be positive"),
    (
        "digest bad duration",
        rules_with({**MATCH, "digest": "daily"}),
        "rules[0] (m): digest: 'daily' is not a",
    ),
    ("story_ttl zero", rules_with({**MATCH, "story_ttl": 0}), "rules[0] (m): story_ttl: a duration must be"),
    ("defaults unknown key", rules_with(MATCH, defaults={"quiet": "1"}), "defaults: quiet: unknown key"),
    ("defaults bad value", rules_with(MATCH, defaults={"rate_limit": -1}), "defaults: rate_limit: a whole"),
    ("channels not a mapping", {"channels": ["ops"], "rules": []}, "channels: must be a mapping"),
    (
        "channel type",
        {"channels": {"ops": {"type": "email", "url": "https://x.org"}}},
        "channels.ops: type: must",
    ),
    (
        "channel unknown key",
        {"channels": {"ops": {**CHANNELS["ops"], "token": "x"}}},
        "channels.ops: token: unknown",
    ),
    (
        "channel without url",
        {"channels": {"ops": {"type": "webhook"}}},
        "channels.ops: needs either 'url' or",
    ),
    (
        "channel with url and url_env",
        {"channels": {"ops": {**CHANNELS["ops"], "url_env": "X"}}},
        "channels.ops: needs either 'url' or 'url_env'",
    ),
    (
        "channel url not http",
        {"channels": {"ops": {"type": "webhook", "url": "ftp://x.org/f"}}},
        "url: must be an",
    ),
    (
        "channel env name",
        {"channels": {"ops": {**CHANNELS["ops"], "secret_env": "my secret"}}},
        "channels.ops: secret_env: must be an environment variable name",
    ),
    (
        "slack with a secret",
        {"channels": {"n": {"type": "slack", "url_env": "U", "secret_env": "S"}}},
        "channels.n: secret_env: slack channels are not signed",
    ),
    ("channel name", {"channels": {"o ps": CHANNELS["ops"]}}, "channels.o ps: name:"),
]


@pytest.mark.parametrize(("case", "data", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_every_error_names_file_rule_and_reason(case: str, data: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        alert_rules_from_data(data, SOURCE)
    assert str(caught.value).startswith(f"{SOURCE}: "), str(caught.value)
    assert message in str(caught.value)


def test_query_errors_carry_the_parsers_message() -> None:
    with pytest.raises(QuerySyntaxError) as parser:
        parse_query("a b")
    with pytest.raises(ConfigError) as loader:
        alert_rules_from_data(rules_with({"name": "m", "match": "a b"}), SOURCE)
    assert str(loader.value) == f"{SOURCE}: rules[0] (m): match: {parser.value}"


def test_a_url_is_never_echoed_in_an_error() -> None:
    data = {"channels": {"ops": {"type": "webhook", "url": "ftp://user:hunter2@x.org/hook?token=abc"}}}
    with pytest.raises(ConfigError) as caught:
        alert_rules_from_data(data, SOURCE)
    assert "hunter2" not in str(caught.value) and "abc" not in str(caught.value)


FILE_ERRORS = [
    ("missing file", None, "cannot read alert rules"),
    ("YAML syntax error", "rules:\n  - name: m\n    match: [unclosed\n", "line 4: invalid YAML"),
    (
        "impossible date",
        "rules: [{name: m, match: x, story_ttl: 2026-13-01}]\n",
        "invalid YAML: month must be",
    ),
    ("not UTF-8", b"rules: [\xff\xfe]\n", "invalid YAML"),
    ("empty file", "", "top level must be a mapping"),
]


@pytest.mark.parametrize(("case", "content", "message"), FILE_ERRORS, ids=[c[0] for c in FILE_ERRORS])
def test_file_errors_name_the_file(
    tmp_path: Path, case: str, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "alerts.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_alert_rules(path)
    assert str(caught.value).startswith(str(path)) and message in str(caught.value)


def test_defaults_apply_to_every_rule_and_a_rule_overrides_them() -> None:
    data = rules_with(
        MATCH,
        {"name": "n", "match": "x", "quiet_hours": None, "rate_limit": 5, "escalate_sources": False},
        SPIKE,
        defaults={"quiet_hours": "22:00-07:00", "digest": "1h", "rate_limit": 50, "escalate_sources": 2},
    )
    m, n, s = alert_rules_from_data(data, SOURCE).rules
    assert m.options == RuleOptions(2, QuietHours(22 * 60, 7 * 60), 50, 3600.0)
    assert n.options == RuleOptions(None, None, 5, 3600.0)
    assert s.options.quiet_hours == QuietHours(22 * 60, 7 * 60) and s.options.digest == 3600.0


QUIET = [
    # (case, hours, time of day, quiet?)
    ("after the start", "22:00-07:00", (23, 30), True),
    ("at the start", "22:00-07:00", (22, 0), True),
    ("after midnight", "22:00-07:00", (6, 59), True),
    ("at the end", "22:00-07:00", (7, 0), False),
    ("midday", "22:00-07:00", (12, 0), False),
    ("inside a daytime span", "12:00-13:30", (13, 29), True),
    ("before a daytime span", "12:00-13:30", (11, 59), False),
]


@pytest.mark.parametrize(("case", "hours", "moment", "quiet"), QUIET, ids=[c[0] for c in QUIET])
def test_quiet_hours(case: str, hours: str, moment: tuple[int, int], quiet: bool) -> None:
    [rule] = alert_rules_from_data(rules_with({**MATCH, "quiet_hours": hours}), SOURCE).rules
    assert rule.options.quiet_hours is not None
    assert str(rule.options.quiet_hours) == hours
    assert rule.options.quiet_hours.contains(datetime(2026, 11, 21, *moment, tzinfo=UTC)) is quiet


# --- the query language: prefixes are an alert-rules extension, the taxonomy refuses them ---

PREFIXES = ("source", "lang", "tag")
PARSES = [
    ("source", "source:reuters", Operand("reuters", prefix="source")),
    ("quoted source", 'source:"BBC News"', Operand("BBC News", quoted=True, prefix="source")),
    ("language", "lang:en", Operand("en", prefix="lang")),
    ("explicit tag", "tag:aleppo", Operand("aleppo", prefix="tag")),
    ("scoped tag", "title:tag:aleppo", Operand("aleppo", "title", prefix="tag")),
    ("topic still works", "topic:aleppo", Operand("aleppo", explicit_topic=True)),
    ("field still works", "title:aleppo", Operand("aleppo", "title")),
]


@pytest.mark.parametrize(("case", "text", "tree"), PARSES, ids=[c[0] for c in PARSES])
def test_alert_queries_parse_prefixes(case: str, text: str, tree: Operand) -> None:
    assert parse_query(text, PREFIXES) == tree


def test_the_taxonomy_still_refuses_prefixes() -> None:
    with pytest.raises(QuerySyntaxError):
        parse_query("source:reuters")
    with pytest.raises(ConfigError, match="unknown field"):
        taxonomy_from_data({"topics": [{"name": "q", "query": "a AND source:reuters"}]}, "tax.yaml")


# --- secrets ------------------------------------------------------------------------------

SECRET_URL = "https://user:hunter2@hooks.example.org/services/T0/B0/s3cr3tpath?token=abc123#frag"


def test_a_channels_repr_shows_neither_secret_nor_url_path_query_or_credentials() -> None:
    channel = Channel("ops", "webhook", SECRET_URL, None, "NEWSFLOW_OPS_SECRET")
    target = ChannelTarget("ops", "webhook", SECRET_URL, "the-signing-secret")
    rules = AlertRules(SOURCE, (channel,))
    for shown in (repr(channel), str(channel), repr(target), str(target), repr(rules), f"{[target]}"):
        for secret in ("hunter2", "user", "s3cr3tpath", "abc123", "frag", "the-signing-secret"):
            assert secret not in shown, shown
        assert "hooks.example.org" in shown  # still tells which endpoint it is
    assert target.url == SECRET_URL and target.secret == "the-signing-secret"


REDACTED = [
    ("host only", "https://x.org", "https://x.org"),
    ("path", "https://hooks.slack.com/services/T/B/X", "https://hooks.slack.com/…"),
    ("port and query", "http://127.0.0.1:8080/?k=v", "http://127.0.0.1:8080/…"),
    ("credentials", "https://a:b@x.org/", "https://x.org"),
    ("bad port", "https://x.org:99999999/", "<invalid URL>"),
]


@pytest.mark.parametrize(("case", "url", "shown"), REDACTED, ids=[c[0] for c in REDACTED])
def test_redact_url(case: str, url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_secrets_are_read_from_the_environment_by_a_separate_step() -> None:
    rules = alert_rules_from_data(
        {
            "channels": {
                "ops": {"type": "webhook", "url": "https://h.example.org/x", "secret_env": "OPS_SECRET"},
                "news": {"type": "slack", "url_env": "SLACK_URL"},
            }
        },
        SOURCE,
    )
    environ = {"OPS_SECRET": "s", "SLACK_URL": "https://hooks.slack.com/services/T/B/X"}
    targets = resolve_channels(rules.channels, environ, SOURCE)
    assert targets["ops"] == ChannelTarget("ops", "webhook", "https://h.example.org/x", "s")
    assert targets["news"] == ChannelTarget("news", "slack", "https://hooks.slack.com/services/T/B/X", None)


ENV_ERRORS = [
    (
        "secret unset",
        {"SLACK_URL": "https://h.example.org/s"},
        "channels.ops: secret_env: environment variable OPS_SECRET is not set",
    ),
    ("secret empty", {"OPS_SECRET": "", "SLACK_URL": "https://h.example.org/s"}, "OPS_SECRET is not set"),
    ("url unset", {"OPS_SECRET": "s"}, "channels.news: url_env: environment variable SLACK_URL is not set"),
    (
        "url not http",
        {"OPS_SECRET": "s", "SLACK_URL": "file:///etc/passwd"},
        "url_env: SLACK_URL is not an http",
    ),
]


@pytest.mark.parametrize(("case", "environ", "message"), ENV_ERRORS, ids=[c[0] for c in ENV_ERRORS])
def test_missing_environment_is_a_config_error(case: str, environ: dict[str, str], message: str) -> None:
    rules = alert_rules_from_data(
        {
            "channels": {
                "ops": {"type": "webhook", "url": "https://h.example.org/x", "secret_env": "OPS_SECRET"},
                "news": {"type": "slack", "url_env": "SLACK_URL"},
            }
        },
        SOURCE,
    )
    with pytest.raises(ConfigError) as caught:
        resolve_channels(rules.channels, environ, SOURCE)
    assert str(caught.value) == f"{SOURCE}: {message}" or message in str(caught.value)
    assert "/etc/passwd" not in str(caught.value)


def test_a_channel_name_with_a_dot_is_refused_as_the_worker_would() -> None:
    # The name is part of the webhook-id, where Standard Webhooks allows no "."; `alerts check`
    # must refuse what the worker would refuse at start.
    data = {
        "channels": {"ops.team": {"type": "webhook", "url": "https://hooks.example.org/x"}},
        "rules": [{"name": "r", "match": "aleppo", "notify": ["ops.team"]}],
    }
    with pytest.raises(ConfigError, match=r"channels\.ops\.team: name"):
        alert_rules_from_data(data, SOURCE)
