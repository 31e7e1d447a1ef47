"""Plain-text hygiene: Unicode form, mojibake, control characters, whitespace, summaries."""

import pytest

from pipeline.cleaning.text import normalize_text, repair_mojibake, single_line, summarize

MOJIBAKE = [
    pytest.param("CafÃ© rÃ©sumÃ©", "Café résumé", id="UTF-8 read as Latin-1"),
    pytest.param("The ceasefire â€” held", "The ceasefire — held", id="em dash read as Windows-1252"),
    pytest.param("â€œQuotedâ€\x9d", "“Quoted”", id="curly quotes read as Windows-1252"),
    pytest.param("Ã¼ber MÃ¼nchen", "über München", id="German umlauts"),
    pytest.param("ÐŸÐµÑ€ÐµÐ¼Ð¸Ñ€Ð¸Ðµ", "Перемирие", id="Cyrillic read as Windows-1252"),
    pytest.param("CafÃƒÂ©", "Café", id="encoded twice"),
    pytest.param("naïve café “quoted” – déjà vu", "naïve café “quoted” – déjà vu", id="clean text untouched"),
    pytest.param("Ã€ bientôt", "À bientôt", id="capital A grave"),
    pytest.param("ØµÙ…Ø¯", "صمد", id="Arabic read as Windows-1252"),
    pytest.param("Ça coûte 5 € à Paris", "Ça coûte 5 € à Paris", id="legitimate Ç and € kept"),
]


@pytest.mark.parametrize(("text", "expected"), MOJIBAKE)
def test_repair_mojibake(text: str, expected: str) -> None:
    assert repair_mojibake(text) == expected


NORMALIZE = [
    pytest.param("a\x00b", "ab", id="NUL removed"),
    pytest.param("a\x07b\x1bc\x7fd\x85e", "abcde", id="C0 and C1 controls removed"),
    pytest.param("zero\u200bwidth\ufeff", "zerowidth", id="zero-width space and BOM removed"),
    pytest.param("bidi \u202eoverride\u202c", "bidi override", id="bidi overrides removed"),
    pytest.param("e\u0301te\u0301", "été", id="NFC composition"),
    pytest.param("a  \t b\u00a0c", "a b c", id="runs of spaces, tabs and no-break spaces"),
    pytest.param("one\r\ntwo\rthree", "one\ntwo\nthree", id="CR and CRLF line ends"),
    pytest.param("p1\n\n\n\n p2 \n", "p1\n\np2", id="paragraphs separated by one blank line"),
    pytest.param("CafÃ© au lait", "Café au lait", id="mojibake repaired"),
    pytest.param(
        "\u0645\u200d\u0645 👩\u200d💻", "\u0645\u200d\u0645 👩\u200d💻", id="ZWJ kept for scripts and emoji"
    ),
]


@pytest.mark.parametrize(("text", "expected"), NORMALIZE)
def test_normalize_text(text: str, expected: str) -> None:
    assert normalize_text(text) == expected


def test_single_line_joins_lines() -> None:
    assert single_line(" Ceasefire\n\nholds\t today ") == "Ceasefire holds today"


SUMMARY_TEXT = "First paragraph here.\n\nSecond paragraph is a little longer.\n\nThird."


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        pytest.param(400, SUMMARY_TEXT, id="everything fits"),
        pytest.param(
            60, "First paragraph here.\n\nSecond paragraph is a little longer.", id="whole paragraphs"
        ),
        pytest.param(12, "First…", id="one long paragraph cut at a word"),
    ],
)
def test_summarize_is_bounded(limit: int, expected: str) -> None:
    summary = summarize(SUMMARY_TEXT, limit)
    assert summary == expected
    assert len(summary) <= limit + 1
