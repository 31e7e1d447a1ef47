"""Poison messages end on news.dead-letter with their reason; the pipeline keeps going."""

from __future__ import annotations

import asyncio

import jsonschema

from pipeline import codec
from pipeline.models import RawArticle
from pipeline.schemas import load_schema
from tests.integration.conftest import Pipeline
from tests.integration.kafka_helpers import Record, produce, read

UNDECODABLE = [b"\xff\xfe\x00 not json", b'{"article_key": "x", ', b"\x00\x01\x02"]
SCHEMA_INVALID = [
    b'{"schema": "newsflow.raw/1"}',  # required fields missing
    b"[1, 2, 3]",  # not an object
    b'{"schema": "newsflow.raw/1", "article_key": "k", "feed_id": "f", "fetched_at": "2026-11-21T00:00:00Z",'
    b' "authors": "not-a-list"}',
]


def valid(n: int) -> bytes:
    return codec.encode(
        RawArticle(
            article_key=f"https://dlq.example/ok-{n}",
            feed_id="dlq-test",
            fetched_at="2026-11-21T10:00:00.000Z",
            link=f"https://dlq.example/ok-{n}",
            title=f"Valid article {n} about a truce",
            summary="<p>Still fine.</p>",
        )
    )


def headers_ok(record: Record, pipeline: Pipeline, stage: str, source: str) -> None:
    assert record.headers["x-newsflow-stage"] == stage
    assert record.headers["x-newsflow-reason"]
    assert record.headers["x-newsflow-source-topic"] == pipeline.topic(source)
    assert record.headers["x-newsflow-offset"].isdigit()


def test_poison_messages_are_dead_lettered_and_valid_ones_flow(pipeline: Pipeline) -> None:
    messages: list[tuple[bytes | None, bytes]] = []
    for n, (bad_json, bad_schema) in enumerate(zip(UNDECODABLE, SCHEMA_INVALID, strict=True)):
        messages += [
            (f"dlq-undecodable-{n}".encode(), bad_json),
            (f"dlq-ok-{n}".encode(), valid(n)),
            (f"dlq-invalid-{n}".encode(), bad_schema),
        ]
    asyncio.run(produce(pipeline.bootstrap, pipeline.topic("raw"), messages))

    def mine(records: list[Record]) -> list[Record]:
        return [r for r in records if (r.key or b"").startswith((b"dlq-undecodable", b"dlq-invalid"))]

    dead = mine(read(pipeline.bootstrap, pipeline.topic("dead-letter"), until=lambda rs: len(mine(rs)) >= 6))
    assert len(dead) == 6
    originals = dict(messages)
    schema = load_schema("dead-letter")
    for record in dead:
        assert record.value == originals[record.key]  # the original bytes, unchanged
        headers_ok(record, pipeline, "cleaning", "raw")
        jsonschema.validate(
            {"value": (record.value or b"").decode("utf-8", "replace"), "headers": record.headers}, schema
        )
    codes = sorted(r.headers["x-newsflow-reason-code"] for r in dead)
    assert codes == ["schema-invalid"] * 3 + ["undecodable"] * 3

    wanted = {f"Valid article {n} about a truce" for n in range(3)}
    articles = read(
        pipeline.bootstrap,
        pipeline.topic("articles"),
        until=lambda rs: wanted <= {r.json().get("title") for r in rs},
    )
    assert wanted <= {r.json().get("title") for r in articles}


def test_every_stage_dead_letters(pipeline: Pipeline) -> None:
    asyncio.run(produce(pipeline.bootstrap, pipeline.topic("clean"), [(b"dlq-clean", b"{not json")]))
    asyncio.run(produce(pipeline.bootstrap, pipeline.topic("unique"), [(b"dlq-unique", b'{"id": 1}')]))
    dead = read(
        pipeline.bootstrap,
        pipeline.topic("dead-letter"),
        until=lambda rs: {b"dlq-clean", b"dlq-unique"} <= {r.key for r in rs},
    )
    by_key = {r.key: r for r in dead}
    headers_ok(by_key[b"dlq-clean"], pipeline, "dedup", "clean")
    headers_ok(by_key[b"dlq-unique"], pipeline, "tagging", "unique")
