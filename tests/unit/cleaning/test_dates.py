"""Feed dates → RFC 3339 UTC; missing/unparseable → fetched time; > 24 h ahead → clamped."""

from datetime import UTC, datetime

import pytest

from pipeline.cleaning.dates import parse_feed_date, published_at

FETCHED = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
FALLBACK = "2026-11-21T12:00:00.000Z"

CASES = [
    pytest.param("Thu, 19 Nov 2026 08:15:00 GMT", None, "2026-11-19T08:15:00.000Z", id="RFC 822 GMT"),
    pytest.param("Thu, 19 Nov 2026 08:15:00 +0200", None, "2026-11-19T06:15:00.000Z", id="RFC 822 offset"),
    pytest.param(
        "Thu, 19 Nov 2026 08:15:00 +05:30", None, "2026-11-19T02:45:00.000Z", id="RFC 822 colon offset"
    ),
    pytest.param("Thu, 19 Nov 2026 08:15:00 EST", None, "2026-11-19T13:15:00.000Z", id="RFC 822 US zone"),
    pytest.param(
        "Thu, 19 Nov 26 08:15:00 PDT", None, "2026-11-19T15:15:00.000Z", id="RFC 822 two-digit year"
    ),
    pytest.param("Thu, 19 Nov 2026 08:15:00 CEST", None, "2026-11-19T06:15:00.000Z", id="European zone name"),
    pytest.param("Thu, 19 Nov 2026 08:15:00 JST", None, "2026-11-18T23:15:00.000Z", id="Asian zone name"),
    pytest.param(
        "Thu, 19 Nov 2026 08:15:00", None, "2026-11-19T08:15:00.000Z", id="RFC 822 without zone is UTC"
    ),
    pytest.param("19 Nov 2026 08:15 +0100", None, "2026-11-19T07:15:00.000Z", id="no weekday, no seconds"),
    pytest.param(
        "Tue, 19 Nov 2026 08:15:00 GMT", None, "2026-11-19T08:15:00.000Z", id="wrong weekday ignored"
    ),
    pytest.param("Do, 19 Nov 2026 08:15:00 +0100", None, "2026-11-19T07:15:00.000Z", id="German weekday"),
    pytest.param("Thu Nov 19 08:15:00 UTC 2026", None, "2026-11-19T08:15:00.000Z", id="asctime with zone"),
    pytest.param("2026-11-19T08:15:00Z", None, "2026-11-19T08:15:00.000Z", id="W3C/ISO Z"),
    pytest.param("2026-11-19T08:15:00-05:00", None, "2026-11-19T13:15:00.000Z", id="ISO offset"),
    pytest.param("2026-11-19T08:15:00+0530", None, "2026-11-19T02:45:00.000Z", id="ISO offset without colon"),
    pytest.param(
        "2026-11-19T08:15:00.123456Z", None, "2026-11-19T08:15:00.123Z", id="ISO fractional seconds"
    ),
    pytest.param("2026-11-19T08:15:00", None, "2026-11-19T08:15:00.000Z", id="ISO without zone is UTC"),
    pytest.param("2026-11-19 08:15:00 +02:00", None, "2026-11-19T06:15:00.000Z", id="ISO with spaces"),
    pytest.param("20261119T081500Z", None, "2026-11-19T08:15:00.000Z", id="ISO basic format"),
    pytest.param("2026-11-19", None, "2026-11-19T00:00:00.000Z", id="date only"),
    pytest.param("2026/11/19 08:15:00 +0000", None, "2026-11-19T08:15:00.000Z", id="slashes"),
    pytest.param("1795076100", None, "2026-11-19T08:15:00.000Z", id="unix seconds"),
    pytest.param("1795076100250", None, "2026-11-19T08:15:00.250Z", id="unix milliseconds"),
    pytest.param("Thursday, November 19, 2026 8:15 AM", None, "2026-11-19T08:15:00.000Z", id="US long form"),
    pytest.param("jeu., 19 nov. 2026 08:15:00 +0100", "fr", "2026-11-19T07:15:00.000Z", id="French month"),
    pytest.param("19. November 2026, 08:15 Uhr", "de", "2026-11-19T08:15:00.000Z", id="German long form"),
    pytest.param("19 de noviembre de 2026 08:15", None, "2026-11-19T08:15:00.000Z", id="Spanish, no hint"),
    pytest.param("2026年11月19日 08:15", "ja", "2026-11-19T08:15:00.000Z", id="Japanese"),
    pytest.param("05.11.2026 08:15", None, "2026-11-05T08:15:00.000Z", id="dotted dates are day first"),
    pytest.param(None, None, FALLBACK, id="missing → fetched"),
    pytest.param("  ", None, FALLBACK, id="empty → fetched"),
    pytest.param("last Tuesday-ish", None, FALLBACK, id="garbage → fetched"),
    pytest.param("2 hours ago", None, FALLBACK, id="relative → fetched"),
    pytest.param("Thu, 31 Feb 2026 08:15:00 GMT", None, FALLBACK, id="impossible day → fetched"),
    pytest.param("0000-00-00T00:00:00Z", None, FALLBACK, id="zero date → fetched"),
    pytest.param("1970-01-01T00:00:00Z", None, FALLBACK, id="epoch zero → fetched"),
    pytest.param("0001-01-01T00:00:00+01:00", None, FALLBACK, id=".NET MinValue with offset → fetched"),
    pytest.param("9999-12-31T23:59:59-12:00", None, FALLBACK, id=".NET MaxValue with offset → fetched"),
    pytest.param("Fri, 31 Dec 9999 23:59:59 -1200", None, FALLBACK, id="RFC 822 year 9999 → fetched"),
    pytest.param("99999999999999", None, FALLBACK, id="too many digits for a timestamp → fetched"),
    pytest.param("x" * 5000 + " 2026", None, FALLBACK, id="huge garbage → fetched"),
    pytest.param("2026-11-22T06:00:00Z", None, "2026-11-22T06:00:00.000Z", id="within 24 h ahead kept"),
    pytest.param("2036-01-01T00:00:00Z", None, FALLBACK, id="far future clamped"),
]


@pytest.mark.parametrize(("raw", "lang", "expected"), CASES)
def test_published_at(raw: str | None, lang: str | None, expected: str) -> None:
    assert published_at(raw, FETCHED, lang) == expected


def test_parse_feed_date_is_timezone_aware_utc() -> None:
    parsed = parse_feed_date("Thu, 19 Nov 2026 08:15:00 EST")
    assert parsed == datetime(2026, 11, 19, 13, 15, tzinfo=UTC)
