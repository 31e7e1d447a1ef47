"""Corpus robustness (T15 at scale): every file of the shared corpus, parsed in-process.

- feedparser-tests (2,107 spec-driven samples) and real-feeds (57 publisher snapshots): each
  file ends in entries, a classified ``ParseError``, or a valid feed with no items; never in
  another exception.
- feedparser's own expectations (MANIFEST ``expect``, a Python expression over its result)
  are evaluated, with a small AST interpreter instead of ``eval``, against feedparser's result
  for the same bytes twice: as feedparser's test suite runs it, and as ``parse_feed`` runs it
  after its pre-checks. The shares and the groups that differ are printed (``pytest -s``).
- Consecutive poll snapshots keep the article_key of every item carried over, so the poller
  and dedup publish each article once.

Reads the corpus in place at $NEWSFLOW_DATA (default ``<repo>/../shared/data``); copies nothing.
"""

from __future__ import annotations

import ast
import codecs
import collections
import csv
import datetime
import gzip
import importlib.util
import io
import itertools
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import feedparser
import pytest

from pipeline.errors import ParseError
from pipeline.poller.parser import REASONS, ParsedFeed, feedparser_result, parse_feed

ROOT = Path(__file__).resolve().parents[2]
DATA = (ROOT / os.environ.get("NEWSFLOW_DATA", "../shared/data")).resolve()
FEEDPARSER_TESTS = DATA / "feedparser-tests"
REAL_FEEDS = DATA / "real-feeds"
FETCHED = "2024-01-01T00:00:00.000Z"
# feedparser's test harness serves files whose path mentions "http" from this base.
HARNESS_BASE = "http://127.0.0.1:8097/tests/"
HEADER = re.compile(rb"^Header:\s+([^:]+):(.*)$", re.MULTILINE)
pytestmark = pytest.mark.skipif(
    not (FEEDPARSER_TESTS / "MANIFEST.tsv").is_file() or not (REAL_FEEDS / "MANIFEST.csv").is_file(),
    reason=f"shared corpus not found at {DATA} (set NEWSFLOW_DATA to the folder holding "
    "feedparser-tests/ and real-feeds/)",
)


# ---- outcomes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    kind: str  # "entries", "empty" (a valid feed without items), "error" or "crash"
    detail: str = ""
    parsed: ParsedFeed | None = None


def outcome(body: bytes, headers: Mapping[str, str], *, url: str, feed_id: str) -> Outcome:
    try:
        parsed = parse_feed(body, headers, url=url, feed_id=feed_id, fetched_at=FETCHED)
    except ParseError as exc:
        return Outcome("error", exc.reason)
    except Exception as exc:  # exactly what this test exists to find
        return Outcome("crash", f"{type(exc).__name__}: {exc}")
    return Outcome("entries" if parsed.entries else "empty", parsed=parsed)


def summary(outcomes: Mapping[str, Outcome]) -> str:
    counts = collections.Counter(
        o.kind if o.kind != "error" else f"error:{o.detail}" for o in outcomes.values()
    )
    return ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items()))


# ---- feedparser-tests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    path: str
    group: str
    expect: str
    skip_unless: str
    body: bytes

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode().strip(): v.decode().strip() for k, v in HEADER.findall(self.body)}

    @property
    def url(self) -> str:
        """The URL feedparser's harness used: HTTP for "http" files, none for the rest."""
        return HARNESS_BASE + self.path if "http" in self.path else ""


def samples() -> list[Sample]:
    with (FEEDPARSER_TESTS / "MANIFEST.tsv").open(encoding="utf-8", newline="") as manifest:
        rows = list(csv.DictReader(manifest, delimiter="\t"))
    found = []
    for row in rows:
        body = (FEEDPARSER_TESTS / row["path"]).read_bytes()
        expect = row["expect"] or _json_expectation(body)
        parts = row["path"].split("/")
        group = "/".join(parts[:2]) if parts[0] == "wellformed" else parts[0]
        found.append(Sample(row["path"], group, expect, row["skip_unless"], body))
    return found


def _json_expectation(body: bytes) -> str:
    """JSON samples keep their expectation in a "__TEST__" member."""
    match = re.search(rb"Expect:\s*(.*?)\s*-->", body)
    return match.group(1).decode() if match else ""


@pytest.fixture(scope="module")
def feedparser_samples() -> list[Sample]:
    found = samples()
    assert len(found) == 2107
    return found


