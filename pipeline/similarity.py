"""Near-duplicate signatures: word 5-shingles and an 8-bit MinHash (issue 5; index: nearindex.py).

**Shingles** are the definition used by the datasets' ``duplicates.csv``: ``\\w+`` runs of
:func:`~pipeline.cleaning.text.matching_form` (NFKC + casefold), 5 consecutive tokens joined by
one space; a text with fewer than 5 tokens is one shingle of all its tokens, an empty text has
none. Pass headline and body together. Scripts written without spaces (CJK) form one token per
run between punctuation, exactly as ``\\w+`` does.

**Signature** (``ALGORITHM``): :func:`signature` never builds the shingle strings. It maps
non-word characters to spaces in one ``bytes.translate`` (plus ``str.replace`` for the few
distinct non-ASCII non-word characters of a text), then hashes every shingle in numpy with a
64-bit polynomial hash over its UTF-8 bytes (prefix sums × inverse powers, so each shingle costs
O(1) vector work whatever its length) and a murmur3 finaliser. rensa's R-MinHash (128 slots,
fixed seed) turns those hashes into the sketch: ≈ 8 µs against ≈ 45 µs for a numpy
multiply-add MinHash of the same hashes, ≈ 50 µs per BBC article in all against ≈ 3 ms for
datasketch's classic MinHash (benchmarks/bench_neardup.py). Only the low 8 bits of
each slot are kept (b-bit MinHash, Li & König 2010): 128 bytes per article, and two unrelated
slots still agree with probability 1/256, which :func:`jaccard_from_matches` corrects for.
Texts are hashed on their first ``MAX_TEXT_BYTES`` of normalised UTF-8.

Persisted signatures stay comparable only while ``ALGORITHM`` is unchanged: its parts are
this module's hashing, rensa's ``RMinHash.ALGORITHM_VERSION`` (checked at import), the slot
count, the seed and the bit width. Pin rensa; a golden test fixes one signature.
"""

from __future__ import annotations

import hashlib
import re
import sys
from array import array
from typing import Final, NewType

import numpy as np
import numpy.typing as npt
import rensa

from pipeline.cleaning.text import matching_form

SHINGLE_SIZE: Final = 5
NUM_PERM: Final = 128
SEED: Final = 0x6E657773666C6F77  # b"newsflow"
RENSA_ALGORITHM_VERSION: Final = 2
ALGORITHM: Final = "newsflow-minhash/1:word5-poly64:rensa-rminhash-2:perm128:seed6e657773666c6f77:bits8"
# Estimated Jaccard at or above which an earlier article is a near-duplicate. 0.7 keeps both
# requirements with margin (benchmarks/bench_neardup.py, 400 synthetic pairs per J): pairs at
# J = 0.8 are found 99.5% of the time (0.75 would find 93%, 0.8 only 47%), pairs at J = 0.6
# 0.75%, at J = 0.5 none. On BBC and Reuters it finds every pair at J ≥ 0.8 (100/100 exact and
# 57/57 near; 67/67 and 58/58) and no match below J = 0.5; the few matches between 0.69 and 0.8
# are the same story re-edited (headline and a paragraph changed), which is what issue 5 asks.
DEFAULT_THRESHOLD: Final = 0.7
MAX_TEXT_BYTES: Final = 1 << 20
COLLISION: Final = 1 / 256  # chance that the low 8 bits of two unrelated slots agree

Signature = NewType("Signature", bytes)
"""``NUM_PERM`` bytes: the low 8 bits of each MinHash slot."""

U64 = npt.NDArray[np.uint64]

_WORD = re.compile(r"\w+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_SPACE = 32


def _blake64(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8, person=b"nf-shingle").digest())


# ASCII word characters stay (lower-cased), other ASCII becomes a space; bytes of non-ASCII
# characters pass through (their non-word characters were replaced before encoding).
_WORD_BYTES = bytes(
    c if c >= 128 else ord(chr(c).lower()) if chr(c).isalnum() or c == ord("_") else _SPACE
    for c in range(256)
)
_BYTE_HASH = np.array([_blake64(bytes([c])) for c in range(256)], dtype=np.uint64)
_BASE: Final = 0x9E3779B97F4A7C15  # odd, so it has an inverse modulo 2**64
_POWERS: list[tuple[U64, U64]] = []  # (base**i, base**-i) mod 2**64, grown on demand
_LOW_BYTE = 0 if sys.byteorder == "little" else 3
_EMPTY = Signature(b"\xff" * NUM_PERM)  # rensa's empty sketch (all slots 2**32 - 1), low bits


