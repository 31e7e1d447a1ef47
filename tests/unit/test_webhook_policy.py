"""Webhook policies without a network: retry delays, status classes, signatures, escaping."""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from pipeline.errors import ConfigError, InvalidArticle
from pipeline.sinks.retry import Delivery, RetryPolicy, next_delay, next_delivery
from pipeline.sinks.signing import sign, signing_key, verify, webhook_id
from pipeline.sinks.slack import escape, slack_link, slack_text
from pipeline.sinks.webhook import Endpoint, Outcome, Status, classify, generic_payload

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
DEFAULT = RetryPolicy()
ALERT: dict[str, Any] = {
    "id": "a1b2c3",
    "rule": "floods",
    "kind": "match",
    "title": "Rivers rise",
    "url": None,
    "tags": [],
}


class Fixed:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


# --- retry delays ----------------------------------------------------------------------------

DELAYS = [
    # name, failed attempt, jitter draw, policy, expected seconds (None: give up)
    ("first retry, top of the jitter", 1, 0.75, DEFAULT, 0.75),
    ("full jitter reaches zero", 1, 0.0, DEFAULT, 0.0),
    ("×2 per attempt", 4, 0.5, DEFAULT, 4.0),
    ("ninth retry still under the cap", 9, 1.0, DEFAULT, 256.0),
    ("capped at 5 min", 10, 1.0, DEFAULT, 300.0),
    ("capped, half jitter", 20, 0.5, DEFAULT, 150.0),
    ("huge attempt numbers stay capped", 10_000, 1.0, RetryPolicy(max_attempts=10**9), 300.0),
    ("one before the last attempt retries", 24, 0.5, DEFAULT, 150.0),
    ("the 25th attempt was the last", 25, 0.5, DEFAULT, None),
    ("past the last attempt", 40, 0.5, DEFAULT, None),
    ("custom policy", 3, 1.0, RetryPolicy(base=2, factor=3, cap=60, max_attempts=5), 18.0),
    ("custom policy gives up", 5, 1.0, RetryPolicy(base=2, factor=3, cap=60, max_attempts=5), None),
]


@pytest.mark.parametrize(
    ("attempt", "draw", "policy", "expected"), [case[1:] for case in DELAYS], ids=[c[0] for c in DELAYS]
)
def test_next_delay(attempt: int, draw: float, policy: RetryPolicy, expected: float | None) -> None:
    assert next_delay(attempt, Fixed(draw), policy) == expected


def test_jitter_stays_within_zero_and_the_ceiling() -> None:
    rng = random.Random(42)
    for attempt in range(1, DEFAULT.max_attempts):
        ceiling = min(DEFAULT.cap, DEFAULT.base * DEFAULT.factor ** (attempt - 1))
        delays = [next_delay(attempt, rng) for _ in range(200)]
        assert all(d is not None and 0.0 <= d < ceiling for d in delays), attempt
        assert max(d for d in delays if d is not None) > ceiling * 0.8  # spread over the range


def test_the_default_schedule_ends_within_an_hour_and_a_half() -> None:
    worst = sum(next_delay(attempt, Fixed(1.0)) or 0.0 for attempt in range(1, DEFAULT.max_attempts))
    assert 60 * 60 < worst < 90 * 60


def test_attempt_numbers_start_at_one() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        next_delay(0, Fixed(0.5))


# --- scheduling the next delivery ----------------------------------------------------------------


def retry(retry_after: float | None = None) -> Outcome:
    return Outcome(Status.RETRY, "HTTP 503", 503, retry_after)


NEXT = [
    # name, outcome, attempt of the record, first attempt age (s), expected delay (None: no retry)
    ("5xx: policy delay", retry(), 1, 0, 0.5),
    ("Retry-After is a floor", retry(2.0), 1, 0, 2.0),
    ("Retry-After below the policy delay", retry(1.0), 6, 0, 16.0),
    ("Retry-After bounded by max_retry_after", retry(10**9), 1, 0, 3600.0),
    ("max age reached", retry(), 3, 24 * 3600 - 1, None),
    ("policy gives up", retry(), 25, 0, None),
    ("delivered: nothing more", Outcome(Status.DELIVERED, "HTTP 200", 200), 1, 0, None),
    ("gone: nothing more", Outcome(Status.GONE, "HTTP 410 Gone", 410), 1, 0, None),
    ("rejected: nothing more", Outcome(Status.REJECTED, "HTTP 404", 404), 1, 0, None),
]


