"""``python -m benchmarks [--only NAME] [--quick]``: run, write JSON, print a summary
(NAME: stages, e2e, poller, clean, extract, neardup, tagging, storage).

Exit code 1 when a benchmark failed, or when the end-to-end run was skipped for lack of a
broker while CI=true (in CI a missing broker is a broken setup, not a reason to skip).
The poller benchmark needs no broker; missed targets are reported, not an error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from benchmarks import (
    bench_clean,
    bench_e2e,
    bench_extract,
    bench_neardup,
    bench_poller,
    bench_stages,
    bench_storage,
    bench_tagging,
    report,
)
from benchmarks.corpus import load_corpus

FULL_REPETITIONS, QUICK_REPETITIONS = 7, 3


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run newsflow's benchmarks, write benchmarks/results/*.json and print a summary.",
    )
    parser.add_argument(
        "--only",
        choices=["stages", "e2e", "poller", "clean", "extract", "neardup", "tagging", "storage"],
        help="run one benchmark (default: all of them)",
    )
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and articles (development)")
    parser.add_argument("--articles", type=int, help="end-to-end burst size (default 2000, quick 500)")
    return parser.parse_args(argv)


def e2e_plan(args: argparse.Namespace) -> bench_e2e.Plan:
    if args.quick:
        return bench_e2e.Plan(articles=args.articles or 500, paced_articles=50, repetitions=QUICK_REPETITIONS)
    return bench_e2e.Plan(articles=args.articles or 2000)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    failed = False
    repetitions = QUICK_REPETITIONS if args.quick else FULL_REPETITIONS
    if args.only in (None, "stages", "e2e"):
        corpus = load_corpus()
        print(f"input: {corpus.note} ({len(corpus.raw)} entries)", flush=True)
    if args.only in (None, "stages"):
        print("stages:", flush=True)
        stages = bench_stages.run(corpus, repetitions)
        path = report.write("stages", stages)
        report.print_stages(stages)
        print(f"→ {path}")
    if args.only in (None, "e2e"):
        print("\nend-to-end:", flush=True)
        e2e = asyncio.run(bench_e2e.run(corpus, e2e_plan(args)))
        path = report.write("e2e", e2e)
        report.print_e2e(e2e)
        print(f"→ {path}")
        skipped = e2e["status"].startswith("skipped")
        failed = e2e["status"].startswith("failed") or (skipped and os.environ.get("CI") == "true")
    if args.only in (None, "poller"):
        print("\npoller:", flush=True)
        poller = bench_poller.run(bench_poller.QUICK_PLAN if args.quick else bench_poller.Plan())
        path = report.write("poller", poller)
        bench_poller.print_summary(poller)
        print(f"→ {path}")
        failed = failed or poller["status"].startswith("failed")
    if args.only in (None, "clean"):
        report.run_offline("cleaning stage", "clean", bench_clean.run, bench_clean.print_summary, repetitions)
    if args.only in (None, "extract"):
        passes = bench_extract.QUICK_REPETITIONS if args.quick else bench_extract.FULL_REPETITIONS
        extract = report.run_offline(
            "extraction", "extract", bench_extract.run, bench_extract.print_summary, passes
        )
        skipped = extract["status"].startswith("skipped")
        failed = failed or (skipped and os.environ.get("CI") == "true")
    if args.only in (None, "neardup"):
        report.run_offline(
            "near-duplicate index", "neardup", bench_neardup.run, bench_neardup.print_summary, repetitions
        )
    if args.only in (None, "tagging"):
        report.run_offline("tagging", "tagging", bench_tagging.run, bench_tagging.print_summary, repetitions)
    if args.only in (None, "storage"):
        storage = report.run_offline(
            "storage", "storage", bench_storage.run, bench_storage.print_summary, repetitions
        )
        skipped = storage["postgres"]["status"].startswith("skipped")
        failed = failed or (skipped and os.environ.get("CI") == "true")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
