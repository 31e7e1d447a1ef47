"""The two taxonomies every tagging figure is measured with: the demo taxonomy (a handful of
topics) and a synthetic 500-topic one built from the input's own words, so that the matcher's
cost can be compared at two very different numbers of terms."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from benchmarks.environment import REPO_ROOT
from pipeline.taxonomy import Taxonomy, load_taxonomy, taxonomy_from_data

DEMO_TAXONOMY = REPO_ROOT / "newsflow" / "demo" / "taxonomy.yaml"
SYNTHETIC_TOPICS = 500
TERMS_PER_TOPIC = 3
# The most common words ("said", "with", ...) would tag every article; real taxonomies name
# people, places and subjects, which sit further down the frequency list.
SKIP_MOST_COMMON = 100
_WORD = re.compile(r"[^\W\d_]{4,}")


@dataclass(frozen=True)
class NamedTaxonomy:
    name: str
    taxonomy: Taxonomy
    origin: str

    @property
    def term_count(self) -> int:
        return sum(len(topic.terms) for topic in self.taxonomy.topics)

    def describe(self) -> dict[str, object]:
        topics = self.taxonomy.topics
        return {
            "origin": self.origin,
            "topics": len(topics),
            "term_topics": sum(1 for topic in topics if topic.query is None),
            "query_topics": sum(1 for topic in topics if topic.query is not None),
            "terms": self.term_count,
            "distinct_terms": len({term.casefold() for topic in topics for term in topic.terms}),
        }

    def term_lists(self) -> list[tuple[str, tuple[str, ...]]]:
        """(topic, terms) for the term topics: what the naive baseline loops over."""
        return [(topic.name, topic.terms) for topic in self.taxonomy.topics if topic.query is None]


def demo_taxonomy() -> NamedTaxonomy:
    return NamedTaxonomy("demo", load_taxonomy(DEMO_TAXONOMY), str(DEMO_TAXONOMY.relative_to(REPO_ROOT)))


def synthetic_taxonomy(texts: Iterable[str]) -> NamedTaxonomy:
    """500 topics of 3 single-word terms, words ranked by how many articles contain them."""
    frequency = Counter(word for text in texts for word in set(_WORD.findall(text.casefold())))
    ranked = sorted(frequency, key=lambda word: (-frequency[word], word))
    pool = ranked[SKIP_MOST_COMMON:] or ranked
    wanted = SYNTHETIC_TOPICS * TERMS_PER_TOPIC
    # A small input (the demo feeds) has fewer distinct words than needed: terms then repeat
    # across topics, which the tagger supports (one pattern, several owners).
    terms = [pool[index % len(pool)] for index in range(wanted)]
    topics = [
        {"name": f"synthetic-{number:03d}", "terms": terms[start : start + TERMS_PER_TOPIC]}
        for number, start in enumerate(range(0, wanted, TERMS_PER_TOPIC))
    ]
    origin = (
        f"{SYNTHETIC_TOPICS} topics x {TERMS_PER_TOPIC} words of the input texts, "
        f"ranked by document frequency, the {SKIP_MOST_COMMON} most common skipped"
    )
    return NamedTaxonomy("synthetic-500", taxonomy_from_data({"topics": topics}, "synthetic"), origin)
