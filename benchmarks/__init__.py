"""Reproducible performance harness for newsflow (``python -m benchmarks``, ``make bench``).

- :mod:`benchmarks.bench_stages`: in-process articles/s per stage and for the whole chain,
  each next to a naive baseline measured in the same run;
- :mod:`benchmarks.bench_e2e`: articles/s and latency through a real broker and a real
  ``newsflow worker``, next to the in-process chain rate on the same articles.

Results are JSON files in ``benchmarks/results/`` (git-ignored); see ``benchmarks/README.md``.
"""
