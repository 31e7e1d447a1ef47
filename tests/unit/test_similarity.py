"""Shingles, signatures and the near-duplicate index (pipeline/similarity.py, pipeline/nearindex.py)."""

import hashlib
import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.cleaning.identity import article_id
from pipeline.cleaning.text import matching_form
from pipeline.nearindex import PACKED_SIZE, NearIndex, NearMatch, pack_entry, unpack_entry
from pipeline.similarity import (
    DEFAULT_THRESHOLD,
    NUM_PERM,
    Signature,
    estimate_jaccard,
    shingle_hashes,
    shingles,
    signature,
    word_bytes,
)

DAY = 86400.0
T0 = 1_700_000_000.0

# Plain, varied prose: about 150 distinct words, so shingles rarely repeat.
STORY = (
    "Heavy rain flooded the northern valley on Tuesday, forcing hundreds of families to leave "
    "their homes as rivers burst their banks. Emergency crews worked through the night to "
    "reinforce levees near the old mill town, while volunteers filled sandbags outside the "
    "library. The regional governor said the army would send helicopters to reach villages cut "
    "off by landslides. Forecasters expect another storm before the weekend, and schools will "
    "remain closed until engineers inspect every bridge. Farmers warned that the harvest of "
    "apples and grapes could be lost entirely, adding to a difficult year for growers who "
    "already faced drought in spring. Insurance companies estimated damages at several million "
    "euros, although officials cautioned that the final figure may be much higher once roads "
    "reopen. A spokesman for the railway operator said trains between the coast and the capital "
    "would run on a reduced timetable. Residents described water rising quickly in the early "
    "morning hours, with little time to save furniture or documents."
)
OTHER = (
    "The central bank kept interest rates unchanged at its monthly meeting, citing stubborn "
    "inflation in services and a labour market that remains tight. Analysts had expected the "
    "pause after three consecutive increases earlier this year. The currency rose slightly "
    "against the dollar after the announcement, and bond yields fell as traders trimmed bets "
    "on further tightening. In a statement, policymakers said they would watch wage growth, "
    "energy prices and consumer spending closely before deciding on the next move."
)


def ident(name: str) -> str:
    return article_id(f"https://example.org/{name}")


def replace_words(text: str, every: int) -> str:
    """Every ``every``-th word replaced by a word the text does not contain."""
    words = text.split()
    return " ".join(f"zzword{i}" if i % every == 0 else w for i, w in enumerate(words))


def true_jaccard(a: str, b: str) -> float:
    sa, sb = set(shingles(a)), set(shingles(b))
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


# --- shingles ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", [], id="empty"),
        pytest.param("!!! ... ---", [], id="punctuation-only"),
        pytest.param("One two", ["one two"], id="shorter-than-k-is-one-shingle"),
        pytest.param("a b c d e", ["a b c d e"], id="exactly-k"),
        pytest.param("A b, C. d! E f", ["a b c d e", "b c d e f"], id="case-and-punctuation"),
        pytest.param(
            "it's a don’t-care case",
            ["it s a don t", "s a don t care", "a don t care case"],
            id="apostrophes",
        ),
        pytest.param("ＡＢＣ ﬁnance STRASSE Straße x", ["abc finance strasse strasse x"], id="nfkc-casefold"),
        pytest.param("东京大学。研究所、新しい 発見", ["东京大学 研究所 新しい 発見"], id="cjk-runs"),
        pytest.param("snake_case and 42nd street", ["snake_case and 42nd street"], id="underscore-digits"),
    ],
)
def test_shingles(text: str, expected: list[str]) -> None:
    assert shingles(text) == expected


def test_shingles_keep_order_and_repeats() -> None:
    assert shingles("a b a b a b", k=2) == ["a b", "b a", "a b", "b a", "a b"]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param("Hello, world: this is it", "hello   WORLD this -- is it!", id="spacing-punctuation"),
        pytest.param("Ｈｅｌｌｏ world this is it", "hello world this is it", id="fullwidth"),
        pytest.param("a b c", "  a\tb\nc  ", id="short-with-whitespace"),
    ],
)
def test_shingle_hashes_see_only_tokens(a: str, b: str) -> None:
    assert shingle_hashes(a).tolist() == shingle_hashes(b).tolist()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_fast_tokens_are_the_reference_tokens(text: str) -> None:
    reference = [token.encode() for token in re.findall(r"\w+", matching_form(text))]
    assert word_bytes(text).split() == reference
    assert len(set(shingle_hashes(text).tolist())) == len(set(shingles(text)))


