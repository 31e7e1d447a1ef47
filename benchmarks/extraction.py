"""Scoring main-text extraction on ``$NEWSFLOW_DATA/article-html`` (49 real article pages).

Used by ``benchmarks/bench_extract.py`` and by ``tests/unit/fulltext/test_extract_corpus.py``.

**The corpus** (its README.md and MANIFEST.csv describe each page). The expected text of a page
is what another project extracted from it, so no extractor can be perfect:

- ``readability/<name>/``: ``source.html``; expected = the text of Mozilla Readability's
  ``expected.html`` (scripts and styles dropped, block elements separated);
- ``newspaper/<page>.html``; expected = ``<page>.expected.txt`` (newspaper's regression output);
- ``fundus/<cc>/<page>.html.gz``; expected = ``<page>.expected.json``'s body: the summary, then
  each section's headline and paragraphs, in order.

Pages are decoded by ``pipeline.fulltext.extract.decode_html`` without HTTP headers (the corpus
has none), once, outside any timing; every method receives the same string.

**Token F1** (the score). Tokens: the text NFKC-normalised and case-folded, then every run of
``\\w`` characters, except that each CJK ideograph, Hiragana, Katakana or Hangul character is a
token of its own (those scripts do not separate words with spaces). Over token *multisets*
(``Counter`` intersection): precision = shared / candidate tokens, recall = shared / expected
tokens, F1 = 2PR / (P + R); 1.0 when both are empty, 0.0 when only one is. The corpus score is
the unweighted mean over pages (a short page counts as much as a long one), also reported per
collection.
"""

from __future__ import annotations

import csv
import gzip
import json
import re
import statistics
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trafilatura
from resiliparse.extract.html2text import extract_plain_text
from selectolax.lexbor import LexborHTMLParser

from benchmarks.environment import data_dir
from pipeline.fulltext.extract import decode_html, extract_page

_CJK = (
    "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\ua960-\ua97f"
    "\uac00-\ud7ff\uf900-\ufaff\U00020000-\U0003134f"
)
_TOKEN = re.compile(f"[{_CJK}]|[^\\W{_CJK}]+")
_BLOCKS = "p, div, section, article, main, header, footer, h1, h2, h3, h4, h5, h6, ul, ol, li, figure, "
_BLOCKS += "figcaption, blockquote, pre, table, tr, td, th, dl, dt, dd, br, hr"

Method = Callable[[str, str | None], str]  # (decoded HTML, page URL or None) → main text


@dataclass(frozen=True)
class Page:
    name: str  # e.g. "readability/bbc-1", "fundus/uk/BBC_2024_08_01"
    collection: str  # readability | newspaper | fundus
    html: str  # decoded
    url: str | None  # only fundus pages have one
    expected: str


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float


# ---- the corpus -------------------------------------------------------------------------------------


def corpus_dir() -> Path:
    return data_dir() / "article-html"


def load_pages(root: Path | None = None) -> list[Page]:
    """Every page in MANIFEST.csv, in its order; FileNotFoundError if the corpus is absent."""
    root = root or corpus_dir()
    with (root / "MANIFEST.csv").open(encoding="utf-8", newline="") as manifest:
        rows = list(csv.DictReader(manifest))
    return [_page(root, row["file"], row.get("url") or None) for row in rows]


def _page(root: Path, file: str, url: str | None) -> Page:
    path = root / file
    collection = file.split("/", 1)[0]
    body = path.read_bytes()
    if file.endswith(".gz"):
        body = gzip.decompress(body)
    if collection == "readability":
        name = str(path.parent.relative_to(root))
        expected = html_text((path.parent / "expected.html").read_text(encoding="utf-8"))
    elif collection == "newspaper":
        name = file.removesuffix(".html")
        expected = (root / f"{name}.expected.txt").read_text(encoding="utf-8")
    elif collection == "fundus":
        name = file.removesuffix(".html.gz")
        expected = fundus_text(json.loads((root / f"{name}.expected.json").read_text(encoding="utf-8")))
    else:
        raise ValueError(f"unknown collection in MANIFEST.csv: {file}")
    return Page(name, collection, decode_html(body, None), url, expected)


def html_text(html: str) -> str:
    """The visible text of an expected-output HTML fragment, blocks on lines of their own."""
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    if root is None:
        return ""
    for node in root.css("script, style, template"):
        node.decompose()
    for node in root.css(_BLOCKS):
        node.insert_before("\n")
        node.insert_after("\n")
    return root.text(separator="", strip=False)


