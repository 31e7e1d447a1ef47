from datetime import UTC, datetime

import jsonschema

from pipeline.config import FeedSettings
from pipeline.poller.fetcher import Validators
from pipeline.poller.schedule import PollHints
from pipeline.poller.state import FeedState
from pipeline.schemas import load_schema

FEED = FeedSettings(id="f", url="https://example.org/feed.xml", interval=300)
MOMENT = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def full_state() -> FeedState:
    return FeedState(
        feed=FEED,
        url="https://example.org/moved.xml",
        validators=Validators('"abc"', "Sat, 21 Nov 2026 10:00:00 GMT"),
        body_hash="h",
        failures=2,
        state="backing-off",
        last_error="HTTP 503",
        last_success=MOMENT,
        last_attempt=MOMENT,
        next_poll=MOMENT,
        polls=9,
        published=30,
        last_entries=frozenset({"a", "b"}),
        entry_times=(MOMENT,),
        hints=PollHints(retry_after=60, ttl=1800, skip_hours=frozenset({1}), skip_days=frozenset({"sunday"})),
    )


def test_state_round_trips_through_its_record() -> None:
    state = full_state()
    restored = FeedState.restore(FEED, state.to_record())
    assert restored.to_record() == state.to_record()
    assert restored.validators.etag == '"abc"'
    assert restored.url == "https://example.org/moved.xml"


def test_record_matches_the_published_schema() -> None:
    jsonschema.validate(full_state().to_record(), load_schema("feed-state"))
    jsonschema.validate(FeedState(FEED, FEED.url).to_record(), load_schema("feed-state"))


def test_state_of_another_url_is_discarded() -> None:
    record = full_state().to_record()
    moved = FeedSettings(id="f", url="https://elsewhere.example/feed.xml", interval=300)
    restored = FeedState.restore(moved, record)
    assert restored.validators == Validators() and restored.polls == 0 and restored.url == moved.url


def test_garbage_records_give_a_fresh_state() -> None:
    assert FeedState.restore(FEED, {"schema": "something-else"}).polls == 0
    assert FeedState.restore(FEED, None).state == "new"