def test_feedparser_samples_never_crash_the_parser(feedparser_samples: list[Sample]) -> None:
    outcomes = {
        s.path: outcome(s.body, s.headers, url=s.url or HARNESS_BASE + s.path, feed_id="fp")
        for s in feedparser_samples
    }
    print(f"\nfeedparser-tests ({len(outcomes)} files): {summary(outcomes)}")
    crashes = {path: o.detail for path, o in outcomes.items() if o.kind == "crash"}
    assert crashes == {}
    assert {o.detail for o in outcomes.values() if o.kind == "error"} <= REASONS
    # No entries lost: where feedparser alone finds entries, so does parse_feed, unless the
    # body was rejected on purpose before parsing.
    lost = [
        s.path
        for s in feedparser_samples
        if outcomes[s.path].kind != "entries"
        and outcomes[s.path].detail != "entity-declaration"
        and substantive(_feedparser_alone(s).entries)
    ]
    assert lost == []


def substantive(entries: list[Any]) -> list[Any]:
    """feedparser entries with an id, link, title or text: what parse_feed keeps (an illegally
    nested item, or an Atom entry holding only ``<content src>``, leaves nothing to publish)."""
    return [
        e
        for e in entries
        if any(e.get(k) for k in ("id", "link", "title", "summary"))
        or any(c.get("value") for c in e.get("content", []))
    ]


def _baseline_headers(sample: Sample) -> dict[str, str]:
    if not sample.url:
        return sample.headers
    return {
        "content-type": "text/xml",
        "content-location": sample.url,
        **{k.lower(): v for k, v in sample.headers.items()},
    }


# Why an expectation feedparser meets can fail after parse_feed's pre-checks, when that is
# deliberate. Any other cause fails the test.
DELIBERATE = {
    "sanitiser-off": "fails for feedparser too with sanitize_html=False (nh3 sanitises in cleaning)",
    "rejected:entity-declaration": "entity declarations are rejected before parsing (DESIGN §6)",
    "charset-metadata": "only feedparser's charset report (encoding/bozo) differs: parse_feed decodes "
    "the body itself and reports charset-mismatch as a warning",
}
CHARSET_METADATA = {"bozo", "encoding", "bozo_exception", "isinstance", "feedparser"}


def test_how_much_of_feedparsers_behaviour_the_prechecks_keep(feedparser_samples: list[Sample]) -> None:
    per_group: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    losses: collections.Counter[tuple[str, str]] = collections.Counter()
    unexplained: list[str] = []
    gained: list[str] = []
    for sample in feedparser_samples:
        counts = per_group[sample.group]
        if not skip_condition_holds(sample.skip_unless):
            counts["skipped"] += 1
            continue
        baseline = holds(sample.expect, _feedparser_alone(sample))
        ours = holds(sample.expect, _our_view(sample))
        counts.update(evaluated=1, baseline=baseline, ours=ours)
        if ours and not baseline:
            gained.append(sample.path)
        if baseline and not ours:
            cause = loss_cause(sample)
            losses[cause, sample.group] += 1
            if cause not in DELIBERATE:
                unexplained.append(f"{sample.path}: {sample.expect}")
    total = sum(per_group.values(), collections.Counter[str]())
    evaluated, baseline, ours = total["evaluated"], total["baseline"], total["ours"]
    print(
        f"\nfeedparser expectations: {evaluated} evaluated, {total['skipped']} skipped (SkipUnless); "
        f"they hold for feedparser alone in {baseline} ({baseline / evaluated:.1%}), "
        f"after parse_feed's pre-checks in {ours} ({ours / evaluated:.1%})"
    )
    for (cause, group), count in sorted(losses.items()):
        print(f"  lost {count:>3} in {group:<22} {cause}: {DELIBERATE.get(cause, 'UNEXPLAINED')}")
    print(f"  gained {len(gained)}: {', '.join(gained)}")
    assert unexplained == []


def loss_cause(sample: Sample) -> str:
    try:
        feedparser_result(sample.body, sample.headers, url=sample.url)
    except ParseError as exc:
        return f"rejected:{exc.reason}"
    if not holds(sample.expect, _feedparser_alone(sample, sanitize_html=False)):
        return "sanitiser-off"
    names = {
        node.id for node in ast.walk(ast.parse(sample.expect, mode="eval")) if isinstance(node, ast.Name)
    }
    return "charset-metadata" if names <= CHARSET_METADATA else "decoding changed the content"


def _feedparser_alone(sample: Sample, *, sanitize_html: bool = True) -> Any:
    return feedparser.parse(
        io.BytesIO(sample.body), response_headers=_baseline_headers(sample), sanitize_html=sanitize_html
    )


