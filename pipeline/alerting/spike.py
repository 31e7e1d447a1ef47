"""Spike detection: a topic's article count in a sliding window against its own baseline.

Time is cut into buckets of a tenth of the rule's window (a 10-minute window counts per
minute); the window is the latest ten buckets, the current one included, so it slides with
a resolution of a tenth of a window. The baseline is the ``baseline`` period right before
the window (the window itself excluded, so a burst does not raise its own bar), turned into
the count expected for one window:

    expected = baseline count × window / baseline
    fires when count >= min_count and count >= factor × expected

A rule fires once per burst: it re-arms only when the window count falls back below the
threshold (checked on the next article of the topic or on the next :func:`check`, which the
agent calls from a timer). It stays quiet until it has watched one full window + baseline
("warm-up"): without history every first article would look like a spike. Buckets older
than window + baseline are dropped, so the state is bounded by 10 × (1 + baseline/window)
counts (rules cap baseline/window, see ``rules.MAX_BASELINE_WINDOWS``) plus a few ids.

State is a plain JSON-serialisable dict (:class:`SpikeState`): a Faust table can hold it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from pipeline.alerting.rules import SpikeRule

BUCKETS_PER_WINDOW = 10
RECENT_IDS = 20  # article ids kept to name in the alert


class RecentArticle(TypedDict):
    at: float  # epoch seconds
    id: str


class SpikeState(TypedDict):
    since: float  # epoch seconds when watching began (the warm-up runs from here)
    buckets: list[list[int]]  # [[bucket index, count], ...], ascending, no zero counts
    active: bool  # fired for the current burst; cleared when the window falls below threshold
    burst: int | None  # bucket index the current (or last) burst fired in
    recent: list[RecentArticle]  # newest last, at most RECENT_IDS


@dataclass(frozen=True, slots=True)
class SpikeFire:
    count: int  # articles in the window when it fired
    expected: float  # baseline scaled to one window
    burst: int  # bucket index it fired in: identifies the burst (alert id)
    article_ids: tuple[str, ...]  # the latest articles of the window


def new_state(now: datetime) -> SpikeState:
    return {"since": now.timestamp(), "buckets": [], "active": False, "burst": None, "recent": []}


def bucket_seconds(rule: SpikeRule) -> float:
    return rule.window / BUCKETS_PER_WINDOW


def _baseline_buckets(rule: SpikeRule) -> int:
    return max(1, round(rule.baseline / bucket_seconds(rule)))


def _current(rule: SpikeRule, state: SpikeState, now: datetime) -> int:
    """The bucket ``now`` falls in; never before the newest bucket (time only moves on)."""
    index = math.floor(now.timestamp() / bucket_seconds(rule))
    return max(index, state["buckets"][-1][0]) if state["buckets"] else index


def counts(rule: SpikeRule, state: SpikeState, now: datetime) -> tuple[int, float]:
    """(articles in the window, count expected for a window from the baseline)."""
    current = _current(rule, state, now)
    window_start = current - BUCKETS_PER_WINDOW  # exclusive
    baseline_start = window_start - _baseline_buckets(rule)  # exclusive
    in_window = sum(n for index, n in state["buckets"] if index > window_start)
    in_baseline = sum(n for index, n in state["buckets"] if baseline_start < index <= window_start)
    return in_window, in_baseline * BUCKETS_PER_WINDOW / _baseline_buckets(rule)


def threshold(rule: SpikeRule, expected: float) -> float:
    return max(float(rule.min_count), rule.factor * expected)


def observe(
    rule: SpikeRule, state: SpikeState | None, article_id: str, now: datetime
) -> tuple[SpikeState, SpikeFire | None]:
    """Count one article of the rule's topic at ``now``; the new state and whether it fired."""
    state = _copy(state) if state is not None else new_state(now)
    if any(item["id"] == article_id for item in state["recent"]):
        return state, None  # the same article again (a replay after a restart): counted once
    current = _current(rule, state, now)
    buckets = state["buckets"]
    if buckets and buckets[-1][0] == current:
        buckets[-1][1] += 1
    else:
        buckets.append([current, 1])
    latest: RecentArticle = {"at": now.timestamp(), "id": article_id}
    state["recent"] = [*state["recent"], latest][-RECENT_IDS:]
    return _evaluate(rule, state, now)


def check(rule: SpikeRule, state: SpikeState | None, now: datetime) -> SpikeState:
    """Re-evaluate without a new article (a timer): prunes and re-arms after a burst ends.

    Also starts the warm-up of a rule that has seen no article yet, so a topic that is
    silent for days can still spike once it appears.
    """
    if state is None:
        return new_state(now)
    state, fire = _evaluate(rule, _copy(state), now, may_fire=False)
    assert fire is None
    return state


def _evaluate(
    rule: SpikeRule, state: SpikeState, now: datetime, may_fire: bool = True
) -> tuple[SpikeState, SpikeFire | None]:
    current = _current(rule, state, now)
    oldest = current - BUCKETS_PER_WINDOW - _baseline_buckets(rule)
    state["buckets"] = [bucket for bucket in state["buckets"] if bucket[0] > oldest]
    count, expected = counts(rule, state, now)
    if count < threshold(rule, expected):
        state["active"] = False  # the burst is over: the next one may fire
        return state, None
    warm = now.timestamp() - state["since"] >= rule.window + rule.baseline
    if state["active"] or not warm or not may_fire:
        return state, None
    state["active"] = True
    state["burst"] = current
    since = (current - BUCKETS_PER_WINDOW + 1) * bucket_seconds(rule)
    ids = tuple(dict.fromkeys(item["id"] for item in state["recent"] if item["at"] >= since))
    return state, SpikeFire(count, expected, current, ids)


def _copy(state: SpikeState) -> SpikeState:
    """A copy deep enough that the caller's state is never changed (it may be a table's)."""
    return {
        "since": float(state["since"]),
        "buckets": [[int(index), int(n)] for index, n in state["buckets"]],
        "active": bool(state["active"]),
        "burst": state["burst"],
        "recent": [{"at": float(item["at"]), "id": str(item["id"])} for item in state["recent"]],
    }
