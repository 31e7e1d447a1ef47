"""Near-duplicate detection: signatures, the index at 1,000,000 entries, throughput, accuracy.

Run: ``.venv/bin/python -m benchmarks.bench_neardup`` (``--quick``: 3 repetitions). No broker.

1. **Signatures** (µs/article, median of the repetitions) on the same 300 BBC News texts
   (``$NEWSFLOW_DATA/datasets/bbc-news``; generated text without the corpus): newsflow's
   ``signature`` (numpy shingle hashes + rensa R-MinHash, 8-bit), its two parts, rensa fed
   shingle strings, a numpy MinHash of the same hashes, and datasketch — the **baseline** is
   datasketch's classic ``MinHash(128)`` + ``update`` per shingle, as its README shows.
2. **Index** at 1,000,000 entries of synthetic signatures: ``nbytes()``/article and the RSS
   growth per article, insert µs (median over 100k-entry chunks), lookup µs (each query timed;
   half near copies of stored entries with 12 of 128 slots changed, half new signatures), next
   to datasketch ``MinHashLSH`` with the same 14 × 4 bands at 100,000 entries (baseline;
   candidates only, no verification) and newsflow's index at 100,000.
3. **Throughput**: ``signature`` + ``query`` (+ ``add``) on the 1M index, per BBC article and
   per BBC article of 500–800 words; datasketch classic + ``MinHashLSH.query`` as the baseline.
4. **Accuracy**: BBC (2,225 articles, headline + body) and Reuters-21578 (bodies of ≥ 20
   words, raw as the ground truth was computed) inserted in file order, each queried before it
   is inserted. A pair of ``duplicates.csv`` counts as found when its later article matched an
   article of the pair's duplicate group (groups: pairs at J ≥ 0.8). A false match is an
   article whose match has a true word-5-shingle Jaccard below 0.5. Repeated at several
   thresholds, which is what ``DEFAULT_THRESHOLD`` was chosen from.
5. **S-curve**: synthetic shingle sets at a set Jaccard J (400 pairs each): the share that
   shares a band (analytic 1 - (1 - J⁴)¹⁴ next to it) and the share the index finds.

Writes ``benchmarks/results/neardup.json``.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasketch
import numpy as np
import rensa

from benchmarks import report
from benchmarks.environment import data_dir, header
from benchmarks.timing import measure, percentile, ratio
from pipeline.cleaning.identity import article_id, content_hash
from pipeline.nearindex import BANDS, PACKED_SIZE, ROWS, NearIndex
from pipeline.similarity import (
    ALGORITHM,
    DEFAULT_THRESHOLD,
    NUM_PERM,
    SEED,
    Signature,
    estimate_jaccard,
    shingle_hashes,
    shingles,
    signature,
    signature_of_hashes,
)

FULL_REPETITIONS, QUICK_REPETITIONS = 7, 3
INDEX_ENTRIES = 1_000_000
BASELINE_ENTRIES = 100_000
CHUNK = 100_000
QUERIES = 2_000  # half near copies, half new signatures
SAMPLE = 300
THRESHOLDS = (0.6, 0.65, 0.7, 0.75, 0.8)
NOW = 1_700_000_000.0
TARGETS = {
    "bytes_per_article_max": 400,
    "lookup_median_us_max": 20,
    "articles_per_second_min": 4000,
    "recall_exact_min": 0.99,
    "recall_near_min": 0.95,
    "false_matches_below_0_5_max": 0,
}


@dataclass(frozen=True, slots=True)
class Doc:
    name: str
    title: str
    body: str
    text: str  # what is signed: headline + body (BBC), body (Reuters)


# --- input -------------------------------------------------------------------------------


def _read(path: Path) -> str:
    data = path.read_bytes()  # one BBC file has a lone Latin-1 "£" (see the dataset README)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def bbc_docs() -> list[Doc]:
    root = data_dir() / "datasets" / "bbc-news"
    docs = []
    for path in sorted((root / "bbc").glob("*/*.txt")):
        text = _read(path)
        title, _, body = text.strip().partition("\n")
        docs.append(Doc(str(path.relative_to(root)), title, body.strip(), text))
    return docs


_REUTERS = re.compile(r'<REUTERS[^>]*NEWID="(\d+)"[^>]*>(.*?)</REUTERS>', re.S)
_BODY = re.compile(r"<BODY>(.*?)</BODY>", re.S)
_TITLE = re.compile(r"<TITLE>(.*?)</TITLE>", re.S)


def reuters_docs() -> list[Doc]:
    """Stories with a body of ≥ 20 words, in NEWID order; text kept raw (``&#3;`` and all),
    as the ground truth was computed on it."""
    docs = []
    for path in sorted((data_dir() / "datasets" / "reuters-21578-sample").glob("*.sgm")):
        for story in _REUTERS.finditer(path.read_bytes().decode("latin-1")):  # one stray 0xFC
            body, title = _BODY.search(story.group(2)), _TITLE.search(story.group(2))
            if body and len(re.findall(r"\w+", body.group(1))) >= 20:
                head = title.group(1) if title else ""
                docs.append(Doc(story.group(1), head, body.group(1), body.group(1)))
    return sorted(docs, key=lambda doc: int(doc.name))


def generated_docs(count: int) -> list[Doc]:
    rng = random.Random(7)
    words = [f"w{n}" for n in range(3000)]
    docs = []
    for n in range(count):
        body = " ".join(rng.choice(words) for _ in range(400))
        docs.append(Doc(f"generated/{n}", f"Headline {n}", body, f"Headline {n}\n\n{body}"))
    return docs


# --- 1. signatures -----------------------------------------------------------------------


def _each(function: Callable[[Any], object], items: Sequence[Any]) -> Callable[[], int]:
    def batch() -> int:
        for item in items:
            function(item)
        return len(items)

    return batch


def _rensa_strings(text: str) -> list[int]:
    sketch = rensa.RMinHash(NUM_PERM, SEED)
    sketch.update(shingles(text))
    return list(sketch.digest())


def _datasketch_classic(text: str) -> datasketch.MinHash:
    sketch = datasketch.MinHash(num_perm=NUM_PERM)
    for shingle in shingles(text):
        sketch.update(shingle.encode())
    return sketch


def _numpy_minhash() -> Callable[[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(5)
    a = (rng.integers(0, 2**32, NUM_PERM, dtype=np.uint32) | 1)[:, None]
    b = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint32)[:, None]

    def minhash(hashes: np.ndarray) -> np.ndarray:
        values: np.ndarray = (a * (hashes >> np.uint64(32)).astype(np.uint32)[None, :] + b).min(axis=1)
        return values

    return minhash


def signature_rows(texts: list[str], repetitions: int) -> dict[str, Any]:
    hashes = [shingle_hashes(text) for text in texts]
    permutations = datasketch.MinHash(num_perm=NUM_PERM).permutations

    def datasketch_batch(text: str) -> datasketch.MinHash:
        sketch = datasketch.MinHash(num_perm=NUM_PERM, permutations=permutations, scheme="affine32")
        sketch.update_batch([shingle.encode() for shingle in shingles(text)])
        return sketch

    slow = max(3, repetitions // 2)
    rows = {
        "newsflow signature (numpy shingle hashes + rensa R-MinHash, 8-bit)": measure(
            _each(signature, texts), repetitions
        ),
        "  part: shingle_hashes (tokenise + hash in numpy)": measure(
            _each(shingle_hashes, texts), repetitions
        ),
        "  part: signature_of_hashes (rensa core + low bytes)": measure(
            _each(signature_of_hashes, hashes), repetitions
        ),
        "rensa RMinHash fed shingle strings": measure(_each(_rensa_strings, texts), repetitions),
        "numpy 32-bit MinHash of the same shingle hashes (core only)": measure(
            _each(_numpy_minhash(), hashes), repetitions
        ),
        "datasketch MinHash, shared permutations + update_batch": measure(
            _each(datasketch_batch, texts), slow
        ),
        "datasketch MinHash(128) + update per shingle (baseline)": measure(
            _each(_datasketch_classic, texts), slow
        ),
    }
    baseline = rows["datasketch MinHash(128) + update per shingle (baseline)"]
    return {name: {**row, "ratio_vs_baseline": ratio(row, baseline)} for name, row in rows.items()}


# --- 2. index ----------------------------------------------------------------------------


def _rss() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096


def _ids(start: int, count: int) -> list[str]:
    return [
        hashlib.blake2b(n.to_bytes(8, "little"), digest_size=16).hexdigest()
        for n in range(start, start + count)
    ]


def _near_copy(sig: bytes, rng: random.Random, changed: int = 12) -> Signature:
    data = bytearray(sig)
    for position in rng.sample(range(NUM_PERM), changed):
        data[position] = (data[position] + 1 + rng.randrange(255)) % 256
    return Signature(bytes(data))


def fill_index(entries: int) -> tuple[NearIndex, dict[str, Any], list[tuple[str, bytes]]]:
    gc.collect()
    before = _rss()
    index = NearIndex(capacity=entries)
    rng = np.random.default_rng(11)
    kept: list[tuple[str, bytes]] = []
    chunk_us = []
    for start in range(0, entries, CHUNK):
        count = min(CHUNK, entries - start)
        ids, data = _ids(start, count), rng.integers(0, 256, (count, NUM_PERM), dtype=np.uint8).tobytes()
        sigs = [Signature(data[i * NUM_PERM : (i + 1) * NUM_PERM]) for i in range(count)]
        started = time.perf_counter()
        for ident, sig in zip(ids, sigs, strict=True):
            index.add(ident, sig, ident, NOW)
        chunk_us.append((time.perf_counter() - started) / count * 1e6)
        kept.extend(zip(ids[:: max(1, count // 100)], sigs[:: max(1, count // 100)], strict=True))
        del ids, data, sigs
    gc.collect()
    figures = {
        "entries": entries,
        "nbytes": index.nbytes(),
        "bytes_per_article": round(index.nbytes() / entries, 1),
        "rss_delta_bytes_per_article": round((_rss() - before) / entries, 1),
        "insert_us_median": round(statistics.median(chunk_us), 2),
        "insert_us_per_chunk": [round(us, 2) for us in chunk_us],
    }
    return index, figures, kept


def _queries(kept: list[tuple[str, bytes]]) -> list[tuple[Signature, str | None]]:
    rng = random.Random(3)
    hits = [(_near_copy(sig, rng), ident) for ident, sig in rng.sample(kept, min(len(kept), QUERIES // 2))]
    misses: list[tuple[Signature, str | None]] = [
        (Signature(rng.randbytes(NUM_PERM)), None) for _ in range(QUERIES // 2)
    ]
    queries = hits + misses
    rng.shuffle(queries)
    return queries


def time_lookups(
    index: NearIndex, queries: list[tuple[Signature, str | None]], repetitions: int
) -> dict[str, Any]:
    timings: dict[bool, list[float]] = {True: [], False: []}
    pass_medians, correct = [], 0
    for _ in range(repetitions):
        gc.collect()
        this_pass = []
        for sig, expected in queries:
            started = time.perf_counter_ns()
            match = index.query(sig, "query", NOW)
            elapsed = (time.perf_counter_ns() - started) / 1000
            this_pass.append(elapsed)
            timings[expected is not None].append(elapsed)
            correct += (match.id if match else None) == expected
        pass_medians.append(statistics.median(this_pass))
    every = timings[True] + timings[False]
    return {
        "queries": len(queries),
        "repetitions": repetitions,
        "lookup_us_median": round(statistics.median(every), 2),
        "lookup_us_p90": round(percentile(every, 0.9), 2),
        "lookup_us_p99": round(percentile(every, 0.99), 2),
        "lookup_us_median_hits": round(statistics.median(timings[True]), 2),
        "lookup_us_median_misses": round(statistics.median(timings[False]), 2),
        "lookup_us_median_per_pass": [round(us, 2) for us in pass_medians],
        "answers_correct": round(correct / (len(queries) * repetitions), 4),
    }


def datasketch_index(entries: int, repetitions: int) -> dict[str, Any]:
    gc.collect()
    before = _rss()
    lsh = datasketch.MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS))
    rng = np.random.default_rng(11)
    kept: list[tuple[str, np.ndarray]] = []
    chunk_us: list[float] = []
    for start in range(0, entries, CHUNK // 4):
        count = min(CHUNK // 4, entries - start)
        values = rng.integers(0, 2**32, (count, NUM_PERM), dtype=np.uint64)
        sketches = [datasketch.LeanMinHash(seed=1, scheme="affine32", hashvalues=row) for row in values]
        keys = _ids(start, count)
        started = time.perf_counter()
        for key, sketch in zip(keys, sketches, strict=True):
            lsh.insert(key, sketch)
        chunk_us.append((time.perf_counter() - started) / count * 1e6)
        kept.extend(zip(keys[::25], values[::25], strict=True))
        del sketches, values
    gc.collect()
    rss = (_rss() - before) / entries
    queries = _datasketch_queries(kept)
    timings = []
    for _ in range(repetitions):
        for sketch in queries:
            started = time.perf_counter_ns()
            lsh.query(sketch)
            timings.append((time.perf_counter_ns() - started) / 1000)
    return {
        "entries": entries,
        "bands_x_rows": f"{BANDS}x{ROWS}",
        "rss_delta_bytes_per_article": round(rss, 1),
        "insert_us_median": round(statistics.median(chunk_us), 2),
        "lookup_us_median": round(statistics.median(timings), 2),
        "lookup_us_p99": round(percentile(timings, 0.99), 2),
        "note": "candidates only (no verification of the estimate), in its favour",
    }


def _datasketch_queries(kept: list[tuple[str, np.ndarray]]) -> list[datasketch.LeanMinHash]:
    """Like ``_queries``: near copies (12 of 128 values changed) and new sketches, shuffled."""
    rng = random.Random(3)
    rows = []
    for _key, values in rng.sample(kept, min(len(kept), QUERIES // 2)):
        copy = values.copy()
        copy[rng.sample(range(NUM_PERM), 12)] = rng.randrange(2**32)
        rows.append(copy)
    rows += [
        np.array([rng.randrange(2**32) for _ in range(NUM_PERM)], dtype=np.uint64)
        for _ in range(QUERIES // 2)
    ]
    rng.shuffle(rows)
    return [datasketch.LeanMinHash(seed=1, scheme="affine32", hashvalues=row) for row in rows]


# --- 3. throughput -----------------------------------------------------------------------


def throughput(index: NearIndex, docs: list[Doc], repetitions: int) -> dict[str, Any]:
    prepared = [
        (doc.text, content_hash(doc.title, doc.body), article_id(f"bench:{doc.name}")) for doc in docs
    ]

    def lookup(item: tuple[str, str, str]) -> None:
        index.query(signature(item[0]), item[1], NOW)

    def stage(item: tuple[str, str, str]) -> None:
        sig = signature(item[0])
        if index.query(sig, item[1], NOW, exclude_id=item[2]) is None:
            index.add(item[2], sig, item[1], NOW)

    return {
        "signature + query": measure(_each(lookup, prepared), repetitions),
        "signature + query + add": measure(_each(stage, prepared), repetitions),
    }


def datasketch_throughput(texts: list[str], repetitions: int) -> dict[str, Any]:
    lsh = datasketch.MinHashLSH(num_perm=NUM_PERM, params=(BANDS, ROWS))
    for n, text in enumerate(texts[::2]):
        lsh.insert(f"d{n}", _datasketch_classic(text))
    return measure(_each(lambda text: lsh.query(_datasketch_classic(text)), texts), max(3, repetitions // 2))


# --- 4. accuracy -------------------------------------------------------------------------


def bbc_pairs() -> list[tuple[str, str, float, bool]]:
    path = data_dir() / "datasets" / "bbc-news" / "duplicates.csv"
    with path.open(encoding="utf-8") as file:
        return [
            (
                r["doc_a"],
                r["doc_b"],
                float(r["jaccard_word5shingles"]),
                r["exact_after_whitespace_normalisation"] == "True",
            )
            for r in csv.DictReader(file)
        ]


def reuters_pairs(docs: list[Doc]) -> list[tuple[str, str, float, bool]]:
    bodies = {doc.name: " ".join(doc.body.split()) for doc in docs}
    path = data_dir() / "datasets" / "reuters-21578-sample" / "duplicates.csv"
    with path.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    return [
        (
            r["newid_a"],
            r["newid_b"],
            float(r["jaccard_word5shingles_body"]),
            bodies[r["newid_a"]] == bodies[r["newid_b"]],
        )
        for r in rows
        if r["newid_a"] in bodies and r["newid_b"] in bodies
    ]


def _groups(pairs: list[tuple[str, str, float, bool]]) -> dict[str, str]:
    """Union-find over the pairs at J ≥ 0.8: each article → its group's representative."""
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    for a, b, jaccard, _ in pairs:
        if jaccard >= 0.8:
            parent[find(a)] = find(b)
    return {name: find(name) for name in parent}


def _true_jaccard(a: Doc, b: Doc, cache: dict[str, set[str]]) -> float:
    sa = cache.setdefault(a.name, set(shingles(a.text)))
    sb = cache.setdefault(b.name, set(shingles(b.text)))
    return len(sa & sb) / len(sa | sb) if sa | sb else 1.0


def evaluate(docs: list[Doc], pairs: list[tuple[str, str, float, bool]], threshold: float) -> dict[str, Any]:
    sigs = [signature(doc.text) for doc in docs]
    hashes = [content_hash(doc.title, doc.body) for doc in docs]
    by_id = {article_id(doc.name): doc for doc in docs}
    index = NearIndex(capacity=len(docs), threshold=threshold)
    matched: dict[str, Doc] = {}
    kinds = {"content": 0, "near": 0}
    for doc, sig, digest in zip(docs, sigs, hashes, strict=True):
        match = index.query(sig, digest, NOW)
        if match:
            matched[doc.name] = by_id[match.id]
            kinds["content" if match.same_content else "near"] += 1
        index.add(article_id(doc.name), sig, digest, NOW)
    return _score(docs, pairs, matched, kinds)


def _score(
    docs: list[Doc], pairs: list[tuple[str, str, float, bool]], matched: dict[str, Doc], kinds: dict[str, int]
) -> dict[str, Any]:
    order = {doc.name: n for n, doc in enumerate(docs)}
    group = _groups(pairs)
    found = {"exact": [0, 0], "near": [0, 0]}
    for a, b, jaccard, exact in pairs:
        if jaccard < 0.8:
            continue
        later = b if order[b] > order[a] else a
        kind = "exact" if exact else "near"
        found[kind][1] += 1
        match = matched.get(later)
        found[kind][0] += bool(match and group.get(match.name) == group[later])
    cache: dict[str, set[str]] = {}
    docs_by_name = {doc.name: doc for doc in docs}
    scored = {name: _true_jaccard(docs_by_name[name], match, cache) for name, match in matched.items()}
    false = sorted((name, matched[name].name, round(j, 3)) for name, j in scored.items() if j < 0.5)
    loose = sorted((name, matched[name].name, round(j, 3)) for name, j in scored.items() if 0.5 <= j < 0.8)
    return {
        "articles": len(docs),
        "articles_matched": len(matched),
        "matches_by_kind": kinds,
        "exact_pairs": found["exact"][1],
        "exact_found": found["exact"][0],
        "recall_exact": round(found["exact"][0] / found["exact"][1], 4) if found["exact"][1] else None,
        "near_pairs": found["near"][1],
        "near_found": found["near"][0],
        "recall_near": round(found["near"][0] / found["near"][1], 4) if found["near"][1] else None,
        "false_matches_below_0_5": len(false),
        "false_match_examples": false[:10],
        "matches_0_5_to_0_8": loose,
    }


def accuracy(thresholds: Sequence[float]) -> dict[str, Any]:
    bbc = bbc_docs()
    if not bbc:
        return {"status": f"skipped: {data_dir() / 'datasets'} not found"}
    reuters = reuters_docs()
    datasets = {"bbc-news": (bbc, bbc_pairs()), "reuters-21578-sample": (reuters, reuters_pairs(reuters))}
    result: dict[str, Any] = {"status": "ok"}
    for name, (docs, pairs) in datasets.items():
        if not docs:
            result[name] = {"status": "skipped: not found"}
            continue
        sweep = {str(t): evaluate(docs, pairs, t) for t in thresholds}
        result[name] = {"default": sweep[str(DEFAULT_THRESHOLD)], "by_threshold": _summary(sweep)}
    return result


def _summary(sweep: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    keys = ("recall_exact", "recall_near", "false_matches_below_0_5", "articles_matched")
    return {
        t: {k: r[k] for k in keys} | {"matches_0_5_to_0_8": len(r["matches_0_5_to_0_8"])}
        for t, r in sweep.items()
    }


# --- 5. S-curve --------------------------------------------------------------------------


def s_curve(pairs: int = 400, union: int = 400) -> list[dict[str, Any]]:
    """Synthetic pairs at a set Jaccard: band sharing, and what verification then keeps."""
    rng = np.random.default_rng(17)
    rows = []
    for jaccard in (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95):
        shared = round(jaccard * union)
        own = (union - shared) // 2
        index, found, estimates = NearIndex(capacity=pairs), 0, []
        for n in range(pairs):
            values = rng.integers(0, 2**64, shared + 2 * own, dtype=np.uint64)
            a = signature_of_hashes(values[: shared + own])
            b = signature_of_hashes(np.concatenate((values[:shared], values[shared + own :])))
            banded = any(a[i * ROWS : (i + 1) * ROWS] == b[i * ROWS : (i + 1) * ROWS] for i in range(BANDS))
            estimates.append(estimate_jaccard(a, b) if banded else -1.0)
            index.add(article_id(f"{jaccard}:{n}"), a, f"a{n}", NOW)
            match = index.query(b, f"b{n}", NOW)
            found += match is not None and match.id == article_id(f"{jaccard}:{n}")
        row = {
            "jaccard": round(shared / (shared + 2 * own), 3),
            "p_band_analytic": round(1 - (1 - jaccard**ROWS) ** BANDS, 4),
            "p_band_measured": round(sum(e >= 0 for e in estimates) / pairs, 4),
            "p_found_by_index_at_default": round(found / pairs, 4),
        }
        rows.append(
            row | {f"p_found_at_{t}": round(sum(e >= t for e in estimates) / pairs, 4) for t in THRESHOLDS}
        )
    return rows


# --- run ---------------------------------------------------------------------------------


def run(repetitions: int) -> dict[str, Any]:
    docs = bbc_docs()
    source = f"BBC News articles from {data_dir() / 'datasets' / 'bbc-news'}"
    if not docs:
        docs, source = generated_docs(2225), "generated text (BBC News corpus not found)"
    sample = random.Random(7).sample([doc.text for doc in docs], SAMPLE)
    long_docs = [doc for doc in docs if 500 <= len(re.findall(r"\w+", doc.text)) <= 800]
    print("  signatures…", flush=True)
    signatures = signature_rows(sample, repetitions)
    print(f"  index: filling {INDEX_ENTRIES:,} entries…", flush=True)
    index, figures, kept = fill_index(INDEX_ENTRIES)
    figures |= time_lookups(index, _queries(kept), repetitions)
    print("  throughput…", flush=True)
    rates = {"all BBC articles": throughput(index, docs, repetitions)}
    if long_docs:
        rates["BBC articles of 500-800 words"] = throughput(index, long_docs, repetitions)
    del index, kept
    small, small_figures, small_kept = fill_index(BASELINE_ENTRIES)
    small_figures |= time_lookups(small, _queries(small_kept), repetitions)
    del small, small_kept
    print(f"  datasketch MinHashLSH at {BASELINE_ENTRIES:,}…", flush=True)
    baseline_index = datasketch_index(BASELINE_ENTRIES, repetitions)
    baseline_rate = datasketch_throughput(sample, repetitions)
    print("  accuracy…", flush=True)
    quality = accuracy(THRESHOLDS)
    return _result(
        source,
        docs,
        long_docs,
        signatures,
        figures,
        small_figures,
        baseline_index,
        rates,
        baseline_rate,
        quality,
    )


def _result(
    source: str,
    docs: list[Doc],
    long_docs: list[Doc],
    signatures: dict[str, Any],
    figures: dict[str, Any],
    small: dict[str, Any],
    baseline_index: dict[str, Any],
    rates: dict[str, Any],
    baseline_rate: dict[str, Any],
    quality: dict[str, Any],
) -> dict[str, Any]:
    ours_rate = rates["all BBC articles"]["signature + query"]
    words = sorted(len(re.findall(r"\w+", doc.text)) for doc in docs)
    bbc = quality.get("bbc-news", {}).get("default", {})
    met = {
        "bytes_per_article": figures["bytes_per_article"] <= TARGETS["bytes_per_article_max"],
        "lookup_median_us": figures["lookup_us_median"] <= TARGETS["lookup_median_us_max"],
        "articles_per_second": all(
            rate["signature + query"]["articles_per_second"] >= TARGETS["articles_per_second_min"]
            for rate in rates.values()
        ),
        "bbc_recall_exact": (bbc.get("recall_exact") or 0) >= TARGETS["recall_exact_min"],
        "bbc_recall_near": (bbc.get("recall_near") or 0) >= TARGETS["recall_near_min"],
        "bbc_no_false_matches": bbc.get("false_matches_below_0_5") == 0,
    }
    return {
        **header("neardup"),
        "input": {
            "source": source,
            "articles": len(docs),
            "median_words": words[len(words) // 2],
            "signature_sample": SAMPLE,
            "long_articles_500_800_words": len(long_docs),
        },
        "parameters": {
            "algorithm": ALGORITHM,
            "num_perm": NUM_PERM,
            "bands_x_rows": f"{BANDS}x{ROWS}",
            "default_threshold": DEFAULT_THRESHOLD,
            "packed_entry_bytes": PACKED_SIZE,
        },
        "signatures": signatures,
        "index": {
            "newsflow": figures,
            "newsflow_at_baseline_size": small,
            "datasketch_minhashlsh": baseline_index,
            "lookup_ratio_vs_datasketch": round(
                baseline_index["lookup_us_median"] / figures["lookup_us_median"], 2
            ),
            "memory_ratio_vs_datasketch": round(
                baseline_index["rss_delta_bytes_per_article"] / figures["rss_delta_bytes_per_article"], 2
            ),
        },
        "throughput": rates,
        "throughput_baseline_datasketch": baseline_rate,
        "throughput_ratio_vs_datasketch": ratio(ours_rate, baseline_rate),
        "accuracy": quality,
        "s_curve": s_curve(),
        "targets": TARGETS,
        "targets_met": met,
    }


def print_summary(result: dict[str, Any]) -> None:
    source = result["input"]
    print(f"\nNear-duplicates — {source['source']}: {source['articles']} articles")
    print(f"  signatures ({source['signature_sample']} articles){'':34} {'art/s':>9} {'µs/art':>8} {'×':>7}")
    for name, row in result["signatures"].items():
        rate, us, times = row["articles_per_second"], row["us_per_article"], row["ratio_vs_baseline"] or ""
        print(f"  {name[:64]:64} {rate:>9,.0f} {us:>8,.1f} {times:>7}")
    index = result["index"]
    print(f"  {'index':27} {'entries':>10} {'B/art':>7} {'RSS B/art':>9} {'insert µs':>9} {'lookup µs':>9}")
    for name, key in (
        ("newsflow NearIndex", "newsflow"),
        ("newsflow NearIndex", "newsflow_at_baseline_size"),
        ("datasketch MinHashLSH", "datasketch_minhashlsh"),
    ):
        row = index[key]
        print(
            f"  {name:27} {row['entries']:>10,} {row.get('bytes_per_article', '-'):>7} "
            f"{row['rss_delta_bytes_per_article']:>9} {row['insert_us_median']:>9} "
            f"{row['lookup_us_median']:>9}"
        )
    ours = index["newsflow"]
    print(
        f"  lookups at 1M: hits {ours['lookup_us_median_hits']} µs, "
        f"misses {ours['lookup_us_median_misses']} µs, p99 {ours['lookup_us_p99']} µs; "
        f"answers correct: {ours['answers_correct']}"
    )
    for name, rates in result["throughput"].items():
        for what, row in rates.items():
            print(
                f"  {what} ({name}): {row['articles_per_second']:,.0f} articles/s, {row['us_per_article']} µs"
            )
    baseline = result["throughput_baseline_datasketch"]["articles_per_second"]
    print(f"  datasketch classic + MinHashLSH.query: {baseline:,.0f} articles/s")
    for name, data in result["accuracy"].items():
        if isinstance(data, dict) and "default" in data:
            d = data["default"]
            print(
                f"  {name}: exact {d['exact_found']}/{d['exact_pairs']}, "
                f"near {d['near_found']}/{d['near_pairs']}, false (< 0.5) {d['false_matches_below_0_5']}, "
                f"matches at 0.5–0.8: {len(d['matches_0_5_to_0_8'])}"
            )
    missed = [name for name, ok in result["targets_met"].items() if not ok]
    print(f"  targets: {'all met' if not missed else 'NOT met: ' + ', '.join(missed)}")


def main() -> int:
    repetitions = QUICK_REPETITIONS if "--quick" in sys.argv[1:] else FULL_REPETITIONS
    report.run_offline("near-duplicate index", "neardup", run, print_summary, repetitions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
