"""Article identity: ``article_key`` (DESIGN §1), the stable ``id`` and the content hash.

Cascade: canonical URL → the feed's GUID (scoped to the feed) → a hash of title + content.
A feed that reuses one link or one GUID for different items keeps every item: within one
poll, colliding entries are told apart by their GUID, or else by their content hash.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.cleaning.text import matching_form
from pipeline.cleaning.urls import canonical_url
from pipeline.models import DuplicateKind


@dataclass(frozen=True, slots=True)
class EntryIdentity:
    """What a feed entry offers to identify it."""

    guid: str | None
    link: str | None
    title: str | None
    body: str | None  # content or summary as given


def _digest(*parts: str | None) -> str:
    material = "\x1f".join(" ".join(matching_form(part or "").split()) for part in parts)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def content_hash(title: str, text: str) -> str:
    """Hash of the normalised title and text: whitespace, case and form changes do not count."""
    return _digest(title, text)


def article_id(article_key: str) -> str:
    """The stable public id: 32 hex characters derived from the key."""
    return hashlib.blake2b(article_key.encode("utf-8"), digest_size=16).hexdigest()


def _base_key(entry: EntryIdentity, feed_id: str) -> str:
    """The key before telling colliding entries apart (its prefix gives the dedup kind)."""
    url = canonical_url(entry.link)
    if url:
        return url
    guid = (entry.guid or "").strip()
    if guid:
        return f"guid:{feed_id}:{guid}"
    return f"hash:{_digest(entry.title, entry.body)}"


def article_keys(entries: Sequence[EntryIdentity], feed_id: str) -> list[str]:
    """One key per entry of one feed poll, distinct for entries that differ.

    Entries sharing a base key with the same content are reposts and keep the shared key
    (dedup suppresses them); entries sharing it with different content are told apart.
    Contents are only hashed where keys collide (most feeds have no collision at all).
    """
    bases = [_base_key(entry, feed_id) for entry in entries]
    counts = Counter(bases)
    contents: dict[str, set[str]] = {}
    for entry, base in zip(entries, bases, strict=True):
        if counts[base] > 1:
            contents.setdefault(base, set()).add(_digest(entry.title, entry.body))
    keys = []
    for entry, base in zip(entries, bases, strict=True):
        if counts[base] == 1 or len(contents[base]) == 1:
            keys.append(base)
            continue
        guid = (entry.guid or "").strip()
        guid_is_distinct = guid and not base.startswith("guid:") and _guid_unique(entries, guid)
        suffix = f"guid={guid}" if guid_is_distinct else f"hash={_digest(entry.title, entry.body)}"
        keys.append(f"{base}#{suffix}")
    return keys


def _guid_unique(entries: Sequence[EntryIdentity], guid: str) -> bool:
    return sum(1 for entry in entries if (entry.guid or "").strip() == guid) == 1


def key_kind(article_key: str) -> DuplicateKind:
    """The dedup kind reported when two articles share this key."""
    if article_key.startswith("guid:"):
        return "guid"
    if article_key.startswith("hash:"):
        return "content"
    return "exact-url"
