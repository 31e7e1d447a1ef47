"""`newsflow taxonomy diff OLD.yaml NEW.yaml SOURCE...`: which articles gain or lose which tags.

A SOURCE is a feed (file or http(s) URL, read, cleaned, de-duplicated as by `newsflow process`) or
a ``news.articles`` export (the JSON Lines of `process`, the indented objects of `tail`), told
apart by content: first non-blank byte ``{`` and not a JSON Feed."""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import IO, Any

import orjson
from pydantic import BaseModel, ConfigDict

from newsflow.process import PROCESS_NEAR_CAPACITY, SourceError, near_index, raw_articles
from pipeline import codec
from pipeline.chain import Chain
from pipeline.cleaning.boilerplate import BoilerplateRules
from pipeline.clock import SystemClock
from pipeline.config import Settings
from pipeline.errors import InvalidArticle
from pipeline.tagging import Tagger
from pipeline.taxonomy import Taxonomy, Topic, load_taxonomy

TITLE_CHARS = 80
KINDS = ("gained", "lost", "rescored")
TAG_KEYS = {"name", "score", "matches"}
_definition = attrgetter("terms", "query_text", "kind", "min_mentions", "min_score")  # the same topic


class Item(BaseModel):
    """One article: what is re-tagged, and how an editor recognises it (also an export line)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    id: str = ""
    url: str | None = None
    title: str = ""
    summary: str = ""
    text: str = ""
    duplicate_of: str | None = None  # set on the duplicates `process --include-duplicates` prints


@dataclass(frozen=True, slots=True)
class Options:
    scores: bool = False  # a changed score is a change too
    as_json: bool = False
    limit: int = 50  # changed articles listed; the summaries always cover all of them


def run_diff(paths: tuple[str, str], sources: list[str], settings: Settings, options: Options) -> int:
    """Print the diff; 0 when computed, 1 when a source could not be read (ConfigError: raised)."""
    old, new = load_taxonomy(Path(paths[0])), load_taxonomy(Path(paths[1]))
    reader = Reader(settings, sys.stderr)
    for source in sources:
        reader.read(source)
    report = {"old": paths[0], "new": paths[1], **build_report(old, new, reader, options)}
    text = orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() if options.as_json else render(report)
    sys.stdout.write(text + "\n")
    return 1 if reader.failed else 0


class Reader:
    """Every article once, in source order: feed duplicates dropped as by `process`, ids once."""

    def __init__(self, settings: Settings, err: IO[str]) -> None:
        rules = BoilerplateRules.load(*settings.cleaning.boilerplate_files)
        near = near_index(settings.dedup, PROCESS_NEAR_CAPACITY)
        self._chain = Chain(Tagger(Taxonomy()), SystemClock(), rules, settings.cleaning.summary_chars, near)
        self._poller, self._err = settings.poller, err
        self.items: dict[str, Item] = {}
        self.failed: list[str] = []
        self.malformed = 0

    def read(self, source: str) -> None:
        for item in self._export(source) if is_export(source) else self._feed(source):
            self.items.setdefault(item.id, item)

    def _feed(self, source: str) -> Iterator[Item]:
        for raw in raw_articles([source], self._poller, None):
            if isinstance(raw, SourceError):
                self.failed.append(raw.source)
                self._err.write(f"newsflow: {raw.source}: {raw.reason}\n")
                continue
            try:
                result = self._chain.process(raw)
            except InvalidArticle as exc:
                self._err.write(f"newsflow: {raw.feed_id}: skipped entry {raw.article_key}: {exc}\n")
                continue
            if result.duplicate is None:
                yield Item.model_validate(result.article, from_attributes=True)

    def _export(self, path: str) -> Iterator[Item]:
        for number, chunk in _records(Path(path).read_text(encoding="utf-8-sig", errors="replace")):
            try:
                item = codec.decode(chunk.encode(), Item)
                if not (item.title or item.text):
                    raise InvalidArticle("not-an-article", "no title and no text")
            except InvalidArticle as exc:
                self.malformed += 1
                self._err.write(f"newsflow: {path}:{number}: skipped: {exc}\n")
                continue
            if not item.duplicate_of:
                yield item if item.id else item.model_copy(update={"id": item.url or f"{path}:{number}"})


def is_export(source: str) -> bool:
    """A readable local file holding JSON objects that is not a JSON Feed."""
    if source.lower().startswith(("http://", "https://")):
        return False
    try:
        body = Path(source).read_bytes().lstrip(b"\xef\xbb\xbf \t\r\n")
        whole = orjson.loads(body)
    except OSError:
        return False  # the feed reader reports it as `process` does
    except orjson.JSONDecodeError:
        return body[:1] == b"{"  # several objects: JSON Lines or `tail` output (or a broken one)
    return isinstance(whole, dict) and not ("items" in whole and "version" in whole)


def _records(text: str) -> Iterator[tuple[int, str]]:
    """(line number, text) per record: one per line, or a `tail` block up to its closing `}` line."""
    number = 1
    for chunk in re.split(r"\n(?=[^\s}])", text):  # a record starts on a line not indented, not `}`
        if chunk.strip():
            yield number + chunk[: len(chunk) - len(chunk.lstrip())].count("\n"), chunk
        number += chunk.count("\n") + 1


def article_change(item: Item, old: Tagger, new: Tagger, scores: bool) -> dict[str, Any] | None:
    before = {tag.name: tag for tag in old.tag(item.title, item.summary, item.text)}
    after = {tag.name: tag for tag in new.tag(item.title, item.summary, item.text)}
    new_only, old_only = sorted(after.keys() - before.keys()), sorted(before.keys() - after.keys())
    gained = [after[name].model_dump(mode="json", include=TAG_KEYS) for name in new_only]
    lost = [before[name].model_dump(mode="json", include=TAG_KEYS) for name in old_only]
    moved = [n for n in sorted(before.keys() & after.keys()) if scores and before[n].score != after[n].score]
    rescored = [{"name": n, "old": before[n].score, "new": after[n].score} for n in moved]
    if not (gained or lost or rescored):
        return None
    head = {"id": item.id, "url": item.url, "title": item.title}
    return {**head, "gained": gained, "lost": lost, "rescored": rescored}


def tag_counts(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per tag: articles gaining, losing, rescored; biggest impact first, then by name."""
    counts = {kind: Counter(tag["name"] for change in changes for tag in change[kind]) for kind in KINDS}
    rows = [{"name": n, **{kind: counts[kind][n] for kind in KINDS}} for n in set().union(*counts.values())]
    return sorted(rows, key=lambda row: (-row["gained"] - row["lost"] - row["rescored"], row["name"]))


