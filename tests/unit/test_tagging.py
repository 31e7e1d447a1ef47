from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.models import CleanArticle
from pipeline.tagging import Tagger, tag_article, tokens
from pipeline.taxonomy import taxonomy_from_data

TAXONOMY = taxonomy_from_data(
    {
        "topics": [
            {"name": "ceasefire", "terms": ["ceasefire", "truce", "cessation of hostilities", "armistice"]},
            {"name": "aleppo", "kind": "place", "terms": ["Aleppo", "Halab", "حلب", "Алеппо"]},
            {"name": "sport", "terms": ["football", "derby"]},
            {"name": "humanitarian-aid", "terms": ["aid convoy", "relief agency"]},
            {"name": "china", "kind": "place", "terms": ["北京", "中国"]},
            {"name": "aleppo-ceasefire", "query": "aleppo AND ceasefire AND NOT sport"},
            {"name": "either", "query": "(aleppo OR sport) AND NOT ceasefire"},
            {"name": "headline-truce", "query": 'title:ceasefire AND "talks"'},
            {"name": "twice", "terms": ["storm"], "min_mentions": 2},
        ]
    }
)
TAGGER = Tagger(TAXONOMY)


def names(title: str, text: str = "") -> set[str]:
    return {tag.name for tag in TAGGER.tag(title, "", text)}


MATCHES = [
    ("exact", "Ceasefire agreed", "ceasefire"),
    ("hyphenated", "Cease-fire agreed", "ceasefire"),
    ("spaced and capitalised", "Cease fire agreed", "ceasefire"),
    ("upper case", "CEASEFIRE AGREED", "ceasefire"),
    ("plural", "Ceasefires agreed", "ceasefire"),
    ("hyphenated plural", "cease-fires collapse", "ceasefire"),
    ("possessive", "Aleppo's hospitals", "aleppo"),
    ("curly possessive", "Aleppo’s hospitals", "aleppo"),
    ("multi-word term", "A cessation of hostilities began", "ceasefire"),
    ("multi-word term, hyphens", "a cessation-of-hostilities deal", "ceasefire"),
    ("multi-word plural with -ies", "Relief agencies warn", "humanitarian-aid"),
    ("punctuation around", "(truce)", "ceasefire"),
    ("alternate name", "Halab residents return", "aleppo"),
    ("Arabic", "هدنة في حلب", "aleppo"),
    ("Cyrillic, case-folded", "ПЕРЕМИРИЕ В АЛЕППО", "aleppo"),
    ("CJK without spaces", "中国外交部发言人表示", "china"),
    ("full-width Latin (NFKC)", "ＴＲＵＣＥ holds", "ceasefire"),
]


@pytest.mark.parametrize(("name", "title", "topic"), MATCHES, ids=[c[0] for c in MATCHES])
def test_term_matches(name: str, title: str, topic: str) -> None:
    assert topic in names(title)


NON_MATCHES = [
    ("inside another word", "intrucers attack", "ceasefire"),
    ("prefix of a word", "truceless talks", "ceasefire"),
    ("suffix of a word", "Megaleppo", "aleppo"),
    ("partial multi-word", "cessation of trade", "ceasefire"),
]


@pytest.mark.parametrize(("name", "title", "topic"), NON_MATCHES, ids=[c[0] for c in NON_MATCHES])
def test_whole_words_only(name: str, title: str, topic: str) -> None:
    assert topic not in names(title)


QUERIES = [
    ("AND of topics", "Aleppo truce holds", "aleppo-ceasefire", True),
    ("AND NOT excludes", "Aleppo derby ends in truce", "aleppo-ceasefire", False),
    ("AND needs both", "Aleppo markets reopen", "aleppo-ceasefire", False),
    ("OR with parentheses", "Derby day", "either", True),
    ("OR ... AND NOT", "Aleppo truce", "either", False),
    ("title scope holds", "Truce talks resume", "headline-truce", True),
]


@pytest.mark.parametrize(("name", "title", "topic", "expected"), QUERIES, ids=[c[0] for c in QUERIES])
def test_query_rules(name: str, title: str, topic: str, expected: bool) -> None:
    assert (topic in names(title)) is expected


def test_title_scope_ignores_body_matches() -> None:
    assert "headline-truce" not in names("Talks resume", "A truce was agreed.")


def test_title_matches_score_higher_than_body_matches() -> None:
    [in_title] = [t for t in TAGGER.tag("Truce agreed", "", "") if t.name == "ceasefire"]
    [in_body] = [t for t in TAGGER.tag("News", "", "Truce agreed") if t.name == "ceasefire"]
    assert in_title.score > in_body.score


