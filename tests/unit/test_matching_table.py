"""Table-driven cases for the matching contract (docs/taxonomy.md §2-§4, DESIGN §3) that
test_tagging.py does not pin down exactly: each case asserts the full tag (score and evidence),
not only that a topic appears."""

from __future__ import annotations

import pytest

from pipeline.matching import Tokenized, score, term_variants
from pipeline.models import Tag, TagMatch
from pipeline.tagging import Tagger
from pipeline.taxonomy import taxonomy_from_data

Evidence = list[tuple[str, str, int]]


def one_term(term: str, **options: object) -> Tagger:
    return Tagger(taxonomy_from_data({"topics": [{"name": "t", "terms": [term], **options}]}))


def evidence(tag: Tag) -> Evidence:
    return [(match.term, match.field, match.count) for match in tag.matches]


def tagged(tagger: Tagger, title: str = "", summary: str = "", text: str = "") -> dict[str, Tag]:
    return {tag.name: tag for tag in tagger.tag(title, summary, text)}


# --- §2: how terms match, per script and rule ------------------------------------------------
# (id, term, text, expected count in the text field; 0 = no tag at all)
TERMS = [
    # Arabic: tashkeel (harakat) and tatweel are ignored on both sides
    ("arabic plain term, plain text", "حلب", "وصلت المساعدات إلى حلب اليوم", 1),
    ("arabic term with tashkeel, plain text", "حَلَب", "وصلت المساعدات إلى حلب اليوم", 1),
    ("arabic plain term, text with tashkeel", "حلب", "وصلت المساعدات إلى حَلَبَ اليوم", 1),
    ("arabic both with different tashkeel", "حَلَبُ", "إلى حِلِب", 1),
    ("arabic tatweel ignored", "حلب", "إلى حلـــب", 1),
    ("arabic prefix glued to the word is another word", "حلب", "وصلت المساعدات بحلب", 0),
    ("arabic counted per occurrence", "هدنة", "هدنة ثم هدنة ثم هدنة", 3),
    # Cyrillic: case folded, no inflections added
    ("cyrillic upper case text", "Москва", "МОСКВА заявила", 1),
    ("cyrillic lower case text", "Москва", "москва заявила", 1),
    ("cyrillic case inflection is not added", "Москва", "в Москве заявили", 0),
    ("cyrillic gets no -s plural", "Москва", "Москвас", 0),
    ("cyrillic multi-word with hyphen", "прекращение огня", "прекращение-огня объявлено", 1),
    ("cyrillic whole words", "мир", "мировой рынок", 0),
    # CJK: every ideograph / kana is a token, so terms match inside unspaced sentences
    ("CJK term inside an unspaced sentence", "北京", "会议在北京举行", 1),
    ("CJK single ideograph matches inside a compound", "京", "会议在北京举行", 1),
    ("CJK term absent", "上海", "会议在北京举行", 0),
    ("CJK two occurrences", "北京", "北京和北京", 2),
    ("Japanese kanji before kana", "東京", "東京都で会議", 1),
    ("CJK next to Latin without space", "北京", "Beijing北京Olympics", 1),
    # Thai: each Thai character is a token
    ("thai term inside an unspaced sentence", "กรุงเทพ", "ฉันอยู่กรุงเทพมหานคร", 1),
    ("thai term absent", "กรุงเทพ", "ฉันอยู่เชียงใหม่", 0),
    # Greek: case folded (final sigma too), accents kept
    ("greek upper case with tonos", "Αθήνα", "ΑΘΉΝΑ σήμερα", 1),
    ("greek accent is kept", "Αθήνα", "Αθηνα σήμερα", 0),
    ("greek final sigma folds", "Κύπρος", "ΚΎΠΡΟΣ και Κύπρος", 2),
    # Latin normalisation
    ("accents kept", "Zürich", "Zurich", 0),
    ("accented upper case", "Zürich", "ZÜRICH", 1),
    ("sharp s case folds to ss", "Straße", "STRASSE gesperrt", 1),
    ("decomposed accent = composed (NFKC)", "café", "cafe\u0301 reopened", 1),
    ("full-width letters (NFKC)", "truce", "ＴＲＵＣＥ", 1),
    ("full-width hyphen is a separator", "ceasefire", "ｃｅａｓｅ－ｆｉｒｅ", 1),
    ("ligature in the term (NFKC)", "ﬁre", "fire", 1),
    # possessives
    ("possessive ASCII apostrophe", "Aleppo", "Aleppo's hospitals", 1),
    ("possessive U+2019", "Aleppo", "Aleppo\u2019s hospitals", 1),
    ("possessive U+2018", "Aleppo", "Aleppo\u2018s hospitals", 1),
    ("possessive plural s'", "convoy", "the convoys' drivers", 1),
    # plurals
    ("plural -s", "flood", "floods", 1),
    ("plural -es", "church", "churches", 1),
    ("plural -es after x", "box", "boxes", 1),
    ("plural -ies after consonant + y", "country", "countries", 1),
    ("no -ies after vowel + y", "day", "daies", 0),
    ("plural -s after vowel + y", "day", "days", 1),
    ("plural of the last word only", "aid convoy", "aid convoys", 1),
    ("no plural on an inner word", "aid convoy", "aids convoy", 0),
    ("inflections are added, never removed", "sanctions", "sanction", 0),
    ("digits get no plural", "G7", "G7s", 0),
    ("digits: separators vanish", "G7", "G-7 and G7", 2),
    ("digits: whole words", "G7", "G70", 0),
    # whole words
    ("aid is not said", "aid", "he said", 0),
    ("aid is not aide", "aid", "an aide", 0),
    ("aid is not raid", "aid", "a raid", 0),
    ("truce is not in intrucers", "truce", "intrucers", 0),
    ("truce is not in truces-like prefix", "truce", "truceless", 0),
    ("multi-word term spanning a longer word", "cease fire", "cease firearms", 0),
    # documented consequences of vanishing separators
    ("acronym with dots", "usa", "U.S.A.", 1),
    ("letters split across words at boundaries", "therapist", "the rapist", 1),
    ("term without letters never matches", "---", "--- - ---", 0),
]


