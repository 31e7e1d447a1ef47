"""The Slack-compatible alert message: every piece of alert text escaped for Slack's mrkdwn.

Slack reads ``&``, ``<`` and ``>`` as control characters: ``<!channel>`` notifies a whole
channel, ``<http://x|y>`` is a link whose text hides where it goes. Titles, tag names and rule
names come from feeds and operators, so each is escaped (``&amp;``, ``&lt;``, ``&gt;``, and
nothing else, as Slack's "Formatting text" reference asks) before it joins the message; the only
``<…>`` we emit ourselves is the article link, built from a checked http(s) URL.

The body is the ``{"text": …}`` that Slack incoming webhooks (and Mattermost, Rocket.Chat, …)
accept; it stays one plain ``text`` rather than Block Kit, so every compatible receiver shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from pipeline.cleaning.urls import safe_http_url

__all__ = ["escape", "slack_link", "slack_payload", "slack_text"]

MAX_TITLE = 300  # characters of a title kept (cut before escaping, so no entity is split)
MAX_TAGS = 20


def escape(text: str) -> str:
    """``text`` shown literally by Slack: ``&`` first, so the other entities are not re-escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: str | None, label: str) -> str:
    """``<url|label>`` for an http(s) URL, else just the escaped label.

    The label is escaped here. In the URL, ``&``/``<``/``>`` are escaped like any text and ``|``
    (which would end the URL and start the label) is percent-encoded; other schemes
    (``javascript:``, Slack's own ``<!…>``/``<#…>``/``<@…>`` commands) are never linked.
    """
    safe = safe_http_url(url)
    if safe is None:
        return escape(label)
    target = escape(safe.replace("|", "%7C").replace(" ", "%20"))
    return f"<{target}|{escape(label)}>"


def slack_text(alert: Mapping[str, Any]) -> str:
    """The message text: rule, linked title, the spike's numbers, tags (all escaped)."""
    rule = _text(alert.get("rule")) or "alert"
    title = (_text(alert.get("title")) or "(untitled)")[:MAX_TITLE]
    url = alert.get("url")
    lines = [f"*{escape(rule)}*: {slack_link(url if isinstance(url, str) else None, title)}"]
    if alert.get("kind") == "spike":
        lines.append(_spike_line(alert))
    tags = [_text(tag) for tag in alert.get("tags") or [] if _text(tag)]
    if tags:
        shown = ", ".join(escape(tag) for tag in tags[:MAX_TAGS])
        more = f" (+{len(tags) - MAX_TAGS})" if len(tags) > MAX_TAGS else ""
        lines.append(f"Tags: {shown}{more}")
    return "\n".join(lines)


def slack_payload(alert: Mapping[str, Any]) -> bytes:
    """The JSON body posted to a Slack-compatible incoming webhook."""
    return orjson.dumps({"text": slack_text(alert)})


def _spike_line(alert: Mapping[str, Any]) -> str:
    count, window, baseline = alert.get("count"), alert.get("window"), alert.get("baseline")
    parts = [f"{_number(count)} articles"]
    if isinstance(window, int | float) and not isinstance(window, bool):
        parts.append(f"in {_duration(float(window))}")
    if isinstance(baseline, int | float) and not isinstance(baseline, bool):
        parts.append(f"(baseline {_number(baseline)})")
    return " ".join(parts)


def _text(value: object) -> str:
    """A message field as one line of text; non-strings (a malformed alert) become empty."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def _number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "?"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _duration(seconds: float) -> str:
    for unit, size in (("h", 3600.0), ("min", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"
