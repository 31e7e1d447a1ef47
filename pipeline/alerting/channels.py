"""Alert channels of ``alerts.yaml``: where alerts are delivered besides ``news.alerts``.

A channel names its URL directly (``url``) or through an environment variable (``url_env``),
and its signing secret only through one (``secret_env``): secrets stay out of files. The file
is validated without the environment (``newsflow alerts check`` runs anywhere);
:func:`resolve_channels` reads the variables once, at start, into :class:`ChannelTarget`.
As for settings, ``<VAR>_FILE=path`` may stand for ``<VAR>`` (Docker secrets).

Neither a channel nor a target ever shows a secret or more of a URL than scheme and host in
its ``repr``/``str`` (a Slack webhook URL's path *is* its secret), and validation errors never
echo a URL: they end up in logs (DESIGN §6).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from pipeline.config import read_secret_file
from pipeline.errors import ConfigError

ChannelType = Literal["webhook", "slack"]
CHANNEL_TYPES: tuple[str, ...] = get_args(ChannelType)
_KEYS = {"type", "url", "url_env", "secret_env"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # also used for rule names (ids, labels)
# A channel name is also part of the webhook-id, where Standard Webhooks allows no ".".
CHANNEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def redact_url(url: str | None) -> str | None:
    """Scheme and host only: paths, queries and credentials may carry secrets."""
    if url is None:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid URL>"
    tail = "/…" if (parts.path not in ("", "/") or parts.query or parts.fragment) else ""
    return f"{parts.scheme}://{host}{port}{tail}"


@dataclass(frozen=True, slots=True)
class Channel:
    """A channel as written in the file (no secret values: only variable names)."""

    name: str
    type: ChannelType
    url: str | None = field(default=None, repr=False)
    url_env: str | None = None
    secret_env: str | None = None

    def __repr__(self) -> str:
        return (
            f"Channel(name={self.name!r}, type={self.type!r}, url={redact_url(self.url)!r}, "
            f"url_env={self.url_env!r}, secret_env={self.secret_env!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class ChannelTarget:
    """A channel with its URL and secret read from the environment: what a sender needs."""

    name: str
    type: ChannelType
    url: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        secret = "'***'" if self.secret else "None"
        url = redact_url(self.url)
        return f"ChannelTarget(name={self.name!r}, type={self.type!r}, url={url!r}, secret={secret})"

    __str__ = __repr__


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not re.search(r"\s", value)


def parse_channels(data: Any, source: str) -> tuple[Channel, ...]:
    if data is None:
        return ()
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: channels: must be a mapping of channel name to settings")
    return tuple(_channel(name, entry, f"{source}: channels.{name}") for name, entry in data.items())


def _channel(name: Any, entry: Any, where: str) -> Channel:
    if not isinstance(name, str) or not CHANNEL_NAME.match(name):
        raise ConfigError(f"{where}: name: letters, digits, '_', '-' (at most 64)")
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a mapping such as {{type: webhook, url_env: VAR}}")
    unknown = sorted(set(entry) - _KEYS, key=str)
    if unknown:
        raise ConfigError(f"{where}: {unknown[0]}: unknown key (known: {', '.join(sorted(_KEYS))})")
    kind = entry.get("type")
    if kind not in CHANNEL_TYPES:
        raise ConfigError(f"{where}: type: must be one of {', '.join(CHANNEL_TYPES)}")
    url, url_env, secret_env = entry.get("url"), entry.get("url_env"), entry.get("secret_env")
    if (url is None) == (url_env is None):
        raise ConfigError(f"{where}: needs either 'url' or 'url_env' (exactly one)")
    if url is not None and (not isinstance(url, str) or not _is_http_url(url)):
        raise ConfigError(f"{where}: url: must be an http(s) URL")  # never echo it: may hold a token
    for key, value in (("url_env", url_env), ("secret_env", secret_env)):
        if value is not None and (not isinstance(value, str) or not _ENV_NAME.match(value)):
            raise ConfigError(f"{where}: {key}: must be an environment variable name such as NEWSFLOW_X")
    if kind == "slack" and secret_env is not None:
        # Slack incoming webhooks are not signed: the URL itself is the secret.
        raise ConfigError(f"{where}: secret_env: slack channels are not signed; keep the URL in url_env")
    return Channel(name=name, type=kind, url=url, url_env=url_env, secret_env=secret_env)


def resolve_channels(
    channels: tuple[Channel, ...], environ: Mapping[str, str], source: str = "alerts"
) -> dict[str, ChannelTarget]:
    """Read each channel's URL and secret from ``environ`` (call once, at start)."""
    targets: dict[str, ChannelTarget] = {}
    for channel in channels:
        where = f"{source}: channels.{channel.name}"
        url = channel.url
        if channel.url_env is not None:
            url = _env_value(environ, channel.url_env, f"{where}: url_env")
            if not _is_http_url(url):
                raise ConfigError(f"{where}: url_env: {channel.url_env} is not an http(s) URL")
        secret = None
        if channel.secret_env is not None:
            secret = _env_value(environ, channel.secret_env, f"{where}: secret_env")
        assert url is not None  # parse_channels demands url or url_env
        targets[channel.name] = ChannelTarget(channel.name, channel.type, url, secret)
    return targets


def _env_value(environ: Mapping[str, str], name: str, where: str) -> str:
    """``$name``, or the content of the file ``$name_FILE`` names; never both, never empty."""
    value, path = environ.get(name) or None, environ.get(f"{name}_FILE") or None
    if value is not None and path is not None:
        raise ConfigError(f"{where}: both {name} and {name}_FILE are set; set only one")
    if path is not None:
        value = read_secret_file(f"{where}: {name}_FILE", path)  # ConfigError when empty
    if value is None:
        raise ConfigError(f"{where}: environment variable {name} is not set (nor {name}_FILE)")
    return value