def taxonomy_changes(old: Taxonomy, new: Taxonomy) -> dict[str, Any]:
    """Topics added, removed, renamed (same definition under a new name) and changed."""
    before, after = old.by_name(), new.by_name()
    added, removed = sorted(after.keys() - before.keys()), sorted(before.keys() - after.keys())
    definitions = {_definition(after[name]): name for name in added}
    renamed = {n: definitions[k] for n in removed if (k := _definition(before[n])) in definitions}
    changed = [_topic_change(before[name], after[name]) for name in sorted(before.keys() & after.keys())]
    return {
        "added": [name for name in added if name not in renamed.values()],
        "removed": [name for name in removed if name not in renamed],
        "renamed": [{"from": name, "to": twin} for name, twin in renamed.items()],
        "changed": [change for change in changed if change],
    }


def _topic_change(old: Topic, new: Topic) -> dict[str, Any] | None:
    keys = [key for key in ("kind", "min_mentions", "min_score") if getattr(old, key) != getattr(new, key)]
    change = {
        "name": new.name,
        "terms_added": [term for term in new.terms if term not in old.terms],
        "terms_removed": [term for term in old.terms if term not in new.terms],
        "query": {"old": old.query_text, "new": new.query_text} if old.query_text != new.query_text else None,
        "options": {key: {"old": getattr(old, key), "new": getattr(new, key)} for key in keys},
    }
    return change if change["terms_added"] or change["terms_removed"] or change["query"] or keys else None


