"""Plain-text hygiene: Unicode form, control characters, whitespace, bounded summaries."""

from __future__ import annotations

import re
import unicodedata

import ftfy

# C0/C1 controls except tab and newline, plus invisible characters that only hide text
# (zero-width space, BOM, bidi overrides); ZWJ/ZWNJ stay because scripts and emoji need them.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2060\ufeff\u202a-\u202e\u2066-\u2069\ufffe\uffff]"
)
# Mojibake is UTF-8 read as Latin-1/Windows-1252: a lead byte (U+00C2–U+00F4 as Latin-1)
# followed by a continuation byte (U+0080–U+00BF, or its Windows-1252 reading). Clean text
# almost never has that pair, so ftfy (≈ 1.7 ms per 5 KB of non-ASCII text) only runs when it
# appears; ftfy then decides conservatively whether the text really is mojibake.
_MOJIBAKE_HINT = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e"
    "\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a"
    "\u20ac\u2122]"
)
# Only the encoding repairs: quotes stay curly, widths and ligatures stay as written.
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,
    remove_terminal_escapes=False,
    fix_latin_ligatures=False,
    fix_character_width=False,
    uncurl_quotes=False,
    fix_line_breaks=False,
    remove_control_chars=False,
    explain=False,
)
_BLANK_LINES = re.compile(r"\n\s*\n+")


def repair_mojibake(text: str) -> str:
    """``CafÃ©`` → ``Café``: undo UTF-8 decoded as Latin-1/Windows-1252 (once or twice)."""
    if text.isascii() or not _MOJIBAKE_HINT.search(text):  # isascii() is O(1) in CPython
        return text
    return ftfy.fix_text(text, _FTFY)


def strip_invisible(text: str) -> str:
    """Without control characters and the invisible characters that only hide text."""
    return _INVISIBLE.sub("", text)


def normalize_characters(text: str) -> str:
    """Mojibake repaired, NFC; for text whose whitespace and controls are dealt with."""
    return unicodedata.normalize("NFC", repair_mojibake(text))


def normalize_text(text: str) -> str:
    """NFC, mojibake repaired, no control characters, single spaces, one blank line between
    paragraphs."""
    text = unicodedata.normalize("NFC", repair_mojibake(text))
    text = _INVISIBLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    # str.split() splits on every Unicode space (no-break space included) and is ~4× faster
    # than a regex here; the controls it would also split on are gone already.
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def single_line(text: str) -> str:
    """Titles and names: one line, single spaces."""
    return " ".join(normalize_text(text).split())


def matching_form(text: str) -> str:
    """The form used for matching and hashing: NFKC + casefold (DESIGN §3)."""
    if text.isascii():  # O(1) in CPython; NFKC is the identity and casefold is lower() here
        return text.lower()
    if not unicodedata.is_normalized("NFKC", text):  # the check is ~5× cheaper than the form
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


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
