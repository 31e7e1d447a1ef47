"""A bounded MinHash-LSH index of recent articles: which earlier article is this one a copy of?

Preallocated arrays; ``capacity`` C entries in a ring (C = 1,000,000 below, ``nbytes()``):

=====================  ==============================================  =============
array                  content                                         bytes/article
=====================  ==============================================  =============
``_sigs``              the 8-bit signature (``NUM_PERM`` slots)         128
``_links`` (per band)  uint64: the band's key << 32 | distance back to  14 × 8
                       the next older entry of the same bucket
``_heads`` (per band)  bucket → newest entry's stamp (uint32)          14 × 4 × 1.05
``_ids``, ``_id_*``    article id (16 raw bytes) and a chain by id     16 + 8.2
``_keys``, ``_seen``   content-hash key (8 B), seen_at (uint32 s + 1)  8 + 4
=====================  ==============================================  =============

≈ 335 B/article; datasketch's MinHashLSH with the same bands grew RSS by ≈ 6.4 KB/article
(benchmarks/bench_neardup.py).

**Bands: 14 × 4 rows** over the first 56 slots. A band is 4 bytes of the signature, read as one
uint32: it picks the bucket (multiplicative hashing) and is stored in the link, so a chain entry
of another key is rejected from the link itself, in the same cache line as the pointer. The
S-curve: the chance that two articles at Jaccard J share a band, 1 - (1 - J⁴)¹⁴, and the share
found after verification on all 128 slots (estimate ≥ the default threshold 0.7), measured on
400 synthetic pairs per J (benchmarks/bench_neardup.py):

==================  =====  =====  =====  =====  =====  =====  ======  =====
J                   0.3    0.4    0.5    0.6    0.7    0.75   0.8     0.85
share a band        0.11   0.30   0.59   0.86   0.979  0.995  0.9994  1.0
found (t = 0.7)     0      0      0      0.008  0.53   0.95   0.995   1.0
==================  =====  =====  =====  =====  =====  =====  ======  =====

The bands only need to be generous; verification makes the cut. 20 × 5 bands (the textbook
choice, P(0.8) = 0.9996) measured ≈ 40% slower per lookup at 1M entries in an earlier version
of this layout: each band costs random memory accesses and Python time per chain entry.

**Ring and chains.** Entry number ``seq`` (1, 2, …) lives in slot ``(seq - 1) % C``. Heads store
a stamp (``seq mod (2³² - 1) + 1``, never 0) and each link the distance back to the next older
entry of its bucket, so a walk knows every entry's age (entries inserted after it). An entry
is alive while its age is below C; once its slot is reused the walk stops there, and every
older entry of the chain is gone too: eviction needs no clean-up. Distances are positive, so
every walk ends, even if a head survives 2³² - 1 inserts and aliases. Expired entries
(``seen_at`` older than ``retention_seconds``, second resolution) and replaced ones
(``seen = 0``) stay in their chains and are skipped, never returned. Entries sharing a band key
share a chain: add the originals, not the duplicates a query found, or chains grow with them.

**Persistence.** :func:`pack_entry` gives a fixed-size record (``PACKED_SIZE`` bytes) for a
Faust table or compacted topic keyed by article id; :meth:`NearIndex.add_packed` replays them
after a restart. Records of another ``FORMAT`` (another signature algorithm) are refused.
Bucket positions are not persisted (they are recomputed on replay).
"""

from __future__ import annotations

import hashlib
import struct
from array import array
from dataclasses import dataclass
from typing import Final

from pipeline.similarity import DEFAULT_THRESHOLD, NUM_PERM, Signature, jaccard_from_matches

BANDS: Final = 14
ROWS: Final = 4  # a band is one uint32 of the signature: its key, its bucket and its check
_FIBONACCI: Final = 0x9E3779B97F4A7C15  # multiplicative hashing of band keys into buckets
FORMAT: Final = 1  # first byte of a packed entry; bump with similarity.ALGORITHM
_RECORD = struct.Struct(f"<B16s8sI{NUM_PERM}s")
PACKED_SIZE: Final = _RECORD.size
_MOD = (1 << 32) - 1  # stored sequence numbers: seq % _MOD + 1, never 0 (0: no entry)


@dataclass(frozen=True, slots=True)
class NearMatch:
    id: str
    similarity: float
    same_content: bool  # equal content hashes: an exact copy under another key ("content")


@dataclass(frozen=True, slots=True)
class PackedEntry:
    article_id: str
    signature: Signature
    content_key: bytes  # 8-byte key of the content hash (see content_key)
    seen_at: int

    def pack(self) -> bytes:
        return _RECORD.pack(
            FORMAT, bytes.fromhex(self.article_id), self.content_key, self.seen_at, self.signature
        )


