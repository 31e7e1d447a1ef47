"""Webhook delivery against a real local HTTP receiver (no mock stands in for it).

Retry waits go through an injected sleep that records each delay and moves a fake clock, so
these tests take milliseconds, except the hanging receiver, where the real 10 s timeout is the
point. Every test also checks that neither the signing secret nor the URL's secret path reached
the logs.
"""

from __future__ import annotations

import base64
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import orjson
import pytest

from pipeline.clock import FakeClock
from pipeline.sinks.retry import RetryPolicy
from pipeline.sinks.signing import verify, webhook_id
from pipeline.sinks.webhook import Endpoint, Status, attempt, deliver, generic_payload
from tests.integration.webhook_receiver import Reply, WebhookReceiver

SECRET = "whsec_" + base64.b64encode(b"newsflow-test-signing-key-0123456789").decode()
HOOK_PATH = "/hooks/tok-9f8e7d6c5b4a"  # generic receivers put tokens in paths too
SLACK_PATH = "/services/T0NEWSFLOW/B0ALERTS/xoxSlackPathToken42"
NEVER_LOGGED = (SECRET, SECRET.removeprefix("whsec_"), HOOK_PATH, "tok-9f8e7d6c5b4a", SLACK_PATH, "xoxSlack")

ALERT: dict[str, Any] = {
    "schema": "newsflow.alert/1",
    "id": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
    "rule": "floods",
    "kind": "match",
    "article_ids": ["0123456789abcdef0123456789abcdef"],
    "tags": ["weather/floods"],
    "title": "Rivers burst their banks",
    "url": "https://news.example/floods?id=1&src=rss",
    "fired_at": "2026-11-20T10:30:00.000Z",
    "window": None,
    "count": None,
    "baseline": None,
    "story_id": "s-1",
}


class HalfRandom:
    """Jitter pinned to the middle, so every delay is known: half the ceiling."""

    def random(self) -> float:
        return 0.5


class FakeTime:
    """An injected sleep that records its delays and advances a fake clock by them."""

    def __init__(self) -> None:
        self.start = datetime.now(UTC).replace(microsecond=0)
        self.clock = FakeClock(self.start)
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds)


@pytest.fixture(autouse=True)
def no_secrets_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    records = caplog.get_records("call")
    assert any(r.name == "newsflow.webhook" for r in records), "the delivery logged nothing to check"
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in records)
    leaked = [secret for secret in NEVER_LOGGED if secret in text]
    assert not leaked, f"secrets in the logs: {leaked}\n{text}"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


def hook(receiver: WebhookReceiver, kind: str = "webhook", path: str = HOOK_PATH) -> Endpoint:
    return Endpoint("ops", kind, receiver.url(path), SECRET)  # type: ignore[arg-type]


async def test_three_500s_then_200_delivers_once_with_one_id_and_valid_signatures(
    receiver: WebhookReceiver, session: aiohttp.ClientSession
) -> None:
    receiver.script = [Reply(500), Reply(500), Reply(500), Reply(200)]
    fake = FakeTime()
    policy = RetryPolicy(base=10.0)  # delays 5, 10, 20 s (half jitter): each attempt its own second
    outcome = await deliver(
        session, hook(receiver), ALERT, policy, clock=fake.clock, sleep=fake.sleep, rng=HalfRandom()
    )

    assert (outcome.status, outcome.attempts, outcome.http_status) == (Status.DELIVERED, 4, 200)
    assert fake.sleeps == [5.0, 10.0, 20.0]
    requests = receiver.received()
    assert len(requests) == 4
    assert {r.headers["webhook-id"] for r in requests} == {webhook_id(ALERT["id"], "ops")}
    assert all(r.path == HOOK_PATH and r.body == generic_payload(ALERT) for r in requests)
    assert orjson.loads(requests[0].body) == ALERT
    stamps = [int(r.headers["webhook-timestamp"]) for r in requests]
    start = int(fake.start.timestamp())
    assert stamps == [start, start + 5, start + 15, start + 35]  # this attempt's time, not the first's
    for request, stamp in zip(requests, stamps, strict=True):
        assert verify(SECRET, request.headers, request.body, now=stamp)
        assert not verify(SECRET, request.headers, request.body + b" ", now=stamp)


async def test_hanging_receiver_is_cut_at_ten_seconds(
    receiver: WebhookReceiver, session: aiohttp.ClientSession
) -> None:
    receiver.script = [Reply(hang=True)]
    started = time.monotonic()
    outcome = await attempt(session, hook(receiver), ALERT, datetime.now(UTC))
    elapsed = time.monotonic() - started

    print(f"\nhanging receiver: attempt() returned {outcome.status} after {elapsed:.3f}s")
    assert outcome.status is Status.RETRY
    assert "no response within 10s" in outcome.reason
    assert 9.5 <= elapsed < 12
    assert len(receiver.received()) == 1