def _our_view(sample: Sample) -> Any:
    """feedparser's result as parse_feed obtains it; for a JSON Feed, a view of ParsedFeed."""
    try:
        result = feedparser_result(sample.body, sample.headers, url=sample.url)
    except ParseError:
        return None  # rejected before parsing: no expectation about the result can hold
    if result is not None:
        return result
    parsed = parse_feed(sample.body, sample.headers, url=sample.url, feed_id="fp", fetched_at=FETCHED)
    entries = [feedparser.FeedParserDict(title=e.title, link=e.link, id=e.guid) for e in parsed.entries]
    return feedparser.FeedParserDict(
        bozo=False, feed=feedparser.FeedParserDict(title=parsed.title), entries=entries
    )


# ---- a safe evaluator for feedparser's expectations ----------------------------------------------------


class Unsupported(Exception):
    """An expression construct outside the small language the manifests use."""


SAFE_NAMES: dict[str, Any] = {
    "len": len,
    "ord": ord,
    "isinstance": isinstance,
    "datetime": SimpleNamespace(timedelta=datetime.timedelta),
    "feedparser": SimpleNamespace(
        CharacterEncodingOverride=feedparser.CharacterEncodingOverride,
        CharacterEncodingUnknown=feedparser.CharacterEncodingUnknown,
        NonXMLContentType=feedparser.NonXMLContentType,
        UndeclaredNamespace=feedparser.UndeclaredNamespace,
    ),
}
SAFE_CALLABLES = (len, ord, isinstance, datetime.timedelta)
COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Is: lambda a, b: a is b,
    ast.IsNot: lambda a, b: a is not b,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}


def holds(expression: str, result: Any) -> bool:
    """True when ``expression`` is truthy over ``result`` (None: the body was rejected)."""
    if result is None:
        return False
    tree = ast.parse(expression, mode="eval")
    try:
        return bool(evaluate(tree.body, result))
    except Unsupported:
        raise
    except Exception:  # KeyError, IndexError, …: feedparser's own suite would fail too
        return False


def evaluate(node: ast.expr, env: Any) -> Any:
    """The value of ``node``; only the constructs the manifests use, anything else is Unsupported."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return _name(node.id, env)
    if isinstance(node, ast.BoolOp):
        value: Any = isinstance(node.op, ast.And)
        for operand in node.values:
            value = evaluate(operand, env)
            if bool(value) != isinstance(node.op, ast.And):
                return value
        return value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
        operand = evaluate(node.operand, env)
        return (not operand) if isinstance(node.op, ast.Not) else -operand
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return evaluate(node.left, env) + evaluate(node.right, env)
    if isinstance(node, ast.Compare):
        left = evaluate(node.left, env)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = evaluate(comparator, env)
            if not COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
        return evaluate(node.value, env)[evaluate(node.slice, env)]
    if isinstance(node, ast.Attribute) and not node.attr.startswith("_"):
        return _attribute(evaluate(node.value, env), node.attr)
    if isinstance(node, ast.Call) and not node.keywords:
        return _call(node, env)
    if isinstance(node, ast.Tuple | ast.List):
        items = [evaluate(item, env) for item in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Dict):
        keys = [evaluate(key, env) if key is not None else None for key in node.keys]
        return dict(zip(keys, (evaluate(value, env) for value in node.values), strict=True))
    raise Unsupported(ast.dump(node)[:80])


def _name(name: str, env: Any) -> Any:
    try:
        return env[name]
    except KeyError:
        pass
    if name in SAFE_NAMES:
        return SAFE_NAMES[name]
    raise NameError(name)


def _attribute(value: Any, attr: str) -> Any:
    if isinstance(value, SimpleNamespace):
        return getattr(value, attr)
    if isinstance(value, dict):
        return value[attr]  # FeedParserDict: attribute access is item access
    raise Unsupported(f"attribute {attr} of {type(value).__name__}")


def _call(node: ast.Call, env: Any) -> Any:
    args = [evaluate(arg, env) for arg in node.args]
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in ("get", "has_key"):
        mapping = evaluate(func.value, env)
        if not isinstance(mapping, dict):
            raise Unsupported(f"{func.attr} on {type(mapping).__name__}")
        return mapping.get(*args) if func.attr == "get" else args[0] in mapping
    if isinstance(func, ast.Name) and func.id == "locals" and not args:
        return env  # feedparser's harness passed the result as eval's locals
    target = evaluate(func, env)
    if target in SAFE_CALLABLES:
        return target(*args)
    raise Unsupported(f"call of {ast.dump(func)[:60]}")


def skip_condition_holds(condition: str) -> bool:
    """feedparser's ``SkipUnless`` conditions, recognised by shape (never evaluated)."""
    if not condition:
        return True
    if module := re.fullmatch(r"__import__\('(\w+)'\)", condition):
        return importlib.util.find_spec(module.group(1)) is not None
    if codec := re.fullmatch(r"__import__\('codecs'\)\.lookup\('([\w-]+)'\)", condition):
        try:
            codecs.lookup(codec.group(1))
        except LookupError:
            return False
        return True
    if condition.startswith("__import__('sys').version"):
        return True  # a Python-version check every supported Python passes
    return condition == "feedparser.ACCEPTABLE_URI_SCHEMES"