# --- signatures --------------------------------------------------------------------------

GOLDEN = (
    "8c41b100ea73b838c7f1e36e49b77e74566940feb68f3af5b2b82b5f57f317d25da1919754e29ca23cf3e2b6f68f87f3"
    "3c9bae43b980ac03eefea63e2c3a893019182004164cc72ccca06afbe7ac2c207904d40eabfbf953d268114ee8460226"
    "812ab15fea0969dbb5faf9d78b780dab6293b00df358c82c2aa10cd278e6c5dc"
)


def test_signature_is_stable() -> None:
    """Persisted signatures must stay comparable: a change here needs a new ALGORITHM/FORMAT."""
    sig = signature("The quick brown fox jumps over the lazy dog near the river bank.")
    assert len(sig) == NUM_PERM
    assert sig.hex() == GOLDEN


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(STORY, STORY, id="identical"),
        pytest.param(STORY, STORY.upper(), id="case-only"),
        pytest.param(STORY, replace_words(STORY, 40), id="few-words-changed"),
        pytest.param(STORY, replace_words(STORY, 15), id="some-words-changed"),
        pytest.param(STORY, replace_words(STORY, 8), id="many-words-changed"),
        pytest.param(STORY, replace_words(STORY, 4), id="most-shingles-changed"),
        pytest.param(STORY, STORY + " " + OTHER, id="long-boilerplate-appended"),
        pytest.param(STORY, OTHER, id="unrelated"),
    ],
)
def test_estimate_is_close_to_true_jaccard(a: str, b: str) -> None:
    # σ ≤ 0.045 at 128 slots; the inputs are fixed, so this cannot flake.
    assert estimate_jaccard(signature(a), signature(b)) == pytest.approx(true_jaccard(a, b), abs=0.12)


def test_estimate_of_equal_signatures_is_one() -> None:
    assert estimate_jaccard(signature(""), signature("")) == 1.0
    assert estimate_jaccard(signature(STORY), signature(STORY)) == 1.0


def test_estimate_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="lengths"):
        estimate_jaccard(Signature(b"\0" * 4), Signature(b"\0" * 5))


# --- the index ---------------------------------------------------------------------------


def indexed(*texts: str, capacity: int = 1000, retention: float = 7 * DAY) -> NearIndex:
    index = NearIndex(capacity=capacity, retention_seconds=retention)
    for number, text in enumerate(texts):
        index.add(ident(f"doc{number}"), signature(text), f"hash-{text}", T0 + number)
    return index


def ask(index: NearIndex, text: str, content_hash: str = "new", now: float = T0 + 100) -> NearMatch | None:
    return index.query(signature(text), content_hash, now)


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(replace_words(STORY, 30), id="a-few-words-changed"),
        pytest.param(
            STORY + " Sign up for our newsletter. Follow us on social media.", id="boilerplate-appended"
        ),
        pytest.param(STORY.split(". ", 1)[1], id="first-sentence-dropped"),
        pytest.param("Valley floods: hundreds flee\n\n" + STORY, id="headline-added"),
        pytest.param(STORY.replace("Tuesday", "Wednesday").replace("army", "military"), id="re-edited"),
    ],
)
def test_near_copy_is_found(variant: str) -> None:
    match = ask(indexed(OTHER, STORY), variant)
    assert match is not None
    assert match.id == ident("doc1")
    assert not match.same_content
    assert DEFAULT_THRESHOLD <= match.similarity < 1.0


def test_identical_content_is_found_with_same_content() -> None:
    match = ask(indexed(OTHER, STORY), STORY, content_hash=f"hash-{STORY}")
    assert match == NearMatch(ident("doc1"), 1.0, True)