@pytest.mark.parametrize(("name", "term", "text", "count"), TERMS, ids=[c[0] for c in TERMS])
def test_term_matching(name: str, term: str, text: str, count: int) -> None:
    tags = one_term(term).tag("", "", text)
    if count == 0:
        assert tags == ()
    else:
        assert [(t.name, t.score, evidence(t)) for t in tags] == [
            ("t", float(count), [(term, "text", count)])
        ]


VARIANTS = [
    ("single word", "Flood", {"flood", "floods", "floodes"}),
    ("consonant + y", "city", {"city", "citys", "cityes", "cities"}),
    ("vowel + y", "day", {"day", "days", "dayes"}),
    ("multi-word, hyphen and case", "Aid-Convoy", {"aidconvoy", "aidconvoys", "aidconvoyes"}),
    ("non-ASCII gets none", "Москва", {"москва"}),
    ("CJK", "北京", {"北京"}),
    ("digits get none", "G7", {"g7"}),
    ("no letters", "---", set()),
]


@pytest.mark.parametrize(("name", "term", "forms"), VARIANTS, ids=[c[0] for c in VARIANTS])
def test_term_variants(name: str, term: str, forms: set[str]) -> None:
    assert term_variants(term) == forms


# --- §4: scoring -----------------------------------------------------------------------------
# (id, title, summary, text, score, evidence)
SCORES: list[tuple[str, str, str, str, float, Evidence]] = [
    ("one title match = 3", "Truce holds", "", "", 3.0, [("truce", "title", 1)]),
    ("two title matches = 6", "Truce, truce", "", "", 6.0, [("truce", "title", 2)]),
    ("one body match = 1", "News", "", "A truce.", 1.0, [("truce", "text", 1)]),
    (
        "body is max(summary, text), not the sum",
        "News",
        "truce truce",
        "truce truce truce",
        3.0,
        [("truce", "summary", 2), ("truce", "text", 3)],
    ),
    (
        "summary larger than text",
        "News",
        "truce truce truce",
        "truce",
        3.0,
        [("truce", "summary", 3), ("truce", "text", 1)],
    ),
    (
        "title plus body",
        "Truce",
        "a truce",
        "a truce, then another truce",
        5.0,
        [("truce", "title", 1), ("truce", "summary", 1), ("truce", "text", 2)],
    ),
]


