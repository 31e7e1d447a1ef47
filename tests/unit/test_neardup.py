"""The near-duplicate decision and the whole in-process dedup (exact + near), with properties."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.chain import Chain
from pipeline.cleaning import clean_article
from pipeline.clock import FakeClock
from pipeline.dedup import SeenRecord, is_expired
from pipeline.models import CleanArticle, RawArticle
from pipeline.neardup import Copy, Replayed, Unique, decide_near
from pipeline.nearindex import NearIndex
from pipeline.tagging import Tagger
from pipeline.taxonomy import Taxonomy

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
VOCABULARY = [f"w{i}" for i in range(3000)]


def story(seed: int, words: int = 220) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(VOCABULARY) for _ in range(words))


def raw(key: str, title: str, body: str, **extra: object) -> RawArticle:
    values: dict[str, object] = {
        "article_key": key,
        "feed_id": "f",
        "fetched_at": "2026-11-21T12:00:00.000Z",
        "link": key if key.startswith("http") else None,
        "title": title,
        "content": f"<p>{body}</p>",
    }
    values.update(extra)
    return RawArticle.model_validate(values)


def clean(key: str, title: str, body: str) -> CleanArticle:
    return clean_article(raw(key, title, body))


def edited(body: str, changes: int, seed: int = 1) -> str:
    words = body.split()
    rng = random.Random(seed)
    for position in rng.sample(range(len(words)), changes):
        words[position] = "edited"
    return " ".join(words)


ORIGINAL = story(1)
CASES = [
    pytest.param("Aid reaches Aleppo", ORIGINAL, "content", id="same content under another URL"),
    pytest.param("Aid reaches Aleppo", edited(ORIGINAL, 3), "near", id="a few words changed"),
    pytest.param("Aid finally reaches Aleppo", ORIGINAL, "near", id="headline changed"),
    pytest.param(
        "Aid reaches Aleppo",
        ORIGINAL + " Sign up for our newsletter today and follow us",
        "near",
        id="boilerplate appended",
    ),
    pytest.param("Aid reaches Aleppo", " ".join(ORIGINAL.split()[15:]), "near", id="lead paragraph dropped"),
    pytest.param("Markets rally", story(2), None, id="another story"),
    pytest.param("Aid reaches Aleppo", edited(ORIGINAL, 90), None, id="rewritten: 40 % of words changed"),
]


@pytest.mark.parametrize(("title", "body", "kind"), CASES)
def test_copies_are_found_and_others_pass(title: str, body: str, kind: str | None) -> None:
    index = NearIndex(capacity=1000)
    first = decide_near(clean("https://a.example/1", "Aid reaches Aleppo", ORIGINAL), index, NOW)
    assert isinstance(first, Unique)
    first.remember(index)
    decision = decide_near(clean("https://b.example/1", title, body), index, NOW)
    if kind is None:
        assert isinstance(decision, Unique)
    else:
        assert isinstance(decision, Copy)
        assert decision.duplicate.kind == kind
        assert decision.duplicate.duplicate_of == first.article.id
        assert 0.7 <= decision.duplicate.similarity <= 1.0


def test_a_revision_is_never_a_copy_and_replaces_its_signature() -> None:
    index = NearIndex(capacity=1000)
    original = clean("https://a.example/1", "Aid reaches Aleppo", ORIGINAL)
    first = decide_near(original, index, NOW)
    assert isinstance(first, Unique)
    first.remember(index)
    revision = original.model_copy(
        update={
            "text": edited(ORIGINAL, 5),
            "content_hash": "x" * 64,
            "revision": 2,
            "update_of": original.id,
        }
    )
    decision = decide_near(revision, index, NOW)
    assert isinstance(decision, Unique)
    decision.remember(index)
    assert len(index) == 1  # replaced, not added


def test_a_replayed_article_is_not_sent_twice() -> None:
    index = NearIndex(capacity=1000)
    article = clean("https://a.example/1", "Aid reaches Aleppo", ORIGINAL)
    first = decide_near(article, index, NOW)
    assert isinstance(first, Unique)
    first.remember(index)
    assert isinstance(decide_near(article, index, NOW), Replayed)


def test_the_stored_entry_rebuilds_the_same_index() -> None:
    index, rebuilt = NearIndex(capacity=1000), NearIndex(capacity=1000)
    first = decide_near(clean("https://a.example/1", "Aid reaches Aleppo", ORIGINAL), index, NOW)
    assert isinstance(first, Unique)
    first.remember(index)
    rebuilt.add_packed(first.entry)
    copy = clean("https://b.example/1", "Aid reaches Aleppo", edited(ORIGINAL, 3))
    one, two = decide_near(copy, index, NOW), decide_near(copy, rebuilt, NOW)
    assert isinstance(one, Copy) and isinstance(two, Copy)
    assert one.duplicate == two.duplicate


def test_articles_older_than_the_retention_are_forgotten() -> None:
    index = NearIndex(capacity=1000, retention_seconds=3600)
    first = decide_near(clean("https://a.example/1", "Aid reaches Aleppo", ORIGINAL), index, NOW)
    assert isinstance(first, Unique)
    first.remember(index)
    later = NOW + timedelta(hours=2)
    assert isinstance(
        decide_near(clean("https://b.example/1", "Aid reaches Aleppo", ORIGINAL), index, later), Unique
    )


@pytest.mark.parametrize(
    ("last_seen", "expired"),
    [
        pytest.param("2026-11-14T11:59:00.000Z", True, id="just over 7 days"),
        pytest.param("2026-11-14T12:01:00.000Z", False, id="just under 7 days"),
        pytest.param("2026-11-21T11:00:00.000Z", False, id="an hour ago"),
    ],
)
def test_exact_records_expire_after_the_retention(last_seen: str, expired: bool) -> None:
    record = SeenRecord("id", "hash", 1, last_seen, last_seen)
    assert is_expired(record, NOW, 7 * 86400) is expired


# --- the whole in-process dedup: properties ---------------------------------------------------


def chain() -> Chain:
    return Chain(Tagger(Taxonomy()), FakeClock(NOW), near=NearIndex(capacity=10_000))


STORIES = [story(seed) for seed in range(8)]


def stream_items() -> st.SearchStrategy[list[RawArticle]]:
    """Articles drawn from 8 stories: originals, reposts under other URLs, edited copies,
    re-polls of the same URL."""
    item = st.tuples(
        st.integers(0, 7),  # story
        st.integers(0, 3),  # URL variant
        st.integers(0, 2),  # edit level: none, a few words, a new headline
    )

    def build(spec: tuple[int, int, int]) -> RawArticle:
        number, variant, edit = spec
        body = STORIES[number] if edit != 1 else edited(STORIES[number], 3, seed=number)
        title = f"Story {number}" if edit != 2 else f"Story {number}, updated headline"
        return raw(f"https://site{variant}.example/{number}", title, body)

    return st.lists(item.map(build), min_size=1, max_size=25)


def outcome(items: list[RawArticle]) -> list[tuple[str, str | None, str | None]]:
    results = chain().process_all(items)
    return [
        (
            r.article.id,
            r.duplicate.duplicate_of if r.duplicate else None,
            r.duplicate.kind if r.duplicate else None,
        )
        for r in results
        if not hasattr(r, "error")
    ]


@settings(max_examples=40, deadline=None)
@given(stream_items())
def test_processing_a_stream_twice_yields_the_same_output(items: list[RawArticle]) -> None:
    assert outcome(items) == outcome(items)


@settings(max_examples=40, deadline=None)
@given(stream_items())
def test_replaying_a_stream_adds_no_new_article(items: list[RawArticle]) -> None:
    """Redelivery (at-least-once) of everything: every article of the second pass is a
    duplicate of one the first pass let through."""
    whole = outcome(items + items)
    passed_first = {article for article, duplicate_of, _ in whole[: len(items)] if duplicate_of is None}
    second = whole[len(items) :]
    assert all(duplicate_of is not None for _, duplicate_of, _ in second)
    assert {duplicate_of for _, duplicate_of, _ in second} <= passed_first | {a for a, _, _ in second}


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 7), st.integers(0, 1))
def test_first_seen_wins_whichever_copy_comes_first(number: int, edit: int) -> None:
    original = raw(f"https://a.example/{number}", f"Story {number}", STORIES[number])
    body = STORIES[number] if edit == 0 else edited(STORIES[number], 3, seed=number)
    copy = raw(f"https://b.example/{number}", f"Story {number}", body)
    for first, second in ((original, copy), (copy, original)):
        results = list(chain().process_all([first, second]))
        winner, loser = results
        assert winner.duplicate is None  # type: ignore[union-attr]
        assert loser.duplicate is not None  # type: ignore[union-attr]
        assert loser.duplicate.duplicate_of == winner.article.id  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("stored_position", "position", "redelivered"),
    [
        pytest.param(41, 41, True, id="the same message again"),
        pytest.param(41, 12, True, id="an earlier message of the key, replayed"),
        pytest.param(41, 42, False, id="a later message: a real re-poll"),
        pytest.param(None, 12, False, id="record from before positions were kept"),
        pytest.param(41, None, False, id="no position (in-process chain)"),
    ],
)
def test_exact_dedup_recognises_its_own_redelivered_input(
    stored_position: int | None, position: int | None, redelivered: bool
) -> None:
    from pipeline.dedup import Redelivered, decide

    article = clean("https://a.example/1", "Aid reaches Aleppo", ORIGINAL)
    stored = SeenRecord(
        article.id,
        article.content_hash,
        1,
        "2026-11-21T11:00:00.000Z",
        "2026-11-21T11:00:00.000Z",
        position=stored_position,
    )
    assert isinstance(decide(article, stored, NOW, position), Redelivered) is redelivered


def test_a_revision_of_a_copy_is_still_a_copy() -> None:
    """An outlet edits its copy of a wire story: the edit is not a new article either."""
    index = NearIndex(capacity=1000)
    wire = decide_near(clean("https://wire.example/1", "Aid reaches Aleppo", ORIGINAL), index, NOW)
    assert isinstance(wire, Unique)
    wire.remember(index)
    copy = clean("https://outlet.example/1", "Aid reaches Aleppo", ORIGINAL)
    assert isinstance(decide_near(copy, index, NOW), Copy)
    edit = copy.model_copy(
        update={"text": edited(ORIGINAL, 4), "content_hash": "e" * 64, "revision": 2, "update_of": copy.id}
    )
    decision = decide_near(edit, index, NOW)
    assert isinstance(decision, Copy)
    assert decision.duplicate.duplicate_of == wire.article.id
