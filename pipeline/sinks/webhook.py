"""Alert webhooks: one POST per attempt, signed like Standard Webhooks, retried with capped backoff.

This module holds the HTTP side: the :class:`Endpoint`, the body it gets, what an answer means
(``classify``), one ``attempt`` and the in-process ``deliver`` loop. Signing (``webhook-id``,
``sign``, ``verify``) lives in ``signing``; the retry schedule, its :class:`Delivery` record and
where retries live, in ``retry``: both pure, testable without a network. Their public names are
re-exported here, so ``from pipeline.sinks.webhook import …`` keeps working.

A delivery is one alert (the ``news.alerts`` JSON message, a plain dict) to one endpoint. What
an attempt's answer means for the caller:

    delivered  2xx
    retry      5xx, 408, 425, 429 or any answer we cannot classify; no answer within 10 s;
               a refused or broken connection. ``Retry-After`` (429/503) is honoured.
    gone       410 Gone: the receiver wants no more (Standard Webhooks): disable the endpoint
    rejected   3xx (redirects are never followed: fix the URL) and other 4xx: not retried
    exhausted  (deliver / next_delivery) the retry policy gave up

Secrets: an endpoint's secret, and its URL's path and query (a Slack webhook URL *is* a
credential), never appear in ``repr``/``str``, log lines or outcome reasons: name and host only.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import urlsplit

import aiohttp
import orjson

from pipeline.cleaning.urls import safe_http_url
from pipeline.clock import Clock, SystemClock
from pipeline.errors import ConfigError
from pipeline.poller.fetcher import parse_retry_after
from pipeline.sinks.retry import Delivery, RetryPolicy, Rng, _alert_id, next_delay, next_delivery
from pipeline.sinks.signing import _ID_SAFE, sign, signing_key, verify, webhook_id
from pipeline.sinks.slack import slack_payload

__all__ = [
    "TIMEOUT",
    "Delivery",
    "Endpoint",
    "Outcome",
    "RetryPolicy",
    "Rng",
    "Status",
    "attempt",
    "classify",
    "deliver",
    "generic_payload",
    "next_delay",
    "next_delivery",
    "payload",
    "sign",
    "signing_key",
    "verify",
    "webhook_id",
]

log = logging.getLogger("newsflow.webhook")

TIMEOUT = 10.0  # seconds for a whole attempt: connect, send, response headers
USER_AGENT = "newsflow-webhooks/1"
_RETRY_STATUSES = frozenset({408, 425, 429})

Kind = Literal["webhook", "slack"]


@dataclass(frozen=True, slots=True, repr=False)
class Endpoint:
    """Where alerts go. ``kind`` chooses the body: the alert's JSON, or a Slack message."""

    name: str
    kind: Kind
    url: str
    secret: str | None = None

    def __post_init__(self) -> None:
        # Messages name the endpoint, never echo the URL or the secret.
        if not _ID_SAFE.fullmatch(self.name):
            raise ConfigError(f"webhook endpoint name {self.name[:100]!r}: use 1-100 of A-Z a-z 0-9 _ -")
        if self.kind not in ("webhook", "slack"):
            raise ConfigError(f"webhook endpoint {self.name}: kind must be 'webhook' or 'slack'")
        if safe_http_url(self.url) is None:
            raise ConfigError(f"webhook endpoint {self.name}: url must be http(s) with a host")
        if self.secret is not None:
            try:
                signing_key(self.secret)
            except ValueError:
                raise ConfigError(
                    f"webhook endpoint {self.name}: secret after whsec_ is not base64"
                ) from None

    @property
    def host(self) -> str:
        parts = urlsplit(self.url)
        return parts.netloc.rpartition("@")[2]  # user:password@ would be a secret too

    def __repr__(self) -> str:
        secret = "set" if self.secret else "none"
        return f"Endpoint(name={self.name!r}, kind={self.kind!r}, host={self.host!r}, secret={secret})"

    def __str__(self) -> str:
        return f"{self.name} ({self.host})"


def generic_payload(alert: Mapping[str, Any]) -> bytes:
    """The alert message itself, as compact JSON."""
    return orjson.dumps(dict(alert))


def payload(endpoint: Endpoint, alert: Mapping[str, Any]) -> bytes:
    return slack_payload(alert) if endpoint.kind == "slack" else generic_payload(alert)


