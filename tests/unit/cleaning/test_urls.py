import pytest

from pipeline.cleaning.urls import canonical_url, safe_http_url

CASES = [
    (
        "lower-cases scheme and host",
        "HTTPS://WWW.Example.ORG/World/Story",
        "https://www.example.org/World/Story",
    ),
    ("drops the fragment", "https://example.org/a#comments", "https://example.org/a"),
    ("drops default https port", "https://example.org:443/a", "https://example.org/a"),
    ("drops default http port", "http://example.org:80/a", "http://example.org/a"),
    ("keeps other ports", "http://example.org:8080/a", "http://example.org:8080/a"),
    ("removes utm_*", "https://example.org/a?utm_source=rss&utm_medium=feed", "https://example.org/a"),
    (
        "keeps meaningful params in order",
        "https://example.org/a?id=7&utm_campaign=x&page=2",
        "https://example.org/a?id=7&page=2",
    ),
    ("removes click ids", "https://example.org/a?fbclid=abc&gclid=def&msclkid=1", "https://example.org/a"),
    (
        "removes BBC at_ params",
        "https://www.bbc.co.uk/news/x?at_medium=RSS&at_campaign=rss",
        "https://www.bbc.co.uk/news/x",
    ),
    ("case-insensitive param names", "https://example.org/a?UTM_Source=x&q=1", "https://example.org/a?q=1"),
    ("empty path becomes /", "https://example.org", "https://example.org/"),
    ("trailing dot in host", "https://example.org./a", "https://example.org/a"),
    ("surrounding whitespace", "  https://example.org/a \n", "https://example.org/a"),
    ("ipv6 host", "http://[2001:db8::1]:8080/a", "http://[2001:db8::1]:8080/a"),
]


@pytest.mark.parametrize(("name", "url", "expected"), CASES, ids=[c[0] for c in CASES])
def test_canonical_url(name: str, url: str, expected: str) -> None:
    assert canonical_url(url) == expected


REJECTED = [
    ("javascript scheme", "javascript:alert(1)"),
    ("data scheme", "data:text/html,<script>alert(1)</script>"),
    ("ftp scheme", "ftp://example.org/a"),
    ("no host", "https:///path"),
    ("relative", "/news/a"),
    ("empty", ""),
    ("none", None),
    ("bad port", "http://example.org:99999/a"),
]


@pytest.mark.parametrize(("name", "url"), REJECTED, ids=[c[0] for c in REJECTED])
def test_only_http_urls_survive(name: str, url: str | None) -> None:
    assert canonical_url(url) is None


def test_safe_http_url_keeps_the_original_form() -> None:
    assert safe_http_url(" https://Example.org/a?utm_source=x ") == "https://Example.org/a?utm_source=x"
    assert safe_http_url("javascript:alert(1)") is None
