"""Alert rules (``alerts.yaml``) and the pure alerting engine behind ``agents/alerting``.

    rules.py        the file contract: channels, match and spike rules → frozen rules
    options.py      per-rule options: escalate_sources, quiet_hours, rate_limit, digest, story_ttl
    channels.py     channels, their redacted repr, secrets read from the environment at start
    match.py        which match rules an article satisfies (the taxonomy's query language)
    spike.py        a topic's count in a sliding window against its own baseline
    suppression.py  one alert per (rule, story); re-alert when a story escalates
    throttle.py     digest, quiet hours, rate limit (held, never dropped silently)
    message.py      the news.alerts message (Alert) and its deterministic ids
    engine.py       composes them: evaluate_article() per article, tick() from a timer

Everything here is framework-free and takes the time as a parameter; state goes in and
comes out as plain JSON values, so a Faust table can hold it.
"""

from pipeline.alerting.channels import Channel, ChannelTarget, resolve_channels
from pipeline.alerting.engine import (
    Held,
    Link,
    Outcome,
    evaluate_article,
    evaluate_copy,
    rule_key,
    story_key,
    tick,
)
from pipeline.alerting.match import MatchIndex, match_article
from pipeline.alerting.message import ALERT_SCHEMA, Alert, DigestEntry, alert_id
from pipeline.alerting.options import QuietHours, RuleOptions
from pipeline.alerting.rules import (
    AlertRules,
    MatchRule,
    Rule,
    SpikeRule,
    alert_rules_from_data,
    load_alert_rules,
)

__all__ = [
    "ALERT_SCHEMA",
    "Alert",
    "AlertRules",
    "Channel",
    "ChannelTarget",
    "DigestEntry",
    "Held",
    "Link",
    "MatchIndex",
    "MatchRule",
    "Outcome",
    "QuietHours",
    "Rule",
    "RuleOptions",
    "SpikeRule",
    "alert_id",
    "alert_rules_from_data",
    "evaluate_article",
    "evaluate_copy",
    "load_alert_rules",
    "match_article",
    "resolve_channels",
    "rule_key",
    "story_key",
    "tick",
]
