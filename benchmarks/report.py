"""Result files and the short human summary printed after a run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.environment import RESULTS_DIR


def write(name: str, result: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def run_offline(
    title: str,
    name: str,
    run: Callable[[int], dict[str, Any]],
    summary: Callable[[dict[str, Any]], None],
    repetitions: int,
) -> dict[str, Any]:
    """One in-process benchmark: run it, write results/<name>.json, print its summary."""
    print(f"\n{title}:", flush=True)
    result = run(repetitions)
    path = write(name, result)
    summary(result)
    print(f"→ {path}")
    return result


def _rate(measurement: dict[str, Any] | None) -> str:
    if not measurement:
        return f"{'-':>10} {'':>9}"
    return f"{measurement['articles_per_second']:>10,.0f} {measurement['us_per_article']:>9,.1f}"


def print_stages(result: dict[str, Any]) -> None:
    source = result["input"]
    print(f"\nIn-process stages — {source['source']}: {source['feeds']} feeds, {source['entries']} entries")
    print(f"{'stage':<24} {'newsflow/s':>10} {'µs':>9}   {'baseline/s':>10} {'µs':>9}   {'ratio':>7}")
    for name, row in result["results"].items():
        ours = row.get("newsflow_on_baseline_sample") or row["newsflow"]
        ratio = f"{row['ratio']:>6.2f}×" if row.get("ratio") else ""
        print(f"{name:<24} {_rate(ours)}   {_rate(row.get('baseline'))}   {ratio:>7}")
        if "newsflow_on_baseline_sample" in row:
            print(f"{'  (on the full input)':<24} {_rate(row['newsflow'])}")
    for name, taxonomy in result["taxonomies"].items():
        print(
            f"taxonomy {name}: {taxonomy['topics']} topics, {taxonomy['terms']} terms; "
            f"{taxonomy['tags_per_article']} tags and {taxonomy['term_matches_per_article']} "
            "term matches per article"
        )
    scale = result["scaling"]
    print(
        f"500-topic vs demo taxonomy ({scale['term_ratio']}× the terms), slowdown per article: "
        f"newsflow matcher {scale['newsflow_matcher_slowdown']}×, "
        f"tag_article {scale['newsflow_tagging_slowdown']}×, naive loop {scale['baseline_tagging_slowdown']}×"
    )


def print_e2e(result: dict[str, Any]) -> None:
    print(f"\nEnd-to-end through the broker at {result['bootstrap']} — {result['status']}")
    if "baseline_in_process_chain" in result:
        print(f"  in-process chain (same articles): {_rate(result['baseline_in_process_chain']).strip()} µs")
    for phase in ("burst", "paced"):
        if phase in result:
            row = result[phase]
            lat = row["latency_ms"]
            cpu = row.get("worker_cpu_us_per_article")
            print(
                f"  {phase:<6} {row['articles']:>5} articles: {row['articles_per_second']:>8,.1f}/s, "
                f"latency p50 {lat['p50']:,.1f} ms, p99 {lat['p99']:,.1f} ms"
                + (f", worker CPU {cpu:,.0f} µs/article" if cpu is not None else "")
            )
    if "ratio_e2e_to_in_process" in result:
        print(f"  end-to-end / in-process chain: {result['ratio_e2e_to_in_process']}")
    for line in result.get("worker_log_tail", []):
        print(f"  worker| {line}")
