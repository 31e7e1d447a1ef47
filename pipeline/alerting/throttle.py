"""Per-rule delivery policy: digest, quiet hours and rate limit. Nothing is dropped silently.

In the order :func:`admit` applies them to a new alert:

1. ``digest: PERIOD`` — alerts are collected and sent as one digest message at the end of
   each period (periods are aligned to the epoch: ``1h`` ends on the hour, UTC).
2. ``quiet_hours`` — during them alerts are held; at their end everything held goes out
   as one message (the alert itself when only one was held, else a digest).
3. ``rate_limit`` — at most N messages per rolling hour; beyond, alerts are held and go
   out as one digest message as soon as the hour has room again.

Alerts arriving while others are held join them, so order is kept. A digest due during
quiet hours waits for their end. At most ``MAX_KEPT`` alerts are kept per list; more are
counted (``omitted`` in the digest), so a flooding rule costs bounded memory but is never
silent. :func:`release` (called on every article and from the agent's timer) sends what is
due. State is a plain JSON-serialisable dict (:class:`ThrottleState`).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal, TypedDict

from pipeline.alerting.message import Alert, digest_alert
from pipeline.alerting.rules import Rule

MAX_KEPT = 200
HOUR = 3600.0
Held = Literal["digest", "quiet-hours", "rate-limit"]


class ThrottleState(TypedDict):
    sent: list[float]  # epoch seconds of messages sent in the last hour
    held: list[dict[str, Any]]  # alerts (JSON) held by quiet hours or the rate limit
    held_omitted: int
    digest: list[dict[str, Any]]  # alerts (JSON) collected for the next digest
    digest_omitted: int
    digest_due: float | None  # epoch seconds when the collected digest goes out


def new_state() -> ThrottleState:
    return {"sent": [], "held": [], "held_omitted": 0, "digest": [], "digest_omitted": 0, "digest_due": None}


def _copy(state: ThrottleState | None, now: float) -> ThrottleState:
    if state is None:
        return new_state()
    copied: ThrottleState = {
        "sent": [float(moment) for moment in state["sent"] if moment > now - HOUR],
        "held": list(state["held"]),
        "held_omitted": int(state["held_omitted"]),
        "digest": list(state["digest"]),
        "digest_omitted": int(state["digest_omitted"]),
        "digest_due": state["digest_due"],
    }
    return copied


def _quiet(rule: Rule, now: datetime) -> bool:
    hours = rule.options.quiet_hours
    return hours is not None and hours.contains(now)


def admit(
    rule: Rule, state: ThrottleState | None, alert: Alert, now: datetime
) -> tuple[ThrottleState, list[Alert], Held | None]:
    """A new alert: (new state, messages to send now, why it was held — None when sent)."""
    moment = now.timestamp()
    state = _copy(state, moment)
    record = alert.model_dump(mode="json", by_alias=True)
    period = rule.options.digest
    if period is not None:
        if state["digest_due"] is None:
            state["digest_due"] = (math.floor(moment / period) + 1) * period
        _keep(state, "digest", record)
        return state, [], "digest"
    if _quiet(rule, now) or state["held"] or state["held_omitted"]:
        _keep(state, "held", record)
        return state, [], "quiet-hours" if _quiet(rule, now) else "rate-limit"
    if len(state["sent"]) >= rule.options.rate_limit:
        _keep(state, "held", record)
        return state, [], "rate-limit"
    state["sent"].append(moment)
    return state, [alert], None


def release(rule: Rule, state: ThrottleState | None, now: datetime) -> tuple[ThrottleState, list[Alert]]:
    """Messages that are due at ``now``: a finished digest period, held alerts once allowed."""
    moment = now.timestamp()
    state = _copy(state, moment)
    if _quiet(rule, now):
        return state, []
    out: list[Alert] = []
    due = state["digest_due"]
    if due is not None and moment >= due:
        if state["digest"]:
            members = [Alert.model_validate(record) for record in state["digest"]]
            out.append(digest_alert(rule, members, state["digest_omitted"], now))
        state["digest"], state["digest_omitted"], state["digest_due"] = [], 0, None
    if state["held"] and len(state["sent"]) < rule.options.rate_limit:
        members = [Alert.model_validate(record) for record in state["held"]]
        omitted = state["held_omitted"]
        out.append(
            members[0] if len(members) == 1 and not omitted else digest_alert(rule, members, omitted, now)
        )
        state["held"], state["held_omitted"] = [], 0
        state["sent"].append(moment)
    return state, out


def _keep(state: ThrottleState, key: Literal["held", "digest"], record: dict[str, Any]) -> None:
    if len(state[key]) < MAX_KEPT:
        state[key] = [*state[key], record]
    elif key == "held":
        state["held_omitted"] += 1
    else:
        state["digest_omitted"] += 1
