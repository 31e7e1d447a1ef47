"""The boolean query language shared by taxonomy rules and (later) alert rules.

    query   := or
    or      := and ("OR" and)*
    and     := not ("AND" not)*
    not     := "NOT" not | atom
    atom    := "(" query ")" | [FIELD ":"] operand
    operand := WORD | "quoted phrase" | "topic:" WORD | PREFIX ":" (WORD | "quoted phrase")

Operators are upper-case words. A bare WORD names a topic when the taxonomy has one by that
name and is a raw term otherwise; ``topic:NAME`` must name a topic; a quoted phrase is always
a raw term. ``title:`` (or ``summary:``/``text:``) limits an operand to one field.

A caller may accept more operand prefixes (``parse_query(text, prefixes=("source", "lang"))``,
as alert rules do): ``source:NAME`` then parses to ``Operand("NAME", prefix="source")`` and the
caller gives it a meaning. Without ``prefixes`` (the taxonomy) such a word is a syntax error.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

FIELDS = ("title", "summary", "text")
_TOKEN = re.compile(r'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|([^\s()"]+))')


class QuerySyntaxError(ValueError):
    """The query text does not parse; the message says where."""


@dataclass(frozen=True, slots=True)
class Operand:
    value: str
    field: str | None = None  # None: any field
    quoted: bool = False  # a quoted phrase is always a raw term
    explicit_topic: bool = False  # written as topic:NAME
    prefix: str | None = None  # one of the caller's extra prefixes (parse_query(prefixes=...))


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]


Node = Operand | Not | And | Or


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise QuerySyntaxError(f"unexpected character at position {position}: {text[position:]!r}")
        position = match.end()
        if match.group(1):
            tokens.append(("(", "("))
        elif match.group(2):
            tokens.append((")", ")"))
        elif match.group(3) is not None:
            tokens.append(("PHRASE", match.group(3).replace('\\"', '"')))
        else:
            word = match.group(4)
            tokens.append((word, word) if word in ("AND", "OR", "NOT") else ("WORD", word))
    return tokens


class _Parser:
    def __init__(self, text: str, prefixes: Collection[str] = ()) -> None:
        self.tokens = _tokenize(text)
        self.position = 0
        self.prefixes = frozenset(prefixes) - {"topic", *FIELDS}

    def peek(self) -> str | None:
        return self.tokens[self.position][0] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise QuerySyntaxError("empty query")
        node = self.parse_or()
        if self.peek() is not None:
            raise QuerySyntaxError(f"unexpected {self.tokens[self.position][1]!r}; missing AND/OR?")
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_not()]
        while self.peek() == "AND":
            self.take()
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_not(self) -> Node:
        if self.peek() == "NOT":
            self.take()
            return Not(self.parse_not())
        return self.parse_atom()

    def parse_atom(self) -> Node:
        kind = self.peek()
        if kind is None:
            raise QuerySyntaxError("query ends where an operand was expected")
        if kind == "(":
            self.take()
            node = self.parse_or()
            if self.peek() != ")":
                raise QuerySyntaxError("missing closing parenthesis")
            self.take()
            return node
        if kind == "PHRASE":
            return Operand(self.take()[1], quoted=True)
        if kind != "WORD":
            raise QuerySyntaxError(f"expected an operand, found {self.tokens[self.position][1]!r}")
        return self._word(self.take()[1])

    def _word(self, word: str) -> Operand:
        prefix, sep, rest = word.partition(":")
        if not sep:
            return Operand(word)
        if prefix == "topic" and rest:
            return Operand(rest, explicit_topic=True)
        if prefix in self.prefixes:
            if rest:
                return Operand(rest, prefix=prefix)
            if self.peek() == "PHRASE":
                return Operand(self.take()[1], quoted=True, prefix=prefix)
        if prefix in FIELDS:
            if rest:
                inner = self._word(rest)
                return Operand(inner.value, prefix, explicit_topic=inner.explicit_topic, prefix=inner.prefix)
            if self.peek() == "PHRASE":
                return Operand(self.take()[1], prefix, quoted=True)
        raise QuerySyntaxError(f"unknown field or empty operand in {word!r}")


def parse_query(text: str, prefixes: Collection[str] = ()) -> Node:
    """The query tree; ``prefixes``: extra operand prefixes the caller understands."""
    return _Parser(text, prefixes).parse()


def operands(node: Node) -> list[Operand]:
    """Every operand in the query, left to right."""
    if isinstance(node, Operand):
        return [node]
    if isinstance(node, Not):
        return operands(node.operand)
    return [leaf for child in node.operands for leaf in operands(child)]