def test_identical_text_under_another_hash_is_similarity_one() -> None:
    assert ask(indexed(STORY), STORY) == NearMatch(ident("doc0"), 1.0, False)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(OTHER.replace("central bank", "treasury"), id="same-topic-other-story"),
        pytest.param(replace_words(STORY, 3), id="heavily-rewritten"),
        pytest.param("Floods", id="one-word"),
        pytest.param("", id="empty"),
    ],
)
def test_unrelated_is_not_found(text: str) -> None:
    assert ask(indexed(STORY, "Storm warning for the coast"), text) is None


def test_the_oldest_of_equal_matches_wins() -> None:
    index = indexed(STORY, STORY)
    assert ask(index, STORY, content_hash=f"hash-{STORY}") == NearMatch(ident("doc0"), 1.0, True)


def test_same_content_beats_a_closer_signature() -> None:
    index = NearIndex(capacity=10)
    index.add(ident("a"), signature(STORY), "other-hash", T0)
    index.add(ident("b"), signature(STORY + " Advertisement"), "the-hash", T0)
    assert index.query(signature(STORY), "the-hash", T0) == NearMatch(ident("b"), 1.0, True)


def test_exclude_id_skips_the_articles_own_revision() -> None:
    index = indexed(STORY)
    assert index.query(signature(STORY), "x", T0, exclude_id=ident("doc0")) is None


@pytest.mark.parametrize(
    ("age", "found"),
    [
        pytest.param(0, True, id="just-added"),
        pytest.param(7 * DAY, True, id="at-the-retention-limit"),
        pytest.param(7 * DAY + 1, False, id="one-second-past"),
        pytest.param(30 * DAY, False, id="long-gone"),
    ],
)
def test_retention(age: float, found: bool) -> None:
    index = indexed(STORY, retention=7 * DAY)
    assert (ask(index, STORY, now=T0 + age) is not None) is found


def test_capacity_evicts_the_oldest() -> None:
    texts = [f"{STORY} story number {n}" if n % 2 else f"{OTHER} item {n}" for n in range(5)]
    index = indexed(*texts, capacity=4)
    assert len(index) == 4
    assert ask(index, texts[0], content_hash=f"hash-{texts[0]}") != NearMatch(ident("doc0"), 1.0, True)
    for number in range(1, 5):
        match = ask(index, texts[number], content_hash=f"hash-{texts[number]}")
        assert match == NearMatch(ident(f"doc{number}"), 1.0, True)


def shared_band_signature(number: int) -> Signature:
    """Distinct signatures that all share their first band: every entry sits in one chain."""
    return Signature(b"band" + hashlib.shake_128(str(number).encode()).digest(NUM_PERM - 4))


@pytest.mark.parametrize("capacity", [1, 3, 8, 37])
def test_ring_wrap_keeps_chains_intact(capacity: int) -> None:
    index = NearIndex(capacity=capacity)
    inserted = 10 * capacity + 5
    for number in range(inserted):
        index.add(ident(f"n{number}"), shared_band_signature(number), f"h{number}", T0)
    assert len(index) == capacity
    for number in range(inserted):
        match = index.query(shared_band_signature(number), f"h{number}", T0)
        alive = number >= inserted - capacity
        assert (match == NearMatch(ident(f"n{number}"), 1.0, True)) is alive, number
        if not alive:
            assert match is None or match.id != ident(f"n{number}")


def test_re_adding_an_id_replaces_it() -> None:
    revised = STORY.replace("Tuesday", "Monday") + " Updated with the governor's statement."
    index = NearIndex(capacity=10)
    index.add(ident("a"), signature(OTHER), "v1", T0)
    index.add(ident("a"), signature(revised), "v2", T0 + 5)
    assert len(index) == 1
    assert index.query(signature(OTHER), "v1", T0 + 6) is None
    assert index.query(signature(revised), "v2", T0 + 6) == NearMatch(ident("a"), 1.0, True)


def test_replaced_entries_leave_room_accounting_right() -> None:
    index = NearIndex(capacity=2)
    for _ in range(5):
        index.add(ident("a"), signature(STORY), "h", T0)
    assert len(index) == 1
    index.add(ident("b"), signature(OTHER), "h2", T0)
    index.add(ident("c"), signature("a third story about something else"), "h3", T0)
    assert len(index) == 2
    assert index.query(signature(STORY), "h", T0) is None


