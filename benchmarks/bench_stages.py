"""In-process articles/s per stage and for the whole chain, no Kafka, each next to the naive
baseline (:mod:`benchmarks.baseline`) measured in the same run on the same feed bytes."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from benchmarks import baseline
from benchmarks.corpus import Corpus, Feed, is_cleanable, parse
from benchmarks.environment import header
from benchmarks.taxonomies import NamedTaxonomy, demo_taxonomy, synthetic_taxonomy
from benchmarks.timing import measure, ratio
from pipeline import codec
from pipeline.chain import Chain
from pipeline.cleaning import clean_article
from pipeline.clock import SystemClock
from pipeline.dedup import SeenRecord, decide
from pipeline.matching import Tokenized
from pipeline.models import Article, CleanArticle
from pipeline.tagging import Tagger, tag_article

T = TypeVar("T")
# One fixed "now" for the stage functions: the figures must not depend on the wall clock.
NOW = datetime(2024, 1, 1, tzinfo=UTC)
# With 1,500 terms the naive tagger overflows re's 512-pattern cache and recompiles every
# pattern for every article (tens of ms per article), so its comparisons run on a sample,
# and newsflow is measured on the same sample for the ratio.
SAMPLE_ARTICLES = 60
SAMPLE_FEED_STRIDE = 3
SAMPLE_FEED_MAX_ENTRIES = 30
SAMPLE_FEED_ENTRIES = 100


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    ours: Callable[[], int]
    baseline_what: str | None = None
    baseline: Callable[[], int] | None = None
    # newsflow on the baseline's (sampled) input, when the baseline cannot run on all of it
    ours_on_sample: Callable[[], int] | None = None


@dataclass(frozen=True)
class Inputs:
    """Every stage's input, prepared once, outside the timed loops."""

    feeds: tuple[Feed, ...]
    raw: list[Any]  # the RawArticles the cleaning stage accepts
    clean: list[CleanArticle]  # every entry (duplicates included): what dedup sees
    unique: list[CleanArticle]  # one per article_key: what reaches tagging
    tagged: list[Article]
    naive_entries: list[Any]  # feedparser entries from the baseline's own parse
    naive_clean: list[dict[str, Any]]
    naive_unique: list[dict[str, Any]]  # what the naive dedup lets through


def prepare(corpus: Corpus, tagger: Tagger) -> Inputs:
    raw = [article for article in corpus.raw if is_cleanable(article)]
    clean = [clean_article(article) for article in raw]
    unique = list({article.article_key: article for article in clean}.values())
    entries = [entry for feed in corpus.feeds for entry in baseline.parse(feed.body)]
    naive = [baseline.clean(entry) for entry in entries]
    seen: dict[str, int] = {}
    naive_unique = [article for article in naive if not baseline.is_duplicate(article, seen)]
    tagged = [tag_article(article, tagger, NOW) for article in unique]
    return Inputs(corpus.feeds, raw, clean, unique, tagged, entries, naive, naive_unique)


def stage_cases(inputs: Inputs) -> list[Case]:
    feeds = inputs.feeds
    dicts = [codec.to_dict(article) for article in inputs.tagged]
    return [
        Case(
            "parse",
            "pipeline.poller.parser.parse_feed on every feed; rate per entry",
            lambda: sum(len(parse(feed)) for feed in feeds),
            "feedparser.parse(bytes) with its defaults (sanitiser on)",
            lambda: sum(len(baseline.parse(feed.body)) for feed in feeds),
        ),
        Case(
            "cleaning",
            "pipeline.cleaning.clean_article on every entry",
            lambda: _each(clean_article, inputs.raw),
            "re.sub('<[^>]+>', '', html) on title and body",
            lambda: _each(baseline.clean, inputs.naive_entries),
        ),
        Case(
            "dedup",
            "pipeline.dedup.decide on every entry, SeenRecords in a dict (fresh each repetition)",
            lambda: _dedup(inputs.clean),
            "dict from link to hash(title, text)",
            lambda: _naive_dedup(inputs.naive_clean),
        ),
        Case(
            "codec",
            "pipeline.codec.encode + decode(bytes, Article) of each tagged article (orjson + pydantic)",
            lambda: _each(lambda article: codec.decode(codec.encode(article), Article), inputs.tagged),
            "json.dumps + json.loads of the same dict (stdlib, no validation)",
            lambda: _each(lambda data: json.loads(json.dumps(data)), dicts),
        ),
    ]


def taxonomy_cases(inputs: Inputs, named: NamedTaxonomy) -> list[Case]:
    tagger, terms, suffix = Tagger(named.taxonomy), named.term_lists(), f"[{named.name}]"
    slow = sum(len(t) for _, t in terms) > 500  # beyond re's pattern cache (see above)
    ours_articles = _sample(inputs.unique) if slow else inputs.unique
    naive_articles = _sample(inputs.naive_unique) if slow else inputs.naive_unique
    feeds = _feed_sample(inputs.feeds) if slow else inputs.feeds
    on = f" ({len(naive_articles)}-article sample)" if slow else ""
    on_feeds = f" ({len(feeds)}-feed sample)" if slow else ""
    return [
        Case(
            "tagging" + suffix,
            "pipeline.tagging.tag_article on each distinct article",
            lambda: _each(lambda a: tag_article(a, tagger, NOW), inputs.unique),
            f"for each topic, for each term: re.search(\\b+term+\\b, title+text, re.I){on}",
            lambda: _each(lambda a: baseline.tag_article(a, terms), naive_articles),
            (lambda: _each(lambda a: tag_article(a, tagger, NOW), ours_articles)) if slow else None,
        ),
        Case(
            "matcher" + suffix,
            "Tagger.counts (Aho-Corasick scan + boundary check) on title, summary, text; no Tag objects",
            lambda: _each(
                lambda a: [tagger.counts(Tokenized.of(v)) for v in (a.title, a.summary, a.text)],
                inputs.unique,
            ),
        ),
        Case(
            "chain" + suffix,
            "parse_feed + pipeline.chain.Chain.process on every entry (fresh dedup state)",
            lambda: _chain(inputs.feeds, tagger),
            f"feedparser defaults + regex strip + dict dedup + per-term re.search loops{on_feeds}",
            lambda: baseline.chain((feed.body for feed in feeds), terms),
            (lambda: _chain(feeds, tagger)) if slow else None,
        ),
    ]


def _each(function: Callable[[T], object], items: Sequence[T]) -> int:
    for item in items:
        function(item)
    return len(items)


def _sample(items: Sequence[T]) -> list[T]:
    """Every k-th item, spread over all feeds rather than the first feed's articles."""
    return list(items[:: max(1, len(items) // SAMPLE_ARTICLES)][:SAMPLE_ARTICLES])


def _feed_sample(feeds: Sequence[Feed]) -> tuple[Feed, ...]:
    """Every 3rd small feed until about 100 entries: the whole chain on a varied input
    (small feeds only, so that no single 500-entry feed makes up the whole sample)."""
    small = [feed for feed in feeds if 0 < len(parse(feed)) <= SAMPLE_FEED_MAX_ENTRIES]
    chosen: list[Feed] = []
    entries = 0
    for feed in small[::SAMPLE_FEED_STRIDE] or feeds:
        chosen.append(feed)
        entries += len(parse(feed))
        if entries >= SAMPLE_FEED_ENTRIES:
            break
    return tuple(chosen)


def _dedup(articles: Sequence[CleanArticle]) -> int:
    seen: dict[str, SeenRecord] = {}
    for article in articles:
        seen[article.article_key] = decide(article, seen.get(article.article_key), NOW).record
    return len(articles)


def _naive_dedup(articles: Sequence[dict[str, Any]]) -> int:
    seen: dict[str, int] = {}
    return _each(lambda article: baseline.is_duplicate(article, seen), articles)


def _chain(feeds: Sequence[Feed], tagger: Tagger) -> int:
    chain = Chain(tagger, SystemClock())
    return sum(sum(1 for _ in chain.process_all(parse(feed))) for feed in feeds)


def run_case(case: Case, repetitions: int) -> dict[str, Any]:
    result: dict[str, Any] = {"what": case.what, "newsflow": measure(case.ours, repetitions)}
    if case.baseline is None:
        return result
    result["baseline_what"] = case.baseline_what
    result["baseline"] = measure(case.baseline, repetitions)
    ours = result["newsflow"]
    if case.ours_on_sample is not None:
        ours = result["newsflow_on_baseline_sample"] = measure(case.ours_on_sample, repetitions)
    result["ratio"] = ratio(ours, result["baseline"])
    return result


def run(corpus: Corpus, repetitions: int) -> dict[str, Any]:
    demo = demo_taxonomy()
    inputs = prepare(corpus, Tagger(demo.taxonomy))
    synthetic = synthetic_taxonomy(f"{a.title}\n{a.text}" for a in inputs.unique)
    cases = [*stage_cases(inputs), *taxonomy_cases(inputs, demo), *taxonomy_cases(inputs, synthetic)]
    results = {}
    for case in cases:
        print(f"  {case.name} ...", flush=True)
        results[case.name] = run_case(case, repetitions)
    return {
        **header("stages"),
        "input": {
            **corpus.describe(),
            "cleanable_entries": len(inputs.raw),
            "distinct_articles": len(inputs.unique),
            "baseline_distinct_articles": len(inputs.naive_unique),
        },
        "taxonomies": {named.name: describe_taxonomy(named, inputs.unique) for named in (demo, synthetic)},
        "scaling": scaling(results, demo, synthetic),
        "results": results,
    }


def describe_taxonomy(named: NamedTaxonomy, articles: Sequence[CleanArticle]) -> dict[str, Any]:
    """The taxonomy plus how much it finds: tagging cost follows matches, not terms."""
    tagger = Tagger(named.taxonomy)
    tags = [tagger.tag(a.title, a.summary, a.text) for a in articles]
    matches = sum(m.count for article in tags for tag in article for m in tag.matches)
    return {
        **named.describe(),
        "tags_per_article": round(sum(len(t) for t in tags) / len(articles), 2),
        "term_matches_per_article": round(matches / len(articles), 2),
    }


def scaling(results: dict[str, Any], small: NamedTaxonomy, large: NamedTaxonomy) -> dict[str, Any]:
    """How much slower each tagger gets going from the small to the large taxonomy."""
    terms = large.term_count, small.term_count

    def slowdown(key: str, side: str) -> float | None:
        fast = results[f"{key}[{small.name}]"].get(side, {}).get("us_per_article")
        slow = results[f"{key}[{large.name}]"].get(side, {}).get("us_per_article")
        return round(slow / fast, 2) if fast and slow else None

    return {
        "terms": {large.name: terms[0], small.name: terms[1]},
        "term_ratio": round(terms[0] / terms[1], 1) if terms[1] else None,
        "newsflow_matcher_slowdown": slowdown("matcher", "newsflow"),
        "newsflow_tagging_slowdown": slowdown("tagging", "newsflow"),
        "baseline_tagging_slowdown": slowdown("tagging", "baseline"),
    }
