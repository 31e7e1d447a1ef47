"""HTML → plain text that keeps paragraphs, and HTML → sanitised HTML (nh3).

Feed HTML is hostile: scripts, styles and navigation are dropped before the text is taken,
and the sanitised copy keeps only safe tags and http/https links.
"""

from __future__ import annotations

import nh3
from selectolax.lexbor import LexborHTMLParser

from pipeline.cleaning.text import normalize_text

_DROPPED = "script, style, noscript, template, nav, aside, form, iframe, object, embed, svg, button"
_BLOCKS = (
    "p, div, section, article, header, footer, main, h1, h2, h3, h4, h5, h6, ul, ol, li, "
    "blockquote, pre, table, tr, figure, figcaption, dl, dt, dd, hr, address"
)
# Markers that cannot be confused with whitespace in the source: U+2029 paragraph separator
# and U+2028 line separator, turned into blank lines / newlines after extraction.
_PARA = "\u2029"
_LINE = "\u2028"
_SAFE_SCHEMES = {"http", "https", "mailto"}


def html_to_text(html: str) -> str:
    """Readable text: paragraphs separated by a blank line, inline markup flattened."""
    if "<" not in html and "&" not in html:
        return normalize_text(html)
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    if root is None:
        return ""
    for node in root.css(_DROPPED):
        node.decompose()
    for node in root.css(_BLOCKS):
        node.insert_before(_PARA)
        node.insert_after(_PARA)
    for node in root.css("br"):
        node.insert_before(_LINE)
    raw = root.text(deep=True, separator="", strip=False)
    paragraphs = []
    for block in raw.split(_PARA):
        lines = (" ".join(line.split()) for line in block.split(_LINE))
        paragraph = "\n".join(line for line in lines if line)
        if paragraph:
            paragraphs.append(paragraph)
    return normalize_text("\n\n".join(paragraphs))


def sanitize_html(html: str) -> str:
    """Safe HTML for display: nh3's allowlist, http/https/mailto links only, no handlers."""
    return nh3.clean(html, url_schemes=_SAFE_SCHEMES, link_rel="noopener noreferrer nofollow")
