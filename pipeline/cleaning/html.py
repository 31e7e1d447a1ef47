"""HTML → plain text that keeps paragraphs, and HTML → sanitised HTML (nh3).

Feed HTML is hostile: scripts, styles and navigation are dropped before the text is taken,
and the sanitised copy keeps only safe tags and http/https links. Boilerplate (share bars,
ads, comment stubs, "Read more", newsletter and cookie prompts, repeated bylines) goes too,
by the rules in ``boilerplate.yaml`` (see ``pipeline.cleaning.boilerplate``).
"""

from __future__ import annotations

from collections.abc import Sequence

import nh3
from selectolax.lexbor import LexborHTMLParser

from pipeline.cleaning.boilerplate import (
    BoilerplateRules,
    default_rules,
    drop_widgets,
    remove_boilerplate_lines,
)
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


def html_to_text(html: str, rules: BoilerplateRules | None = None, authors: Sequence[str] = ()) -> str:
    """Readable text: paragraphs separated by a blank line, inline markup flattened, boilerplate
    removed by ``rules`` (None: the shipped defaults; ``NO_RULES``: none). ``authors`` lets
    lines that only repeat the byline go."""
    rules = default_rules() if rules is None else rules
    if "<" not in html and "&" not in html:
        return remove_boilerplate_lines(normalize_text(html), rules, authors)
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    if root is None:
        return ""
    # Innermost first, so no node is destroyed twice through an ancestor.
    for node in reversed(root.css(_DROPPED)):
        node.decompose()
    for node in root.css(_BLOCKS):
        node.insert_before(_PARA)
        node.insert_after(_PARA)
    for node in root.css("br"):
        node.insert_before(_LINE)
    drop_widgets(root, rules)  # after the separators: a removed widget still splits paragraphs
    raw = root.text(deep=True, separator="", strip=False)
    paragraphs = []
    for block in raw.split(_PARA):
        lines = (" ".join(line.split()) for line in block.split(_LINE))
        paragraph = "\n".join(line for line in lines if line)
        if paragraph:
            paragraphs.append(paragraph)
    return remove_boilerplate_lines(normalize_text("\n\n".join(paragraphs)), rules, authors)


def sanitize_html(html: str) -> str:
    """Safe HTML for display: nh3's allowlist, http/https/mailto links only, no handlers."""
    return nh3.clean(html, url_schemes=_SAFE_SCHEMES, link_rel="noopener noreferrer nofollow")
