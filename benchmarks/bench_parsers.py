"""``python -m benchmarks.bench_parsers [--quick]``: feedparser against fastfeedparser.

Input: the real-feeds corpus (``benchmarks.corpus``), read in place. Two questions:

1. **Speed**, in µs per entry (median of repetitions over the whole corpus, the harness's
   ``timing.measure``), for:
   - ``feedparser``: ``feedparser.parse(bytes)`` with its defaults (sanitiser on);
   - ``feedparser-unsanitised``: the same with ``sanitize_html=False``, as parse_feed calls it;
   - ``feedparser-as-called``: parse_feed's pre-checks + feedparser exactly as parse_feed
     runs it (``feedparser_result``: UTF-8 input, the feed URL as base for relative links);
   - ``parse_feed``: newsflow's parser end to end (the above, then ``RawArticle`` models and
     article keys);
   - ``parse_feed-without-feedparser``: parse_feed with ``feedparser.parse`` answering from
     a cache: the pre-checks and the building of models and keys, i.e. newsflow's own cost;
   - ``fastfeedparser``: ``fastfeedparser.parse(bytes)`` with its defaults;
   - ``strict-xml-gate``: an expat well-formedness pass, the guard a fast path needs
     (fastfeedparser silently corrupts malformed input, DESIGN §9);
   - ``fast-path-estimate``: parse_feed with feedparser swapped for gate + fastfeedparser:
     parse_feed-without-feedparser + strict-xml-gate + fastfeedparser.
   Each row also reports the median over feeds of that feed's µs per entry.
2. **Agreement** on the files that pass the strict gate: the same number of entries, and
   the same titles, links and guids after newsflow's normalisation (titles: one line of
   text; links: ``canonical_url``; guids: stripped), entry by entry.

Results go to ``benchmarks/results/parsers.json`` and a summary to stdout.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
import xml.parsers.expat
from collections import Counter
from collections.abc import Callable, Sequence
from importlib import metadata
from typing import Any
from unittest import mock

import fastfeedparser
import feedparser

from benchmarks import report
from benchmarks.corpus import FETCHED_AT, Corpus, Feed, load_corpus
from benchmarks.environment import header
from benchmarks.timing import measure
from pipeline.cleaning.html import html_to_text
from pipeline.cleaning.text import single_line
from pipeline.cleaning.urls import canonical_url
from pipeline.poller.parser import feedparser_result, parse_feed

FULL_REPETITIONS, QUICK_REPETITIONS = 7, 3
FIELDS = ("title", "link", "guid")


# ---- the parsers under test -------------------------------------------------------------------------


def feedparser_default(feed: Feed) -> int:
    return len(feedparser.parse(io.BytesIO(feed.body)).entries)


def feedparser_unsanitised(feed: Feed) -> int:
    return len(feedparser.parse(io.BytesIO(feed.body), sanitize_html=False).entries)


def newsflow(feed: Feed) -> int:
    return len(parse_feed(feed.body, {}, url=feed.url, feed_id=feed.feed_id, fetched_at=FETCHED_AT).entries)


def feedparser_as_called(feed: Feed) -> int:
    return len(feedparser_result(feed.body, {}, url=feed.url).entries)


def fast(feed: Feed) -> int:
    return len(fastfeedparser.parse(feed.body).entries)  # bytes: never mistaken for a URL


def strict_gate(feed: Feed) -> int:
    return 1 if is_well_formed(feed.body) else 0


def is_well_formed(body: bytes) -> bool:
    parser = xml.parsers.expat.ParserCreate()
    try:
        parser.Parse(body, True)
    except xml.parsers.expat.ExpatError:
        return False
    return True


def without_feedparser(corpus: Corpus) -> Callable[[Feed], int]:
    """parse_feed with feedparser's result for each feed computed beforehand."""
    results = {feed.feed_id: feedparser_result(feed.body, {}, url=feed.url) for feed in corpus.feeds}

    def parse(feed: Feed) -> int:
        with mock.patch.object(feedparser, "parse", lambda *_args, **_kwargs: results[feed.feed_id]):
            return newsflow(feed)

    return parse


def parsers(corpus: Corpus) -> dict[str, Callable[[Feed], int]]:
    return {
        "feedparser": feedparser_default,
        "feedparser-unsanitised": feedparser_unsanitised,
        "feedparser-as-called": feedparser_as_called,
        "parse_feed": newsflow,
        "parse_feed-without-feedparser": without_feedparser(corpus),
        "fastfeedparser": fast,
        "strict-xml-gate": strict_gate,
    }


def speed(corpus: Corpus, repetitions: int) -> dict[str, dict[str, Any]]:
    counts = {feed.feed_id: newsflow(feed) for feed in corpus.feeds}
    entries = sum(counts.values())
    rows: dict[str, dict[str, Any]] = {}
    for name, parse in parsers(corpus).items():
        row = measure(lambda parse=parse: _batch(corpus.feeds, parse, entries), repetitions)
        row["per_feed_median_us_per_entry"] = _per_feed_median(corpus.feeds, parse, counts)
        rows[name] = row
        print(f"  {name:<30} {row['us_per_article']:>9.1f} µs/entry", flush=True)
    cost = {name: row["us_per_article"] for name, row in rows.items()}
    estimate = cost["parse_feed-without-feedparser"] + cost["strict-xml-gate"] + cost["fastfeedparser"]
    rows["fast-path-estimate"] = {"us_per_article": round(estimate, 2), "articles": entries}
    base = rows["parse_feed"]["us_per_article"]
    for row in rows.values():
        row["speedup_vs_parse_feed"] = (
            round(base / row["us_per_article"], 1) if row["us_per_article"] else None
        )
    return rows


