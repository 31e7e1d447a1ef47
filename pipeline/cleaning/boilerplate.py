"""Boilerplate removal: widgets dropped from the HTML, boilerplate lines dropped from the text.

The rules are data (``boilerplate.yaml`` beside this module documents the format); users add
files of their own. ``BoilerplateRules.load(*paths)`` validates and merges them once, at start,
into precompiled matchers, so applying them stays cheap: class words and ids are looked up in
sets (answers cached per word) instead of a CSS pass (selectolax re-parses a selector list
on every call: ~35 µs for ~100 selectors), and lines go through one regex alternation, only
when short, lower-cased.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from pipeline.config import read_yaml
from pipeline.errors import ConfigError

__all__ = ["NO_RULES", "BoilerplateRules", "default_rules", "drop_widgets", "remove_boilerplate_lines"]

DEFAULT_FILE = Path(__file__).with_name("boilerplate.yaml")
_LISTS = ("drop_elements", "drop_lines", "drop_trailing", "trim_endings")
_KEYS = {*_LISTS, "max_line_length", "byline_prefixes", "replace_defaults"}
_KEPT_TAGS = frozenset({"html", "body", "main"})
_WORD_RULE = re.compile(r"([.#])([\w*-]+)")  # .class-word or #id, * inside the word
_LEAD, _TAIL = r"(?:[-–—•·*|>»▸►]\s?)?", r"[\s.!:;…»›→>|]*"  # bullet before, arrows after
_UNBOUNDED = re.compile(r"(?<!\\)\.(?:\*|\+|\{\d*,\})")
_GLUE = re.compile(r"[\s,;:&|/·•–—()-]+|\b(?:and|und|et|y|e|with|for)\b")  # between authors
# Generic bylines: a prefix, then one to six capitalised names ("By Jane Doe and Max Roe, AP").
_NAME = r"(?![a-zß-öø-ÿ])[^\W\d_][\w.'’-]{0,30}"
_PERSON = rf"{_NAME}(?: (?:{_NAME}|van|von|de|da|del|der|di|du|dos|le|la|bin|al)){{1,4}}"
_NOT_NAME = r"(?i:the|a|an|this|that|these|those|his|her|their|our|my|your|its|all|some|no|one)\b"
_PEOPLE = rf"(?!{_NOT_NAME}){_PERSON}(?:(?: ?,(?: and| &)?| and| &| und| et| y| e) {_PERSON}){{0,5}}"
_BYLINE_TAIL = r"(?:(?: ?[,|–—-]| for| in) .{1,40})?"
_STOPS = (".", "!", "?", "。", "！", "？")  # a line ending so is a sentence, not a headline


@dataclass(frozen=True)
class _Words:
    """Class words or ids: exact words in a set, ``*`` patterns in one regex, answers cached."""

    exact: frozenset[str] = frozenset()
    globs: re.Pattern[str] | None = None
    seen: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    def __call__(self, word: str) -> bool:
        hit = self.seen.get(word)
        if hit is None:
            hit = word in self.exact or bool(self.globs and self.globs.fullmatch(word))
            if len(self.seen) < 100_000:  # site class names repeat; bound the memory anyway
                self.seen[word] = hit
        return hit

    def __bool__(self) -> bool:
        return bool(self.exact or self.globs)


@dataclass(frozen=True)
class BoilerplateRules:
    """Validated, merged, compiled rules: build with ``load``, or use ``default_rules()``."""

    classes: _Words = field(default_factory=_Words)
    ids: _Words = field(default_factory=_Words)
    selector: str = ""  # entries that are full CSS selectors, joined
    lines: re.Pattern[str] | None = None  # a match with group "trailing" cuts the rest
    endings: tuple[str, ...] = ()  # lower case
    prefixes: tuple[str, ...] = ()
    bylines: re.Pattern[str] | None = None
    max_line_length: int = 200
    sources: tuple[str, ...] = ()

    @classmethod
    def load(cls, *paths: Path) -> BoilerplateRules:
        """The shipped defaults extended by ``paths`` in order (``replace_defaults: true`` in
        a file drops what came before it). Raises ``ConfigError`` naming file, key, reason."""
        items: dict[str, list[str]] = {section: [] for section in _LISTS}
        prefixes: list[str] = []
        limit, sources = 200, []
        for path in (DEFAULT_FILE, *map(Path, paths)):
            data = _mapping(path, read_yaml(path, "boilerplate rules"))
            if data.get("replace_defaults"):
                items, prefixes = {section: [] for section in _LISTS}, []
            for section in _LISTS:
                items[section] += [_checked(section, *entry) for entry in _entries(path, section, data)]
            limit = _line_length(path, data, limit)
            prefixes += _prefixes(path, data)
            sources.append(str(path))
        return _build(items, prefixes, limit, tuple(sources))


NO_RULES = BoilerplateRules()


@cache
def default_rules() -> BoilerplateRules:
    """The shipped rules, read and compiled on first use."""
    return BoilerplateRules.load()


def drop_widgets(root: LexborNode, rules: BoilerplateRules) -> None:
    """Remove the widgets ``rules`` name from the tree under ``root`` (never html/body/main)."""
    if rules.classes or rules.ids:
        _drop(root, root.css("[class], [id]"), lambda node: _is_widget(node, rules))
    if rules.selector:
        _drop(root, root.css(rules.selector), lambda node: True)


def _drop(root: LexborNode, nodes: list[LexborNode], doomed: Callable[[LexborNode], bool]) -> None:
    root_id = root.mem_id  # not ==: LexborNode.__eq__ serialises both subtrees
    for node in reversed(nodes):  # innermost first: no node is destroyed twice via an ancestor
        if node.tag not in _KEPT_TAGS and node.mem_id != root_id and doomed(node):
            node.decompose()


def _is_widget(node: LexborNode, rules: BoilerplateRules) -> bool:
    attributes = node.attributes
    classes, ident = attributes.get("class"), attributes.get("id")
    if classes and any(rules.classes(word) for word in classes.lower().split()):
        return True
    return ident is not None and rules.ids(ident.strip().lower())


def remove_boilerplate_lines(text: str, rules: BoilerplateRules, authors: Sequence[str] = ()) -> str:
    """``text`` (paragraphs split by blank lines, lines by newlines) without boilerplate."""
    names = _names(authors)
    if rules.lines is None and rules.bylines is None and not names:
        return _trim_end(text, rules)
    limit = rules.max_line_length
    kept: list[list[str]] = []
    headers: list[tuple[int, int]] = []  # where trailing headers stood (paragraph, line)
    for paragraph in text.split("\n\n"):
        lines: list[str] = []
        for line in paragraph.split("\n"):
            verdict = _verdict(line, rules, names) if len(line) <= limit else "keep"
            if verdict == "keep":
                lines.append(line)
            elif verdict == "trailing" and (lines or any(kept)):
                headers.append((len(kept), len(lines)))
        kept.append(lines)
    return _trim_end("\n\n".join("\n".join(lines) for lines in _cut(kept, headers, limit) if lines), rules)


def _verdict(line: str, rules: BoilerplateRules, names: tuple[str, ...]) -> str:
    low = line.lower()
    match = rules.lines.fullmatch(low) if rules.lines is not None else None
    if match is not None:
        return "trailing" if match.group("trailing") is not None else "drop"
    if rules.bylines is not None and low.startswith(rules.prefixes) and rules.bylines.fullmatch(line):
        return "drop"
    return "drop" if names and _is_author_line(line.casefold(), names, rules.prefixes) else "keep"


def _cut(kept: list[list[str]], headers: list[tuple[int, int]], limit: int) -> list[list[str]]:
    """Cut at the first trailing header after which only headlines follow: short lines that
    do not end a sentence (a story going on after a mid-article box does)."""
    for at, line in headers:
        rest = [text for lines in [kept[at][line:], *kept[at + 1 :]] for text in lines]
        if all(len(text) <= limit and not text.rstrip("\"'”’)»").endswith(_STOPS) for text in rest):
            return [*kept[:at], kept[at][:line]]
    return kept


def _trim_end(text: str, rules: BoilerplateRules) -> str:
    for ending in rules.endings:
        if text[-len(ending) :].lower() == ending:
            return text[: -len(ending)].rstrip()
    return text


def _names(authors: Sequence[str]) -> tuple[str, ...]:
    names = {" ".join(author.split()).casefold() for author in authors}
    return tuple(sorted((name for name in names if len(name) >= 2), key=len, reverse=True))


def _is_author_line(low: str, names: tuple[str, ...], prefixes: tuple[str, ...]) -> bool:
    """Only the authors: "Jane Doe", "Jane Doe, Reuters", "By Jane Doe and Max Roe, 18 March"."""
    if not any(name in low for name in names):
        return False
    prefix = next((p for p in prefixes if re.match(rf"{re.escape(p)}(?:\s|(?<=:))", low)), "")
    rest = low[len(prefix) :].lstrip()
    if not any(rest.startswith(name) and not rest[len(name) : len(name) + 1].isalnum() for name in names):
        return False
    rest = re.sub("|".join(rf"\b{re.escape(name)}\b" for name in names), " ", rest)
    tail = _GLUE.sub(" ", rest).split()
    if prefix:
        return len(" ".join(tail)) <= 60
    return not tail or (len(tail) <= 3 and re.search(r"[,|/–—-]", low) is not None)


def _build(
    items: dict[str, list[str]], prefixes: list[str], limit: int, sources: tuple[str, ...]
) -> BoilerplateRules:
    words = [_WORD_RULE.fullmatch(item) for item in items["drop_elements"]]
    drop, trailing = items["drop_lines"], items["drop_trailing"]
    lines = rf"{_LEAD}(?:(?P<trailing>{_any(trailing)})|{_any(drop)}){_TAIL}"
    ordered = tuple(sorted(set(prefixes), key=len, reverse=True))
    starts = "|".join(re.escape(p) + (r"\s?" if p.endswith(":") else r"\s") for p in ordered)
    return BoilerplateRules(
        classes=_words([w[2] for w in words if w and w[1] == "."]),
        ids=_words([w[2] for w in words if w and w[1] == "#"]),
        selector=", ".join(item for item, w in zip(items["drop_elements"], words, strict=True) if not w),
        lines=re.compile(lines) if drop or trailing else None,
        endings=tuple(sorted({e.lower() for e in items["trim_endings"]}, key=len, reverse=True)),
        prefixes=ordered,
        bylines=re.compile(rf"(?i:{starts}){_PEOPLE}{_BYLINE_TAIL}") if ordered else None,
        max_line_length=limit,
        sources=sources,
    )


def _any(patterns: list[str]) -> str:
    return "|".join(f"(?:{pattern})" for pattern in patterns) or "(?!)"


def _words(items: list[str]) -> _Words:
    exact = frozenset(item.lower() for item in items if "*" not in item)
    globs = [re.escape(item.lower()).replace(r"\*", r"\S*") for item in items if "*" in item]
    return _Words(exact, re.compile("|".join(globs)) if globs else None)


def _mapping(path: Path, data: Any) -> dict[str, Any]:
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of rule sections")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: unknown key (known: {', '.join(sorted(_KEYS))})")
    if data.get("replace_defaults") not in (None, False, True):
        raise ConfigError(f"{path}: replace_defaults: must be true or false")
    return data


def _line_length(path: Path, data: dict[str, Any], current: int) -> int:
    value = data.get("max_line_length", current)
    if isinstance(value, bool) or not isinstance(value, int) or not 10 <= value <= 2000:
        raise ConfigError(f"{path}: max_line_length: must be a whole number from 10 to 2000")
    return value


def _prefixes(path: Path, data: dict[str, Any]) -> list[str]:
    prefixes = data.get("byline_prefixes", [])
    if not isinstance(prefixes, list) or not all(isinstance(p, str) and p.strip() for p in prefixes):
        raise ConfigError(f"{path}: byline_prefixes: must be a list of words")
    return [p.strip().casefold() for p in prefixes]


def _entries(path: Path, section: str, data: dict[str, Any]) -> list[tuple[str, str]]:
    """``(item, where)`` for every string of a ``family: [items]`` section."""
    value = data.get(section) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {section}: must be a mapping of family name to a list")
    entries: list[tuple[str, str]] = []
    for family, items in value.items():
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            raise ConfigError(f"{path}: {section}.{family}: must be a list of non-empty strings")
        entries += [(item.strip(), f"{path}: {section}.{family}[{n}]") for n, item in enumerate(items)]
    return entries


def _checked(section: str, item: str, where: str) -> str:
    if section == "drop_elements" and not _WORD_RULE.fullmatch(item):
        try:
            LexborHTMLParser("<p></p>").css(item)
        except SelectolaxError:
            raise ConfigError(f"{where}: invalid CSS selector {item!r}") from None
    elif section in ("drop_lines", "drop_trailing"):
        problem = _pattern_problem(item)
        if problem:
            raise ConfigError(f"{where}: {item!r}: {problem}")
    return item


def _pattern_problem(pattern: str) -> str:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return f"invalid regular expression: {exc}"
    literal = re.sub(r"\\.", "", pattern)  # escapes like \S and \W may be upper case
    if compiled.groupindex:
        return "named groups are not allowed"
    if _UNBOUNDED.search(pattern):
        return "unbounded wildcard; bound it, e.g. .{0,120}"
    if literal != literal.lower():
        return "write it in lower case (lines are lower-cased before matching)"
    return "it matches an empty line" if compiled.fullmatch("") else ""