@pytest.mark.parametrize(
    ("outcome", "number", "age", "delay"), [c[1:] for c in NEXT], ids=[c[0] for c in NEXT]
)
def test_next_delivery(outcome: Outcome, number: int, age: float, delay: float | None) -> None:
    record = Delivery("a1b2c3", "ops", number, NOW, NOW - timedelta(seconds=age), dict(ALERT))
    later = next_delivery(record, outcome, NOW, Fixed(0.5))
    if delay is None:
        assert later is None
        return
    assert later is not None
    assert (later.attempt, later.next_attempt_at, later.last_reason) == (
        number + 1,
        NOW + timedelta(seconds=delay),
        outcome.reason,
    )
    assert (later.first_attempt_at, later.webhook_id) == (record.first_attempt_at, record.webhook_id)


def test_delivery_record_round_trips_through_json() -> None:
    record = Delivery.first(ALERT, "ops", NOW)
    later = next_delivery(record, retry(), NOW, Fixed(0.5))
    assert later is not None
    assert Delivery.from_json(later.to_json()) == later
    assert orjson.loads(later.to_json())["next_attempt_at"] == "2026-11-20T10:30:00.500Z"


@pytest.mark.parametrize(
    "data", [b"", b"[]", b'{"alert_id": "x"}', b'{"alert_id":"x","endpoint":"e","attempt":"one"}']
)
def test_a_broken_delivery_record_is_a_dead_letter(data: bytes) -> None:
    with pytest.raises(InvalidArticle, match="bad-delivery-record"):
        Delivery.from_json(data)


def test_an_alert_without_id_cannot_be_delivered() -> None:
    with pytest.raises(InvalidArticle, match="alert-without-id"):
        Delivery.first({"rule": "x"}, "ops", NOW)


# --- status classes ----------------------------------------------------------------------------

STATUSES = [
    (200, Status.DELIVERED),
    (202, Status.DELIVERED),
    (204, Status.DELIVERED),
    (410, Status.GONE),
    (301, Status.REJECTED),
    (302, Status.REJECTED),
    (307, Status.REJECTED),
    (400, Status.REJECTED),
    (401, Status.REJECTED),
    (403, Status.REJECTED),
    (404, Status.REJECTED),
    (413, Status.REJECTED),
    (408, Status.RETRY),
    (425, Status.RETRY),
    (429, Status.RETRY),
    (500, Status.RETRY),
    (502, Status.RETRY),
    (503, Status.RETRY),
    (504, Status.RETRY),
    (101, Status.RETRY),  # nothing a webhook should answer: not a success
]


@pytest.mark.parametrize(("code", "status"), STATUSES, ids=[str(c) for c, _ in STATUSES])
def test_classify(code: int, status: Status) -> None:
    outcome = classify(code, retry_after=5.0)
    assert (outcome.status, outcome.http_status) == (status, code)
    assert outcome.retry_after == (5.0 if status is Status.RETRY else None)


# --- signatures ------------------------------------------------------------------------------

KEY = b"0123456789abcdef0123456789abcdef"
SECRET = "whsec_" + base64.b64encode(KEY).decode()
BODY = b'{"id":"a1b2c3","rule":"floods"}'


