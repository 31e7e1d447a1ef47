"""`newsflow alerts check FILE`: validate an alert rules file (DESIGN §4).

Exit 0 with a one-line summary, or exit 2 with the one error line (``FILE: rules[2] (name):
reason``; a missing file or a YAML syntax error names the file and line). Never a traceback:
whatever the file holds, it is reported as a config error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from pipeline.alerting.channels import resolve_channels
from pipeline.alerting.rules import AlertRules, load_alert_rules
from pipeline.errors import ConfigError

EXIT_OK, EXIT_USAGE = 0, 2


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``alerts check`` to the command line's subcommands."""
    alerts = commands.add_parser("alerts", help="alert rule files")
    # Same parser class as the caller's, so usage errors keep the command line's style.
    actions = alerts.add_subparsers(dest="action", required=True, parser_class=type(alerts))
    check = actions.add_parser(
        "check", help="validate an alert rules file (exit 2 with the file, rule and reason)"
    )
    check.add_argument("file", metavar="FILE", help="alerts.yaml")
    check.add_argument(
        "--env",
        action="store_true",
        help="also check that the environment variables the channels name (url_env, secret_env) are set",
    )
    check.set_defaults(run=run_check)


def run_check(
    args: argparse.Namespace,
    out: TextIO | None = None,
    err: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        rules = load_alert_rules(Path(args.file))
        if args.env:
            resolve_channels(rules.channels, os.environ if environ is None else environ, args.file)
    except ConfigError as exc:
        err.write(f"{_one_line(str(exc))}\n")
        return EXIT_USAGE
    out.write(f"{summary(args.file, rules)}\n")
    return EXIT_OK


def summary(file: str, rules: AlertRules) -> str:
    count, channels = len(rules.rules), len(rules.channels)
    return f"{file}: {count} rule{'s' * (count != 1)}, {channels} channel{'s' * (channels != 1)}"


def _one_line(message: str) -> str:
    return " ".join(message.split())
