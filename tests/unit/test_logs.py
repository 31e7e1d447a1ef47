"""Log output (newsflow/logs.py): ``--log-format json`` writes one JSON object per line with
time (UTC), level, logger, message, exc_info and extra fields — for our loggers, for the Faust
worker's (through mode's logging_config) and for the one-line errors of the command line."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from newsflow.logs import JsonFormatter, default_log_format, worker_logging_config

ROOT = Path(__file__).parents[2]


@pytest.fixture
def json_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A private logger writing JSON to a buffer (the root logger is left alone)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(f"test.logs.{id(stream)}")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def entries(stream: io.StringIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_is_one_json_line_with_the_four_fields(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = json_log
    logger.warning("feed %s failed\nsecond line", "bbc-world")
    [entry] = entries(stream)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == logger.name
    assert entry["message"] == "feed bbc-world failed\nsecond line"  # escaped: still one line
    assert entry["time"].endswith("Z")
    assert datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).utcoffset() is not None


def test_exceptions_and_extra_fields(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = json_log
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("stage failed", extra={"stage": "dedup", "partition": 3, "path": Path("/x")})
    [entry] = entries(stream)
    assert entry["exc_info"].startswith("Traceback") and "ValueError: boom" in entry["exc_info"]
    assert entry["stage"] == "dedup" and entry["partition"] == 3
    assert entry["path"] == "/x"  # not JSON by itself: shown as text


def test_unserialisable_extras_never_lose_the_line(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = json_log
    logger.info("big", extra={"huge": 2**70, "data": {1: "non-str key"}})
    [entry] = entries(stream)
    assert entry["message"] == "big" and entry["huge"] == str(2**70)


DEFAULTS = [
    ("unset", {}, "text"),
    ("json", {"NEWSFLOW_LOG_FORMAT": "JSON"}, "json"),
    ("empty", {"NEWSFLOW_LOG_FORMAT": ""}, "text"),
]


@pytest.mark.parametrize(("case", "environ", "expected"), DEFAULTS, ids=[c[0] for c in DEFAULTS])
def test_default_format_from_the_environment(case: str, environ: dict[str, str], expected: str) -> None:
    assert default_log_format(environ) == expected


def test_worker_logging_config_is_only_for_json() -> None:
    assert worker_logging_config("info", "text") is None
    config = worker_logging_config("debug", "json")
    assert config is not None and config["root"]["level"] == "DEBUG"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {name: value for name, value in os.environ.items() if not name.startswith("NEWSFLOW_")}
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**environ, **(env or {})},
    )


def test_the_faust_worker_config_makes_mode_log_json() -> None:
    # What faust.Worker does with logging_config at start (mode.utils.logging.setup_logging).
    script = (
        "import logging; from mode.utils.logging import setup_logging; "
        "from newsflow.logs import worker_logging_config; "
        "setup_logging(loglevel='info', logging_config=worker_logging_config('info', 'json')); "
        "logging.getLogger('faust.worker').info('[^Worker]: Ready')"
    )
    result = run("-c", script)
    [entry] = [orjson.loads(line) for line in result.stderr.splitlines()]
    assert entry["logger"] == "faust.worker" and entry["message"] == "[^Worker]: Ready"
    assert result.stdout == ""


def test_a_command_error_is_a_json_line_in_json_mode(tmp_path: Path) -> None:
    broken = tmp_path / "taxonomy.yaml"
    broken.write_text("topics: [\n", encoding="utf-8")
    for args, env in (
        (["--log-format", "json"], None),
        ([], {"NEWSFLOW_LOG_FORMAT": "json"}),
    ):
        result = run("-m", "newsflow", *args, "taxonomy", "check", str(broken), env=env)
        assert result.returncode == 2
        [line] = result.stderr.splitlines()
        entry = orjson.loads(line)
        assert entry["level"] == "ERROR" and entry["logger"] == "newsflow"
        assert "invalid YAML" in entry["message"]


def test_text_mode_is_unchanged(tmp_path: Path) -> None:
    broken = tmp_path / "taxonomy.yaml"
    broken.write_text("topics: [\n", encoding="utf-8")
    result = run("-m", "newsflow", "taxonomy", "check", str(broken))
    assert result.returncode == 2
    assert result.stderr.startswith("newsflow: config error: ")


def test_an_unknown_log_format_in_the_environment_is_a_usage_error() -> None:
    result = run("-m", "newsflow", "taxonomy", "check", "x.yaml", env={"NEWSFLOW_LOG_FORMAT": "yaml"})
    assert result.returncode == 2
    assert "NEWSFLOW_LOG_FORMAT='yaml': use text or json" in result.stderr
