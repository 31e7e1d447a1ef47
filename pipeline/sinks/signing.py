"""Webhook signing, Standard Webhooks style: the ``webhook-id`` of a delivery, the HMAC
``webhook-signature`` over it, and ``verify`` for receivers (and our tests).

Kept apart from delivery because it is pure (no network, no clock of its own) and is the half of
the protocol a receiver needs: checking a request takes this module and the shared secret only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime

__all__ = ["sign", "signing_key", "verify", "webhook_id"]

# Names and alert ids go into webhook-id, whose signed form joins fields with "." (the spec
# forbids "." there) and which we join with ":"; neither may occur in them.
_ID_SAFE = re.compile(r"[A-Za-z0-9_-]{1,100}")


def signing_key(secret: str) -> bytes:
    """HMAC key of a secret: ``whsec_<base64>`` (Standard Webhooks) is decoded, anything else is
    used as its raw UTF-8 bytes. (The official Standard Webhooks libraries base64-decode even an
    unprefixed secret: give such receivers the ``whsec_`` form.) Raises ValueError on bad base64."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    return secret.encode()


def webhook_id(alert_id: str, endpoint: str) -> str:
    """``<alert id>:<endpoint name>``: the same on every retry, distinct per alert and endpoint.

    An alert id that could not go into the signed content safely is replaced by its hash."""
    part = (
        alert_id if _ID_SAFE.fullmatch(alert_id) else "h" + hashlib.sha256(alert_id.encode()).hexdigest()[:32]
    )
    return f"{part}:{endpoint}"


def sign(secret: str, msg_id: str, timestamp: int | str, body: bytes) -> str:
    """``v1,<base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))>`` (Standard Webhooks)."""
    return "v1," + _mac(signing_key(secret), msg_id, timestamp, body)


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, now: datetime | float, tolerance: float = 300
) -> bool:
    """Whether a received webhook is ours and fresh: for receivers (and our tests).

    ``headers`` may be any mapping (names are matched case-insensitively); ``body`` is the raw
    request body, exactly as received (re-serialised JSON would not verify); ``now`` is a
    datetime or unix seconds. A timestamp more than ``tolerance`` seconds away is refused
    (replay), as is a request with any header missing. Any ``v1`` entry of the space-separated
    ``webhook-signature`` list may match (secret rotation)."""
    msg_id, stamp, signatures = (
        _header(headers, n) for n in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if not msg_id or not stamp or not signatures or not (stamp.isascii() and stamp.isdigit()):
        return False
    seconds = now.timestamp() if isinstance(now, datetime) else float(now)
    if abs(seconds - int(stamp)) > tolerance:
        return False
    expected = _mac(signing_key(secret), msg_id, stamp, body).encode()
    for entry in signatures.split():
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return True
    return False


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _mac(key: bytes, msg_id: str, timestamp: int | str, body: bytes) -> str:
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
