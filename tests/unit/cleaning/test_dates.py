from datetime import UTC, datetime

import pytest

from pipeline.cleaning.dates import parse_feed_date, published_at

FETCHED = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)

CASES = [
    ("RFC 822 GMT", "Thu, 19 Nov 2026 08:15:00 GMT", "2026-11-19T08:15:00.000Z"),
    ("RFC 822 offset", "Thu, 19 Nov 2026 08:15:00 +0200", "2026-11-19T06:15:00.000Z"),
    ("W3C/ISO Z", "2026-11-19T08:15:00Z", "2026-11-19T08:15:00.000Z"),
    ("ISO offset", "2026-11-19T08:15:00-05:00", "2026-11-19T13:15:00.000Z"),
    ("date only", "2026-11-19", "2026-11-19T00:00:00.000Z"),
    ("missing → fetched", None, "2026-11-21T12:00:00.000Z"),
    ("empty → fetched", "  ", "2026-11-21T12:00:00.000Z"),
    ("garbage → fetched", "last Tuesday-ish", "2026-11-21T12:00:00.000Z"),
    ("within 24 h ahead kept", "2026-11-22T06:00:00Z", "2026-11-22T06:00:00.000Z"),
    ("far future clamped", "2036-01-01T00:00:00Z", "2026-11-21T12:00:00.000Z"),
]


@pytest.mark.parametrize(("name", "raw", "expected"), CASES, ids=[c[0] for c in CASES])
def test_published_at(name: str, raw: str | None, expected: str) -> None:
    assert published_at(raw, FETCHED) == expected


def test_parse_feed_date_is_timezone_aware_utc() -> None:
    parsed = parse_feed_date("Thu, 19 Nov 2026 08:15:00 EST")
    assert parsed == datetime(2026, 11, 19, 13, 15, tzinfo=UTC)
