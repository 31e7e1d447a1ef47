"""Log output of every command: human text (the default) or JSON Lines for log collectors.

``newsflow --log-format json`` (or ``NEWSFLOW_LOG_FORMAT=json``) writes one JSON object per
line to stderr: ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, ``exc_info``
when there is a traceback, and any ``extra`` fields of the record. The Faust worker's own
lines (mode configures logging itself) get the same formatter through
:func:`worker_logging_config`.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import orjson

LOG_FORMATS = ("text", "json")
LOG_FORMAT_ENV = "NEWSFLOW_LOG_FORMAT"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


def default_log_format(environ: Mapping[str, str]) -> str:
    """$NEWSFLOW_LOG_FORMAT, else text (validated by the caller, which names the variable)."""
    return environ.get(LOG_FORMAT_ENV, "").strip().lower() or "text"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc_iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and key not in entry:
                entry[key] = value
        return _dumps(entry)


def _utc_iso(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _dumps(entry: dict[str, Any]) -> str:
    try:
        return orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # e.g. an int beyond 64 bits in an extra field: every value as text
        return orjson.dumps(
            {key: value if isinstance(value, str) else str(value) for key, value in entry.items()}
        ).decode()


def configure_logging(level: str, log_format: str) -> None:
    """Root logging of a command: ``level`` (info, debug…) in ``log_format`` to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
        # Warnings and uncaught exceptions would otherwise print plain text among the JSON.
        logging.captureWarnings(True)
        sys.excepthook = _log_uncaught
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler])


def json_logging() -> bool:
    """Whether stderr carries JSON lines (so one-line errors must be JSON too)."""
    return any(isinstance(handler.formatter, JsonFormatter) for handler in logging.getLogger().handlers)


def _log_uncaught(kind: type[BaseException], error: BaseException, traceback: TracebackType | None) -> None:
    logging.getLogger("newsflow").critical("uncaught %s", kind.__name__, exc_info=(kind, error, traceback))


def worker_logging_config(level: str, log_format: str) -> dict[str, Any] | None:
    """The ``logging_config`` for ``faust.Worker`` (mode applies it with dictConfig when the
    worker starts, replacing ours); None keeps mode's text format."""
    if log_format != "json":
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "root": {"level": level.upper(), "handlers": ["default"]},
    }