@pytest.mark.parametrize(
    ("name", "title", "summary", "text", "expected", "matches"), SCORES, ids=[c[0] for c in SCORES]
)
def test_score(name: str, title: str, summary: str, text: str, expected: float, matches: Evidence) -> None:
    [tag] = one_term("truce").tag(title, summary, text)
    assert (tag.score, evidence(tag)) == (expected, matches)


def test_score_counts_every_term_of_the_topic_per_field() -> None:
    matches = [
        TagMatch(term="truce", field="text", count=2),
        TagMatch(term="ceasefire", field="text", count=2),
        TagMatch(term="truce", field="summary", count=3),
        TagMatch(term="ceasefire", field="title", count=1),
    ]
    assert score(matches) == 7.0  # 3 × 1 + max(3, 2 + 2)


# --- §1: min_mentions and min_score ----------------------------------------------------------
# (id, options, title, summary, text, tagged?)
THRESHOLDS = [
    ("min_mentions 2, one title mention", {"min_mentions": 2}, "Storm", "", "", False),
    ("min_mentions 2, title + text", {"min_mentions": 2}, "Storm", "", "storm", True),
    ("min_mentions counts all fields", {"min_mentions": 3}, "Storm", "storm", "storm", True),
    ("min_mentions counts summary and text both", {"min_mentions": 2}, "News", "storm", "storm", True),
    ("min_mentions 0 = any match", {"min_mentions": 0}, "News", "", "storm", True),
    ("min_score 3, one body mention", {"min_score": 3}, "News", "", "storm", False),
    ("min_score 3, one title mention", {"min_score": 3}, "Storm", "", "", True),
    ("min_score 3, three body mentions", {"min_score": 3}, "News", "", "storm storm storm", True),
    ("min_score uses max, not sum", {"min_score": 3}, "News", "storm storm", "storm", False),
    ("min_score fractional", {"min_score": 1.5}, "News", "", "storm", False),
    ("both: mentions met, score not", {"min_mentions": 2, "min_score": 2}, "News", "storm", "storm", False),
    ("both met", {"min_mentions": 2, "min_score": 2}, "Storm", "storm", "storm", True),
]


@pytest.mark.parametrize(
    ("name", "options", "title", "summary", "text", "expected"), THRESHOLDS, ids=[c[0] for c in THRESHOLDS]
)
def test_thresholds(
    name: str, options: dict[str, float], title: str, summary: str, text: str, expected: bool
) -> None:
    assert bool(one_term("storm", **options).tag(title, summary, text)) is expected