def _check_engine() -> None:
    found = rensa.RMinHash.ALGORITHM_VERSION
    if found != RENSA_ALGORITHM_VERSION:
        raise ImportError(
            f"rensa RMinHash.ALGORITHM_VERSION is {found}, signatures need {RENSA_ALGORITHM_VERSION}: "
            "install the pinned rensa (stored signatures would no longer compare)"
        )


_check_engine()


def shingles(text: str, k: int = SHINGLE_SIZE) -> list[str]:
    """The word k-shingles of ``text`` in order (duplicates kept): the reference definition."""
    tokens = _WORD.findall(matching_form(text))
    if len(tokens) < k:
        return [" ".join(tokens)] if tokens else []
    return [" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)]


def word_bytes(text: str) -> bytes:
    """``matching_form(text)`` as UTF-8 with every non-word character turned into a space."""
    if not text.isascii():
        text = matching_form(text)
        for char in set(_NON_ASCII.findall(text)):
            if not char.isalnum():
                text = text.replace(char, " ")
    return text.encode().translate(_WORD_BYTES)


def shingle_hashes(text: str, k: int = SHINGLE_SIZE) -> U64:
    """A 64-bit hash of each of ``shingles(text, k)``, computed without building them."""
    data = word_bytes(text)[:MAX_TEXT_BYTES]
    chars = np.frombuffer(data, np.uint8)
    word = chars != _SPACE
    keep = word.copy()
    keep[1:] |= word[:-1]  # word characters and the first space after each word
    squeezed = chars[keep]
    if squeezed.size and squeezed[-1] == _SPACE:
        squeezed = squeezed[:-1]
    if squeezed.size == 0:
        return np.empty(0, np.uint64)
    starts, ends = _shingle_bounds(squeezed, k)
    powers, inverses = _powers(squeezed.size)
    prefix = np.zeros(squeezed.size + 1, np.uint64)
    np.cumsum(_BYTE_HASH[squeezed] * powers[: squeezed.size], out=prefix[1:])
    return _fmix64((prefix[ends] - prefix[starts]) * inverses[starts])


def _shingle_bounds(squeezed: npt.NDArray[np.uint8], k: int) -> tuple[npt.NDArray[np.intp], ...]:
    gaps = np.flatnonzero(squeezed == _SPACE)
    starts = np.concatenate(([0], gaps + 1))
    ends = np.concatenate((gaps, [squeezed.size]))
    count = starts.size - k + 1
    if count < 1:
        return starts[:1], ends[-1:]
    return starts[:count], ends[k - 1 :]


def _powers(size: int) -> tuple[U64, U64]:
    if not _POWERS or _POWERS[0][0].size < size:
        length = max(1 << 14, 1 << (size - 1).bit_length())
        powers = np.ones(length, np.uint64)
        inverses = np.ones(length, np.uint64)
        np.cumprod(np.full(length - 1, _BASE, np.uint64), out=powers[1:])
        np.cumprod(np.full(length - 1, pow(_BASE, -1, 1 << 64), np.uint64), out=inverses[1:])
        _POWERS[:] = [(powers, inverses)]
    return _POWERS[0]


def _fmix64(values: U64) -> U64:
    """murmur3's 64-bit finaliser: every input bit reaches every output bit."""
    values ^= values >> np.uint64(33)
    values *= np.uint64(0xFF51AFD7ED558CCD)
    values ^= values >> np.uint64(33)
    values *= np.uint64(0xC4CEB9FE1A85EC53)
    values ^= values >> np.uint64(33)
    return values


def signature(text: str) -> Signature:
    """The 8-bit MinHash of ``text``'s word 5-shingles (deterministic across processes)."""
    return signature_of_hashes(shingle_hashes(text))


def signature_of_hashes(hashes: U64) -> Signature:
    """The signature of a set of 64-bit shingle hashes (repeats and order do not matter)."""
    if hashes.size == 0:
        return _EMPTY
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(hashes, [0, hashes.size], NUM_PERM, SEED)
    return Signature(array("I", matrix.to_rows()[0]).tobytes()[_LOW_BYTE::4])


def jaccard_from_matches(matches: int, slots: int = NUM_PERM) -> float:
    """Estimated Jaccard from how many 8-bit slots agree, corrected for chance agreement."""
    return max(0.0, (matches / slots - COLLISION) / (1 - COLLISION))


def estimate_jaccard(a: Signature, b: Signature) -> float:
    if len(a) != len(b):
        raise ValueError(f"signatures of different lengths: {len(a)} and {len(b)}")
    difference = int.from_bytes(a, "little") ^ int.from_bytes(b, "little")
    return jaccard_from_matches(difference.to_bytes(len(a), "little").count(0), len(a))