def content_key(content_hash: str) -> bytes:
    """The 8 bytes kept per entry to recognise an identical content hash."""
    return hashlib.blake2b(content_hash.encode(), digest_size=8).digest()


def pack_entry(article_id: str, sig: Signature, content_hash: str, seen_at: float) -> bytes:
    return PackedEntry(article_id, sig, content_key(content_hash), _seconds(seen_at)).pack()


def unpack_entry(data: bytes) -> PackedEntry:
    if len(data) != PACKED_SIZE or data[0] != FORMAT:
        raise ValueError(f"not a format-{FORMAT} near-index entry of {PACKED_SIZE} bytes")
    _, raw_id, key, seen_at, sig = _RECORD.unpack(data)
    return PackedEntry(raw_id.hex(), Signature(sig), key, seen_at)


def _seconds(now: float) -> int:
    if not 0 <= now < _MOD:
        raise ValueError(f"time {now} is outside 1970–2106 (stored as uint32 seconds)")
    return int(now)


def _raw_id(article_id: str) -> bytes:
    raw = bytes.fromhex(article_id) if len(article_id) == 32 else b""
    if len(raw) != 16:
        raise ValueError(f"article ids are 32 hex characters (blake2b-128), got {article_id!r}")
    return raw


def _check_signature(sig: Signature) -> None:
    if len(sig) != NUM_PERM:
        raise ValueError(f"a signature has {NUM_PERM} bytes, got {len(sig)}")


def _zeros(typecode: str, count: int) -> array[int]:
    found = array(typecode)
    found.frombytes(bytes(found.itemsize * count))
    return found


