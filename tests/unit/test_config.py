from pathlib import Path

import pytest

from pipeline.config import load_settings, parse_duration
from pipeline.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsflow.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file() -> None:
    settings = load_settings(None)
    assert settings.kafka.topic_prefix == "news."
    assert settings.kafka.bootstrap_servers is None
    assert settings.kafka.servers == "127.0.0.1:19092"
    assert settings.poller.timeout == 20.0


def test_full_example_from_design(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
kafka: {bootstrap_servers: "127.0.0.1:19092", topic_prefix: "news.", partitions: 4}
feeds:
  - {id: example-world, url: "https://example.org/world/rss.xml", interval: 5m}
taxonomy_file: taxonomy.yaml
storage: {url: "sqlite:///newsflow.db"}
metrics: {port: 9464}
""",
    )
    settings = load_settings(path)
    assert settings.feeds[0].interval == 300.0
    assert settings.taxonomy_file == tmp_path / "taxonomy.yaml"
    with pytest.raises(Exception):  # noqa: B017 - frozen: any mutation error will do
        settings.kafka.partitions = 8  # type: ignore[misc]


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, 'kafka: {bootstrap_servers: "a:1", partitions: 2}\n')
    monkeypatch.setenv("NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS", "b:2")
    settings = load_settings(path)
    assert settings.kafka.bootstrap_servers == "b:2"
    assert settings.kafka.partitions == 2


ERRORS = [
    ("unknown top-level key", "kafkaa: {}\n", "kafkaa: unknown key"),
    ("unknown nested key", "kafka: {bootstrap: x}\n", "kafka.bootstrap: unknown key"),
    ("bad duration", "feeds: [{id: a, url: 'https://x.org/f', interval: soon}]\n", "feeds.0.interval"),
    ("non-http feed", "feeds: [{id: a, url: 'file:///etc/passwd'}]\n", "feeds.0.url"),
    (
        "duplicate feed id",
        "feeds: [{id: a, url: 'https://x.org/1'}, {id: a, url: 'https://x.org/2'}]\n",
        "twice",
    ),
    ("wrong type", "kafka: {partitions: many}\n", "kafka.partitions"),
    ("invalid YAML", "kafka: [\n", "invalid YAML"),
    ("not a mapping", "- a\n- b\n", "top level must be a mapping"),
]


@pytest.mark.parametrize(("name", "text", "message"), ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_name_file_key_and_reason(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "absent.yaml")


DURATIONS = [
    ("30s", 30.0),
    ("5m", 300.0),
    ("1h", 3600.0),
    ("1.5h", 5400.0),
    ("250ms", 0.25),
    (45, 45.0),
    ("2d", 172800.0),
]


@pytest.mark.parametrize(("text", "seconds"), DURATIONS)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "five", "-1s", "0", True])
def test_parse_duration_rejects(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
