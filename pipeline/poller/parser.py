"""Feed bytes → raw articles. The parser sees bytes and response headers, never a URL.

Every body ends in entries or a ``ParseError`` whose ``reason`` is one of ``REASONS``; no
other exception escapes for any input (``MemoryError`` aside: the sandbox turns it into
``parse-memory``). The order, each step applying DESIGN §6 "feeds are hostile input":

1. Decode the body ourselves (``_decode``): a byte-order mark wins, then the charset of the
   Content-Type, then the XML declaration, then UTF-8, then windows-1252. A declared
   single-byte Western charset on a body that is valid multi-byte UTF-8 is taken to be UTF-8
   (the usual server misconfiguration). Decoding never fails: undecodable bytes become U+FFFD.
2. Remove what XML 1.0 forbids (NUL and other C0 controls, U+FFFE/U+FFFF) and neutralise
   numeric character references to forbidden code points (``&#0;``, ``&#xD800;`` and
   out-of-range ones crash feedparser's loose parser or leak NUL and lone surrogates);
   whitespace inside namespace URIs is percent-encoded (it crashes feedparser's strict parser).
3. Reject entity declarations (feedparser's loose fallback parser expands internal entities
   without limit: a 100 KB feed reached 600 MB).
4. JSON Feed bodies go to ``jsonfeed``; everything else goes to feedparser as UTF-8 with a
   matching declaration. feedparser's own sanitiser is off: ours (nh3, in cleaning) runs on
   every HTML field. A body feedparser recovers from (bozo) still yields its entries.
5. Entries with no id, link, title or text are dropped (an item cut off mid-field). No
   entries left: no recognisable feed → ``not-a-feed``; broken XML (truncated, mangled) →
   ``malformed-feed``; a well-formed feed without items is a valid, empty result.

``ParsedFeed`` also carries the RSS schedule hints (``<ttl>``, ``<skipHours>``,
``<skipDays>``), read with bounded regular expressions (feedparser keeps only the last hour
and day), and ``warnings``: bounded tokens for what had to be repaired, for metrics.
"""

from __future__ import annotations

import codecs
import functools
import io
import re
import xml.sax
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin
from xml.parsers.expat import errors as expat_errors

import feedparser

from pipeline.cleaning.boilerplate import NO_RULES
from pipeline.cleaning.html import html_to_text
from pipeline.cleaning.identity import EntryIdentity, article_keys
from pipeline.cleaning.urls import safe_http_url
from pipeline.errors import ParseError
from pipeline.models import RawArticle
from pipeline.poller import jsonfeed

REASONS = frozenset(
    {
        "empty-body",
        "entity-declaration",
        "not-a-feed",
        "malformed-feed",
        "malformed-json-feed",
        "parser-failed",
    }
)
WARNINGS = frozenset({"charset-mismatch", "empty-entries", "illegal-characters", "malformed-xml"})
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# "<!ENTITY" in UTF-8/ASCII and in both UTF-16 byte orders (checked again after decoding).
_ENTITY_BYTES = re.compile(
    rb"<!ENTITY|<\x00!\x00E\x00N\x00T\x00I\x00T\x00Y\x00|\x00<\x00!\x00E\x00N\x00T\x00I\x00T\x00Y",
    re.IGNORECASE,
)
_ENTITY_TEXT = re.compile(r"<!ENTITY", re.IGNORECASE)
_HTML_TYPES = ("text/html", "application/xhtml+xml")

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_LABEL = re.compile(r"[A-Za-z0-9._:-]{1,40}")
_CHARSET = re.compile(r";\s*charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]{1,40})", re.IGNORECASE)
_DECLARED = re.compile(rb"^\s*<\?xml\s[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z0-9._:-]{1,40})[\"']")
# Labels that decode "successfully" into something else: never trust them from a feed.
_REFUSED_CODECS = frozenset({"utf-7", "unicode-escape", "raw-unicode-escape"})
# Browsers read ASCII and Latin-1 labels as windows-1252 (WHATWG Encoding); feeds rely on it.
_UPGRADES = {"gb2312": "gb18030", "ascii": "cp1252", "iso8859-1": "cp1252"}

