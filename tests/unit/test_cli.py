"""The command line contract: exit codes, one-line errors, `newsflow process` output."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
FEEDS = ROOT / "tests" / "fixtures" / "feeds"
TAXONOMY = ROOT / "newsflow" / "demo" / "taxonomy.yaml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsflow", *args], capture_output=True, text=True, timeout=60, cwd=ROOT
    )


def one_clear_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


BAD_USAGE = [
    ("unknown option", ["--frobnicate", "worker"], "unrecognized arguments"),
    ("unknown command", ["launch"], "invalid choice"),
    ("missing source", ["process"], "required"),
    ("missing config file", ["--config", "/nonexistent/newsflow.yaml", "worker"], "cannot read config file"),
]


@pytest.mark.parametrize(("name", "args", "message"), BAD_USAGE, ids=[c[0] for c in BAD_USAGE])
def test_bad_usage_exits_2_with_one_line(name: str, args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in one_clear_line(result.stderr)


def test_invalid_config_names_file_key_and_reason(tmp_path: Path) -> None:
    config = tmp_path / "newsflow.yaml"
    config.write_text("kafka: {partitions: zero}\n", encoding="utf-8")
    result = run("--config", str(config), "poller")
    assert result.returncode == 2
    line = one_clear_line(result.stderr)
    assert str(config) in line and "kafka.partitions" in line


def test_invalid_taxonomy_exits_2(tmp_path: Path) -> None:
    taxonomy = tmp_path / "tax.yaml"
    taxonomy.write_text("topics: [{name: a, query: 'b AND'}]\n", encoding="utf-8")
    result = run("taxonomy", "check", str(taxonomy))
    assert result.returncode == 2
    assert "query" in one_clear_line(result.stderr)


def test_taxonomy_check_ok() -> None:
    result = run("taxonomy", "check", str(TAXONOMY))
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_alerts_check_of_a_broken_file_exits_2_with_one_line(tmp_path: Path) -> None:
    alerts = tmp_path / "alerts.yaml"
    alerts.write_text("rules:\n  - {name: a, match: 'aleppo AND', notify: [nowhere]}\n", encoding="utf-8")
    result = run("alerts", "check", str(alerts))
    assert result.returncode == 2
    assert str(alerts) in one_clear_line(result.stderr)


def test_search_of_a_fresh_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert run("db", "migrate", "--url", url).returncode == 0
    result = run("search", "aleppo", "--url", url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "" or "no " in result.stdout.lower()


def test_help_on_every_command() -> None:
    for command in (
        ["up"],
        ["worker"],
        ["poller"],
        ["process"],
        ["kafka", "start"],
        ["tail"],
        ["taxonomy", "check"],
        ["alerts", "check"],
        ["db", "migrate"],
        ["search"],
    ):
        result = run(*command, "--help")
        assert result.returncode == 0, (command, result.stderr)
        assert "usage:" in result.stdout


def process(*args: str) -> tuple[int, list[dict[str, object]], str]:
    result = run("process", *args)
    return result.returncode, [json.loads(line) for line in result.stdout.splitlines()], result.stderr


def test_process_prints_tagged_articles() -> None:
    code, lines, _ = process(str(FEEDS / "rss2-basic.xml"), "--taxonomy", str(TAXONOMY))
    assert code == 0
    assert [line["title"] for line in lines] == [
        "Ceasefire agreed in Aleppo",
        "Cease-fire holds for a second day",
        "Markets rally",
    ]
    tags = [{tag["name"] for tag in line["tags"]} for line in lines]  # type: ignore[attr-defined]
    assert tags[0] >= {"ceasefire", "aleppo", "aleppo-ceasefire"}
    assert tags[1] >= {"ceasefire", "aleppo"}
    assert tags[2] == set()


def test_process_duplicates_only_on_request(tmp_path: Path) -> None:
    body = (FEEDS / "rss2-basic.xml").read_text(encoding="utf-8")
    repost = tmp_path / "repost.xml"
    repost.write_text(body.replace("ceasefire-day-two", "ceasefire-day-two?fbclid=abc"), encoding="utf-8")
    sources = [str(FEEDS / "rss2-basic.xml"), str(repost)]
    _, plain, _ = process(*sources)
    assert len(plain) == 3
    _, with_duplicates, _ = process(*sources, "--include-duplicates")
    duplicates = [line for line in with_duplicates if "duplicate_of" in line]
    assert len(duplicates) == 3
    originals = {line["id"] for line in plain}
    assert {line["duplicate_of"] for line in duplicates} == originals
    assert {line["duplicate_kind"] for line in duplicates} == {"exact-url"}


def test_process_reports_a_broken_source_and_continues(tmp_path: Path) -> None:
    code, lines, err = process(str(FEEDS / "entity-expansion.xml"), str(FEEDS / "rss1-rdf.xml"))
    assert code == 1
    assert len(lines) == 2
    assert "entity" in err and "Traceback" not in err
