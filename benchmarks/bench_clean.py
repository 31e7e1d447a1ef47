"""The cleaning stage on 5 KB article HTML, next to trafilatura on the same HTML.

Input: BBC News articles (``$NEWSFLOW_DATA/datasets/bbc-news``) laid out as the HTML a feed's
``content:encoded`` carries: paragraphs, a share bar, an "Advertisement" slot, a figure, a
repeated byline and a newsletter prompt, cut to about 5 KB. Without the corpus, the same
layout is filled with generated sentences (the run says which).

Measured per article, median of the repetitions: ``clean_article`` (text, boilerplate rules,
mojibake check, title, language, dates, identity, sanitised HTML), its main parts alone, and
``trafilatura.extract`` on the same HTML ("trafilatura on everything": what extracting every
article with a main-content extractor would cost instead). Target: ≥ 5,000 articles/s/core.

Run: ``.venv/bin/python -m benchmarks --only clean`` (or ``-m benchmarks.bench_clean``).
"""

from __future__ import annotations

import html
import itertools
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import trafilatura

from benchmarks import report
from benchmarks.environment import data_dir, header
from benchmarks.timing import measure, ratio
from pipeline.cleaning import clean_article
from pipeline.cleaning.boilerplate import default_rules
from pipeline.cleaning.html import html_to_text, sanitize_html
from pipeline.cleaning.language import detect_language
from pipeline.models import RawArticle

TARGET_BYTES = 5 * 1024
ARTICLES = 300
TARGET_PER_SECOND = 5000
FETCHED = "2026-11-21T12:00:00.000Z"


def bbc_texts(limit: int) -> tuple[list[str], str]:
    root = data_dir() / "datasets" / "bbc-news" / "bbc"
    files = sorted(root.glob("*/*.txt"))
    if not files:
        return [], f"generated text ({root} not found)"
    random.Random(7).shuffle(files)
    texts = [_read(path) for path in files[:limit]]
    return texts, f"BBC News articles from {root}"


def _read(path: Path) -> str:
    # The set is UTF-8 except one file with a lone Latin-1 "£" (see its README).
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def generated_texts(limit: int) -> list[str]:
    rng = random.Random(7)
    words = [
        *("ceasefire", "aid", "convoy", "city", "talks", "minister"),
        *("said", "council", "vote", "market", "shares", "police"),
    ]
    return [
        f"Headline number {i}\n\n"
        + "\n\n".join(" ".join(rng.choice(words) for _ in range(40)).capitalize() + "." for _ in range(12))
        for i in range(limit)
    ]


def article_html(paragraphs: Sequence[str]) -> str:
    """Feed-style article HTML of about TARGET_BYTES, with the usual widgets around the text."""
    parts = [
        '<div class="share-bar"><a href="https://facebook.com/sharer?u=x">Share on Facebook</a>'
        ' <a href="https://twitter.com/intent/tweet?url=x">Tweet</a></div>',
        "<p>By Jane Reporter</p>",
    ]
    # Short articles repeat their paragraphs: every input is about the same 5 KB.
    for index, paragraph in enumerate(itertools.cycle(paragraphs)):
        parts.append(f"<p>{html.escape(paragraph)}</p>")
        if index == 2:
            parts.append(
                '<figure><img src="https://news.example/p.jpg" alt="A photo"><figcaption>'
                "A photo of the scene</figcaption></figure><p>Advertisement</p>"
            )
        if sum(map(len, parts)) > TARGET_BYTES - 200:
            break
    parts.append(
        '<p><strong>Sign up for our newsletter</strong></p><p><a href="https://news.example/more">'
        "Read more</a></p>"
    )
    return "".join(parts)


def raw_articles() -> tuple[list[RawArticle], str]:
    texts, source = bbc_texts(ARTICLES)
    if not texts:
        texts = generated_texts(ARTICLES)
    articles = []
    for index, text in enumerate(texts):
        title, *paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
        articles.append(
            RawArticle(
                article_key=f"https://news.example/{index}",
                feed_id="bench",
                fetched_at=FETCHED,
                link=f"https://news.example/{index}?utm_source=rss&utm_medium=feed",
                title=f"{title} - Example News",
                source="Example News - World",
                feed_lang="en-gb",
                content=article_html(paragraphs),
                authors=("Jane Reporter",),
                published="Thu, 19 Nov 2026 08:15:00 GMT",
            )
        )
    return articles, source


def _each(function: Callable[[Any], object], items: Sequence[Any]) -> Callable[[], int]:
    def batch() -> int:
        for item in items:
            function(item)
        return len(items)

    return batch


def run(repetitions: int) -> dict[str, Any]:
    articles, source = raw_articles()
    htmls = [article.content or "" for article in articles]
    rules = default_rules()
    clean_article(articles[0], rules)  # warm-up: loads the language model and compiles rules
    texts = [html_to_text(h, rules) for h in htmls]
    ours = measure(_each(lambda raw: clean_article(raw, rules), articles), repetitions)
    trafilatura_all = measure(_each(trafilatura.extract, htmls), max(3, repetitions // 2))
    parts = {
        "html_to_text (incl. boilerplate rules)": measure(
            _each(lambda h: html_to_text(h, rules), htmls), repetitions
        ),
        "sanitize_html (nh3)": measure(_each(sanitize_html, htmls), repetitions),
        "detect_language": measure(_each(detect_language, texts), repetitions),
    }
    sizes = sorted(len(h.encode()) for h in htmls)
    return {
        **header("clean"),
        "input": {"source": source, "articles": len(articles), "median_html_bytes": sizes[len(sizes) // 2]},
        "clean_article": ours,
        "trafilatura_extract": trafilatura_all,
        "ratio_vs_trafilatura": ratio(ours, trafilatura_all),
        "parts": parts,
        "target_articles_per_second": TARGET_PER_SECOND,
        "target_met": (ours["articles_per_second"] or 0) >= TARGET_PER_SECOND,
    }


def print_summary(result: dict[str, Any]) -> None:
    source = result["input"]
    print(
        f"\nCleaning stage — {source['source']}: {source['articles']} articles, "
        f"median {source['median_html_bytes']:,} B of HTML"
    )
    print(f"  {'':44} {'articles/s':>10} {'µs/article':>10}")
    rows = [
        ("clean_article (whole stage)", result["clean_article"]),
        ("trafilatura.extract on the same HTML", result["trafilatura_extract"]),
        *(("  part: " + name, value) for name, value in result["parts"].items()),
    ]
    for name, value in rows:
        print(f"  {name:44} {value['articles_per_second']:>10,.0f} {value['us_per_article']:>10,.1f}")
    verdict = "met" if result["target_met"] else "NOT met"
    print(
        f"  clean_article is {result['ratio_vs_trafilatura']}× trafilatura; "
        f"target ≥ {result['target_articles_per_second']:,}/s: {verdict}"
    )


def main() -> int:
    report.run_offline("cleaning stage", "clean", run, print_summary, 7)
    return 0


if __name__ == "__main__":
    sys.exit(main())