def fundus_text(expected: dict[str, Any]) -> str:
    body = expected["body"]
    parts = list(body.get("summary") or [])
    for section in body.get("sections") or []:
        parts += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
    return "\n\n".join(parts)


# ---- the score --------------------------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def token_f1(candidate: str, expected: str) -> Score:
    got, want = Counter(tokens(candidate)), Counter(tokens(expected))
    if not got and not want:
        return Score(1.0, 1.0, 1.0)
    shared = sum((got & want).values())
    if not shared:
        return Score(0.0, 0.0, 0.0)
    precision, recall = shared / sum(got.values()), shared / sum(want.values())
    return Score(precision, recall, 2 * precision * recall / (precision + recall))


# ---- the methods ------------------------------------------------------------------------------------


def _trafilatura(**options: Any) -> Method:
    return lambda html, url: trafilatura.extract(html, url=url, **options) or ""


def _resiliparse(**options: Any) -> Method:
    return lambda html, url: extract_plain_text(html, main_content=True, **options)


_TUNED: dict[str, Any] = {
    "preserve_formatting": True,
    "list_bullets": False,
    "alt_texts": False,
    "comments": False,
}


def _fallback(html: str, url: str | None) -> str:
    """trafilatura; resiliparse's text when trafilatura finds under a quarter of its words."""
    precise = trafilatura.extract(html, url=url, include_comments=False) or ""
    rough = extract_plain_text(html, main_content=True, **_TUNED)
    return precise if len(tokens(precise)) >= 0.25 * len(tokens(rough)) else rough


def _longest(html: str, url: str | None) -> str:
    """Whichever of the two is longer."""
    precise = trafilatura.extract(html, url=url, include_comments=False) or ""
    return max(precise, extract_plain_text(html, main_content=True, **_TUNED), key=len)


# Single libraries: each configuration measured counts as "a single library" for the target.
SINGLE: dict[str, Method] = {
    "trafilatura": _trafilatura(),
    "trafilatura favor_recall": _trafilatura(favor_recall=True),
    "trafilatura favor_precision": _trafilatura(favor_precision=True),
    "trafilatura include_comments=False": _trafilatura(include_comments=False),
    "resiliparse main_content": _resiliparse(),
    "resiliparse main_content comments=False": _resiliparse(comments=False),
    "resiliparse main_content tuned": _resiliparse(**_TUNED),
}
COMBINED: dict[str, Method] = {
    "fallback: trafilatura, else resiliparse": _fallback,
    "longest of trafilatura, resiliparse": _longest,
    "newsflow extract_page (agreement)": lambda html, url: extract_page(html, url).text,
}
NEWSFLOW = "newsflow extract_page (agreement)"
# What the tuned resiliparse rows pass besides main_content=True (recorded in the JSON).
OPTIONS = {"resiliparse main_content tuned": _TUNED}


# ---- evaluation -------------------------------------------------------------------------------------


def run_method(method: Method, pages: Sequence[Page], repetitions: int = 1) -> dict[str, Any]:
    """Score and time one method on every page: per page F1/P/R and milliseconds (median of
    ``repetitions`` calls), then means overall and per collection."""
    per_page: dict[str, dict[str, float]] = {}
    for page in pages:
        seconds = []
        for _ in range(repetitions):
            started = time.perf_counter()
            text = method(page.html, page.url)
            seconds.append(time.perf_counter() - started)
        score = token_f1(text, page.expected)
        per_page[page.name] = {
            "f1": round(score.f1, 4),
            "precision": round(score.precision, 4),
            "recall": round(score.recall, 4),
            "ms": round(statistics.median(seconds) * 1000, 2),
            "chars": len(text),
        }
    return summarise(per_page, pages)


def summarise(per_page: dict[str, dict[str, float]], pages: Sequence[Page]) -> dict[str, Any]:
    collections: dict[str, list[str]] = {}
    for page in pages:
        collections.setdefault(page.collection, []).append(page.name)

    def mean(field: str, names: Sequence[str]) -> float:
        return round(statistics.fmean(per_page[name][field] for name in names), 4)

    names = [page.name for page in pages]
    milliseconds = [per_page[name]["ms"] for name in names]
    return {
        "mean_f1": mean("f1", names),
        "mean_precision": mean("precision", names),
        "mean_recall": mean("recall", names),
        "per_collection_f1": {name: mean("f1", members) for name, members in collections.items()},
        "median_ms_per_page": round(statistics.median(milliseconds), 2),
        "mean_ms_per_page": round(statistics.fmean(milliseconds), 2),
        "pages": per_page,
    }