# Declared single-byte charsets that a valid multi-byte UTF-8 body overrides.
_SINGLE_BYTE_WESTERN = frozenset({"cp1252", "iso8859-15"})

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ILLEGAL_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# The spellings feedparser's strict and loose parsers both turn into code points.
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")
# expat splits namespaced names on spaces: a namespace URI with whitespace crashes feedparser.
_NAMESPACE = re.compile(r"""(xmlns(?::[\w.-]{1,100})?\s*=\s*)(["'])([^"'<>]{0,2000}?)\2""")
_XML_DECLARATION = re.compile(r"^<\?xml\s[^>]{0,400}?\?>")
_UTF8_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>'

_SKIP_HOURS = re.compile(r"<skipHours\b[^>]{0,200}>(.{0,4000}?)</skipHours>", re.DOTALL)
_SKIP_DAYS = re.compile(r"<skipDays\b[^>]{0,200}>(.{0,4000}?)</skipDays>", re.DOTALL)
_HOUR = re.compile(r"<hour>\s*(\d{1,2})\s*</hour>")
_DAY = re.compile(r"<day>\s*([A-Za-z]{3,9})\s*</day>")
_TTL = re.compile(r"\s*(\d{1,6})\s*")


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    lang: str | None
    entries: tuple[RawArticle, ...]
    ttl_seconds: float | None = None  # RSS <ttl> (minutes) in seconds
    skip_hours: frozenset[int] = frozenset()  # RSS <skipHours>: GMT hours 0-23
    skip_days: frozenset[str] = frozenset()  # RSS <skipDays>: "monday" … "sunday"
    warnings: frozenset[str] = frozenset()  # what had to be repaired: tokens from WARNINGS


def parse_feed(
    body: bytes, headers: Mapping[str, str], *, url: str, feed_id: str, fetched_at: str
) -> ParsedFeed:
    """Parse one feed body; raises ``ParseError`` when it holds no readable feed."""
    lowered = {key.lower(): value for key, value in headers.items()}
    warnings: set[str] = set()
    text = _prepare(body, lowered.get("content-type", ""), warnings)
    if jsonfeed.is_json_feed(text):
        feed = jsonfeed.read_json_feed(text, lowered, url=url, feed_id=feed_id, fetched_at=fetched_at)
        return ParsedFeed(feed.title, feed.lang, feed.entries, warnings=frozenset(warnings))
    parsed = _feedparser(body, text, lowered, url)
    entries = [entry for entry in parsed.entries if _has_substance(entry)]
    if len(entries) < len(parsed.entries):
        warnings.add("empty-entries")  # e.g. an item cut off before its first field closed
    if not entries:
        _raise_unless_feed(parsed)
    if parsed.get("bozo"):
        warnings.add("malformed-xml")
    return _parsed_feed(
        parsed, entries, text, lowered, warnings=warnings, url=url, feed_id=feed_id, fetched_at=fetched_at
    )


