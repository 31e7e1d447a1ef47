"""Language identification: the text decides, the feed's declared language is a hint.

py3langid ships its model inside the wheel (no download at run time) and classifies 300
characters in about 60 µs. Feeds often declare one language for everything they carry (or a
default like ``en-us`` left by their CMS), so the declaration is only a hint:

- enough text and a confident detection that the hint's language did not come close → the
  detected language;
- otherwise (short text, a close call, the hint's language plausible) → the hint, with its
  region kept (``en-GB`` stays ``en-GB``);
- no hint and no confident detection → ``None``: an honest "unknown" beats a guess.

Codes are BCP-47: the primary subtag lower-case, a region upper-case, a script title-case.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

SAMPLE_CHARS = 300  # enough for a stable answer on news prose; cost grows with length
MIN_CHARS = 24  # below this, character n-grams say little
CONFIDENT = 0.5  # probability the detected language needs to overrule a hint
HINT_PLAUSIBLE = 0.05  # a hint scoring at least this keeps its place
# Varieties the model tells apart but news feeds in practice mean as the macrolanguage:
# Wu Chinese for Mandarin text, Arabic dialect labels for Modern Standard Arabic.
_FOLD = {"wuu": "zh", "ary": "ar", "arz": "ar"}


@dataclass(frozen=True, slots=True)
class Detection:
    lang: str | None  # BCP-47, or None when unknown
    confidence: float


@cache
def _identifier() -> LanguageIdentifier:
    # Imported and loaded on first use, not at import: numpy and the ~20 MB model would
    # otherwise weigh on every process importing the cleaning package (the parser sandbox's
    # memory limit counts them).
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def bcp47(tag: str | None) -> str | None:
    """``en_us`` → ``en-US``, ``zh-hant-tw`` → ``zh-Hant-TW``; None for unusable tags."""
    if not tag:
        return None
    parts = [part for part in tag.strip().replace("_", "-").split("-") if part]
    if not parts or not parts[0].isascii() or not parts[0].isalpha() or not 2 <= len(parts[0]) <= 3:
        return None
    rest = []
    for part in parts[1:]:
        if not part.isascii() or not part.isalnum():
            return None
        rest.append(part.upper() if len(part) == 2 else part.title() if len(part) == 4 else part.lower())
    return "-".join([parts[0].lower(), *rest])


def detect_language(text: str, hint: str | None = None) -> Detection:
    """The article's language from its text (title first), with the feed's hint."""
    declared = bcp47(hint)
    sample = text[:SAMPLE_CHARS]
    if len(sample.strip()) < MIN_CHARS:
        return Detection(declared, 0.0)
    label, confidence = _identifier().classify(sample)
    best = _FOLD.get(label, label)
    primary = declared.split("-")[0] if declared else None
    if primary == best:
        return Detection(declared, confidence)
    if primary is not None or confidence < CONFIDENT:
        # The full ranking costs as much again as the answer: only for close calls (folded
        # varieties add up) and for hints that disagree (their own probability is needed).
        scores = _ranking(sample)
        best, confidence = max(scores.items(), key=lambda item: item[1])
        hinted = scores.get(primary or "", 0.0)
        if primary is not None and (primary == best or hinted >= HINT_PLAUSIBLE or confidence < CONFIDENT):
            return Detection(declared, hinted)
    if confidence < CONFIDENT:
        return Detection(None, confidence)
    return Detection(best, confidence)


def _ranking(sample: str) -> dict[str, float]:
    scores: dict[str, float] = {}
    for label, probability in _identifier().rank(sample):
        code = _FOLD.get(label, label)
        scores[code] = scores.get(code, 0.0) + probability
    return scores