def build_report(old: Taxonomy, new: Taxonomy, reader: Reader, options: Options) -> dict[str, Any]:
    """The whole diff as one JSON-ready document (``--json`` prints it as it is)."""
    taggers = Tagger(old), Tagger(new)
    changes = [c for item in reader.items.values() if (c := article_change(item, *taggers, options.scores))]
    return {
        "scores": options.scores,
        "articles_read": len(reader.items),
        "articles_changed": len(changes),
        "failed_sources": reader.failed,
        "malformed_records": reader.malformed,
        "taxonomy": taxonomy_changes(old, new),
        "tags": tag_counts(changes),
        "articles": changes[: max(options.limit, 0)],
    }


def render(report: dict[str, Any]) -> str:
    changed, listed = report["articles_changed"], len(report["articles"])
    counts = (report["articles_read"], changed, report["malformed_records"], len(report["failed_sources"]))
    read = "articles: {} read, {} changed; skipped {} malformed records, {} unreadable sources".format(
        *counts
    )
    lines = [f"taxonomy diff {report['old']} -> {report['new']}", read]
    lines += ["", "taxonomy:", *(_taxonomy_lines(report["taxonomy"]) or ["  no changes"])]
    if not changed:
        return "\n".join([*lines, "", "no changes: no article gains or loses a tag"])
    width = max(len(tag["name"]) for tag in report["tags"])
    lines += ["", "tags (articles gaining / losing):"]
    for tag in report["tags"]:
        rescored = f"  ~{tag['rescored']}" if report["scores"] else ""
        lines.append(f"  {tag['name']:<{width}}  +{tag['gained']} -{tag['lost']}{rescored}")
    lines += ["", f"articles ({listed} of {changed} changed):"]
    for number, change in enumerate(report["articles"], 1):
        lines += _article_lines(number, change)
    if listed < changed:
        lines.append(f"  ... {changed - listed} more (raise --limit to list them)")
    return "\n".join(lines)


def _taxonomy_lines(taxonomy: dict[str, Any]) -> list[str]:
    lines = [f"  + {name}  (new topic)" for name in taxonomy["added"]]
    lines += [f"  - {name}  (topic removed)" for name in taxonomy["removed"]]
    lines += [f"  ~ {pair['from']} -> {pair['to']}  (renamed)" for pair in taxonomy["renamed"]]
    for change in taxonomy["changed"]:
        parts = [f"+{t}" for t in change["terms_added"]] + [f"-{t}" for t in change["terms_removed"]]
        what = [f"terms {' '.join(parts)}"] if parts else []
        if change["query"]:
            what.append(f"query {change['query']['old']!r} -> {change['query']['new']!r}")
        what += [f"{key} {value['old']!r} -> {value['new']!r}" for key, value in change["options"].items()]
        lines.append(f"  ~ {change['name']}: {'; '.join(what)}")
    return lines


def _article_lines(number: int, change: dict[str, Any]) -> list[str]:
    width = max(len(tag["name"]) for kind in KINDS for tag in change[kind])
    title = change["title"]
    title = title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…"
    lines = [f"  {number}. {title}", f"     {change['url'] or change['id']}"]
    lines += [f"     + {tag['name']:<{width}}  {_evidence(tag)}" for tag in change["gained"]]
    lines += [f"     - {tag['name']:<{width}}  was {_evidence(tag)}" for tag in change["lost"]]
    for tag in change["rescored"]:
        lines.append(f"     ~ {tag['name']:<{width}}  score {tag['old']:g} -> {tag['new']:g}")
    return lines


def _evidence(tag: dict[str, Any]) -> str:
    matches = ", ".join(f"{m['term']}@{m['field']}×{m['count']}" for m in tag["matches"])
    return f"{matches} (score {tag['score']:g})"