def by_hand(key: bytes, msg_id: str, stamp: int, body: bytes) -> str:
    """The Standard Webhooks formula, written out: v1,base64(HMAC-SHA256(key, id.timestamp.body))."""
    signed = msg_id.encode() + b"." + str(stamp).encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(signature: str, stamp: int = 1_700_000_000, msg_id: str = "a1b2c3:ops") -> dict[str, str]:
    return {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": signature}


def test_signature_matches_the_formula_by_hand() -> None:
    assert sign(SECRET, "a1b2c3:ops", 1_700_000_000, BODY) == by_hand(KEY, "a1b2c3:ops", 1_700_000_000, BODY)


def test_signature_known_answer_from_the_standard_webhooks_libraries() -> None:
    # The vector of the reference libraries' sign test (standard-webhooks, libraries/*/tests).
    signature = sign(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_secret_without_whsec_prefix_is_used_as_raw_bytes() -> None:
    assert signing_key("plain-shared-secret") == b"plain-shared-secret"
    assert signing_key(SECRET) == KEY
    assert sign("plain", "i", 1, b"x") == by_hand(b"plain", "i", 1, b"x")


STAMP = 1_700_000_000
GOOD = by_hand(KEY, "a1b2c3:ops", STAMP, BODY)
VERIFY = [
    # name, headers, body, now, expected
    ("valid", headers(GOOD), BODY, STAMP + 10, True),
    ("valid at the tolerance edge", headers(GOOD), BODY, STAMP + 300, True),
    ("header names in any case", {k.title(): v for k, v in headers(GOOD).items()}, BODY, STAMP, True),
    ("one of several signatures (rotation)", headers(f"v1,AAAA v1a,BBBB {GOOD}"), BODY, STAMP, True),
    ("tampered body", headers(GOOD), BODY.replace(b"floods", b"fl00ds"), STAMP, False),
    ("old timestamp (replay)", headers(GOOD), BODY, STAMP + 301, False),
    ("timestamp from the future", headers(GOOD), BODY, STAMP - 301, False),
    ("timestamp changed", headers(GOOD, stamp=STAMP + 1), BODY, STAMP, False),
    ("id changed", headers(GOOD, msg_id="a1b2c3:other"), BODY, STAMP, False),
    ("wrong key", headers(by_hand(b"another key", "a1b2c3:ops", STAMP, BODY)), BODY, STAMP, False),
    ("right value, wrong version", headers(GOOD.replace("v1,", "v2,")), BODY, STAMP, False),
    ("signature missing", {"webhook-id": "a1b2c3:ops", "webhook-timestamp": str(STAMP)}, BODY, STAMP, False),
    ("timestamp not a number", {**headers(GOOD), "webhook-timestamp": "soon"}, BODY, STAMP, False),
    ("timestamp of non-ASCII digits", {**headers(GOOD), "webhook-timestamp": "²"}, BODY, STAMP, False),
]


@pytest.mark.parametrize(("hdrs", "body", "now", "ok"), [c[1:] for c in VERIFY], ids=[c[0] for c in VERIFY])
def test_verify(hdrs: dict[str, str], body: bytes, now: float, ok: bool) -> None:
    assert verify(SECRET, hdrs, body, now) is ok


def test_verify_takes_a_datetime() -> None:
    assert verify(SECRET, headers(GOOD), BODY, datetime.fromtimestamp(STAMP + 5, UTC))


def test_webhook_id_is_stable_per_alert_and_endpoint_and_never_has_a_dot() -> None:
    assert webhook_id("a1b2c3", "ops") == webhook_id("a1b2c3", "ops") == "a1b2c3:ops"
    assert webhook_id("a1b2c3", "ops") != webhook_id("a1b2c3", "slack")
    odd = webhook_id("feed.example/2026 item", "ops")
    assert "." not in odd and " " not in odd and odd.endswith(":ops")
    assert odd != webhook_id("feed.example/2026 item2", "ops")


# --- endpoints never show secrets --------------------------------------------------------------


def test_endpoint_repr_and_str_show_name_and_host_only() -> None:
    endpoint = Endpoint("ops", "slack", "https://user:pw@hooks.slack.com/services/T0/B0/tok3n?k=v", SECRET)
    for shown in (repr(endpoint), str(endpoint), f"{endpoint}", f"{[endpoint]}"):
        assert "ops" in shown and "hooks.slack.com" in shown
        for secret in ("tok3n", "/services", "k=v", "pw", SECRET, SECRET.removeprefix("whsec_")):
            assert secret not in shown


@pytest.mark.parametrize(
    ("name", "kind", "url", "secret"),
    [
        ("ops", "webhook", "ftp://hooks.example/tok3n", None),
        ("ops", "webhook", "not a url tok3n", None),
        ("ops", "email", "https://hooks.example/tok3n", None),
        ("o.ps", "webhook", "https://hooks.example/tok3n", None),
        ("ops", "webhook", "https://hooks.example/tok3n", "whsec_not*base64*tok3n"),
    ],
)
def test_bad_endpoints_are_config_errors_that_do_not_echo_secrets(
    name: str, kind: str, url: str, secret: str | None
) -> None:
    with pytest.raises(ConfigError) as error:
        Endpoint(name, kind, url, secret)  # type: ignore[arg-type]
    assert "tok3n" not in str(error.value)


# --- payloads and Slack escaping -----------------------------------------------------------------

ESCAPES = [
    ("plain text unchanged", "Rivers rise", "Rivers rise"),
    ("ampersand", "Tom & Jerry", "Tom &amp; Jerry"),
    ("channel mention", "<!channel>", "&lt;!channel&gt;"),
    ("disguised link", "<http://x|y>", "&lt;http://x|y&gt;"),
    ("user mention", "<@U024BE7LH>", "&lt;@U024BE7LH&gt;"),
    ("already an entity stays literal", "&lt;b&gt;", "&amp;lt;b&amp;gt;"),
    ("quotes and mrkdwn untouched", "\"*bold*\" _it_ 'q'", "\"*bold*\" _it_ 'q'"),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in ESCAPES], ids=[c[0] for c in ESCAPES])
def test_escape(text: str, expected: str) -> None:
    assert escape(text) == expected


LINKS = [
    ("http link", "https://news.example/a", "T", "<https://news.example/a|T>"),
    ("& in the URL escaped", "https://news.example/a?b=1&c=2", "T", "<https://news.example/a?b=1&amp;c=2|T>"),
    (
        "| in the URL cannot end it",
        "https://news.example/a|<!channel>",
        "T",
        "<https://news.example/a%7C&lt;!channel&gt;|T>",
    ),
    (
        "label escaped",
        "https://news.example/a",
        "<!here> & co",
        "<https://news.example/a|&lt;!here&gt; &amp; co>",
    ),
    ("javascript: not linked", "javascript:alert(1)", "<T>", "&lt;T&gt;"),
    ("Slack command not linked", "!channel", "T", "T"),
    ("no URL", None, "T & U", "T &amp; U"),
]


@pytest.mark.parametrize(("url", "label", "expected"), [c[1:] for c in LINKS], ids=[c[0] for c in LINKS])
def test_slack_link(url: str | None, label: str, expected: str) -> None:
    assert slack_link(url, label) == expected


def test_slack_text_escapes_every_piece_of_alert_text() -> None:
    alert = {
        "rule": "spikes <!here>",
        "kind": "spike",
        "title": "Alert <!channel> & <http://x|y>",
        "url": "https://news.example/s?a=1&b=2",
        "tags": ["<@U1>", "a & b"],
        "count": 42,
        "window": 3600,
        "baseline": 7.5,
    }
    assert slack_text(alert) == (
        "*spikes &lt;!here&gt;*: <https://news.example/s?a=1&amp;b=2|Alert &lt;!channel&gt; &amp; &lt;http://x|y&gt;>\n"
        "42 articles in 1 h (baseline 7.5)\n"
        "Tags: &lt;@U1&gt;, a &amp; b"
    )


def test_slack_text_survives_a_sparse_alert() -> None:
    assert slack_text({"rule": "r", "kind": "spike", "title": None, "url": None, "tags": None}) == (
        "*r*: (untitled)\n? articles"
    )


def test_generic_payload_is_the_alert_as_json() -> None:
    assert orjson.loads(generic_payload(ALERT)) == ALERT