async def test_slow_but_timely_receiver_is_delivered(
    receiver: WebhookReceiver, session: aiohttp.ClientSession
) -> None:
    receiver.script = [Reply(204, delay=0.5)]
    outcome = await attempt(session, hook(receiver), ALERT, datetime.now(UTC))
    assert outcome.status is Status.DELIVERED


async def test_410_gone_stops_at_once(receiver: WebhookReceiver, session: aiohttp.ClientSession) -> None:
    receiver.script = [Reply(410), Reply(200)]
    fake = FakeTime()
    outcome = await deliver(session, hook(receiver), ALERT, clock=fake.clock, sleep=fake.sleep)

    assert (outcome.status, outcome.attempts) == (Status.GONE, 1)
    assert fake.sleeps == []
    assert len(receiver.received()) == 1


@pytest.mark.parametrize("status", [400, 401, 404, 422])
async def test_other_4xx_is_rejected_and_not_retried(
    status: int, receiver: WebhookReceiver, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.script = [Reply(status), Reply(200)]
    fake = FakeTime()
    outcome = await deliver(session, hook(receiver), ALERT, clock=fake.clock, sleep=fake.sleep)

    assert (outcome.status, outcome.attempts, outcome.http_status) == (Status.REJECTED, 1, status)
    assert fake.sleeps == []
    assert len(receiver.received()) == 1
    assert f"HTTP {status}" in caplog.text and "not retried" in caplog.text  # says why


async def test_redirect_is_not_followed(receiver: WebhookReceiver, session: aiohttp.ClientSession) -> None:
    receiver.script = [Reply(302, headers={"Location": receiver.url("/elsewhere")})]
    outcome = await attempt(session, hook(receiver), ALERT, datetime.now(UTC))

    assert outcome.status is Status.REJECTED
    assert [r.path for r in receiver.received()] == [HOOK_PATH]


async def test_429_retry_after_sets_the_next_delay(
    receiver: WebhookReceiver, session: aiohttp.ClientSession
) -> None:
    receiver.script = [Reply(429, headers={"Retry-After": "2"}), Reply(200)]
    fake = FakeTime()
    outcome = await deliver(
        session, hook(receiver), ALERT, clock=fake.clock, sleep=fake.sleep, rng=HalfRandom()
    )

    assert (outcome.status, outcome.attempts) == (Status.DELIVERED, 2)
    assert fake.sleeps == [2.0]  # the policy alone would have waited 0.5 s
    assert len({r.headers["webhook-id"] for r in receiver.received()}) == 1


async def test_connection_refused_is_retried_until_the_policy_gives_up(
    session: aiohttp.ClientSession,
) -> None:
    with socket.socket() as sock:  # a port nothing listens on once this closes
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = Endpoint("ops", "webhook", f"http://127.0.0.1:{port}{HOOK_PATH}", SECRET)

    first = await attempt(session, endpoint, ALERT, datetime.now(UTC))
    assert first.status is Status.RETRY
    assert first.reason.startswith("connection error:")

    fake = FakeTime()
    outcome = await deliver(
        session, endpoint, ALERT, RetryPolicy(max_attempts=3), clock=fake.clock, sleep=fake.sleep
    )
    assert (outcome.status, outcome.attempts) == (Status.EXHAUSTED, 3)
    assert len(fake.sleeps) == 2


async def test_slack_payload_escapes_control_sequences(
    receiver: WebhookReceiver, session: aiohttp.ClientSession
) -> None:
    alert = {
        **ALERT,
        "title": "Alert <!channel> & <http://x|y>",
        "rule": "ops <!here>",
        "tags": ["<@U024BE7LH>", "weather/floods"],
    }
    outcome = await attempt(
        session, hook(receiver, "slack", SLACK_PATH), alert, datetime.now(UTC) - timedelta(seconds=1)
    )

    assert outcome.status is Status.DELIVERED
    (request,) = receiver.received()
    assert request.path == SLACK_PATH
    assert request.headers["content-type"] == "application/json"
    text = orjson.loads(request.body)["text"]
    assert "&lt;!channel&gt;" in text
    assert "&lt;http://x|y&gt;" in text
    assert "&amp;" in text
    assert "&lt;!here&gt;" in text and "&lt;@U024BE7LH&gt;" in text
    for raw in ("<!channel>", "<http://x|y>", "<!here>", "<@U024BE7LH>", " & "):
        assert raw not in text
    # The one link we build ourselves: the article's, with its & escaped.
    assert (
        "<https://news.example/floods?id=1&amp;src=rss|Alert &lt;!channel&gt; &amp; &lt;http://x|y&gt;>"
        in text
    )
    assert verify(SECRET, request.headers, request.body, now=time.time())


async def test_a_garbled_retry_after_is_ignored(
    receiver: WebhookReceiver, session: aiohttp.ClientSession
) -> None:
    receiver.script = [Reply(503, headers={"Retry-After": "²"})]
    outcome = await attempt(session, hook(receiver), ALERT, datetime.now(UTC))
    assert (outcome.status, outcome.retry_after) == (Status.RETRY, None)