def feedparser_result(body: bytes, headers: Mapping[str, str], *, url: str) -> Any:
    """feedparser's raw result for ``body`` after the same steps 1-4 as ``parse_feed``.

    For measurements (how much of feedparser's behaviour the pre-checks keep) and tests.
    Raises ``ParseError`` where ``parse_feed`` rejects the body before feedparser runs;
    returns None for a JSON Feed (feedparser never sees those).
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    text = _prepare(body, lowered.get("content-type", ""), set())
    return None if jsonfeed.is_json_feed(text) else _feedparser(body, text, lowered, url)


# ---- 1-2. bytes → clean text ------------------------------------------------------------------


def _prepare(body: bytes, content_type: str, warnings: set[str]) -> str:
    if not body.strip():
        raise ParseError("empty-body", "the response body is empty")
    text, mismatch = _decode(body, content_type)
    if mismatch:
        warnings.add("charset-mismatch")
    cleaned = _ILLEGAL_XML.sub("", text)
    if "&#" in cleaned:
        cleaned = _CHAR_REF.sub(_legal_char_ref, cleaned)
    if cleaned != text:
        warnings.add("illegal-characters")
    cleaned = _NAMESPACE.sub(_namespace_without_spaces, cleaned)
    cleaned = cleaned.lstrip("\ufeff \t\r\n")
    if not cleaned:
        raise ParseError("empty-body", "the response body holds no characters")
    return cleaned


def _decode(body: bytes, content_type: str) -> tuple[str, bool]:
    """The body as text, and whether a declared charset disagreed with the one used. Never raises."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):  # a byte-order mark outranks any declaration
            return _decode_lenient(body[len(bom) :], encoding)
    wide = _sniff_wide(body[:4])
    if wide:
        return _decode_lenient(body, wide)
    declared = [c for c in (_http_charset(content_type), _xml_charset(body)) if c]
    for encoding in (*declared, "utf-8", "cp1252"):
        try:
            text = body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if encoding in _SINGLE_BYTE_WESTERN and (utf8 := _utf8_if_valid(body)) is not None:
            text, encoding = utf8, "utf-8"
        return text, any(label != encoding for label in declared)
    return body.decode("cp1252", errors="replace"), bool(declared)


def _decode_lenient(body: bytes, encoding: str) -> tuple[str, bool]:
    try:
        return body.decode(encoding), False
    except UnicodeDecodeError:
        return body.decode(encoding, errors="replace"), True


def _sniff_wide(head: bytes) -> str | None:
    """UTF-16/32 without a byte-order mark, told by where the zero bytes of ASCII text sit."""
    if len(head) < 4:
        return None
    zero = [byte == 0 for byte in head]
    return {
        (True, True, True, False): "utf-32-be",
        (False, True, True, True): "utf-32-le",
        (True, False, True, False): "utf-16-be",
        (False, True, False, True): "utf-16-le",
    }.get((zero[0], zero[1], zero[2], zero[3]))


def _utf8_if_valid(body: bytes) -> str | None:
    """The UTF-8 reading of a body declared single-byte, when it is valid, non-ASCII UTF-8."""
    if body.isascii():
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _http_charset(content_type: str) -> str | None:
    match = _CHARSET.search(content_type)
    return _codec(match.group(1)) if match else None


def _xml_charset(body: bytes) -> str | None:
    match = _DECLARED.match(body[:512])
    return _codec(match.group(1).decode("ascii")) if match else None


@functools.lru_cache(maxsize=128)
def _codec(label: str) -> str | None:
    """Python's codec for a declared charset label, if it is a usable ASCII-compatible one."""
    if not _LABEL.fullmatch(label):
        return None
    try:
        info = codecs.lookup(label)
        ascii_compatible = "<?xml".encode(info.name) == b"<?xml"
    except (LookupError, ValueError, UnicodeError):
        return None
    text_codec = getattr(info, "_is_text_encoding", True)  # False for rot13, base64, zlib …
    if not text_codec or info.name in _REFUSED_CODECS or not ascii_compatible:
        return None
    return _UPGRADES.get(info.name, info.name)


def _legal_char_ref(match: re.Match[str]) -> str:
    hexadecimal, decimal = match.groups()
    digits = (hexadecimal or decimal).lstrip("0")
    if len(digits) > 8:  # beyond any code point (and int() of 5,000 digits raises)
        return "&#xFFFD;"
    code = int(digits or "0", 16 if hexadecimal else 10)
    return match.group(0) if _is_xml_char(code) else "&#xFFFD;"


def _namespace_without_spaces(match: re.Match[str]) -> str:
    prefix, quote, uri = match.groups()
    if not any(char.isspace() for char in uri):
        return match.group(0)
    return f"{prefix}{quote}{'%20'.join(uri.split())}{quote}"


def _is_xml_char(code: int) -> bool:
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )


def _as_utf8_xml(text: str) -> bytes:
    """The text as UTF-8 bytes whose XML declaration says so (feedparser reads it as such)."""
    declared, count = _XML_DECLARATION.subn(_UTF8_DECLARATION, text, count=1)
    if not count:
        declared = f"{_UTF8_DECLARATION}\n{text}"
    return declared.encode("utf-8", errors="replace")


# ---- 4-5. feedparser and what its result means ---------------------------------------------------


def _joined(base: str, reference: str) -> str:
    """``reference`` resolved against ``base``; ``base`` when it is not a URL at all."""
    try:
        return urljoin(base, reference.strip())
    except ValueError:  # "http://[::1", NFKC-invalid hosts: urljoin raises on both
        return base


def _expat_error(error: object) -> str | None:
    return error.getMessage() if isinstance(error, xml.sax.SAXParseException) else None


def _feedparser(body: bytes, text: str, headers: Mapping[str, str], url: str) -> Any:
    if _ENTITY_BYTES.search(body) or _ENTITY_TEXT.search(text):
        raise ParseError("entity-declaration", "feed declares XML entities; rejected before parsing")
    location = _joined(url, headers.get("content-location", ""))
    response_headers = {
        **headers,
        "content-type": "application/xml; charset=utf-8",  # what _as_utf8_xml produces
        "content-location": location if safe_http_url(location) else url,
    }
    document = _as_utf8_xml(text)
    try:
        parsed = feedparser.parse(
            io.BytesIO(document), response_headers=response_headers, sanitize_html=False
        )
    except MemoryError:
        raise
    except Exception as exc:  # a feedparser bug reached by hostile input: this feed is unreadable
        raise ParseError("parser-failed", f"feedparser raised {type(exc).__name__}") from exc
    if _expat_error(parsed.get("bozo_exception")) == expat_errors.XML_ERROR_NO_MEMORY:
        # expat hit the memory limit and feedparser fell back to its loose parser: whatever
        # that produced is a partial read, so report the limit instead (sandbox: parse-memory)
        raise MemoryError("expat ran out of memory")
    return parsed


def _raise_unless_feed(parsed: Any) -> None:
    """Without entries, only a readable feed is a valid (quiet) one.

    A broken feed counts as read only when its sole fault is an undefined entity (``&nbsp;``
    in a hand-written feed: feedparser's loose parser reads past it) and its channel title
    came through. Truncated or mangled XML without entries (a server that failed mid-render)
    is ``malformed-feed``, so the feed's health shows it instead of a quiet "0 new items".
    """
    if not parsed.get("version"):
        raise ParseError("not-a-feed", "no RSS, Atom, RDF or JSON feed found (an HTML page?)")
    if not parsed.get("bozo"):
        return
    error = parsed.get("bozo_exception")
    expat = _expat_error(error)
    if expat == expat_errors.XML_ERROR_UNDEFINED_ENTITY and parsed.feed.get("title"):
        return
    reason = expat or type(error).__name__
    raise ParseError("malformed-feed", f"broken feed without readable entries ({reason[:80]})")


def _parsed_feed(
    parsed: Any,
    entries: list[Any],
    text: str,
    headers: Mapping[str, str],
    *,
    warnings: set[str],
    **feed: str,
) -> ParsedFeed:
    channel = parsed.feed
    source = _text(channel.get("title"), channel.get("title_detail"))
    lang = _clean(channel.get("language")) or headers.get("content-language")
    keys = article_keys([_identity(entry) for entry in entries], feed["feed_id"])
    raw = tuple(
        _raw_article(entry, key, source=source, lang=lang, **feed)
        for entry, key in zip(entries, keys, strict=True)
    )
    return ParsedFeed(
        title=source,
        lang=lang,
        entries=raw,
        ttl_seconds=_ttl_seconds(channel.get("ttl")),
        skip_hours=_skip_hours(text),
        skip_days=_skip_days(text),
        warnings=frozenset(warnings),
    )


