"""Plain-text hygiene: Unicode form, control characters, whitespace, bounded summaries."""

from __future__ import annotations

import re
import unicodedata

# C0/C1 controls except tab and newline, plus invisible characters that only hide text
# (zero-width space, BOM, bidi overrides); ZWJ/ZWNJ stay because scripts and emoji need them.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069\ufffe\uffff]"
)
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def normalize_text(text: str) -> str:
    """NFC, no control characters, single spaces, paragraphs separated by one blank line."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def single_line(text: str) -> str:
    """Titles and names: one line, single spaces."""
    return " ".join(normalize_text(text).split())


def matching_form(text: str) -> str:
    """The form used for matching and hashing: NFKC + casefold (DESIGN §3)."""
    return unicodedata.normalize("NFKC", text).casefold()


def summarize(text: str, limit: int = 400) -> str:
    """The first paragraphs of ``text`` up to ``limit`` characters, cut at a word boundary."""
    summary = ""
    for paragraph in text.split("\n\n"):
        candidate = f"{summary}\n\n{paragraph}" if summary else paragraph
        if len(candidate) > limit:
            break
        summary = candidate
    if summary:
        return summary
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return f"{cut}…" if cut else ""
