"""What a user types into ``newsflow search``, read the way PostgreSQL's websearch_to_tsquery
reads it, and written out as an FTS5 query that cannot be a syntax error.

Syntax (websearch): words are ANDed; ``"a quoted phrase"``; ``a or b`` (OR binds tighter than
the implicit AND); ``-word`` or ``-"a phrase"`` excludes. Everything else is a word: FTS5's own
operators (AND, NOT, NEAR, ``*``, ``^``, ``:``, parentheses) are never interpreted, because
every term reaches FTS5 inside double quotes. An unbalanced quote runs to the end.

A query with nothing positive left (only exclusions, or only punctuation) matches nothing in
every sink: "everything except X" would be a full scan, and FTS5 cannot express it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Terms with no letter or digit tokenize to nothing; an empty phrase would only confuse FTS5.
_WORDISH = re.compile(r"\w")


@dataclass(frozen=True)
class ParsedQuery:
    clauses: tuple[tuple[str, ...], ...]  # ANDed; each clause ORs its alternatives
    excluded: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.clauses


def clean(text: str) -> str:
    """Control characters (NUL ends a C string in SQLite, PostgreSQL refuses it) become spaces;
    lone surrogates (from undecodable command-line bytes) become U+FFFD."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)


def parse(text: str) -> ParsedQuery:
    clauses: list[list[str]] = []
    excluded: list[str] = []
    pending_or = False
    for negated, term, is_operator in _tokens(clean(text)):
        if is_operator:
            pending_or = bool(clauses)  # "or" at the start means nothing
            continue
        if not _WORDISH.search(term):
            continue
        if negated:
            excluded.append(term)
        elif pending_or:
            clauses[-1].append(term)
        else:
            clauses.append([term])
        pending_or = False
    return ParsedQuery(tuple(tuple(c) for c in clauses), tuple(excluded))


def to_fts5(query: ParsedQuery) -> str | None:
    """The FTS5 MATCH string, or None when nothing can match."""
    if query.empty:
        return None
    positive = " AND ".join("(" + " OR ".join(map(_quoted, clause)) + ")" for clause in query.clauses)
    if not query.excluded:
        return positive
    return f"({positive}) NOT (" + " OR ".join(map(_quoted, query.excluded)) + ")"


def _quoted(term: str) -> str:
    # Inside an FTS5 string only the double quote is special, and doubling escapes it.
    return '"' + term.replace('"', '""') + '"'


def _tokens(text: str) -> list[tuple[bool, str, bool]]:
    """(negated, term, is_or_operator) in order."""
    tokens: list[tuple[bool, str, bool]] = []
    position, end = 0, len(text)
    while position < end:
        char = text[position]
        if char.isspace():
            position += 1
            continue
        negated = char == "-" and position + 1 < end and not text[position + 1].isspace()
        if negated:
            position += 1
        if text[position] == '"':
            closing = text.find('"', position + 1)
            closing = end if closing < 0 else closing
            tokens.append((negated, text[position + 1 : closing], False))
            position = closing + 1
            continue
        start = position
        while position < end and not text[position].isspace() and text[position] != '"':
            position += 1
        word = text[start:position]
        tokens.append((negated, word, not negated and word.lower() == "or"))
    return tokens