def _batch(feeds: Sequence[Feed], parse: Callable[[Feed], int], entries: int) -> int:
    for feed in feeds:
        parse(feed)
    return entries  # rates are per entry newsflow publishes, for every row alike


def _per_feed_median(feeds: Sequence[Feed], parse: Callable[[Feed], int], counts: dict[str, int]) -> float:
    """The median over feeds of one parse's µs per entry (small feeds weigh as much as big)."""
    costs = []
    for feed in feeds:
        count = counts[feed.feed_id]
        if not count:
            continue
        started = time.perf_counter()
        parse(feed)
        costs.append((time.perf_counter() - started) / count * 1e6)
    return round(statistics.median(costs), 2)


# ---- agreement ------------------------------------------------------------------------------------------


def agreement(corpus: Corpus) -> dict[str, Any]:
    """Compare fastfeedparser with parse_feed entry by entry on well-formed feeds."""
    well_formed = [feed for feed in corpus.feeds if is_well_formed(feed.body)]
    mismatched: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    agreeing_feeds = 0
    entries = 0
    for feed in well_formed:
        ours = [
            _normalised_ours(entry)
            for entry in parse_feed(
                feed.body, {}, url=feed.url, feed_id=feed.feed_id, fetched_at=FETCHED_AT
            ).entries
        ]
        theirs = [_normalised_fast(entry) for entry in fastfeedparser.parse(feed.body).entries]
        entries += len(ours)
        problems = _differences(ours, theirs)
        agreeing_feeds += not problems
        for kind, example in problems:
            mismatched[kind] += 1
            examples.setdefault(kind, [])
            if len(examples[kind]) < 3:
                examples[kind].append(f"{feed.feed_id}: {example}")
    return {
        "well_formed_feeds": len(well_formed),
        "entries": entries,
        "feeds_in_full_agreement": agreeing_feeds,
        "mismatched_entries": dict(mismatched),
        "examples": examples,
    }


def _normalised_ours(entry: Any) -> dict[str, str]:
    return {
        "title": single_line(entry.title or ""),
        "link": canonical_url(entry.link) or "",
        "guid": (entry.guid or "").strip(),
        "raw_link": entry.link or "",
    }


def _normalised_fast(entry: Any) -> dict[str, str]:
    title = entry.get("title") or ""
    return {
        "title": single_line(html_to_text(title) if "<" in title or "&" in title else title),
        "link": canonical_url(entry.get("link")) or "",
        "guid": (entry.get("id") or "").strip(),
        "raw_link": entry.get("link") or "",
    }


def _differences(ours: list[dict[str, str]], theirs: list[dict[str, str]]) -> list[tuple[str, str]]:
    if len(ours) != len(theirs):
        return [("entry count", f"{len(ours)} vs {len(theirs)}")]
    found = []
    for mine, other in zip(ours, theirs, strict=True):
        for field in FIELDS:
            if mine[field] != other[field]:
                kind = field
                if field == "guid" and not mine["guid"] and other["guid"] == other["raw_link"]:
                    kind = "guid: none in the feed, fastfeedparser uses the link"
                found.append((kind, _where_they_differ(mine[field], other[field])))
    return found


def _where_they_differ(ours: str, theirs: str) -> str:
    """Both values around their first difference: newsflow's first, fastfeedparser's second."""
    at = next(
        (i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), min(len(ours), len(theirs))
    )
    start = max(0, at - 30)
    return f"…{ours[start : at + 30]!r} vs …{theirs[start : at + 30]!r}"


# ---- command line ---------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_parsers", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="3 repetitions instead of 7")
    args = parser.parse_args(argv)
    started = header("parsers")  # before measuring: it records the machine's load at the start
    corpus = load_corpus()
    print(f"input: {corpus.note} ({len(corpus.feeds)} feeds, {len(corpus.raw)} entries)")
    print("speed (median of repetitions over the whole corpus):", flush=True)
    rows = speed(corpus, QUICK_REPETITIONS if args.quick else FULL_REPETITIONS)
    agreed = agreement(corpus)
    result = {
        **started,
        "versions_parsers": {
            name: metadata.version(name) for name in ("feedparser", "fastfeedparser", "lxml")
        },
        "input": corpus.describe(),
        "results": rows,
        "agreement": agreed,
    }
    path = report.write("parsers", result)
    print_summary(rows, agreed)
    print(f"→ {path}")
    return 0


def print_summary(rows: dict[str, dict[str, Any]], agreed: dict[str, Any]) -> None:
    print(f"\n{'parser':<30} {'µs/entry':>9} {'per-feed median':>16} {'× parse_feed':>13}")
    for name, row in rows.items():
        median = row.get("per_feed_median_us_per_entry")
        print(
            f"{name:<30} {row['us_per_article']:>9.1f} {median if median is not None else '-':>16} "
            f"{row['speedup_vs_parse_feed']:>12}×"
        )
    print(
        f"\nagreement on {agreed['well_formed_feeds']} well-formed feeds ({agreed['entries']} entries): "
        f"{agreed['feeds_in_full_agreement']} agree on every entry's title, link and guid"
    )
    for kind, count in sorted(agreed["mismatched_entries"].items()):
        print(f"  {count:>4} × {kind}")
        for example in agreed["examples"][kind]:
            print(f"         {example}")


if __name__ == "__main__":
    sys.exit(main())
