"""The alert rule file contract (``alerts.yaml``): loading and validation into frozen rules.

    defaults: {rate_limit: 20, quiet_hours: "22:00-07:00"}   # optional, for every rule
    channels:
      ops: {type: webhook, url: "https://hooks.example.org/x", secret_env: NEWSFLOW_OPS_SECRET}
    rules:
      - name: aleppo-ceasefire
        match: "aleppo AND ceasefire AND NOT source:tabloid-daily"
        notify: [ops]
        escalate_sources: 3     # re-alert a story after 3 more distinct sources (false: never)
        quiet_hours: "22:00-07:00"   # UTC; alerts are held and sent as one message at the end
        rate_limit: 20          # alerts per hour; beyond, held and sent as one digest message
        digest: 1h              # optional: one message per period instead of one per alert
        story_ttl: 72h          # how long a story is remembered for suppression
      - name: aleppo-spike
        spike: {topic: aleppo, window: 10m, baseline: 6h, factor: 3, min_count: 5}

Every error is ``ConfigError("FILE: rules[2] (name): key: reason")`` (channels:
``FILE: channels.NAME: key: reason``), raised at load time, never later. Match queries use
the taxonomy's query language (``pipeline.query``) plus ``source:``, ``lang:`` and ``tag:``
(``pipeline/alerting/match.py`` says what each operand matches).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pipeline.alerting.channels import NAME, Channel, parse_channels
from pipeline.alerting.options import OPTION_KEYS, RuleOptions, duration, parse_options
from pipeline.config import read_yaml
from pipeline.errors import ConfigError
from pipeline.query import Node, QuerySyntaxError, operands, parse_query

QUERY_PREFIXES = ("source", "lang", "tag")
_TOP_KEYS = {"channels", "rules", "defaults"}
_RULE_KEYS = {"name", "description", "match", "spike", "notify"} | OPTION_KEYS
_SPIKE_KEYS = {"topic", "window", "baseline", "factor", "min_count"}
_TOPIC = re.compile(r"^[^\s:()\"]+$")  # a taxonomy topic (or place slug) name
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
# Spike state keeps one count per tenth of a window over window + baseline; this caps it.
MAX_BASELINE_WINDOWS = 2000


@dataclass(frozen=True, slots=True)
class MatchRule:
    kind: ClassVar[str] = "match"
    name: str
    query_text: str
    query: Node
    notify: tuple[str, ...] = ()
    options: RuleOptions = field(default_factory=RuleOptions)


@dataclass(frozen=True, slots=True)
class SpikeRule:
    kind: ClassVar[str] = "spike"
    name: str
    topic: str
    window: float  # seconds
    baseline: float  # seconds of history before the window
    factor: float = 3.0
    min_count: int = 5
    notify: tuple[str, ...] = ()
    options: RuleOptions = field(default_factory=RuleOptions)


Rule = MatchRule | SpikeRule


@dataclass(frozen=True, slots=True)
class AlertRules:
    source: str
    channels: tuple[Channel, ...] = ()
    rules: tuple[Rule, ...] = ()

    @property
    def match_rules(self) -> tuple[MatchRule, ...]:
        return tuple(rule for rule in self.rules if isinstance(rule, MatchRule))

    @property
    def spike_rules(self) -> tuple[SpikeRule, ...]:
        return tuple(rule for rule in self.rules if isinstance(rule, SpikeRule))

    def rule(self, name: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.name == name), None)


def load_alert_rules(path: Path) -> AlertRules:
    try:
        data = read_yaml(path, "alert rules")
    except ValueError as exc:  # not UTF-8, or a YAML value such as the date 2026-13-01
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    return alert_rules_from_data(data, str(path))


def alert_rules_from_data(data: Any, source: str = "alerts") -> AlertRules:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: top level must be a mapping with 'rules' (and 'channels')")
    unknown = sorted(set(data) - _TOP_KEYS, key=str)
    if unknown:
        raise ConfigError(f"{source}: {unknown[0]}: unknown key (known: channels, defaults, rules)")
    channels = parse_channels(data.get("channels"), source)
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(f"{source}: defaults: must be a mapping of rule options")
    unknown = sorted(set(defaults) - OPTION_KEYS, key=str)
    if unknown:
        raise ConfigError(f"{source}: defaults: {unknown[0]}: unknown key")
    base = parse_options(defaults, RuleOptions(), f"{source}: defaults")
    entries = data.get("rules") or []
    if not isinstance(entries, list):
        raise ConfigError(f"{source}: rules: must be a list")
    names = {channel.name for channel in channels}
    rules: list[Rule] = []
    for index, entry in enumerate(entries):
        rule = _rule(entry, f"{source}: rules[{index}]", base, names)
        earlier = [i for i, other in enumerate(rules) if other.name == rule.name]
        if earlier:
            raise ConfigError(
                f"{source}: rules[{index}] ({rule.name}): name: duplicate of rules[{earlier[0]}]"
            )
        rules.append(rule)
    return AlertRules(source, channels, tuple(rules))


def _rule(entry: Any, where: str, base: RuleOptions, channels: set[str]) -> Rule:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: each rule must be a mapping")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise ConfigError(f"{where}: name: required; letters, digits, '_', '.', '-' (at most 64)")
    where = f"{where} ({name})"
    unknown = sorted(set(entry) - _RULE_KEYS, key=str)
    if unknown:
        raise ConfigError(f"{where}: {unknown[0]}: unknown key")
    if ("match" in entry) == ("spike" in entry):
        raise ConfigError(f"{where}: needs either 'match' or 'spike' (exactly one)")
    notify = entry.get("notify") or []
    if not isinstance(notify, list) or not all(isinstance(item, str) for item in notify):
        raise ConfigError(f"{where}: notify: must be a list of channel names")
    for item in notify:
        if item not in channels:
            known = ", ".join(sorted(channels)) or "none defined"
            raise ConfigError(f"{where}: notify: unknown channel {item!r} (channels: {known})")
    options = parse_options(entry, base, where)
    if "match" in entry:
        text, query = _query(entry["match"], where)
        return MatchRule(name, text, query, tuple(notify), options)
    if "escalate_sources" in entry:
        raise ConfigError(f"{where}: escalate_sources: only match rules follow stories")
    return _spike(name, entry["spike"], f"{where}: spike", tuple(notify), options)


def _query(text: Any, where: str) -> tuple[str, Node]:
    if not isinstance(text, str):
        raise ConfigError(f"{where}: match: must be a query string such as 'aleppo AND ceasefire'")
    try:
        query = parse_query(text, QUERY_PREFIXES)
        leaves = operands(query)
    except QuerySyntaxError as exc:
        raise ConfigError(f"{where}: match: {exc}") from None
    except RecursionError:  # the parser recurses per parenthesis and NOT
        raise ConfigError(f"{where}: match: nested too deeply") from None
    for operand in leaves:
        if operand.prefix in ("source", "lang") and operand.field is not None:
            raise ConfigError(
                f"{where}: match: {operand.field}:{operand.prefix}: a {operand.prefix} has no field"
            )
        if operand.prefix == "lang" and not _LANG.match(operand.value):
            raise ConfigError(f"{where}: match: lang:{operand.value}: expected a language code such as en")
    return text, query


def _spike(name: str, spec: Any, where: str, notify: tuple[str, ...], options: RuleOptions) -> SpikeRule:
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: must be a mapping {{topic, window, baseline, factor, min_count}}")
    unknown = sorted(set(spec) - _SPIKE_KEYS, key=str)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key")
    topic = spec.get("topic")
    if not isinstance(topic, str) or not topic.strip():
        raise ConfigError(f"{where}.topic: required: the tag whose articles are counted")
    if not _TOPIC.match(topic.strip()):
        raise ConfigError(f"{where}.topic: a tag name has no spaces, ':', parentheses or quotes")
    for key in ("window", "baseline"):
        if key not in spec:
            raise ConfigError(f"{where}.{key}: required (a duration such as 10m or 6h)")
    window = duration(spec["window"], f"{where}.window")
    baseline = duration(spec["baseline"], f"{where}.baseline")
    if baseline < window:
        raise ConfigError(
            f"{where}.baseline: must be at least the window: it is the history compared with it"
        )
    if baseline > MAX_BASELINE_WINDOWS * window:
        raise ConfigError(f"{where}.baseline: at most {MAX_BASELINE_WINDOWS} windows long")
    factor = spec.get("factor", 3.0)
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not factor > 1:
        raise ConfigError(f"{where}.factor: must be a number greater than 1")
    min_count = spec.get("min_count", 5)
    if isinstance(min_count, bool) or not isinstance(min_count, int) or min_count < 1:
        raise ConfigError(f"{where}.min_count: must be a whole number of at least 1")
    return SpikeRule(name, topic.strip(), window, baseline, float(factor), min_count, notify, options)
