"""Feed dates → RFC 3339 UTC. Missing or unparseable → fetched time; far future → clamped.

Feeds write dates every way there is. The parsers are tried from the strictest and cheapest
to the most forgiving; the first that understands the string wins:

1. Unix time (10 digits of seconds or 13 of milliseconds; some JSON and RSS feeds do this).
2. ISO 8601 / RFC 3339 / W3CDTF, also the basic form ``20261119T081500Z``.
3. RFC 822 / RFC 2822 (RSS), also without a zone (read as UTC) and with any weekday word.
4. dateparser, for everything else with a four-digit year: month names in other languages
   ("jeu., 19 nov. 2026", "19. November 2026, 08:15 Uhr", "2026年11月19日"), US-style
   "November 19, 2026 8:15 AM". Only for strings with a year, and cached, because it is slow
   (~10 ms when it has to try every language) and garbage must not make the stage slow.
   (feedparser's own date handlers are not used: they read "2026/11/19 08:15" as 1 November.)

Zone abbreviations that the RFC 822 parser does not know (CET, CEST, BST, JST, …) are turned
into offsets first: silently reading "08:15 CEST" as UTC would be two hours wrong.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from pipeline.clock import rfc3339

MAX_FUTURE = timedelta(hours=24)
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)  # before the web's first feed: a parser error
_ZONES = {
    "CET": "+0100", "CEST": "+0200", "MET": "+0100", "MEST": "+0200", "WET": "+0000",
    "WEST": "+0100", "EET": "+0200", "EEST": "+0300", "BST": "+0100", "IST": "+0530",
    "MSK": "+0300", "JST": "+0900", "KST": "+0900", "HKT": "+0800", "SGT": "+0800",
    "AWST": "+0800", "ACST": "+0930", "ACDT": "+1030", "AEST": "+1000", "AEDT": "+1100",
    "NZST": "+1200", "NZDT": "+1300", "HST": "-1000", "AKST": "-0900", "AKDT": "-0800",
    "UTC": "+0000",
}  # fmt: skip
_ZONE_WORD = re.compile(r"\b(" + "|".join(_ZONES) + r")\b")
_LEADING_WEEKDAY = re.compile(r"^[^\W\d_]+\.?,\s*")  # "Thu, ", "Do, ", "jeu., "
_COLON_OFFSET = re.compile(r"([+-]\d\d):(\d\d)$")  # "+05:30" → "+0530" for RFC 822
_EPOCH = re.compile(r"^\d{10}(?:\d{3})?$")
_DOTTED_DAY_FIRST = re.compile(r"^\d{1,2}\.\s?\d{1,2}\.\s?\d{4}")  # 05.11.2026 is 5 November
_HAS_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_DATEPARSER_SETTINGS: dict[str, object] = {
    "RETURN_AS_TIMEZONE_AWARE": True,
    "TIMEZONE": "UTC",
    "TO_TIMEZONE": "UTC",
    "PARSERS": ["absolute-time"],  # never "2 hours ago": relative to what?
    "STRICT_PARSING": True,  # day, month and year all present
}


def parse_feed_date(raw: str | None, lang: str | None = None) -> datetime | None:
    """A timezone-aware UTC datetime, or None when ``raw`` is missing or not a date.

    ``lang`` (the article's language, BCP-47) narrows the languages dateparser tries.
    """
    if not raw or not raw.strip():
        return None
    text = " ".join(raw.split())[:100]
    try:
        for parse in (_epoch, _iso, _rfc822):
            moment = parse(text)
            if moment is not None:
                return _plausible(moment)
        if _HAS_YEAR.search(text):
            return _plausible(_dateparser(text, (lang or "").split("-")[0].lower() or None))
    except (OverflowError, ValueError, OSError):
        # Year 1 or 9999 with an offset (.NET's DateTime.MinValue/MaxValue) cannot be moved
        # to UTC, and timestamps beyond the platform's range: not dates we can use.
        return None
    return None


def published_at(raw: str | None, fetched_at: datetime, lang: str | None = None) -> str:
    """The article's publication time as the contract states it (DESIGN §2)."""
    moment = parse_feed_date(raw, lang)
    if moment is None or moment > fetched_at + MAX_FUTURE:
        moment = fetched_at
    return rfc3339(moment)


def _plausible(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment if moment >= _EARLIEST else None


def _epoch(text: str) -> datetime | None:
    if not _EPOCH.match(text):
        return None
    seconds = int(text) / (1000 if len(text) == 13 else 1)
    return datetime.fromtimestamp(seconds, UTC)


def _iso(text: str) -> datetime | None:
    if not text[:4].isdigit():
        return None
    try:
        return datetime.fromisoformat(text.replace(" +", "+").replace(" -", "-"))
    except ValueError:
        return None


def _rfc822(text: str) -> datetime | None:
    candidate = _ZONE_WORD.sub(lambda match: _ZONES[match.group(1)], _LEADING_WEEKDAY.sub("", text))
    candidate = _COLON_OFFSET.sub(r"\1\2", candidate)
    try:
        parsed = email.utils.parsedate_tz(candidate)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None or parsed[0] < 1000:
        return None
    try:
        moment = datetime(*parsed[:6], tzinfo=UTC)
    except ValueError:  # 31 February and friends
        return None
    return moment - timedelta(seconds=parsed[9] or 0)


@lru_cache(maxsize=4096)
def _dateparser(text: str, language: str | None) -> datetime | None:
    languages = sorted({language, "en"}) if language else None
    settings = dict(_DATEPARSER_SETTINGS)
    if _DOTTED_DAY_FIRST.match(text):
        settings["DATE_ORDER"] = "DMY"
    import dateparser  # on first use: a heavy import most processes never need

    try:
        moment: datetime | None = dateparser.parse(text, languages=languages, settings=settings)
    except (ValueError, OverflowError, TypeError, LookupError):
        return None
    return moment
