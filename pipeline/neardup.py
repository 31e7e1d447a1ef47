"""The near-duplicate decision: is this article another outlet's copy of one already passed?

Runs after exact dedup (``pipeline.dedup``), on articles that survived it: new articles and
revisions. Exact dedup knows one key; this stage compares each article with every article of
the retention window (``NearIndex``), so it sees copies under other URLs and GUIDs:

- the same normalised content under another key → kind ``content``, similarity 1.0;
- estimated word-5-shingle Jaccard ≥ the threshold → kind ``near`` (syndicated wire copy, a
  few words changed, boilerplate added or dropped, headline changed);
- a revision of an article that passed (``update_of`` set and the original in the index) is
  never a copy: it replaces its own earlier signature, whatever else it resembles; a revision
  of an article that was itself a copy is judged like a new article (an outlet's edit of its
  copy of a wire story is still a copy);
- the article itself, with the same content, already in the index: a replay after a crash
  between the send and the offset commit; it was sent already, so it is not sent again.

First seen wins: the index holds the articles that passed, never the copies, so a copy always
points at the original. The caller sends the result and only then calls :meth:`Unique.remember`
(and stores :attr:`Unique.entry`, the index record): a crash in between repeats an article,
it never loses one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pipeline.clock import rfc3339
from pipeline.config import DedupSettings
from pipeline.models import CleanArticle, Duplicate
from pipeline.nearindex import NearIndex, pack_entry
from pipeline.similarity import Signature, signature


@dataclass(frozen=True, slots=True)
class Unique:
    """Pass the article on; remember it once the send is confirmed."""

    article: CleanArticle
    signature: Signature
    seen_at: float

    @property
    def entry(self) -> bytes:
        """The index record to store (key: the article id) for a restarted worker."""
        return pack_entry(self.article.id, self.signature, self.article.content_hash, self.seen_at)

    def remember(self, index: NearIndex) -> None:
        index.add(self.article.id, self.signature, self.article.content_hash, self.seen_at)


@dataclass(frozen=True, slots=True)
class Copy:
    """Another outlet's (or URL's) copy: publish the explanation instead of the article."""

    duplicate: Duplicate


@dataclass(frozen=True, slots=True)
class Replayed:
    """This very article passed already (redelivered after a crash): nothing to send."""

    article: CleanArticle


def new_index(settings: DedupSettings, capacity: int | None = None) -> NearIndex:
    """An empty index as the settings configure it; ``capacity`` lowers the configured one
    (the arrays are preallocated: one-off runs need far fewer entries than a worker)."""
    limit = settings.near_capacity if capacity is None else min(capacity, settings.near_capacity)
    return NearIndex(limit, settings.near_threshold, settings.retention)


def text_of(article: CleanArticle) -> str:
    """What the signature is taken of: headline and body, as the datasets define copies."""
    return f"{article.title}\n{article.text}"


def decide_near(article: CleanArticle, index: NearIndex, now: datetime) -> Unique | Copy | Replayed:
    sig = signature(text_of(article))
    seen_at = now.timestamp()
    match = index.query(sig, article.content_hash, seen_at)
    if match is not None and match.id == article.id and match.same_content:
        return Replayed(article)
    revision_of_a_survivor = article.update_of is not None and index.contains(article.update_of, seen_at)
    if match is None or revision_of_a_survivor:
        return Unique(article, sig, seen_at)
    if match.id == article.id:  # its own earlier text, and the key says it is not a revision
        return Unique(article, sig, seen_at)
    return Copy(
        Duplicate(
            id=article.id,
            duplicate_of=match.id,
            kind="content" if match.same_content else "near",
            similarity=round(match.similarity, 4),
            url=article.url,
            feed_id=article.feed_id,
            detected_at=rfc3339(now),
        )
    )
