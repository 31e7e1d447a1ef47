import pytest

from pipeline.cleaning.html import html_to_text, sanitize_html
from pipeline.cleaning.text import normalize_text, single_line, summarize

TEXT_CASES = [
    ("paragraphs kept", "<p>One.</p><p>Two.</p>", "One.\n\nTwo."),
    ("inline markup flattened", "<p>A <b>bold</b> <a href='x'>link</a>.</p>", "A bold link."),
    ("script dropped", "<p>Text</p><script>alert('x')</script>", "Text"),
    ("style dropped", "<style>p{color:red}</style><p>Text</p>", "Text"),
    ("nav and aside dropped", "<nav>Home | World</nav><p>Story</p><aside>Related</aside>", "Story"),
    ("br is a line break", "<p>Line one<br>Line two</p>", "Line one\nLine two"),
    ("entities decoded", "<p>AT&amp;T &lt;3 caf&eacute;</p>", "AT&T <3 café"),
    ("source whitespace collapsed", "<p>Lots   of\n\n   space</p>", "Lots of space"),
    ("plain text passes", "Just text", "Just text"),
    ("nested blocks", "<div><div><p>Deep</p></div>tail</div>", "Deep\n\ntail"),
    ("list items", "<ul><li>a</li><li>b</li></ul>", "a\n\nb"),
    ("empty", "", ""),
    ("nested dropped elements", "<form><button>Go</button><p>In form</p></form><p>Text</p>", "Text"),
    ("boilerplate line dropped", "<p>Text</p><p>Advertisement</p>", "Text"),
    ("widget dropped", '<p>Text</p><div class="share-tools"><a href="x">Share</a></div>', "Text"),
]


@pytest.mark.parametrize(("name", "html", "expected"), TEXT_CASES, ids=[c[0] for c in TEXT_CASES])
def test_html_to_text(name: str, html: str, expected: str) -> None:
    assert html_to_text(html) == expected


SANITIZE_CASES = [
    ("script removed", "<p>ok</p><script>alert(1)</script>", "<script"),
    ("event handler removed", '<img src="https://x.org/a.png" onerror="alert(1)">', "onerror"),
    ("javascript link removed", '<a href="javascript:alert(1)">x</a>', "javascript:"),
    ("data link removed", '<a href="data:text/html,x">x</a>', "data:"),
]


@pytest.mark.parametrize(("name", "html", "forbidden"), SANITIZE_CASES, ids=[c[0] for c in SANITIZE_CASES])
def test_sanitize_html_removes_dangerous_markup(name: str, html: str, forbidden: str) -> None:
    assert forbidden not in sanitize_html(html)


def test_sanitize_keeps_safe_links() -> None:
    cleaned = sanitize_html('<p><a href="https://example.org/a">story</a></p>')
    assert 'href="https://example.org/a"' in cleaned
    assert "<p>" in cleaned


NORMALIZE_CASES = [
    ("NUL removed", "a\x00b", "ab"),
    ("controls removed", "a\x07b\x1bc", "abc"),
    ("zero-width space removed", "cease\u200bfire", "ceasefire"),
    ("CRLF to LF", "a\r\nb", "a\nb"),
    ("NFC composed", "cafe\u0301", "café"),
    ("blank lines collapsed", "a\n\n\n\nb", "a\n\nb"),
]


@pytest.mark.parametrize(("name", "raw", "expected"), NORMALIZE_CASES, ids=[c[0] for c in NORMALIZE_CASES])
def test_normalize_text(name: str, raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_single_line() -> None:
    assert single_line("  Title\n  on two lines ") == "Title on two lines"


def test_summarize_keeps_whole_paragraphs_within_the_limit() -> None:
    text = "First paragraph.\n\nSecond paragraph.\n\n" + "x " * 400
    assert summarize(text, 60) == "First paragraph.\n\nSecond paragraph."


def test_summarize_cuts_a_long_first_paragraph_at_a_word() -> None:
    summary = summarize("word " * 200, 50)
    assert len(summary) <= 51
    assert summary.endswith("…")
    assert "wor…" not in summary
