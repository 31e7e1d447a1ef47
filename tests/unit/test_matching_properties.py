"""Property tests for the matching contract (DESIGN §3, docs/taxonomy.md §2-§4) on the
gazetteer-free Tagger.

Text around a term is built from filler words whose letters never occur in any term, so no
match can start or end in the filler: every expected count below is exact.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pipeline.matching import term_variants
from pipeline.models import Tag
from pipeline.tagging import Tagger
from pipeline.taxonomy import taxonomy_from_data

SETTINGS = settings(max_examples=200, deadline=None)

TERM_LETTERS = "abcdefghijklmnop"  # terms (and their -s/-es/-ies variants) use these only
FILLER_LETTERS = "qrtuvwxyz"  # never in a term nor a variant: no match can touch a filler word
term_words = st.text(alphabet=TERM_LETTERS, min_size=2, max_size=7)
filler_words = st.text(alphabet=FILLER_LETTERS, min_size=1, max_size=6)
fillers = st.lists(filler_words, min_size=0, max_size=5)
between_words = st.sampled_from([" ", " ", ", ", ". ", " - ", "\n", " / ", "; "])
# Between the parts of one multi-word term: anything the contract calls a separator, or nothing.
part_separators = st.sampled_from(
    ["", " ", "-", "\u2013", "\u2014", "_", " - ", "  ", "/", "\u00a0", ".", "'"]
)
cases = st.sampled_from([str.lower, str.upper, str.title, str.capitalize, str.swapcase])


def tagger_for(*terms: str, name: str = "t", **options: object) -> Tagger:
    return Tagger(taxonomy_from_data({"topics": [{"name": name, "terms": list(terms), **options}]}))


def summary(tags: tuple[Tag, ...]) -> list[tuple[str, float, list[tuple[str, str, int]]]]:
    return [(t.name, t.score, [(m.term, m.field, m.count) for m in t.matches]) for t in tags]


def sentence(words: list[str], separator: str = " ") -> str:
    return separator.join(words)


# --- case ------------------------------------------------------------------------------------

ascii_text = st.lists(
    st.one_of(term_words, filler_words, st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ", max_size=8)),
    max_size=12,
).map(" ".join)


@SETTINGS
@given(parts=st.lists(term_words, min_size=1, max_size=3), text=ascii_text, case=cases)
def test_matching_is_invariant_to_case_of_the_text(
    parts: list[str], text: str, case: Callable[[str], str]
) -> None:
    term = " ".join(parts)
    tagger = tagger_for(term)
    text = f"{text} {term} {text}"
    expected = summary(tagger.tag(text, text, text))
    assert expected  # the term is in the text
    assert summary(tagger.tag(case(text), case(text), case(text))) == expected


@SETTINGS
@given(parts=st.lists(term_words, min_size=1, max_size=3), text=ascii_text, case=cases)
def test_matching_is_invariant_to_case_of_the_term(
    parts: list[str], text: str, case: Callable[[str], str]
) -> None:
    term = " ".join(parts)
    text = f"{text} {term}"
    before = summary(tagger_for(term).tag("", "", text))
    after = summary(tagger_for(case(term)).tag("", "", text))
    assert [(n, s, [(m[1], m[2]) for m in ev]) for n, s, ev in after] == [
        (n, s, [(m[1], m[2]) for m in ev]) for n, s, ev in before
    ]
    assert after[0][2][0][0] == case(term)  # evidence names the term as written


CYRILLIC = "абвгдежзийклмнопрстуфхцчшщъыьэюя"


@SETTINGS
@given(
    parts=st.lists(st.text(alphabet=CYRILLIC, min_size=2, max_size=7), min_size=1, max_size=2),
    case=cases,
    count=st.integers(1, 4),
)
def test_cyrillic_case_invariance(parts: list[str], case: Callable[[str], str], count: int) -> None:
    term = " ".join(parts)
    tagger = tagger_for(term)
    text = " 123 ".join([case(term)] * count)
    assert summary(tagger.tag("", "", text)) == [("t", float(count), [(term, "text", count)])]


GREEK = "αβγδεζηθικλμνξοπρστυφχψω"


@SETTINGS
@given(word=st.text(alphabet=GREEK, min_size=2, max_size=8), case=cases)
def test_greek_case_invariance(word: str, case: Callable[[str], str]) -> None:
    tagger = tagger_for(word)
    assert summary(tagger.tag("", "", f"« {case(word)} »")) == [("t", 1.0, [(word, "text", 1)])]


# --- separators between the parts of a term ---------------------------------------------------


@SETTINGS
@given(
    parts=st.lists(term_words, min_size=2, max_size=4),
    written_as=st.sampled_from(["spaced", "hyphenated", "joined"]),
    separators=st.lists(part_separators, min_size=3, max_size=3),
    case=cases,
    before=fillers,
    after=fillers,
)
def test_matching_is_invariant_to_separators_between_parts(
    parts: list[str],
    written_as: str,
    separators: list[str],
    case: Callable[[str], str],
    before: list[str],
    after: list[str],
) -> None:
    term = {"spaced": " ", "hyphenated": "-", "joined": ""}[written_as].join(parts)
    written = parts[0] + "".join(sep + part for sep, part in zip(separators, parts[1:], strict=False))
    text = sentence([*before, case(written), *after])
    assert summary(tagger_for(term).tag(text, "", text)) == [
        ("t", 4.0, [(term, "title", 1), (term, "text", 1)])
    ]


@SETTINGS
@given(
    spelling=st.sampled_from(
        ["ceasefire", "cease fire", "cease-fire", "CEASE–FIRE", "Cease—Fire", "cease_fire", "cease - fire"]
    ),
    term=st.sampled_from(["ceasefire", "cease fire", "cease-fire", "Cease-Fire", "CEASE_FIRE"]),
    before=fillers,
    after=fillers,
)
def test_ceasefire_spellings_all_match_each_other(
    spelling: str, term: str, before: list[str], after: list[str]
) -> None:
    text = sentence([*before, spelling, *after])
    assert summary(tagger_for(term).tag("", "", text)) == [("t", 1.0, [(term, "text", 1)])]


# --- surrounding punctuation -----------------------------------------------------------------

opening = st.sampled_from(
    ["", "(", "[", "{", '"', "'", "“", "‘", "«", "‹", "„", "¿", "¡", "*", "#", "@", "—"]
)
closing = st.sampled_from(
    ["", ")", "]", "}", '"', "'", "”", "’", "»", "›", ",", ".", "!", "?", ":", ";", "…", "%"]
)


@SETTINGS
@given(
    parts=st.lists(term_words, min_size=1, max_size=3),
    opens=st.lists(opening, min_size=1, max_size=3),
    closes=st.lists(closing, min_size=1, max_size=3),
    before=fillers,
    after=fillers,
)
def test_surrounding_punctuation_does_not_matter(
    parts: list[str], opens: list[str], closes: list[str], before: list[str], after: list[str]
) -> None:
    term = " ".join(parts)
    wrapped = "".join(opens) + term + "".join(closes)
    text = sentence([*before, wrapped, *after])
    assert summary(tagger_for(term).tag("", text, "")) == [("t", 1.0, [(term, "summary", 1)])]


# --- whole words -----------------------------------------------------------------------------


@st.composite
def word_and_strict_infix(draw: st.DrawFn, alphabet: str) -> tuple[str, str]:
    word = draw(st.text(alphabet=alphabet, min_size=3, max_size=12))
    start = draw(st.integers(0, len(word) - 1))
    stop = draw(st.integers(start + 1, len(word)))
    assume(stop - start < len(word))
    return word, word[start:stop]


@SETTINGS
@given(pair=word_and_strict_infix("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"), case=cases)
def test_a_term_never_matches_inside_a_longer_word(pair: tuple[str, str], case: Callable[[str], str]) -> None:
    word, infix = pair
    # The word may itself be an inflection of the infix ("cats" of "cat"): that is a match.
    assume("".join(word.casefold().split()) not in term_variants(infix))
    assert tagger_for(infix).tag(case(word), "", f"({case(word)}), {word}.") == ()


@SETTINGS
@given(pair=word_and_strict_infix("абвгдежзийклмнопрстуфхцчшщъыьэюя"))
def test_cyrillic_term_never_matches_inside_a_longer_word(pair: tuple[str, str]) -> None:
    word, infix = pair
    assert tagger_for(infix).tag("", "", f"{word} {word.upper()}") == ()


ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


@SETTINGS
@given(pair=word_and_strict_infix(ARABIC))
def test_arabic_term_never_matches_inside_a_longer_word(pair: tuple[str, str]) -> None:
    word, infix = pair
    assert tagger_for(infix).tag("", "", f"{word}، «{word}».") == ()


# --- counts ----------------------------------------------------------------------------------


@st.composite
def with_occurrences(draw: st.DrawFn, written: st.SearchStrategy[str]) -> tuple[str, int]:
    """Filler words with the term inserted a drawn number of times (each in a drawn form),
    always a filler word between two occurrences (a term like ``ab ab`` written twice in a row
    would also match across them: ``ab ab ab ab`` holds it three times)."""
    count = draw(st.integers(0, 6))
    words = [" ".join(draw(st.lists(filler_words, max_size=2)))]
    for _ in range(count):
        words += [draw(written), draw(filler_words)]
    separator = draw(between_words)
    return separator.join(word for word in words if word), count


@SETTINGS
@given(data=st.data(), parts=st.lists(term_words, min_size=1, max_size=3))
def test_evidence_counts_equal_occurrences_inserted(data: st.DataObject, parts: list[str]) -> None:
    term = " ".join(parts)
    forms = st.tuples(part_separators, cases).map(lambda form: form[1](form[0].join(parts)))
    title, in_title = data.draw(with_occurrences(forms), "title")
    summary_text, in_summary = data.draw(with_occurrences(forms), "summary")
    text, in_text = data.draw(with_occurrences(forms), "text")
    expected = [
        (term, field, count)
        for field, count in (("title", in_title), ("summary", in_summary), ("text", in_text))
        if count
    ]
    tags = tagger_for(term).tag(title, summary_text, text)
    if not expected:
        assert tags == ()
    else:
        assert summary(tags) == [("t", 3.0 * in_title + max(in_summary, in_text), expected)]


@SETTINGS
@given(
    word=st.text(alphabet="bcdfghjklmnp", min_size=2, max_size=6),
    ending=st.sampled_from(["s", "es", "'s", "’s", "s'"]),
    count=st.integers(1, 5),
)
def test_plural_and_possessive_counts(word: str, ending: str, count: int) -> None:
    text = " and ".join([word + ending] * count)
    assert summary(tagger_for(word).tag("", "", text)) == [("t", float(count), [(word, "text", count)])]


CJK_TERMS = ["北京", "上海", "東京", "中国", "联合国"]
CJK_FILLER = (
    "的在了是有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工"
    "也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理"
    "起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社"
    "义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只"
    "没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品"
    "式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九"
    "区强放决西被干做必战先回则任取据处理府研质类"
)
# Ideographs that occur in none of CJK_TERMS.
CJK_FILLER = "".join(ch for ch in CJK_FILLER if not any(ch in term for term in CJK_TERMS))


@SETTINGS
@given(
    term=st.sampled_from(CJK_TERMS),
    chunks=st.lists(st.text(alphabet=CJK_FILLER, max_size=6), min_size=1, max_size=6),
)
def test_cjk_counts_inside_unspaced_text(term: str, chunks: list[str]) -> None:
    text = term.join(chunks)  # no spaces anywhere: the term is found between any ideographs
    count = len(chunks) - 1
    tags = tagger_for(term).tag("", "", text)
    if count == 0:
        assert tags == ()
    else:
        assert summary(tags) == [("t", float(count), [(term, "text", count)])]


TASHKEEL = ["\u064b", "\u064c", "\u064d", "\u064e", "\u064f", "\u0650", "\u0651", "\u0652", "\u0640"]


@SETTINGS
@given(
    word=st.text(alphabet=ARABIC, min_size=2, max_size=6),
    marks=st.lists(st.sampled_from(["", *TASHKEEL]), min_size=6, max_size=6),
    count=st.integers(1, 4),
    marked_term=st.booleans(),
)
def test_arabic_counts_with_and_without_tashkeel(
    word: str, marks: list[str], count: int, marked_term: bool
) -> None:
    marked = "".join(letter + mark for letter, mark in zip(word, marks, strict=False))
    term, written = (marked, word) if marked_term else (word, marked)
    text = " و ".join([written] * count)
    assert summary(tagger_for(term).tag("", "", text)) == [("t", float(count), [(term, "text", count)])]


# --- adding unrelated terms and topics -------------------------------------------------------

BASE_TOPICS: list[dict[str, object]] = [
    {"name": "ceasefire", "terms": ["ceasefire", "truce"]},
    {"name": "aleppo", "kind": "place", "country": "SY", "terms": ["Aleppo", "Halab"]},
    {"name": "aid", "terms": ["aid convoy"], "min_mentions": 2},
    {"name": "sport", "terms": ["football", "derby"]},
    {"name": "aleppo-ceasefire", "query": "aleppo AND ceasefire AND NOT sport"},
    {"name": "headline", "query": 'title:ceasefire OR "relief"'},
]
VOCABULARY = ["ceasefire", "cease-fire", "truce", "Aleppo", "Halab's", "aid convoys", "aid", "convoy"]
VOCABULARY += ["football", "derby", "relief", "said", "the", "in", "talks", "held", "TRUCES"]
article_text = st.lists(st.sampled_from(VOCABULARY), max_size=12).map(" ".join)
articles = st.tuples(article_text, article_text, article_text)
# Terms whose letters never occur in VOCABULARY: they cannot match the articles above.
absent_terms = st.text(alphabet="jqwxz", min_size=1, max_size=6)
QUERY_WORDS = {"relief"}


def with_topics(topics: list[dict[str, object]]) -> Tagger:
    return Tagger(taxonomy_from_data({"topics": topics}))


BASE = with_topics(BASE_TOPICS)


@SETTINGS
@given(article=articles, extra=absent_terms, topic=st.integers(0, 3))
def test_adding_an_absent_term_to_a_topic_changes_nothing(
    article: tuple[str, str, str], extra: str, topic: int
) -> None:
    topics = [dict(t) for t in BASE_TOPICS]
    topics[topic]["terms"] = [*topics[topic]["terms"], extra]  # type: ignore[misc]
    assert with_topics(topics).tag(*article) == BASE.tag(*article)


@SETTINGS
@given(
    article=articles,
    name=st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=10),
    terms=st.lists(st.sampled_from([*VOCABULARY, "aid convoy", "Aleppo"]), min_size=1, max_size=4),
    position=st.integers(0, len(BASE_TOPICS)),
)
def test_a_new_topic_never_removes_or_changes_existing_tags(
    article: tuple[str, str, str], name: str, terms: list[str], position: int
) -> None:
    """Even a new topic sharing terms with existing ones (same automaton keys)."""
    assume(name.strip("-") and name not in {str(t["name"]) for t in BASE_TOPICS} and name not in QUERY_WORDS)
    topics = [*BASE_TOPICS]
    topics.insert(position, {"name": name, "terms": terms})
    before = BASE.tag(*article)
    after = [tag for tag in with_topics(topics).tag(*article) if tag.name != name]
    assert after == list(before)


@SETTINGS
@given(article=articles, extra=absent_terms)
def test_a_new_query_topic_never_removes_or_changes_existing_tags(
    article: tuple[str, str, str], extra: str
) -> None:
    rule: dict[str, object] = {"name": "extra-rule", "query": f'aleppo OR "{extra}" OR NOT sport'}
    topics = [*BASE_TOPICS, rule]
    after = [tag for tag in with_topics(topics).tag(*article) if tag.name != "extra-rule"]
    assert after == list(BASE.tag(*article))


# --- determinism -----------------------------------------------------------------------------


@SETTINGS
@given(article=articles)
def test_tagging_is_deterministic(article: tuple[str, str, str]) -> None:
    first = BASE.tag(*article)
    assert BASE.tag(*article) == first
    assert with_topics(BASE_TOPICS).tag(*article) == first  # a fresh compile, too
    assert [tag.model_dump_json() for tag in BASE.tag(*article)] == [tag.model_dump_json() for tag in first]


@SETTINGS
@given(article=articles, order=st.permutations(range(len(BASE_TOPICS))))
def test_tags_do_not_depend_on_topic_order_in_the_file(
    article: tuple[str, str, str], order: list[int]
) -> None:
    shuffled = with_topics([BASE_TOPICS[index] for index in order])
    assert shuffled.tag(*article) == BASE.tag(*article)