# ---- real-feeds ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RealFeed:
    file: str
    items: int | None  # the MANIFEST count (None where expat could not parse the file)
    wellformed: bool
    body: bytes


def real_feeds() -> list[RealFeed]:
    with (REAL_FEEDS / "MANIFEST.csv").open(encoding="utf-8", newline="") as manifest:
        rows = list(csv.DictReader(manifest))
    return [
        RealFeed(
            row["file"],
            int(row["items"]) if row["items"] else None,
            row["wellformed_expat"] == "yes",
            _decompressed((REAL_FEEDS / row["file"]).read_bytes()),
        )
        for row in rows
    ]


def _decompressed(body: bytes) -> bytes:
    """The fetcher hands the parser decompressed bytes; a few corpus files are stored gzipped."""
    return gzip.decompress(body) if body.startswith(b"\x1f\x8b") else body


def test_real_feeds_parse_completely() -> None:
    feeds = real_feeds()
    assert len(feeds) == 57
    outcomes = {
        f.file: outcome(f.body, {}, url=f"https://real-feeds.example/{f.file}", feed_id=f.file) for f in feeds
    }
    print(f"\nreal-feeds ({len(outcomes)} files): {summary(outcomes)}")
    for feed_file, result in outcomes.items():
        if result.kind != "entries":
            print(f"  {feed_file}: {result.kind} {result.detail}")
    assert {path: o.detail for path, o in outcomes.items() if o.kind == "crash"} == {}
    # Every item feedparser finds with anything in it becomes an entry, and for well-formed
    # files that is every item the manifest counts (empty ones only come from bad nesting).
    counts = {f.file: len(o.parsed.entries) if (o := outcomes[f.file]).parsed else 0 for f in feeds}
    alone = {f.file: feedparser.parse(io.BytesIO(f.body)).entries for f in feeds}
    assert counts == {name: len(substantive(entries)) for name, entries in alone.items()}
    manifest = {
        f.file: f.items
        for f in feeds
        if f.wellformed and len(substantive(alone[f.file])) == len(alone[f.file])
    }
    assert {name: counts[name] for name in manifest} == manifest
    assert [name for name, o in outcomes.items() if o.kind == "error"] == ["feed-rs/rss_2.0_invalid_1.xml"]


def poll_sequences() -> Iterator[tuple[str, list[Path]]]:
    for folder in sorted(REAL_FEEDS.glob("*/poll-sequences/*")):
        yield f"{folder.parent.parent.name}/{folder.name}", sorted(folder.glob("[0-9][0-9]_*.xml"))


def test_items_carried_over_between_polls_keep_their_article_key() -> None:
    sequences = list(poll_sequences())
    assert len(sequences) >= 4
    report = []
    for name, snapshots in sequences:
        feed_id = name.replace("/", "-")
        polls = [
            parse_feed(
                _decompressed(p.read_bytes()),
                {},
                url=f"https://{feed_id}.example/feed",
                feed_id=feed_id,
                fetched_at=FETCHED,
            )
            for p in snapshots
        ]
        for before, after in itertools.pairwise(polls):
            old = {e.guid: e.article_key for e in before.entries if e.guid}
            carried = {e.guid: e.article_key for e in after.entries if e.guid in old}
            assert carried, f"{name}: consecutive polls share no item (test would be vacuous)"
            assert carried == {guid: old[guid] for guid in carried}, name
            new_keys = {e.article_key for e in after.entries} - set(old.values())
            report.append(
                f"{name}: {len(carried)}/{len(after.entries)} carried over, {len(new_keys)} new keys"
            )
    print("\npoll sequences:\n  " + "\n  ".join(report))