class NearIndex:
    """The articles seen in the last ``retention_seconds`` (at most ``capacity`` of them)."""

    def __init__(
        self,
        capacity: int = 1_000_000,
        threshold: float = DEFAULT_THRESHOLD,
        retention_seconds: float = 7 * 86400,
    ) -> None:
        if not 1 <= capacity < _MOD or not 0 < threshold <= 1 or retention_seconds <= 0:
            raise ValueError("1 ≤ capacity < 2**32, 0 < threshold ≤ 1 and retention_seconds > 0 are required")
        self.capacity, self.threshold, self.retention_seconds = capacity, threshold, retention_seconds
        bits = max(1, (capacity - 1).bit_length())  # about one bucket per entry
        self._mask = (1 << bits) - 1
        self._seq = self._live = 0  # entries ever inserted; entries held
        self._top, self._stamp = capacity - 1, 1  # the newest entry's slot and stamp
        self._heads = [_zeros("I", 1 << bits) for _ in range(BANDS)]  # bucket → newest stamp
        self._links = [_zeros("Q", capacity) for _ in range(BANDS)]  # band << 32 | distance back
        self._id_heads, self._id_next = _zeros("I", 1 << bits), _zeros("I", capacity)
        self._seen = _zeros("I", capacity)  # seen_at + 1; 0: empty or replaced
        self._ids, self._keys = bytearray(16 * capacity), bytearray(8 * capacity)
        self._sigs = bytearray(NUM_PERM * capacity)

    def __len__(self) -> int:
        """Entries held: neither evicted nor replaced (expired ones count until evicted)."""
        return self._live

    def nbytes(self) -> int:
        arrays = (*self._heads, *self._links, self._id_heads, self._id_next, self._seen)
        return sum(a.itemsize * len(a) for a in arrays) + len(self._ids) + len(self._keys) + len(self._sigs)

    def add(self, article_id: str, sig: Signature, content_hash: str, now: float) -> None:
        """Remember an article; an id already present is replaced (a revision's new text)."""
        self._insert(_raw_id(article_id), sig, content_key(content_hash), _seconds(now))

    def add_packed(self, data: bytes) -> None:
        """Replay a record of :func:`pack_entry` (rebuilding the index after a restart)."""
        entry = unpack_entry(data)
        self._insert(bytes.fromhex(entry.article_id), entry.signature, entry.content_key, entry.seen_at)

    def query(
        self, sig: Signature, content_hash: str, now: float, exclude_id: str | None = None
    ) -> NearMatch | None:
        """The best earlier article like ``sig``: same content first, then the most similar,
        then the oldest. ``exclude_id`` skips the article's own earlier revision."""
        _check_signature(sig)
        candidates = self._candidates(sig)
        if not candidates:
            return None  # most queries: nothing shares a band
        horizon = now - self.retention_seconds + 1  # stored as seen_at + 1
        excluded = _raw_id(exclude_id) if exclude_id else None
        key, wanted = content_key(content_hash), int.from_bytes(sig, "little")
        best: tuple[bool, float, int, int] | None = None
        for slot in candidates:
            seen = self._seen[slot]
            if not seen or seen < horizon or (excluded and self._ids[16 * slot : 16 * slot + 16] == excluded):
                continue  # replaced, expired or the article itself
            same = self._keys[8 * slot : 8 * slot + 8] == key
            stored = int.from_bytes(self._sigs[NUM_PERM * slot : NUM_PERM * slot + NUM_PERM], "little")
            similarity = 1.0 if same else jaccard_from_matches(_equal_bytes(wanted, stored))
            if same or similarity >= self.threshold:
                rank = (same, similarity, (self._top - slot) % self.capacity, slot)  # age: older wins
                best = rank if best is None or rank > best else best
        if best is None:
            return None
        same, similarity, _, slot = best
        return NearMatch(self._ids[16 * slot : 16 * slot + 16].hex(), similarity, same)

    def _candidates(self, sig: Signature) -> set[int]:
        """Live slots sharing at least one whole band with ``sig`` (the hot loop: kept inline)."""
        stamp, top, capacity, mask = self._stamp, self._top, self.capacity, self._mask
        found: set[int] = set()
        for band, heads, links in zip(_bands(sig), self._heads, self._links, strict=True):
            head = heads[(band * _FIBONACCI >> 32) & mask]
            if not head:
                continue
            age = (stamp - head) % _MOD
            while age < capacity:  # older than the ring: evicted, and so is the rest of the chain
                slot = top - age if age <= top else top - age + capacity
                link = links[slot]
                if link >> 32 == band:
                    found.add(slot)
                distance = link & 0xFFFFFFFF
                if not distance:
                    break
                age += distance
        return found

    def _insert(self, raw_id: bytes, sig: Signature, key: bytes, seen_at: int) -> None:
        _check_signature(sig)
        self._remove(raw_id)
        self._seq += 1
        slot = self._top = (self._seq - 1) % self.capacity
        stamp = self._stamp = self._seq % _MOD + 1
        if self._seen[slot]:
            self._live -= 1  # the oldest entry leaves the ring
        self._live += 1
        self._ids[16 * slot : 16 * slot + 16], self._keys[8 * slot : 8 * slot + 8] = raw_id, key
        self._sigs[NUM_PERM * slot : NUM_PERM * slot + NUM_PERM] = sig
        self._seen[slot] = seen_at + 1
        for band, heads, links in zip(_bands(sig), self._heads, self._links, strict=True):
            bucket = (band * _FIBONACCI >> 32) & self._mask
            links[slot], heads[bucket] = band << 32 | self._distance(heads[bucket]), stamp
        bucket = self._id_bucket(raw_id)
        self._id_next[slot], self._id_heads[bucket] = self._distance(self._id_heads[bucket]), stamp

    def _distance(self, head: int) -> int:
        """How far back a bucket's previous newest entry is from the new one (0: none alive)."""
        distance = (self._stamp - head) % _MOD if head else 0
        return distance if distance < self.capacity else 0

    def contains(self, article_id: str, now: float) -> bool:
        """Whether ``article_id`` is held and not expired (a revision's original passed)."""
        raw_id, horizon = _raw_id(article_id), now - self.retention_seconds + 1
        head = self._id_heads[self._id_bucket(raw_id)]
        age = (self._stamp - head) % _MOD if head else self.capacity
        while age < self.capacity:
            slot = (self._top - age) % self.capacity
            if self._seen[slot] >= horizon and self._ids[16 * slot : 16 * slot + 16] == raw_id:
                return True
            distance = self._id_next[slot]
            if not distance:
                return False
            age += distance
        return False

    def _remove(self, raw_id: bytes) -> None:
        head = self._id_heads[self._id_bucket(raw_id)]
        age = (self._stamp - head) % _MOD if head else self.capacity
        while age < self.capacity:
            slot = (self._top - age) % self.capacity
            if self._seen[slot] and self._ids[16 * slot : 16 * slot + 16] == raw_id:
                self._seen[slot] = 0
                self._live -= 1
            distance = self._id_next[slot]
            if not distance:
                break
            age += distance

    def _id_bucket(self, raw_id: bytes) -> int:
        return int.from_bytes(raw_id[:8], "little") & self._mask


def _bands(sig: Signature) -> array[int]:
    """The BANDS band keys of a signature: ROWS = 4 bytes each, read as one uint32."""
    return array("I", sig[: BANDS * ROWS])


def _equal_bytes(a: int, b: int) -> int:
    """How many of the NUM_PERM bytes of two little-endian packed signatures are equal."""
    return (a ^ b).to_bytes(NUM_PERM, "little").count(0)