def _text(value: object, detail: Mapping[str, Any] | None) -> str | None:
    """Titles are text: HTML-typed titles are flattened, plain ones kept verbatim."""
    text = _clean(value)
    if not text:
        return None
    if detail and detail.get("type") in _HTML_TYPES:
        return html_to_text(text, NO_RULES)  # a title is never boilerplate
    return text


def _content(entry: Mapping[str, Any]) -> str | None:
    contents = entry.get("content") or []
    values = [_clean(c.get("value")) for c in contents if isinstance(c, Mapping)]
    present = [value for value in values if value]
    return max(present, key=len) if present else None


def _has_substance(entry: Mapping[str, Any]) -> bool:
    """False for an entry with no id, link, title or text (nothing could ever identify it)."""
    fields = (entry.get("id"), entry.get("link"), entry.get("title"), entry.get("summary"))
    return any(_clean(value) for value in fields) or _content(entry) is not None


def _identity(entry: Mapping[str, Any]) -> EntryIdentity:
    return EntryIdentity(
        guid=_clean(entry.get("id")),
        link=_clean(entry.get("link")),
        title=_clean(entry.get("title")),
        body=_content(entry) or _clean(entry.get("summary")),
    )


def _raw_article(entry: Mapping[str, Any], key: str, **feed: Any) -> RawArticle:
    authors = _names(a.get("name") for a in entry.get("authors", []) if isinstance(a, Mapping))
    if not authors:
        authors = _names([entry.get("author")])
    return RawArticle(
        article_key=key,
        feed_id=feed["feed_id"],
        feed_url=feed["url"],
        source=feed["source"],
        feed_lang=feed["lang"],
        fetched_at=feed["fetched_at"],
        guid=_clean(entry.get("id")),
        link=_clean(entry.get("link")),
        title=_text(entry.get("title"), entry.get("title_detail")),
        summary=_clean(entry.get("summary")),
        content=_content(entry),
        authors=authors,
        categories=_names(t.get("term") for t in entry.get("tags", []) if isinstance(t, Mapping)),
        published=_clean(_own(entry, "published")),
        updated=_clean(_own(entry, "updated")),
    )


def _names(values: Iterable[object]) -> tuple[str, ...]:
    cleaned = (_clean(value) for value in values)
    return tuple(value for value in cleaned if value)


def _own(entry: Mapping[str, Any], key: str) -> Any:
    """The entry's own value: FeedParserDict.get("published") silently falls back to "updated"."""
    return dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)


def _clean(value: object) -> str | None:
    """A string without NUL, other forbidden controls or lone surrogates; None otherwise."""
    if not isinstance(value, str) or not value:
        return None
    return _ILLEGAL_TEXT.sub(_replacement, value) or None


def _replacement(match: re.Match[str]) -> str:
    return "\ufffd" if "\ud800" <= match.group(0) <= "\udfff" else ""


# ---- schedule hints -------------------------------------------------------------------------------


def _ttl_seconds(value: object) -> float | None:
    """RSS <ttl> is minutes; 0, negative, non-numeric or absurd values give no hint."""
    match = _TTL.fullmatch(value) if isinstance(value, str) else None
    minutes = int(match.group(1)) if match else 0
    return minutes * 60.0 if minutes > 0 else None


def _skip_hours(text: str) -> frozenset[int]:
    """The hours of the channel's <skipHours> (24 is read as 0, other values are ignored)."""
    block = _first_block(text, "<skipHours", _SKIP_HOURS)
    hours = (int(hour) for hour in _HOUR.findall(block))
    return frozenset(hour % 24 for hour in hours if 0 <= hour <= 24)


def _skip_days(text: str) -> frozenset[str]:
    """The days of the channel's <skipDays>, as lower-case English day names."""
    block = _first_block(text, "<skipDays", _SKIP_DAYS)
    return frozenset(day.lower() for day in _DAY.findall(block) if day.lower() in DAYS)


def _first_block(text: str, opening: str, pattern: re.Pattern[str]) -> str:
    """The content of the first such element, matched only there (bounded work on any input)."""
    start = text.find(opening)
    match = pattern.match(text, start) if start >= 0 else None
    return match.group(1) if match else ""