def test_nbytes_is_within_budget() -> None:
    index = NearIndex(capacity=100_000)
    assert index.nbytes() / index.capacity <= 400


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda i: i.add("not-hex", signature(STORY), "h", T0), "32 hex", id="bad-id"),
        pytest.param(lambda i: i.add(ident("a"), Signature(b"short"), "h", T0), "bytes", id="bad-signature"),
        pytest.param(lambda i: i.add(ident("a"), signature(STORY), "h", -1), "uint32", id="bad-time"),
        pytest.param(lambda i: i.query(Signature(b"x"), "h", T0), "bytes", id="bad-query"),
    ],
)
def test_bad_input_is_refused(call: Callable[[NearIndex], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call(NearIndex(capacity=4))


# --- persistence -------------------------------------------------------------------------


def test_pack_round_trip() -> None:
    sig = signature(STORY)
    data = pack_entry(ident("a"), sig, "content", T0 + 0.9)
    assert len(data) == PACKED_SIZE
    entry = unpack_entry(data)
    assert (entry.article_id, entry.signature, entry.seen_at) == (ident("a"), sig, int(T0))
    assert entry.pack() == data


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x01" * (PACKED_SIZE - 1), id="short"),
        pytest.param(b"\x02" + b"\0" * (PACKED_SIZE - 1), id="other-format"),
    ],
)
def test_unpack_refuses_foreign_records(data: bytes) -> None:
    with pytest.raises(ValueError, match="format"):
        unpack_entry(data)


def test_rebuild_from_packed_entries_is_equivalent() -> None:
    texts = [STORY, OTHER, STORY + " More.", "Storm warning for the coast", OTHER.upper()]
    original, rebuilt = NearIndex(capacity=4), NearIndex(capacity=4)
    for number, text in enumerate(texts):
        original.add(ident(f"d{number}"), signature(text), f"h{number}", T0 + number)
        rebuilt.add_packed(pack_entry(ident(f"d{number}"), signature(text), f"h{number}", T0 + number))
    assert len(rebuilt) == len(original) == 4
    assert rebuilt.nbytes() == original.nbytes()
    for number, text in enumerate([*texts, replace_words(STORY, 30)]):
        for now in (T0 + 10, T0 + 7 * DAY + 2):
            sig = signature(text)
            assert rebuilt.query(sig, f"h{number}", now) == original.query(sig, f"h{number}", now)


# --- properties --------------------------------------------------------------------------

WORDS = st.text(alphabet="abcdefghijklmnop", min_size=1, max_size=8)
UNRELATED = st.text(alphabet="qrstuvwxyz", min_size=1, max_size=8)  # disjoint letters


@settings(max_examples=60, deadline=None)
@given(
    base=st.lists(WORDS, min_size=1, max_size=60),
    edits=st.lists(st.tuples(st.integers(0, 59), WORDS), max_size=4),
    others=st.lists(st.lists(UNRELATED, min_size=1, max_size=30), max_size=20),
)
def test_query_ignores_unrelated_documents(
    base: list[str], edits: list[tuple[int, str]], others: list[list[str]]
) -> None:
    query = list(base)
    for position, word in edits:
        query[position % len(query)] = word
    alone, crowded = NearIndex(capacity=64), NearIndex(capacity=64)
    alone.add(ident("base"), signature(" ".join(base)), "base", T0)
    crowded.add(ident("base"), signature(" ".join(base)), "base", T0)
    for number, words in enumerate(others):
        crowded.add(ident(f"other{number}"), signature(" ".join(words)), f"o{number}", T0)
    sig = signature(" ".join(query))
    assert crowded.query(sig, "q", T0) == alone.query(sig, "q", T0)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=300), noise=st.lists(st.text(max_size=50), max_size=10))
def test_an_added_text_is_always_found(text: str, noise: list[str]) -> None:
    index = NearIndex(capacity=32)
    for number, other in enumerate(noise):
        index.add(ident(f"noise{number}"), signature(other), f"n{number}", T0)
    index.add(ident("it"), signature(text), "it", T0)
    match = index.query(signature(text), "it", T0)
    assert match is not None
    assert match.similarity == 1.0
    assert match.same_content


