"""Per-rule delivery options of ``alerts.yaml`` (also settable for all rules under ``defaults``).

    escalate_sources  N more distinct sources re-alert a story (default 3; false: never)
    quiet_hours       "22:00-07:00", UTC: alerts are held and go out as one message at the end
    rate_limit        messages per rolling hour (default 20); beyond, held into one digest
    digest            a period such as 1h: one message per period listing the alerts
    story_ttl         how long a story is remembered for suppression (default 72h)

``pipeline/alerting/throttle.py`` applies them; errors name file, rule, key and reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipeline.config import parse_duration
from pipeline.errors import ConfigError

OPTION_KEYS = {"escalate_sources", "quiet_hours", "rate_limit", "digest", "story_ttl"}
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily UTC interval (minutes after midnight); it may span midnight."""

    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"

    def contains(self, moment: datetime) -> bool:
        moment = moment.astimezone(UTC)
        minute = moment.hour * 60 + moment.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end


@dataclass(frozen=True, slots=True)
class RuleOptions:
    escalate_sources: int | None = 3  # None: a story never re-alerts
    quiet_hours: QuietHours | None = None
    rate_limit: int = 20  # alerts per rolling hour
    digest: float | None = None  # seconds per digest period
    story_ttl: float = 72 * 3600.0


def parse_options(entry: dict[str, Any], base: RuleOptions, where: str) -> RuleOptions:
    escalate = entry.get("escalate_sources", base.escalate_sources)
    if escalate is False:
        escalate = None
    if escalate is not None and (isinstance(escalate, bool) or not isinstance(escalate, int) or escalate < 1):
        raise ConfigError(
            f"{where}: escalate_sources: a whole number of at least 1, or false (never re-alert)"
        )
    rate_limit = entry.get("rate_limit", base.rate_limit)
    if isinstance(rate_limit, bool) or not isinstance(rate_limit, int) or rate_limit < 1:
        raise ConfigError(f"{where}: rate_limit: a whole number of alerts per hour, at least 1")
    quiet = base.quiet_hours
    if "quiet_hours" in entry:
        quiet = (
            None
            if entry["quiet_hours"] is None or entry["quiet_hours"] is False
            else _quiet_hours(entry["quiet_hours"], where)
        )
    digest = base.digest
    if "digest" in entry:
        digest = (
            None
            if entry["digest"] is None or entry["digest"] is False
            else duration(entry["digest"], f"{where}: digest")
        )
    ttl = base.story_ttl
    if "story_ttl" in entry:
        ttl = duration(entry["story_ttl"], f"{where}: story_ttl")
    return RuleOptions(escalate, quiet, rate_limit, digest, ttl)


def _quiet_hours(value: Any, where: str) -> QuietHours:
    start, sep, end = str(value).partition("-")
    first, last = _CLOCK.match(start.strip()), _CLOCK.match(end.strip())
    if not sep or first is None or last is None:
        raise ConfigError(f'{where}: quiet_hours: expected "HH:MM-HH:MM" in UTC, such as "22:00-07:00"')
    hours = QuietHours(int(first[1]) * 60 + int(first[2]), int(last[1]) * 60 + int(last[2]))
    if hours.start == hours.end:
        raise ConfigError(f"{where}: quiet_hours: start and end are the same time")
    return hours


def duration(value: Any, where: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
