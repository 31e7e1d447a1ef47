"""``python -m benchmarks.bench_extract [--quick]``: main-text extraction of article pages.

Input: ``$NEWSFLOW_DATA/article-html`` (49 real pages, read in place; see
``benchmarks/extraction.py`` for how the expected texts are read and how token F1 is defined).

For every method (single libraries in several configurations, combinations, and newsflow's
``pipeline.fulltext.extract.extract_page``): the mean token F1 over all pages and per
collection, mean precision and recall, and the median and mean milliseconds per page (each
page's time is the median of its repetitions: 3, or 1 with ``--quick``). Also:

- ``sensitivity``: newsflow's mean F1 as its agreement threshold varies (the chosen value
  should sit on a plateau, not a peak);
- ``worst_pages``: newsflow's lowest-scoring pages with precision and recall, to see why;
- ``hostile``: seconds ``extract_page`` takes on synthetic hostile pages (5 MB, deep nesting,
  NULs, tag soup).

Results go to ``benchmarks/results/extract.json`` and a table to stdout. Without the corpus the
run is recorded as skipped (exit 0, or 1 when ``CI=true``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.environment import header
from benchmarks.extraction import (
    COMBINED,
    NEWSFLOW,
    OPTIONS,
    SINGLE,
    Method,
    Page,
    corpus_dir,
    load_pages,
    run_method,
)
from pipeline.fulltext import extract

FULL_REPETITIONS, QUICK_REPETITIONS = 3, 1
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
LIBRARIES = ("trafilatura", "resiliparse", "selectolax", "lxml", "justext", "htmldate")


def run(repetitions: int) -> dict[str, Any]:
    started = header("extract")  # before measuring: it records the machine's load at the start
    result: dict[str, Any] = {
        **started,
        "versions_extract": {name: _version(name) for name in LIBRARIES},
    }
    root = corpus_dir()
    if not (root / "MANIFEST.csv").is_file():
        return {**result, "status": f"skipped: corpus not found at {root} (set NEWSFLOW_DATA)"}
    pages = load_pages(root)
    result["input"] = describe(pages, root)
    rows: dict[str, dict[str, Any]] = {}
    for kind, methods in (("single", SINGLE), ("combined", COMBINED)):
        for name, method in methods.items():
            row = run_method(method, pages, repetitions)
            rows[name] = {"kind": kind, **({"options": OPTIONS[name]} if name in OPTIONS else {}), **row}
            print(f"  {name:<42} F1 {row['mean_f1']:.4f}  {row['median_ms_per_page']:>7.1f} ms", flush=True)
    best_single = max((name for name in SINGLE), key=lambda name: rows[name]["mean_f1"])
    return {
        **result,
        "status": "ok",
        "chosen": NEWSFLOW,
        "best_single": {"method": best_single, "mean_f1": rows[best_single]["mean_f1"]},
        "targets": {
            "mean_f1_at_least_0.90": rows[NEWSFLOW]["mean_f1"] >= 0.90,
            "at_least_best_single": rows[NEWSFLOW]["mean_f1"] >= rows[best_single]["mean_f1"],
        },
        "results": rows,
        "sensitivity": sensitivity(pages),
        "worst_pages": worst(rows[NEWSFLOW]["pages"], 8),
        "hostile": hostile(),
    }


def describe(pages: Sequence[Page], root: Path) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for page in pages:
        counts[page.collection] = counts.get(page.collection, 0) + 1
    return {
        "source": str(root),
        "pages": len(pages),
        "per_collection": counts,
        "html_chars": sum(len(page.html) for page in pages),
    }


def sensitivity(pages: Sequence[Page]) -> dict[str, float]:
    return {str(threshold): run_method(_agreeing(threshold), pages)["mean_f1"] for threshold in THRESHOLDS}


def _agreeing(threshold: float) -> Method:
    return lambda html, url: extract.extract_page(html, url, agreement=threshold).text


def worst(per_page: dict[str, dict[str, float]], count: int) -> list[dict[str, Any]]:
    ordered = sorted(per_page.items(), key=lambda item: item[1]["f1"])[:count]
    return [{"page": name, **{k: row[k] for k in ("f1", "precision", "recall")}} for name, row in ordered]


# ---- hostile pages ----------------------------------------------------------------------------------

_PARAGRAPH = "<p>" + "The council voted on the new budget for the city schools today. " * 5 + "</p>\n"
HOSTILE: dict[str, Callable[[], str]] = {
    "5 MB of paragraphs": lambda: "<html><body><article>" + _PARAGRAPH * (5_000_000 // len(_PARAGRAPH)),
    "5 MB, 200,000 divs": lambda: "<html><body>" + "<div><span>x</span></div>" * 200_000,
    "5 MB text node": lambda: "<html><body><p>" + "word " * 1_000_000,
    "10,000-deep divs": lambda: "<body>" + "<div>" * 10_000 + "<p>deep</p>" + "</div>" * 10_000,
    "10,000-deep unclosed formatting": lambda: "<body>" + "<div><p><b>" * 10_000 + "text",
    "1,700,000-deep <i> (5 MB)": lambda: "<i>" * 1_700_000,
    "2,500,000 × '<a' (5 MB)": lambda: "<a" * 2_500_000,
    "NULs in text": lambda: "<body><article>" + ("<p>a\x00b " * 50 + "</p>") * 20,
}


def hostile() -> dict[str, dict[str, float]]:
    found = {}
    for name, build in HOSTILE.items():
        html = build()
        started = time.perf_counter()
        page = extract.extract_page(html, "https://example.org/a")
        found[name] = {"seconds": round(time.perf_counter() - started, 3), "text_chars": len(page.text)}
    return found


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


# ---- command line -----------------------------------------------------------------------------------


def print_summary(result: dict[str, Any]) -> None:
    if result["status"] != "ok":
        print(f"\nextraction: {result['status']}")
        return
    source = result["input"]
    collections = list(source["per_collection"])
    print(f"\nMain-text extraction — {source['pages']} pages in {source['source']}")
    head = "".join(f" {name[:11]:>11}" for name in collections)
    print(f"{'method':<42} {'mean F1':>7}{head} {'ms/page':>8}")
    for name, row in result["results"].items():
        cells = "".join(f" {row['per_collection_f1'][c]:>11.4f}" for c in collections)
        print(f"{name:<42} {row['mean_f1']:>7.4f}{cells} {row['median_ms_per_page']:>8.1f}")
    best = result["best_single"]
    print(f"best single library: {best['method']} ({best['mean_f1']:.4f}); chosen: {result['chosen']}")
    print(
        "agreement threshold → mean F1: "
        + ", ".join(f"{k}: {v:.4f}" for k, v in result["sensitivity"].items())
    )
    print("worst pages (newsflow): " + ", ".join(f"{w['page']} {w['f1']:.2f}" for w in result["worst_pages"]))
    print("hostile pages: " + ", ".join(f"{k} {v['seconds']:.2f}s" for k, v in result["hostile"].items()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_extract", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="1 repetition per page instead of 3")
    args = parser.parse_args(argv)
    result = run(QUICK_REPETITIONS if args.quick else FULL_REPETITIONS)
    command = [sys.executable, "-m", "benchmarks.bench_extract", *(sys.argv[1:] if argv is None else argv)]
    result["command"] = shlex.join(command)
    path = report.write("extract", result)
    print_summary(result)
    print(f"→ {path}")
    skipped = result["status"].startswith("skipped")
    return 1 if skipped and os.environ.get("CI") == "true" else 0


if __name__ == "__main__":
    sys.exit(main())
