"""When to try a webhook again: the :class:`RetryPolicy`, its jittered ``next_delay``, and the
:class:`Delivery` record that carries a pending delivery from one attempt to the next.

Kept apart from the HTTP side because it is pure policy (no network, time passed in) and
because where retries live is the caller's choice. ``webhook.deliver`` loops in-process (CLI,
tests). The worker must not wait on an endpoint, so it keeps a :class:`Delivery` record on a
topic of its own and calls ``webhook.attempt`` when the record is due; ``next_delivery``
schedules the next try with the same policy. Either way every attempt carries the same
``webhook-id`` and its own timestamp.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from pipeline.clock import parse_rfc3339, rfc3339
from pipeline.errors import InvalidArticle
from pipeline.sinks.signing import webhook_id

if TYPE_CHECKING:  # webhook imports this module: at run time Status is imported where used
    from pipeline.sinks.webhook import Outcome

__all__ = ["Delivery", "RetryPolicy", "Rng", "next_delay", "next_delivery"]


class Rng(Protocol):
    def random(self) -> float:
        """Uniform in [0, 1)."""
        ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to try again: exponential from ``base`` (×``factor``), capped at ``cap``, full jitter.

    Defaults: 1 s, 2 s, 4 s … 5 min, each delay uniform in [0, ceiling) so endpoints failing
    together are not hit in lockstep; at most 25 attempts (mean ≈ 40 min, at most ≈ 83 min of
    trying), because an alert about the news is stale after that. ``Retry-After`` is a floor on
    the next delay (up to ``max_retry_after``) and can stretch the schedule, never past
    ``max_age`` after the first attempt."""

    base: float = 1.0
    factor: float = 2.0
    cap: float = 300.0
    max_attempts: int = 25
    max_age: float = 24 * 3600.0
    max_retry_after: float = 3600.0


def next_delay(attempt: int, rng: Rng, policy: RetryPolicy = RetryPolicy()) -> float | None:
    """Seconds to wait after failed attempt number ``attempt`` (1-based), or None: give up."""
    if attempt < 1:
        raise ValueError(f"attempt numbers start at 1, got {attempt}")
    if attempt >= policy.max_attempts:
        return None
    ceiling = min(policy.cap, policy.base * policy.factor ** min(attempt - 1, 64))
    return ceiling * rng.random()


@dataclass(frozen=True, slots=True)
class Delivery:
    """A pending delivery, JSON-serialisable so the worker can keep it on a retry topic.

    ``attempt`` is the 1-based number of the attempt this record schedules; the endpoint is
    named, never embedded (its URL and secret stay in the configuration)."""

    alert_id: str
    endpoint: str
    attempt: int
    next_attempt_at: datetime
    first_attempt_at: datetime
    alert: dict[str, Any] = field(hash=False)  # the message itself: a retry needs nothing else
    last_reason: str = ""

    @classmethod
    def first(cls, alert: Mapping[str, Any], endpoint: str, now: datetime) -> Delivery:
        return cls(_alert_id(alert), endpoint, 1, now, now, dict(alert))

    @property
    def webhook_id(self) -> str:
        """Also a good Kafka key: one delivery's records stay in order on one partition."""
        return webhook_id(self.alert_id, self.endpoint)

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "schema": "newsflow.delivery/1",
                "alert_id": self.alert_id,
                "endpoint": self.endpoint,
                "attempt": self.attempt,
                "next_attempt_at": rfc3339(self.next_attempt_at),
                "first_attempt_at": rfc3339(self.first_attempt_at),
                "last_reason": self.last_reason,
                "alert": self.alert,
            }
        )

    @classmethod
    def from_json(cls, data: bytes | str) -> Delivery:
        try:
            raw = orjson.loads(data)
            record = cls(
                str(raw["alert_id"]),
                str(raw["endpoint"]),
                int(raw["attempt"]),
                parse_rfc3339(raw["next_attempt_at"]),
                parse_rfc3339(raw["first_attempt_at"]),
                dict(raw["alert"]),
                str(raw.get("last_reason", "")),
            )
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidArticle("bad-delivery-record", type(exc).__name__) from None
        return record


def next_delivery(
    delivery: Delivery, outcome: Outcome, now: datetime, rng: Rng, policy: RetryPolicy = RetryPolicy()
) -> Delivery | None:
    """The record of the next attempt after ``outcome``, or None: delivered, gone, rejected, or
    the policy gives up (the caller then reports it as exhausted)."""
    from pipeline.sinks.webhook import Status  # not at the top: webhook imports this module

    if outcome.status is not Status.RETRY:
        return None
    delay = next_delay(delivery.attempt, rng, policy)
    if delay is None:
        return None
    if outcome.retry_after is not None:
        delay = max(delay, min(outcome.retry_after, policy.max_retry_after))
    due = now + timedelta(seconds=delay)
    if (due - delivery.first_attempt_at).total_seconds() > policy.max_age:
        return None
    return Delivery(
        delivery.alert_id,
        delivery.endpoint,
        delivery.attempt + 1,
        due,
        delivery.first_attempt_at,
        delivery.alert,
        outcome.reason,
    )


def _alert_id(alert: Mapping[str, Any]) -> str:
    """The alert's id, which names its delivery (``webhook_id``); shared with ``webhook.attempt``."""
    value = alert.get("id")
    if not isinstance(value, str) or not value:
        raise InvalidArticle("alert-without-id", "an alert needs a non-empty string id to be delivered")
    return value
