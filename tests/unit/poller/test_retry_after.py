"""Retry-After header values (pipeline/poller/fetcher.py parse_retry_after)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.poller.fetcher import parse_retry_after

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

CASES = [
    ("delta seconds", "120", 120.0),
    ("spaces around", " 30 ", 30.0),
    ("http date", "Sat, 21 Nov 2026 12:01:00 GMT", 60.0),
    ("missing", None, None),
    ("empty", "", None),
    ("garbage", "soon", None),
    ("superscript digit is not a number", "²", None),
    ("arabic-indic digits are not delta seconds", "١٢", None),
]


@pytest.mark.parametrize(("name", "value", "expected"), CASES, ids=[c[0] for c in CASES])
def test_parse_retry_after(name: str, value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected
