from pathlib import Path

import pytest

from pipeline.config import FeedSettings, load_settings
from pipeline.errors import ConfigError
from pipeline.registry import feed_from_record, feed_record, load_feeds, partition_for, read_opml, to_opml

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>subs</title></head><body>
  <outline text="News">
    <outline type="rss" text="BBC World" title="BBC World" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml"/>
    <outline type="rss" text="BBC World" xmlUrl="https://feeds.bbci.co.uk/news/world/rss.xml?edition=int"/>
    <outline type="rss" text="No URL"/>
    <outline type="rss" text="FTP" xmlUrl="ftp://example.org/feed"/>
  </outline>
</body></opml>
"""


def test_same_host_same_partition() -> None:
    a = partition_for("https://www.example.org/world.xml", 8)
    assert a == partition_for("https://WWW.example.org/sport.xml", 8)
    assert {partition_for(f"https://host{n}.example/f", 8) for n in range(200)} == set(range(8))


def test_feed_record_round_trip() -> None:
    feed = FeedSettings(id="bbc", url="https://feeds.bbci.co.uk/news/rss.xml", interval=120, title="BBC")
    assert feed_from_record(feed_record(feed)) == feed
    with pytest.raises(ValueError):
        feed_from_record(
            {"schema": "newsflow.feed/1", "id": "x", "url": "file:///etc/passwd", "interval_seconds": 5}
        )


def test_opml_import_and_export(tmp_path: Path) -> None:
    path = tmp_path / "subs.opml"
    path.write_text(OPML, encoding="utf-8")
    feeds = read_opml(path, interval=600)
    assert [(f.id, f.url) for f in feeds] == [
        ("bbc-world", "https://feeds.bbci.co.uk/news/world/rss.xml"),
        ("bbc-world-2", "https://feeds.bbci.co.uk/news/world/rss.xml?edition=int"),
    ]
    assert all(f.interval == 600 for f in feeds)
    exported = tmp_path / "out.opml"
    exported.write_text(to_opml(feeds), encoding="utf-8")
    assert [f.url for f in read_opml(exported)] == [f.url for f in feeds]


def test_opml_with_entities_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.opml"
    path.write_text('<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "b">]><opml/>', encoding="utf-8")
    with pytest.raises(ConfigError, match="entity"):
        read_opml(path)


def test_feeds_come_from_config_feeds_file_and_opml(tmp_path: Path) -> None:
    (tmp_path / "subs.opml").write_text(OPML, encoding="utf-8")
    (tmp_path / "feeds.yaml").write_text(
        "feeds:\n  - {id: extra, url: 'https://extra.example/f', interval: 1h}\n"
    )
    config = tmp_path / "newsflow.yaml"
    config.write_text(
        "feeds: [{id: own, url: 'https://own.example/f'}]\nfeeds_file: feeds.yaml\nopml_file: subs.opml\n"
    )
    feeds = load_feeds(load_settings(config))
    assert [f.id for f in feeds] == ["own", "extra", "bbc-world", "bbc-world-2"]


def test_duplicate_ids_across_sources_fail(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text("- {id: own, url: 'https://other.example/f'}\n")
    config = tmp_path / "newsflow.yaml"
    config.write_text("feeds: [{id: own, url: 'https://own.example/f'}]\nfeeds_file: feeds.yaml\n")
    with pytest.raises(ConfigError, match="defined twice"):
        load_feeds(load_settings(config))


def test_bad_feeds_file_names_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text("feeds:\n  - {id: a, url: 'gopher://x'}\n")
    config = tmp_path / "newsflow.yaml"
    config.write_text("feeds_file: feeds.yaml\n")
    with pytest.raises(ConfigError) as caught:
        load_feeds(load_settings(config))
    assert "feeds.yaml" in str(caught.value) and "feeds.0.url" in str(caught.value)
