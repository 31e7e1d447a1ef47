"""Errors, classified by what the caller should do with them.

    PipelineError
    ├── ConfigError            a wrong config or rule file: exit 2 at start, never later
    ├── InvalidArticle         this message can never be processed: dead-letter, never retry
    │   └── ParseError         a feed body that cannot be read as a feed (also dead-letter/skip)
    └── FetchError             fetching a feed failed
        ├── Unavailable        transient (network, 5xx): retry later with capped backoff
        │   └── RateLimited    the server asked us to slow down (429/503 + Retry-After)
        └── FeedRejected       permanent for this response (4xx, too large, bad scheme, …):
            ├── FeedGone       410 Gone: the publisher retired the feed
            └── ForbiddenDestination   (pipeline/fulltext/guard.py) a page fetch would have
                                       connected to a non-public address (SSRF guard)

Anything else raised from pipeline code is a bug. Agents still dead-letter the message
(Faust would otherwise ack and lose it) but log it loudly and count it separately.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "FeedGone",
    "FeedRejected",
    "FetchError",
    "InvalidArticle",
    "ParseError",
    "PipelineError",
    "RateLimited",
    "Unavailable",
]


class PipelineError(Exception):
    """Base of every error newsflow raises on purpose."""


class ConfigError(PipelineError):
    """A configuration or rule file is wrong; the message names file, key and reason."""


class InvalidArticle(PipelineError):
    """A message that can never be processed; ``reason`` is a short, bounded token."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class ParseError(InvalidArticle):
    """A feed body that is not a readable feed."""


class FetchError(PipelineError):
    """Fetching a feed failed; ``outcome`` is the bounded metric label for it."""

    outcome = "error"


class Unavailable(FetchError):
    """Transient failure: retry after ``retry_after`` seconds (or the backoff policy's delay)."""

    outcome = "unavailable"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(Unavailable):
    """The server asked us to slow down."""

    outcome = "rate-limited"


class FeedRejected(FetchError):
    """The response can never become a feed as it is (4xx, too large, unsupported scheme)."""

    outcome = "rejected"


class FeedGone(FeedRejected):
    """410 Gone."""

    outcome = "gone"
