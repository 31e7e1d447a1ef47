"""Match rules: which rules' queries an article satisfies.

Operands (the taxonomy's query language, ``pipeline.query``, plus three prefixes):

    aleppo           the article has a tag ``aleppo`` (a topic or place), OR the term
                     "aleppo" appears in its title, summary or text
    "cease fire"     the phrase, as a raw term (never a tag)
    tag:aleppo       only the tag (``topic:aleppo`` is the same)
    title:aleppo     the tag with evidence in the title, or the term in the title
    source:reuters   the article's source (site name) or feed id
    lang:en          the article's language (``en`` also matches ``en-GB``)

Tag names compare case-insensitively. Terms, sources and languages match like the
taxonomy's terms (DESIGN §3, ``pipeline.matching``): case, hyphens and spaces ignored, whole
words, plurals and possessives. The alert rules file is validated on its own, without a
taxonomy, which is why a bare word may be either a tag or a term.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from pipeline.alerting.rules import AlertRules, MatchRule, Rule
from pipeline.matching import FieldName, Matcher, Tokenized, term_variants, tokens
from pipeline.models import Article, Tag
from pipeline.query import And, Node, Not, Operand, operands

_FIELDS: tuple[FieldName, ...] = ("title", "summary", "text")


def _is_term(operand: Operand) -> bool:
    """Operands that may match raw text (bare words and phrases)."""
    return operand.prefix is None and not operand.explicit_topic


def _is_tag(operand: Operand) -> bool:
    """Operands that may match a tag (bare words, ``tag:``, ``topic:``)."""
    return (
        operand.prefix == "tag" or operand.explicit_topic or (operand.prefix is None and not operand.quoted)
    )


def normalised(name: str) -> str:
    """Sources and feed ids as the matching contract sees them (``BBC-News`` = ``bbc news``)."""
    return "".join(tokens(name))


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the queries of one article are evaluated against."""

    tags: dict[str, Tag]  # by case-folded name
    terms: frozenset[tuple[str, FieldName]]  # (term as written in a rule, field it occurs in)
    sources: frozenset[str]
    lang: str | None


class MatchIndex:
    """Match rules compiled once: one automaton over every raw term of every rule."""

    def __init__(self, rules: Iterable[MatchRule]) -> None:
        self.rules = tuple(rules)
        owners: dict[str, set[str]] = {}
        for rule in self.rules:
            for operand in operands(rule.query):
                if _is_term(operand):
                    for variant in term_variants(operand.value):
                        owners.setdefault(variant, set()).add(operand.value)
        self._matcher: Matcher[tuple[str, ...]] = Matcher(
            (key, tuple(sorted(terms))) for key, terms in owners.items()
        )

    def match(self, article: Article) -> list[str]:
        """Names of the rules whose query holds for ``article``, in file order."""
        if not self.rules:
            return []
        facts = self._facts(article)
        return [rule.name for rule in self.rules if _holds(rule.query, facts)]

    def _facts(self, article: Article) -> _Facts:
        terms: set[tuple[str, FieldName]] = set()
        if self._matcher.keys:
            for field, value in zip(_FIELDS, (article.title, article.summary, article.text), strict=True):
                if value:
                    terms.update(
                        (term, field) for hit in self._matcher.hits(Tokenized.of(value)) for term in hit.value
                    )
        sources = {normalised(name) for name in (article.source, article.feed_id) if name}
        lang = article.lang.replace("_", "-").casefold() if article.lang else None
        return _Facts(
            {tag.name.casefold(): tag for tag in article.tags}, frozenset(terms), frozenset(sources), lang
        )


def _operand_holds(operand: Operand, facts: _Facts) -> bool:
    if operand.prefix == "source":
        return normalised(operand.value) in facts.sources
    if operand.prefix == "lang":
        wanted = operand.value.replace("_", "-").casefold()
        return facts.lang is not None and (facts.lang == wanted or facts.lang.startswith(wanted + "-"))
    if _is_tag(operand):
        tag = facts.tags.get(operand.value.casefold())
        if tag is not None and (operand.field is None or any(m.field == operand.field for m in tag.matches)):
            return True
    if not _is_term(operand):
        return False
    return any((operand.value, field) in facts.terms for field in _FIELDS if operand.field in (None, field))


def _holds(node: Node, facts: _Facts) -> bool:
    if isinstance(node, Operand):
        return _operand_holds(node, facts)
    if isinstance(node, Not):
        return not _holds(node.operand, facts)
    if isinstance(node, And):
        return all(_holds(child, facts) for child in node.operands)
    return any(_holds(child, facts) for child in node.operands)


@lru_cache(maxsize=16)
def _index(rules: tuple[MatchRule, ...]) -> MatchIndex:
    return MatchIndex(rules)


def match_article(rules: AlertRules | Iterable[Rule], article: Article) -> list[str]:
    """Names of the match rules whose query holds for ``article`` (spike rules are skipped).

    The compiled index is cached per rule set, so calling this per article is cheap; a
    caller that reloads rules may also hold a :class:`MatchIndex` itself.
    """
    chosen = (
        rules.match_rules
        if isinstance(rules, AlertRules)
        else tuple(r for r in rules if isinstance(r, MatchRule))
    )
    return _index(chosen).match(article)