class Status(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    GONE = "gone"
    REJECTED = "rejected"
    EXHAUSTED = "exhausted"


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    reason: str  # short and secret-free: "HTTP 503", "no response within 10s", …
    http_status: int | None = None
    retry_after: float | None = None  # seconds the receiver asked us to wait
    attempts: int = 1  # attempts made for this delivery so far


def classify(status: int, retry_after: float | None = None, attempts: int = 1) -> Outcome:
    """What an HTTP status means for a delivery (table in the module docstring)."""
    if 200 <= status < 300:
        return Outcome(Status.DELIVERED, f"HTTP {status}", status, None, attempts)
    if status == 410:
        return Outcome(Status.GONE, "HTTP 410 Gone", status, None, attempts)
    if 300 <= status < 400:
        return Outcome(Status.REJECTED, f"HTTP {status}: redirects are not followed", status, None, attempts)
    if 400 <= status < 500 and status not in _RETRY_STATUSES:
        return Outcome(Status.REJECTED, f"HTTP {status}", status, None, attempts)
    return Outcome(Status.RETRY, f"HTTP {status}", status, retry_after, attempts)


async def attempt(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    alert: Mapping[str, Any],
    now: datetime,
    *,
    number: int = 1,
    timeout: float = TIMEOUT,
) -> Outcome:
    """One signed POST of ``alert``, stamped with ``now``; never raises for what the endpoint does.

    ``number`` is this attempt's 1-based number (for ``Outcome.attempts`` and the log line)."""
    alert_id = _alert_id(alert)
    body = payload(endpoint, alert)
    msg_id, stamp = webhook_id(alert_id, endpoint.name), int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
    }
    if endpoint.secret is not None:
        headers["webhook-signature"] = sign(endpoint.secret, msg_id, stamp, body)
    try:
        # aiohttp rounds deadlines over 5 s up to a whole second (up to 11 s here): the outer
        # asyncio.timeout holds the attempt to exactly ``timeout``.
        async with (
            asyncio.timeout(timeout),
            session.post(
                endpoint.url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response,
        ):
            outcome = classify(response.status, _retry_after(response.headers, now), number)
    except TimeoutError:  # before aiohttp.ClientError: its timeouts are both
        outcome = Outcome(Status.RETRY, f"no response within {timeout:g}s", attempts=number)
    except aiohttp.ClientError as exc:
        # The type only: some aiohttp messages quote the URL, whose path may be a credential.
        outcome = Outcome(Status.RETRY, f"connection error: {type(exc).__name__}", attempts=number)
    _log(endpoint, alert_id, outcome)
    return outcome


async def deliver(
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    alert: Mapping[str, Any],
    policy: RetryPolicy = RetryPolicy(),  # noqa: B008 (frozen: one shared default is safe)
    *,
    clock: Clock | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: Rng | None = None,
) -> Outcome:
    """Attempt until delivered, gone, rejected or exhausted; waits with ``sleep`` in between.

    This holds its caller for as long as the schedule runs: stream processing uses
    ``attempt`` + ``next_delivery`` with a retry topic instead."""
    clock = clock or SystemClock()
    rng = rng or random.Random()
    pending = Delivery.first(alert, endpoint.name, clock.now())
    while True:
        outcome = await attempt(session, endpoint, alert, clock.now(), number=pending.attempt)
        now = clock.now()
        later = next_delivery(pending, outcome, now, rng, policy)
        if later is None:
            if outcome.status is not Status.RETRY:
                return outcome
            log.error(
                "webhook %s: gave up on alert %s after %d attempts",
                endpoint,
                pending.alert_id,
                pending.attempt,
            )
            return Outcome(Status.EXHAUSTED, outcome.reason, outcome.http_status, None, outcome.attempts)
        await sleep((later.next_attempt_at - now).total_seconds())
        pending = later


def _retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    try:
        return parse_retry_after(headers.get("Retry-After"), now)
    except ValueError:  # e.g. "²": str.isdigit() accepts it, float() does not
        return None


def _log(endpoint: Endpoint, alert_id: str, outcome: Outcome) -> None:
    number = outcome.attempts
    if outcome.status is Status.DELIVERED:
        log.info("webhook %s: alert %s delivered (attempt %d)", endpoint, alert_id, number)
    elif outcome.status is Status.RETRY:
        log.warning("webhook %s: alert %s attempt %d failed: %s", endpoint, alert_id, number, outcome.reason)
    elif outcome.status is Status.GONE:
        log.warning("webhook %s answered 410 Gone (alert %s): disable this endpoint", endpoint, alert_id)
    else:
        log.warning("webhook %s rejected alert %s: %s; not retried", endpoint, alert_id, outcome.reason)