# --- §3: query rules -------------------------------------------------------------------------
QUERY_TAXONOMY = taxonomy_from_data(
    {
        "topics": [
            {"name": "ceasefire", "terms": ["ceasefire", "truce"]},
            {"name": "aleppo", "kind": "place", "country": "SY", "terms": ["Aleppo"]},
            {"name": "sport", "terms": ["football"]},
            {"name": "storm", "terms": ["storm"], "min_mentions": 2},
            {"name": "q-not-binds-tighter", "query": "NOT sport AND aleppo"},
            {"name": "q-and-binds-tighter", "query": "sport OR aleppo AND ceasefire"},
            {"name": "q-parentheses", "query": "(sport OR aleppo) AND ceasefire"},
            {"name": "q-not-group", "query": "aleppo AND NOT (sport OR ceasefire)"},
            {"name": "q-title", "query": "title:aleppo AND ceasefire"},
            {"name": "q-title-topic", "query": "title:topic:aleppo"},
            {"name": "q-title-phrase", "query": 'title:"aid convoy"'},
            {"name": "q-summary", "query": "summary:ceasefire"},
            {"name": "q-text", "query": 'text:"truce"'},
            {"name": "q-quoted-topic-name", "query": '"sport" AND aleppo'},
            {"name": "q-raw-term", "query": "convoy AND aleppo"},
            {"name": "q-below-threshold", "query": "storm AND aleppo"},
            {"name": "q-of-queries", "query": "q-parentheses AND NOT topic:sport"},
            {"name": "q-defined-before-use", "query": "later OR sport"},
            {"name": "later", "terms": ["derby"]},
        ]
    }
)
QUERY_TAGGER = Tagger(QUERY_TAXONOMY)

# (id, topic, title, summary, text, expected evidence or None for "not tagged")
QUERIES: list[tuple[str, str, str, str, str, Evidence | None]] = [
    ("NOT before AND: holds", "q-not-binds-tighter", "Aleppo", "", "", [("Aleppo", "title", 1)]),
    ("NOT before AND: excluded", "q-not-binds-tighter", "Aleppo", "", "football", None),
    ("NOT before AND: needs the AND", "q-not-binds-tighter", "News", "", "", None),
    ("AND before OR: left alone", "q-and-binds-tighter", "Football", "", "", [("football", "title", 1)]),
    (
        "AND before OR: right pair",
        "q-and-binds-tighter",
        "Aleppo truce",
        "",
        "",
        [("Aleppo", "title", 1), ("truce", "title", 1)],
    ),
    ("AND before OR: half a pair", "q-and-binds-tighter", "Aleppo", "", "", None),
    ("parentheses: needs ceasefire", "q-parentheses", "Football", "", "", None),
    (
        "parentheses: either side",
        "q-parentheses",
        "Football truce",
        "",
        "",
        [("football", "title", 1), ("truce", "title", 1)],
    ),
    ("NOT over a group: holds", "q-not-group", "Aleppo", "", "", [("Aleppo", "title", 1)]),
    ("NOT over a group: one member excludes", "q-not-group", "Aleppo", "", "A truce.", None),
    ("title: scope holds", "q-title", "Aleppo", "", "truce", [("Aleppo", "title", 1), ("truce", "text", 1)]),
    ("title: scope, term only in body", "q-title", "News", "", "Aleppo truce", None),
    ("title:topic: scope holds", "q-title-topic", "Aleppo", "", "", [("Aleppo", "title", 1)]),
    ("title:topic: scope, only in body", "q-title-topic", "News", "", "in Aleppo", None),
    (
        "title: phrase with plural",
        "q-title-phrase",
        "Aid convoys arrive",
        "",
        "",
        [("aid convoy", "title", 1)],
    ),
    ("title: phrase only in body", "q-title-phrase", "News", "aid convoy", "aid convoy", None),
    ("summary: scope holds", "q-summary", "Truce", "truce", "", [("truce", "summary", 1)]),
    ("summary: scope, not in summary", "q-summary", "Truce", "", "truce", None),
    ("text: scope holds", "q-text", "", "", "truce", [("truce", "text", 1)]),
    ("text: scope, not in text", "q-text", "Truce", "truce", "", None),
    (
        "quoted topic name is a raw term",
        "q-quoted-topic-name",
        "Aleppo",
        "",
        "sport news",
        [("sport", "text", 1), ("Aleppo", "title", 1)],
    ),
    ("quoted topic name: topic terms don't count", "q-quoted-topic-name", "Aleppo", "", "football", None),
    (
        "raw term gets inflections",
        "q-raw-term",
        "Aleppo",
        "",
        "convoys",
        [("convoy", "text", 1), ("Aleppo", "title", 1)],
    ),
    ("topic below min_mentions does not hold", "q-below-threshold", "Aleppo storm", "", "", None),
    (
        "topic meeting min_mentions holds",
        "q-below-threshold",
        "Aleppo storm",
        "",
        "storm",
        [("storm", "title", 1), ("storm", "text", 1), ("Aleppo", "title", 1)],
    ),
    (
        "query over a query",
        "q-of-queries",
        "Aleppo truce",
        "",
        "",
        [("Aleppo", "title", 1), ("truce", "title", 1)],
    ),
    ("query over a query, NOT excludes", "q-of-queries", "Football truce", "", "", None),
    ("topic defined after the query", "q-defined-before-use", "Derby day", "", "", [("derby", "title", 1)]),
]


