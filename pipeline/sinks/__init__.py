"""Where messages leave the pipeline. Storage of ``news.articles`` (``sqlite``, the embedded
default, and ``postgres``), exported here; alert deliveries live in ``webhook`` and ``slack``.

    sink = open_sink(settings.storage.url)   # chooses by URL scheme; connects on first use
    await sink.migrate()                     # creates or updates the schema (idempotent)
    await sink.write_batch(articles)         # upsert on (id, revision), one transaction
    await sink.search("aleppo ceasefire", tag="syria", since=..., limit=20)
    await sink.close()

``base`` states the contract (and the errors the caller acts on); ``tests/sink_contract.py``
checks it against every sink.
"""

from pipeline.sinks.base import (
    ArticleSink,
    RejectedArticle,
    SearchableSink,
    SearchHit,
    open_sink,
    redact_url,
)

__all__ = ["ArticleSink", "RejectedArticle", "SearchHit", "SearchableSink", "open_sink", "redact_url"]
