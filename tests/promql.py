"""The shipped PromQL: every rule of deploy/prometheus/rules/ and every query of the Grafana
dashboards in deploy/grafana/dashboards/, as the rule, deploy-file and live-Prometheus tests
read them. One walker, one substitution of Grafana's variables, for all of them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).parents[1]
RULE_FILES = sorted((REPO / "deploy" / "prometheus" / "rules").glob("*.yml"))
DASHBOARDS = sorted((REPO / "deploy" / "grafana" / "dashboards").glob("*.json"))
# What Grafana puts in place of its macros when it sends a query (1 s scrapes make sense of them).
GRAFANA_MACROS = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m"}
# Template variables: ${tag}, ${tag:regex}, $tag, [[tag]].
_VARIABLE = re.compile(r"\$\{\w+(?::\w+)?\}|\$\w+|\[\[\w+\]\]")


def rules() -> list[dict[str, Any]]:
    """Every rule (alerting and recording) of every rule file, in file order."""
    return [
        rule
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text("utf-8"))["groups"]
        for rule in group["rules"]
    ]


def load_dashboard(path: Path) -> dict[str, Any]:
    board: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return board


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])  # panels inside a collapsed row


def targets(board: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(panel, target) of every query target that has an expression."""
    for panel in panels(board):
        for target in panel.get("targets", []):
            if target.get("expr"):
                yield panel, target


def substituted(expr: str) -> str:
    """The query as Prometheus receives it: Grafana's macros at fixed values, every template
    variable at `.*` (its "All" value)."""
    for macro, value in GRAFANA_MACROS.items():
        expr = expr.replace(macro, value)
    expr = _VARIABLE.sub(".*", expr)
    assert "$" not in expr, expr
    return expr
