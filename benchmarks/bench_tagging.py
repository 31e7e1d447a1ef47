"""Tagging with 10,000 terms and the gazetteer on ~600-word articles, and what building costs.

Input: BBC News articles of 500–800 words (``$NEWSFLOW_DATA/datasets/bbc-news``), or
generated 600-word texts without the corpus (the run says which). The 10,000-term taxonomy is
the shipped world-news taxonomy plus the input's own proper names (capitalised runs of one to
three words, most frequent first: people, organisations and places are what large real
taxonomies list), five terms per topic. Measured, medians of the repetitions:

- ``tag_article`` with the world-news taxonomy alone, with 10,000 terms, and with 10,000 terms
  plus the gazetteer (target: ≥ 5,000 articles/s/core);
- the baseline in the same run: one compiled regular expression per topic (alternation of its
  terms with word boundaries), what a straightforward tagger does;
- build times: compiling the 10,000 terms, and loading the gazetteer (once per process);
- the floor of the approach: tokenising the three fields, and the two Aho-Corasick walks
  alone (10,000 terms and the gazetteer) on the already joined text.

Run: ``.venv/bin/python -m benchmarks --only tagging``.
"""

from __future__ import annotations

import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from benchmarks import report
from benchmarks.bench_clean import bbc_texts, generated_texts
from benchmarks.environment import header
from benchmarks.timing import measure, ratio
from pipeline.cleaning.text import normalize_text
from pipeline.config import TaggingSettings
from pipeline.matching import Tokenized
from pipeline.models import CleanArticle
from pipeline.places import load_gazetteer
from pipeline.tagging import Tagger, tag_article
from pipeline.taxonomy import DEFAULT_TAXONOMY, Taxonomy, load_taxonomy, taxonomy_from_data

TERMS = 10_000
TERMS_PER_TOPIC = 5
TARGET_PER_SECOND = 5000
ARTICLES = 300
BASELINE_ARTICLES = 30  # the regex baseline is slow: fewer articles, same per-article figure
NOW_TEXT = "2026-11-21T12:00:00.000Z"
_PROPER = re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+){0,2}\b")


def articles() -> tuple[list[CleanArticle], str]:
    texts, source = bbc_texts(2225)
    texts = [t for t in texts if 500 <= len(t.split()) <= 800][:ARTICLES]
    if not texts:
        texts, source = generated_texts(ARTICLES), "generated text (BBC corpus not found)"
    built = []
    for index, text in enumerate(texts):
        title, _, body = normalize_text(text).partition("\n")
        built.append(_article(index, title, body.strip()))
    return built, source


def _article(index: int, title: str, body: str) -> CleanArticle:
    return CleanArticle(
        id=f"{index:032x}",
        article_key=f"https://news.example/{index}",
        url=f"https://news.example/{index}",
        canonical_url=f"https://news.example/{index}",
        feed_id="bench",
        source="BBC News",
        title=title,
        summary=body[:400],
        text=body,
        content_html="",
        lang="en",
        authors=(),
        published_at=NOW_TEXT,
        published_raw=None,
        fetched_at=NOW_TEXT,
        content_hash="0" * 64,
    )


def big_taxonomy(texts: Sequence[str]) -> Taxonomy:
    """The world-news taxonomy plus proper names of the input (capitalised runs none of whose
    words occurs in lower case), TERMS terms in all."""
    base = load_taxonomy(DEFAULT_TAXONOMY)
    have = sum(len(topic.terms) for topic in base.topics)
    counts = Counter(name for text in texts for name in _PROPER.findall(text))
    # Words that also occur in lower case ("The", "But") are sentence starts, not names.
    lower = {word for text in texts for word in re.findall(r"\b[a-z]+\b", text)}
    proper = [name for name, _ in counts.most_common() if not set(name.lower().split()) <= lower]
    names = proper[: TERMS - have]
    names += [f"Person Number{index}" for index in range(TERMS - have - len(names))]
    extra = [
        {"name": f"entity-{number:04d}", "terms": names[start : start + TERMS_PER_TOPIC]}
        for number, start in enumerate(range(0, len(names), TERMS_PER_TOPIC))
    ]
    raw = [_topic_data(topic) for topic in base.topics]
    return taxonomy_from_data({"topics": raw + extra}, "benchmark")


def _topic_data(topic: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": topic.name, "kind": topic.kind}
    if topic.query_text is not None:
        data["query"] = topic.query_text
    else:
        data["terms"] = list(topic.terms)
    return data


def regex_baseline(taxonomy: Taxonomy) -> Callable[[CleanArticle], int]:
    """One alternation per topic, case-insensitive, word boundaries: the usual approach."""
    compiled = [
        re.compile(r"\b(?:" + "|".join(re.escape(term) for term in topic.terms) + r")s?\b", re.IGNORECASE)
        for topic in taxonomy.topics
        if topic.terms
    ]

    def tag(article: CleanArticle) -> int:
        return sum(1 for pattern in compiled if pattern.search(article.title) or pattern.search(article.text))

    return tag


def _each(function: Callable[[Any], object], items: Sequence[Any]) -> Callable[[], int]:
    def batch() -> int:
        for item in items:
            function(item)
        return len(items)

    return batch


def _timed(build: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    built = build()
    return built, round(time.perf_counter() - started, 3)


def run(repetitions: int) -> dict[str, Any]:
    items, source = articles()
    now = datetime(2026, 11, 21, 12, tzinfo=UTC)
    taxonomy = big_taxonomy([f"{a.title}\n{a.text}" for a in items])
    small = Tagger(load_taxonomy(DEFAULT_TAXONOMY))
    big, build_seconds = _timed(lambda: Tagger(taxonomy))
    gazetteer, gazetteer_seconds = _timed(lambda: load_gazetteer(TaggingSettings().gazetteer_min_population))
    with_places = Tagger(taxonomy, gazetteer)
    cases = {
        "world-news taxonomy": measure(_each(lambda a: tag_article(a, small, now), items), repetitions),
        f"{TERMS:,} terms": measure(_each(lambda a: tag_article(a, big, now), items), repetitions),
        f"{TERMS:,} terms + gazetteer": measure(
            _each(lambda a: tag_article(a, with_places, now), items), repetitions
        ),
    }
    # The floor of the approach: what every article costs before any tag is built.
    joined = [[Tokenized.of(value).joined for value in (a.title, a.summary, a.text)] for a in items]
    # The automata themselves (private attributes): the library call, nothing of ours around it.
    automata = [with_places._matcher._automaton, gazetteer._matcher._automaton]
    cases["floor: tokenising title, summary, text"] = measure(
        _each(lambda a: [Tokenized.of(value) for value in (a.title, a.summary, a.text)], items), repetitions
    )
    cases["floor: the two automaton walks alone"] = measure(
        _each(
            lambda fields: [
                ac.find_matches_as_indexes(f, overlapping=True) for ac in automata for f in fields
            ],
            joined,
        ),
        repetitions,
    )
    baseline = measure(_each(regex_baseline(taxonomy), items[:BASELINE_ARTICLES]), max(3, repetitions // 2))
    ours = cases[f"{TERMS:,} terms + gazetteer"]
    words = sorted(len(a.text.split()) for a in items)
    return {
        **header("tagging"),
        "input": {"source": source, "articles": len(items), "median_words": words[len(words) // 2]},
        "taxonomy": {"terms": sum(len(t.terms) for t in taxonomy.topics), "topics": len(taxonomy.topics)},
        "build_seconds": {"10k_terms": build_seconds, "gazetteer": gazetteer_seconds},
        "gazetteer": {"places": len(gazetteer.places), "names": gazetteer.name_count},
        "cases": cases,
        "regex_baseline": baseline,
        "ratio_vs_regex": ratio(ours, baseline),
        "target_articles_per_second": TARGET_PER_SECOND,
        "target_met": (ours["articles_per_second"] or 0) >= TARGET_PER_SECOND,
    }


def print_summary(result: dict[str, Any]) -> None:
    source = result["input"]
    print(
        f"\nTagging — {source['source']}: {source['articles']} articles, "
        f"median {source['median_words']} words"
    )
    print(f"  {'':44} {'articles/s':>10} {'µs/article':>10}")
    rows = [*result["cases"].items(), ("baseline: one regex per topic, 10k terms", result["regex_baseline"])]
    for name, value in rows:
        print(f"  {name:44} {value['articles_per_second']:>10,.0f} {value['us_per_article']:>10,.1f}")
    build = result["build_seconds"]
    places = result["gazetteer"]
    print(
        f"  build: {result['taxonomy']['terms']:,} terms in {build['10k_terms']} s; gazetteer "
        f"({places['places']:,} places, {places['names']:,} names) in {build['gazetteer']} s"
    )
    verdict = "met" if result["target_met"] else "NOT met"
    print(
        f"  10k terms + gazetteer is {result['ratio_vs_regex']}× the regex baseline; "
        f"target ≥ {result['target_articles_per_second']:,}/s: {verdict}"
    )


def main() -> int:
    report.run_offline("tagging", "tagging", run, print_summary, 5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
