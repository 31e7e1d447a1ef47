"""The `newsflow` command line (DESIGN §4). Exit codes: 0 ok, 1 runtime failure, 2 usage/config.

Errors are one clear line on stderr; a traceback only ever means a bug.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from newsflow import alerts_cmd, storage_cmd, topics_cmd
from newsflow.broker import BrokerCommandFailed
from newsflow.kafka_io import BrokerUnavailable
from newsflow.logs import LOG_FORMAT_ENV, LOG_FORMATS, configure_logging, default_log_format, json_logging
from newsflow.settings_io import resolve_config_path, settings_from, tagger_for, taxonomy_for, taxonomy_path
from pipeline.errors import ConfigError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad command-line usage (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="newsflow", description="Clean, de-duplicated, topic-tagged news streams on Kafka.")
    parser.add_argument("--config", help="configuration file (default: $NEWSFLOW_CONFIG or ./newsflow.yaml)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.add_argument(
        "--log-format",
        default=default_log_format(os.environ),
        choices=LOG_FORMATS,
        help=f"text, or json: one JSON object per line (default: ${LOG_FORMAT_ENV} or text)",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    up = commands.add_parser("up", help="run the whole local stack (broker, worker, poller, demo feeds)")
    up.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    up.set_defaults(run=_up)

    commands.add_parser("worker", help="run the Faust worker with every agent").set_defaults(run=_worker)
    commands.add_parser("poller", help="run the feed poller service").set_defaults(run=_poller)

    process = commands.add_parser("process", help="run the pipeline offline on feed files or URLs")
    process.add_argument("sources", nargs="+", metavar="SOURCE", help="feed file or http(s) URL")
    process.add_argument("--taxonomy", help="taxonomy file (default: taxonomy_file from the config)")
    process.add_argument("--include-duplicates", action="store_true", help="also print suppressed duplicates")
    process.add_argument("--feed-id", help="feed id to use for every source (default: derived from it)")
    process.add_argument(
        "--full-text",
        action="store_true",
        help="fetch the page of entries that carry only a summary and use its main text (as the poller does)",
    )
    process.set_defaults(run=_process)

    kafka = commands.add_parser("kafka", help="the local development broker")
    kafka_commands = kafka.add_subparsers(dest="action", required=True, parser_class=_Parser)
    for action, text in (
        ("start", "start it (downloads the jars once)"),
        ("stop", "stop it"),
        ("status", "is it running? (exit 3 when stopped)"),
    ):
        sub = kafka_commands.add_parser(action, help=text)
        sub.add_argument("--port", type=int, help="client port (default 19092; controller = port + 1)")
        sub.set_defaults(run=_kafka)

    taxonomy = commands.add_parser("taxonomy", help="taxonomy files")
    taxonomy_commands = taxonomy.add_subparsers(dest="action", required=True, parser_class=_Parser)
    check = taxonomy_commands.add_parser("check", help="validate a taxonomy file")
    check.add_argument("file")
    check.set_defaults(run=_taxonomy_check)
    diff = taxonomy_commands.add_parser(
        "diff",
        help="show which articles gain or lose which tags between two taxonomy versions "
        "(exit 1 when a source could not be read)",
    )
    diff.add_argument("old", metavar="OLD.yaml", help="the taxonomy before the change")
    diff.add_argument("new", metavar="NEW.yaml", help="the taxonomy after the change")
    diff.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="feed file or http(s) URL, or a news.articles export (JSON Lines from process or tail)",
    )
    diff.add_argument("--json", action="store_true", help="one JSON document instead of text")
    diff.add_argument(
        "--limit", type=int, default=50, metavar="N", help="list at most N changed articles (default 50)"
    )
    diff.add_argument("--scores", action="store_true", help="also count tags whose score changed")
    diff.set_defaults(run=_taxonomy_diff)

    alerts_cmd.add_commands(commands)  # alerts check
    storage_cmd.add_commands(commands)  # db migrate, search
    topics_cmd.add_commands(commands)  # topics create, list

    feeds = commands.add_parser("feeds", help="the feed registry")
    feeds_commands = feeds.add_subparsers(dest="action", required=True, parser_class=_Parser)
    listing = feeds_commands.add_parser("list", help="list configured feeds (or the registry's)")
    listing.add_argument("--registry", action="store_true", help="list the feeds in news.feeds instead")
    listing.set_defaults(run=_feeds_list)
    feeds_commands.add_parser(
        "sync", help="publish the configured feeds to news.feeds and remove the others"
    ).set_defaults(run=_feeds_sync)
    importing = feeds_commands.add_parser("import", help="turn an OPML file into a feeds file")
    importing.add_argument("file", metavar="FILE.opml")
    importing.add_argument("--output", "-o", help="feeds file to write (default: stdout)")
    importing.add_argument("--interval", default="5m", help="poll interval for the imported feeds")
    importing.set_defaults(run=_feeds_import)
    exporting = feeds_commands.add_parser("export", help="print the configured feeds as OPML")
    exporting.add_argument("--output", "-o", help="file to write (default: stdout)")
    exporting.set_defaults(run=_feeds_export)
    feed_status = feeds_commands.add_parser("status", help="per-feed health as the pollers saved it")
    feed_status.add_argument("--json", action="store_true", help="JSON instead of a table")
    feed_status.set_defaults(run=_feeds_status)

    tail = commands.add_parser("tail", help="print messages of an output topic as JSON lines")
    tail.add_argument(
        "topic", nargs="?", default="articles", help="topic suffix or full name (default: articles)"
    )
    tail.add_argument("--from-beginning", action="store_true")
    tail.add_argument("--max", type=int, help="stop after this many messages")
    tail.add_argument("--timeout", type=float, help="stop after this many idle seconds")
    tail.set_defaults(run=_tail)

    evaluation = commands.add_parser("eval", help="measure pipeline quality on the shared datasets")
    eval_commands = evaluation.add_subparsers(dest="action", required=True, parser_class=_Parser)
    dedup = eval_commands.add_parser(
        "dedup",
        help="dedup recall and false matches on BBC News, Reuters and real-feed poll sequences "
        "(exit 1 when a target is missed)",
    )
    dedup.add_argument(
        "--data", metavar="DIR", help="the shared data folder (default: $NEWSFLOW_DATA or ../shared/data)"
    )
    dedup.add_argument("--json", action="store_true", help="JSON instead of tables")
    dedup.set_defaults(run=_eval_dedup)
    places = eval_commands.add_parser(
        "places",
        help="place-tag precision and recall on hand-labelled mentions (newsflow/place_labels.yaml)",
    )
    places.add_argument(
        "--data", metavar="DIR", help="the shared data folder (default: $NEWSFLOW_DATA or ../shared/data)"
    )
    places.add_argument("--json", action="store_true", help="JSON instead of text")
    places.set_defaults(run=_eval_places)
    return parser


def _up(args: argparse.Namespace) -> int:
    from newsflow.up import run_up

    path = resolve_config_path(args.config)
    if path is not None:
        settings_from(args.config)  # validate before starting anything
    return run_up(path, args.duration)


def _worker(args: argparse.Namespace) -> int:
    from newsflow.worker import run_worker

    settings = settings_from(args.config)
    run_worker(settings, taxonomy_path(settings), args.log_level, args.log_format)
    return EXIT_OK


def _poller(args: argparse.Namespace) -> int:
    from newsflow.poller import run_poller

    run_poller(settings_from(args.config))
    return EXIT_OK


def _process(args: argparse.Namespace) -> int:
    from newsflow.process import PROCESS_NEAR_CAPACITY, near_index, run_process
    from pipeline.cleaning.boilerplate import BoilerplateRules

    if args.feed_id and len(args.sources) > 1:
        raise UsageError("newsflow process: --feed-id needs exactly one SOURCE")
    settings = settings_from(args.config)
    tagger = tagger_for(settings, taxonomy_for(settings, args.taxonomy))
    return run_process(
        args.sources,
        tagger,
        settings.poller,
        include_duplicates=args.include_duplicates,
        feed_id=args.feed_id,
        full_text=args.full_text,
        out=sys.stdout.buffer,
        err=sys.stderr,
        rules=BoilerplateRules.load(*settings.cleaning.boilerplate_files),
        summary_chars=settings.cleaning.summary_chars,
        near=near_index(settings.dedup, PROCESS_NEAR_CAPACITY),
    )


def _kafka(args: argparse.Namespace) -> int:
    from newsflow import broker

    if args.action == "start":
        broker.start(args.port)
        return EXIT_OK
    return broker.run_script(args.action, args.port)


def _taxonomy_check(args: argparse.Namespace) -> int:
    from pipeline.taxonomy import load_taxonomy

    taxonomy = load_taxonomy(Path(args.file))
    queries = sum(1 for topic in taxonomy.topics if topic.query is not None)
    print(f"{args.file}: ok ({len(taxonomy.topics)} topics, {queries} query rules)")
    return EXIT_OK


def _taxonomy_diff(args: argparse.Namespace) -> int:
    from newsflow.taxonomy_diff import Options, run_diff

    if args.limit < 0:
        raise UsageError("newsflow taxonomy diff: --limit must be 0 or more")
    options = Options(scores=args.scores, as_json=args.json, limit=args.limit)
    return run_diff((args.old, args.new), args.sources, settings_from(args.config), options)


def _feeds_list(args: argparse.Namespace) -> int:
    from newsflow import feeds_cmd

    for feed in feeds_cmd.listed(settings_from(args.config), args.registry):
        print(f"{feed.id}\t{feed.interval:g}s\t{feed.url}")
    return EXIT_OK


def _feeds_sync(args: argparse.Namespace) -> int:
    from newsflow import feeds_cmd

    counts = feeds_cmd.sync(settings_from(args.config))
    print(", ".join(f"{count} {what}" for what, count in counts.items()))
    return EXIT_OK


def _feeds_import(args: argparse.Namespace) -> int:
    from newsflow import feeds_cmd
    from pipeline.config import parse_duration

    try:
        interval = parse_duration(args.interval)
    except ValueError as exc:
        raise UsageError(f"newsflow feeds import: --interval: {exc}") from None
    feeds_cmd.import_opml(args.file, args.output, interval)
    return EXIT_OK


def _feeds_export(args: argparse.Namespace) -> int:
    from newsflow import feeds_cmd

    feeds_cmd.export_opml(settings_from(args.config), args.output)
    return EXIT_OK


def _feeds_status(args: argparse.Namespace) -> int:
    from newsflow import feeds_cmd

    print(feeds_cmd.render_status(feeds_cmd.status(settings_from(args.config)), args.json))
    return EXIT_OK


def _tail(args: argparse.Namespace) -> int:
    from newsflow.tail import run_tail

    return run_tail(settings_from(args.config), args.topic, args.from_beginning, args.max, args.timeout)


def _eval_dedup(args: argparse.Namespace) -> int:
    import orjson

    from newsflow import evaluation

    data_dir = Path(args.data).resolve() if args.data else evaluation.default_data_dir()
    try:
        report = evaluation.run_eval(data_dir)
    except evaluation.DataMissing as exc:
        raise UsageError(f"newsflow eval dedup: {exc}") from None
    if args.json:
        print(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        print(evaluation.render(report))
    return EXIT_OK if report.met else EXIT_FAILURE


def _eval_places(args: argparse.Namespace) -> int:
    import orjson

    from newsflow import evaluation, evaluation_places

    data_dir = Path(args.data).resolve() if args.data else evaluation.default_data_dir()
    try:
        report = evaluation_places.run_eval(data_dir)
    except evaluation.DataMissing as exc:
        return _fail(f"newsflow eval places: {exc}", EXIT_FAILURE)
    if args.json:
        print(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        print(evaluation_places.render(report))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    if args.log_format not in LOG_FORMATS:  # argparse checks the choices only on the command line
        return _fail(f"newsflow: {LOG_FORMAT_ENV}={args.log_format!r}: use text or json", EXIT_USAGE)
    configure_logging(args.log_level, args.log_format)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except ConfigError as exc:
        return _fail(f"newsflow: config error: {exc}", EXIT_USAGE)
    except (BrokerUnavailable, BrokerCommandFailed) as exc:
        return _fail(f"newsflow: {exc}", EXIT_FAILURE)
    except KeyboardInterrupt:
        return EXIT_OK
    except BrokenPipeError:
        return EXIT_OK


def _fail(message: str, code: int) -> int:
    if json_logging():  # a log collector reads stderr: the error line is JSON as well
        logging.getLogger("newsflow").error(message)
    else:
        print(message, file=sys.stderr)
    return code