def test_evidence_lists_term_field_and_count() -> None:
    [tag] = [
        t
        for t in TAGGER.tag("Truce holds", "", "The truce and the cease-fire held.")
        if t.name == "ceasefire"
    ]
    evidence = {(m.term, m.field): m.count for m in tag.matches}
    assert evidence == {("truce", "title"): 1, ("truce", "text"): 1, ("ceasefire", "text"): 1}


def test_min_mentions() -> None:
    assert "twice" not in names("Storm warning")
    assert "twice" in names("Storm warning", "The storm arrives tonight.")


def test_query_tag_carries_evidence_of_its_operands() -> None:
    [tag] = [t for t in TAGGER.tag("Aleppo truce", "", "") if t.name == "aleppo-ceasefire"]
    assert {m.term for m in tag.matches} == {"Aleppo", "truce"}


def test_tag_article_builds_the_output_message() -> None:
    clean = CleanArticle(
        id="i",
        article_key="k",
        url=None,
        canonical_url=None,
        feed_id="f",
        source=None,
        title="Truce in Aleppo",
        summary="",
        text="",
        content_html="",
        lang=None,
        authors=(),
        published_at="2026-11-21T10:00:00.000Z",
        published_raw=None,
        fetched_at="2026-11-21T10:00:00.000Z",
        content_hash="h",
    )
    article = tag_article(clean, TAGGER, datetime(2026, 11, 21, 12, tzinfo=UTC))
    assert article.processed_at == "2026-11-21T12:00:00.000Z"
    assert {tag.name for tag in article.tags} == {"ceasefire", "aleppo", "aleppo-ceasefire"}
    assert article.id == "i"


# --- properties -----------------------------------------------------------------------------

words = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu")), min_size=1, max_size=8)
separators = st.sampled_from([" ", "-", " - ", "–", "_", "/", ", ", ". ", "\n"])


@given(st.sampled_from(["ceasefire", "cease fire", "cease-fire", "Cease Fire", "CEASE-FIRE"]), separators)
def test_matching_is_invariant_to_case_and_hyphenation(spelling: str, separator: str) -> None:
    assert "ceasefire" in names(f"Officials{separator}{spelling}{separator}agreed")


@given(st.sampled_from(["(", "[", '"', "«", "'", "—"]), st.sampled_from([")", "]", '"', "»", "!", "?", "."]))
def test_surrounding_punctuation_does_not_matter(before: str, after: str) -> None:
    assert "aleppo" in names(f"News from {before}Aleppo{after}")


@given(words)
def test_adding_an_unrelated_term_never_removes_a_tag(extra: str) -> None:
    title = "Aleppo truce holds"
    before = names(title)
    data = {
        "topics": [
            {"name": t.name, "kind": t.kind, "terms": list(t.terms)} for t in TAXONOMY.topics if t.terms
        ]
    }
    data["topics"][0]["terms"].append(extra)
    after = {tag.name for tag in Tagger(taxonomy_from_data(data)).tag(title, "", "")}
    assert before - {"aleppo-ceasefire", "either", "headline-truce"} <= after


@given(st.text(max_size=200))
def test_tokens_never_contain_separators(text: str) -> None:
    assert all(token and not any(ch.isspace() or ch in "-_,.;" for ch in token) for token in tokens(text))


SCRIPTS = [
    ("Devanagari keeps vowel signs", "दिल्ली", "दिल्ली में युद्धविराम", True),
    ("Devanagari consonant skeleton is not a match", "दिल्ली", "दल ल", False),
    ("Arabic diacritics ignored", "حلب", "وصلت المساعدات إلى حلبُ", True),
    ("Hebrew niqqud ignored", "שלום", "שָׁלוֹם עכשיו", True),
]


@pytest.mark.parametrize(("name", "term", "text", "expected"), SCRIPTS, ids=[c[0] for c in SCRIPTS])
def test_scripts_with_combining_marks(name: str, term: str, text: str, expected: bool) -> None:
    tagger = Tagger(taxonomy_from_data({"topics": [{"name": "t", "terms": [term]}]}))
    assert bool(tagger.tag(text, "", "")) is expected


def test_min_mentions_applies_to_query_topics() -> None:
    taxonomy = taxonomy_from_data(
        {
            "topics": [
                {"name": "truce", "terms": ["truce"]},
                {"name": "strong", "query": "truce", "min_mentions": 2},
            ]
        }
    )
    tagger = Tagger(taxonomy)
    assert "strong" not in {t.name for t in tagger.tag("Truce", "", "")}
    assert "strong" in {t.name for t in tagger.tag("Truce", "", "The truce held.")}
