"""HTML → plain text that keeps paragraphs, and HTML → sanitised HTML (nh3).

Feed HTML is hostile: scripts, styles and navigation are dropped before the text is taken,
and the sanitised copy keeps only safe tags and http/https links. Boilerplate (share bars,
ads, comment stubs, "Read more", newsletter and cookie prompts, repeated bylines) goes too,
by the rules in ``boilerplate.yaml`` (see ``pipeline.cleaning.boilerplate``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import nh3
from selectolax.lexbor import LexborHTMLParser

from pipeline.cleaning.boilerplate import (
    BoilerplateRules,
    default_rules,
    drop_widgets,
    remove_boilerplate_lines,
)
from pipeline.cleaning.text import normalize_characters, normalize_text, strip_invisible

# Elements whose content is never article text, removed with everything inside them.
_DROPPED = ["script", "style", "noscript", "template", "nav", "aside", "form", "iframe", "object", "embed"]
_DROPPED += ["svg", "button"]
_BLOCK_NAMES = (
    "p|div|section|article|header|footer|main|h[1-6]|ul|ol|li|blockquote|pre|table|tr|td|th|"
    "figure|figcaption|dl|dt|dd|hr|address"
)
# Paragraph and line-break markers: two Unicode noncharacters (never in interchange text;
# any in the source are blanked first) that are not whitespace to str.split(), so the whole
# text's whitespace collapses in one C call and the markers survive it. They are put in front
# of every block tag's start and end (and every <br>) in the HTML string by one regex pass:
# walking the parsed tree to insert them node by node cost 5× more. A marker that lands
# somewhere else (inside a comment, a script or an attribute) is dropped with it.
_PARA = "\ufdd0"
_LINE = "\ufdd1"
_BLOCK_TAG = re.compile(rf"<(?=/?(?:{_BLOCK_NAMES})[\s/>])", re.IGNORECASE)
_BR_TAG = re.compile(r"<(?=br[\s/>])", re.IGNORECASE)
# Built once: nh3 otherwise converts its settings on every call.
_SANITIZER = nh3.Cleaner(url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")


def html_to_text(html: str, rules: BoilerplateRules | None = None, authors: Sequence[str] = ()) -> str:
    """Readable text: paragraphs separated by a blank line, inline markup flattened, boilerplate
    removed by ``rules`` (None: the shipped defaults; ``NO_RULES``: none). ``authors`` lets
    lines that only repeat the byline go."""
    rules = default_rules() if rules is None else rules
    if "<" not in html and "&" not in html:
        return remove_boilerplate_lines(normalize_text(html), rules, authors)
    marked = _BR_TAG.sub(
        _LINE + "<", _BLOCK_TAG.sub(_PARA + "<", html.replace(_PARA, " ").replace(_LINE, " "))
    )
    tree = LexborHTMLParser(marked)
    tree.strip_tags(_DROPPED, recursive=True)  # in C: 3× cheaper than css() + decompose()
    root = tree.body or tree.root
    if root is None:
        return ""
    drop_widgets(root, rules)  # a removed widget's markers go with it; its neighbours' stay
    raw = strip_invisible(root.text(deep=True, separator="", strip=False))
    collapsed = " ".join(raw.split())
    paragraphs = filter(None, (_lines(block) for block in collapsed.split(_PARA)))
    # Whitespace is collapsed already: only the character-level steps of normalize_text remain.
    return remove_boilerplate_lines(normalize_characters("\n\n".join(paragraphs)), rules, authors)


def _lines(block: str) -> str:
    if _LINE not in block:
        return block.strip()
    return "\n".join(filter(None, (line.strip() for line in block.split(_LINE))))


def sanitize_html(html: str) -> str:
    """Safe HTML for display: nh3's allowlist, http/https/mailto links only, no handlers."""
    return _SANITIZER.clean(html)