@pytest.mark.parametrize(
    ("name", "topic", "title", "summary", "text", "expected"), QUERIES, ids=[c[0] for c in QUERIES]
)
def test_query_rules(
    name: str, topic: str, title: str, summary: str, text: str, expected: Evidence | None
) -> None:
    tag = tagged(QUERY_TAGGER, title, summary, text).get(topic)
    assert (evidence(tag) if tag is not None else None) == expected


def test_query_tag_is_scored_from_its_evidence_and_keeps_its_kind() -> None:
    tag = tagged(QUERY_TAGGER, "Aleppo", "", "truce, truce")["q-title"]
    assert (tag.score, tag.kind, tag.country) == (5.0, "topic", None)


def test_place_topic_carries_kind_and_country() -> None:
    tag = tagged(QUERY_TAGGER, "Aleppo")["aleppo"]
    assert (tag.kind, tag.country, tag.geonameid) == ("place", "SY", None)


def test_query_of_only_negations_is_assigned_when_it_holds() -> None:
    tagger = Tagger(
        taxonomy_from_data(
            {"topics": [{"name": "sport", "terms": ["football"]}, {"name": "no-sport", "query": "NOT sport"}]}
        )
    )
    assert [(t.name, t.score, t.matches) for t in tagger.tag("Aleppo truce", "", "")] == [
        ("no-sport", 0.0, ())
    ]


def test_query_evidence_excludes_false_or_branches() -> None:
    tagger = Tagger(
        taxonomy_from_data(
            {
                "topics": [
                    {"name": "ceasefire", "terms": ["truce"]},
                    {"name": "aleppo", "terms": ["Aleppo"]},
                    {"name": "sport", "terms": ["football"]},
                    {"name": "q", "query": "(aleppo AND sport) OR ceasefire"},
                ]
            }
        )
    )
    tag = tagged(tagger, "Aleppo truce")["q"]
    assert (tag.score, evidence(tag)) == (3.0, [("truce", "title", 1)])


# --- evidence --------------------------------------------------------------------------------


def test_evidence_lists_each_term_as_written_per_field_with_counts() -> None:
    tagger = Tagger(
        taxonomy_from_data({"topics": [{"name": "c", "terms": ["Cease-Fire", "truce", "armistice"]}]})
    )
    [tag] = tagger.tag("TRUCE and ceasefire", "A cease fire.", "truces, cease-fires; the truce’s end")
    assert evidence(tag) == [
        ("Cease-Fire", "title", 1),
        ("truce", "title", 1),
        ("Cease-Fire", "summary", 1),
        ("Cease-Fire", "text", 1),
        ("truce", "text", 2),
    ]
    assert tag.score == 9.0  # 3 × 2 + max(1, 3)


def test_a_term_shared_by_two_topics_counts_for_each() -> None:
    tagger = Tagger(
        taxonomy_from_data({"topics": [{"name": "a", "terms": ["truce"]}, {"name": "b", "terms": ["Truce"]}]})
    )
    tags = tagger.tag("", "", "truce and truces")
    assert [(t.name, evidence(t)) for t in tags] == [
        ("a", [("truce", "text", 2)]),
        ("b", [("Truce", "text", 2)]),
    ]


