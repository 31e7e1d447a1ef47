"""URL canonicalisation: one article, one URL, whatever tracking decoration a feed adds.

Rules (documented in docs/architecture.md): scheme and host lower-cased, default ports and
fragments dropped, tracking parameters removed (list below), empty path → ``/``; other query
parameters keep their order because some sites route on them. Only http/https survive.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Parameters that identify the campaign or the click, never the article. Sources: Miniflux's
# urlcleaner list, the ClearURLs rules for news sites, and parameters seen in the real feeds.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "li_fat_id",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "hsctatracking",
        "oly_anon_id",
        "oly_enc_id",
        "rb_clickid",
        "s_cid",
        "vero_id",
        "vero_conv",
        "wickedid",
        "__s",
        "cmpid",
        "ncid",
        "ocid",
        "icid",
        "xtor",
        "ito",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "sr_share",
        "smid",
        "smtyp",
        "cid_rss",
        "rss",
        "feedtype",
        "feedname",
        "partner",
        "dicbo",
        "ftag",
    }
)
TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "matomo_", "hsa_")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking_parameter(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMETERS or lowered.startswith(TRACKING_PREFIXES)


def safe_http_url(url: str | None) -> str | None:
    """The URL stripped of whitespace if it is http(s) with a host, else None."""
    if not url:
        return None
    candidate = url.strip()
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return candidate


def canonical_url(url: str | None) -> str | None:
    """Canonical form of an http(s) URL, or None when there is no usable URL."""
    safe = safe_http_url(url)
    if safe is None:
        return None
    parts = urlsplit(safe)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        return None
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    query_pairs = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_parameter(name)
    ]
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query_pairs), ""))
