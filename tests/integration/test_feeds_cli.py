"""`newsflow feeds` against the real broker: sync (add, update, remove), list, status, import/export."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import yaml

from tests.integration.conftest import ROOT


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "newsflow", "--config", str(config), "feeds", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    return result


def config_with(tmp_path: Path, kafka: str, prefix: str, feeds: list[dict[str, str]]) -> Path:
    path = tmp_path / "newsflow.yaml"
    path.write_text(
        yaml.safe_dump(
            {"kafka": {"bootstrap_servers": kafka, "topic_prefix": prefix, "partitions": 2}, "feeds": feeds}
        ),
        encoding="utf-8",
    )
    return path


def test_sync_list_and_status(kafka: str, tmp_path: Path) -> None:
    prefix = f"fc{uuid.uuid4().hex[:8]}."
    one = {"id": "one", "url": "https://one.example/feed.xml"}
    two = {"id": "two", "url": "https://two.example/feed.xml"}
    config = config_with(tmp_path, kafka, prefix, [one, two])
    assert "2 added" in run(config, "sync").stdout
    assert "2 unchanged" in run(config, "sync").stdout

    moved = {"id": "one", "url": "https://three.example/feed.xml", "interval": "10m"}
    config = config_with(tmp_path, kafka, prefix, [moved])
    assert "1 updated, 0 unchanged, 1 removed" in run(config, "sync").stdout.replace("0 added, ", "")
    listed = run(config, "list", "--registry").stdout.strip().splitlines()
    assert listed == ["one\t600s\thttps://three.example/feed.xml"]

    rows = json.loads(run(config, "status", "--json").stdout)
    assert rows == [{"feed_id": "one", "state": "never-polled"}]


def test_opml_import_then_export(tmp_path: Path) -> None:
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body>'
        '<outline type="rss" text="World" xmlUrl="https://world.example/rss"/></body></opml>',
        encoding="utf-8",
    )
    feeds_file = tmp_path / "feeds.yaml"
    config = tmp_path / "newsflow.yaml"
    config.write_text("feeds_file: feeds.yaml\n", encoding="utf-8")
    run(config, "import", str(opml), "--output", str(feeds_file), "--interval", "15m")
    assert yaml.safe_load(feeds_file.read_text())["feeds"] == [
        {"id": "world", "url": "https://world.example/rss", "interval": "900s", "title": "World"}
    ]
    exported = run(config, "export").stdout
    assert 'xmlUrl="https://world.example/rss"' in exported