@given(
    raw_id=st.binary(min_size=16, max_size=16),
    sig=st.binary(min_size=NUM_PERM, max_size=NUM_PERM),
    content=st.text(),
    seen_at=st.integers(0, 2**32 - 2),
)
def test_pack_unpack_identity(raw_id: bytes, sig: bytes, content: str, seen_at: int) -> None:
    data = pack_entry(raw_id.hex(), Signature(sig), content, seen_at)
    entry = unpack_entry(data)
    assert (entry.article_id, entry.signature, entry.seen_at) == (raw_id.hex(), sig, seen_at)
    assert entry.pack() == data
    assert unpack_entry(entry.pack()) == entry


class ReferenceIndex:
    """The index's contract, written the slow and obvious way: a list of every insert."""

    def __init__(self, capacity: int, threshold: float, retention: float) -> None:
        self.capacity, self.threshold, self.retention = capacity, threshold, retention
        self.inserts: list[dict[str, object]] = []

    def add(self, article_id: str, sig: bytes, content_hash: str, now: float) -> None:
        for entry in self.inserts:
            if entry["id"] == article_id:
                entry["removed"] = True
        self.inserts.append({"id": article_id, "sig": sig, "hash": content_hash, "seen": int(now)})

    def query(self, sig: bytes, content_hash: str, now: float, exclude_id: str | None) -> NearMatch | None:
        ring = self.inserts[-self.capacity :]
        best: tuple[bool, float, int] | None = None
        result = None
        for age, entry in enumerate(reversed(ring)):
            stored = entry["sig"]
            assert isinstance(stored, bytes) and isinstance(entry["seen"], int)
            shares_band = any(stored[b * 4 : b * 4 + 4] == sig[b * 4 : b * 4 + 4] for b in range(14))
            if entry.get("removed") or not shares_band or now - entry["seen"] > self.retention:
                continue
            if entry["id"] == exclude_id:
                continue
            same = entry["hash"] == content_hash
            similarity = 1.0 if same else estimate_jaccard(Signature(sig), Signature(stored))
            rank = (same, similarity, age)
            if (same or similarity >= self.threshold) and (best is None or rank > best):
                best, result = rank, NearMatch(str(entry["id"]), similarity, same)
        return result


BINARY_SIGNATURES = st.lists(st.sampled_from([0, 1]), min_size=NUM_PERM, max_size=NUM_PERM).map(bytes)
OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["add", "query"]),
        st.integers(0, 6),  # article
        BINARY_SIGNATURES,
        st.sampled_from(["h1", "h2", "h3"]),
        st.integers(0, 50),  # seconds after T0
        st.booleans(),  # exclude the article (queries)
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(
    capacity=st.integers(1, 9),
    operations=OPERATIONS,
    start=st.sampled_from([0, 2**32 - 4, 2 * (2**32 - 1) - 7]),
)
def test_index_agrees_with_the_reference(
    capacity: int, operations: list[tuple[str, int, bytes, str, int, bool]], start: int
) -> None:
    # Binary signatures share bands often (1/16 per band) and score J ≈ 0.5 against each
    # other: long chains, many candidates, and both outcomes of the threshold. ``start`` puts
    # the sequence numbers just before their uint32 stamps wrap (white box: an empty index).
    index = NearIndex(capacity=capacity, threshold=0.45, retention_seconds=20)
    index._seq = start
    reference = ReferenceIndex(capacity, 0.45, 20)
    for operation, number, sig, content_hash, seconds, exclude in operations:
        now = T0 + seconds
        if operation == "add":
            index.add(ident(f"a{number}"), Signature(sig), content_hash, now)
            reference.add(ident(f"a{number}"), sig, content_hash, now)
        else:
            excluded = ident(f"a{number}") if exclude else None
            expected = reference.query(sig, content_hash, now, excluded)
            assert index.query(Signature(sig), content_hash, now, exclude_id=excluded) == expected
    live = {entry["id"] for entry in reference.inserts[-capacity:] if not entry.get("removed")}
    assert len(index) == len(live)