def test_possessive_counts_once_although_term_and_plural_both_match() -> None:
    [tag] = one_term("Aleppo").tag("", "", "Aleppo's and Aleppos and Aleppo")
    assert evidence(tag) == [("Aleppo", "text", 3)]


def test_tags_ordered_by_score_then_name() -> None:
    tagger = Tagger(
        taxonomy_from_data(
            {"topics": [{"name": n, "terms": [t]} for n, t in [("b", "bee"), ("a", "ant"), ("c", "cat")]]}
        )
    )
    tags = tagger.tag("Cat", "", "bee ant")
    assert [(t.name, t.score) for t in tags] == [("c", 3.0), ("a", 1.0), ("b", 1.0)]


# --- Tokenized -------------------------------------------------------------------------------


def test_tokenized_of_a_mixed_text() -> None:
    tokenized = Tokenized.of("Cease-fire in 北京, Aleppo’s ＴＲＵＣＥ!")
    assert tokenized.joined == "ceasefirein北京aleppostruce"
    assert tokenized.ends.tolist() == [5, 9, 11, 12, 13, 19, 20, 25]
    assert _bounds(tokenized) == {0, 5, 9, 11, 12, 13, 19, 20, 25}
    assert [tokenized.token_index(p) for p in (0, 5, 9, 11, 12, 13, 19, 20)] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert [tokenized.token_index(p) for p in (4, 6, 10, 18, 24, 25)] == [0, 1, 2, 5, 7, 8]
    surface = tokenized.surface
    assert surface is not None
    assert [surface.word(i) for i in range(len(surface))] == [
        "Cease",
        "fire",
        "in",
        "北",
        "京",
        "Aleppo",
        "s",
        "TRUCE",  # NFKC of the full-width letters, case kept
    ]
    assert [surface.separator_before(i) for i in range(len(surface))] == [
        "",
        "-",
        " ",
        " ",
        "",
        ", ",
        "’",
        " ",
    ]


TOKENIZED = [
    ("empty", "", "", []),
    ("only separators", " -_.,!? ", "", []),
    ("underscore separates", "snake_case", "snakecase", [5, 9]),
    ("digits are letters", "G-7 at 10:30", "g7at1030", [1, 2, 4, 6, 8]),
    ("decomposed accent stays one token", "cafe\u0301 bar", "cafébar", [4, 7]),
    ("arabic tashkeel removed", "حَلَبُ اليوم", "حلباليوم", [3, 8]),
    ("thai characters are tokens", "กขค", "กขค", [1, 2, 3]),
]


@pytest.mark.parametrize(("name", "text", "joined", "ends"), TOKENIZED, ids=[c[0] for c in TOKENIZED])
def test_tokenized_of(name: str, text: str, joined: str, ends: list[int]) -> None:
    tokenized = Tokenized.of(text)
    assert (tokenized.joined, tokenized.ends.tolist(), _bounds(tokenized)) == (joined, ends, {0, *ends})


def _bounds(tokenized: Tokenized) -> set[int]:
    return {position for position, mark in enumerate(tokenized.bounds) if mark}


SURFACES = [
    ("ascii: the folded scan is reused", "The U.S.-led Talks", ["The", "U", "S", "led", "Talks"]),
    ("latin accents keep their place", "Zürich's Café", ["Zürich", "s", "Café"]),
    ("sharp s changes the length", "Straße nach Köln", ["Straße", "nach", "Köln"]),
    ("full-width letters are normalised", "ＴＲＵＣＥ now", ["TRUCE", "now"]),
    ("cjk characters one by one", "北京 Beijing", ["北", "京", "Beijing"]),
]


@pytest.mark.parametrize(("name", "text", "words"), SURFACES, ids=[c[0] for c in SURFACES])
def test_surface_words_keep_their_case(name: str, text: str, words: list[str]) -> None:
    surface = Tokenized.of(text).surface
    assert surface is not None
    assert [surface.word(index) for index in range(len(surface))] == words
