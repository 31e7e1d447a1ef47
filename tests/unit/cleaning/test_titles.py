"""Titles: one line, without the site name a feed appends."""

import pytest

from pipeline.cleaning.titles import clean_title

BBC = "https://www.bbc.co.uk/news/world-middle-east-1"
CASES = [
    pytest.param(
        "Obama admits gun laws frustrate him - BBC News",
        "BBC News - World",
        BBC,
        "Obama admits gun laws frustrate him",
        id="BBC suffix matching the feed title's first segment",
    ),
    pytest.param(
        "Markets rally | Reuters",
        None,
        "https://www.reuters.com/markets/x",
        "Markets rally",
        id="suffix spelling the host",
    ),
    pytest.param(
        "Markets rally – The Guardian",
        None,
        "https://www.theguardian.com/x",
        "Markets rally",
        id="en dash, multi-word site name squashed to the host label",
    ),
    pytest.param(
        "Markets rally — Le Monde",
        "Le Monde.fr - Actualités",
        "https://www.lemonde.fr/x",
        "Markets rally",
        id="em dash, feed title with its own suffix",
    ),
    pytest.param(
        "Spurs 2-1 Arsenal - BBC Sport",
        "BBC Sport - Football",
        "https://www.bbc.co.uk/sport/x",
        "Spurs 2-1 Arsenal",
        id="hyphen inside the headline kept",
    ),
    pytest.param(
        "Ceasefire holds - for now",
        "BBC News - World",
        BBC,
        "Ceasefire holds - for now",
        id="a dash that is part of the headline",
    ),
    pytest.param(
        "Review: Hamlet – a triumph",
        "The Stage",
        "https://www.thestage.co.uk/x",
        "Review: Hamlet – a triumph",
        id="suffix naming neither feed nor host",
    ),
    pytest.param("BBC News", "BBC News", BBC, "BBC News", id="a title that is only the site name stays"),
    pytest.param("A - B - BBC", None, BBC, "A - B", id="only the last segment goes"),
    pytest.param("Title :: Example Daily", "Example Daily", None, "Title", id="double-colon separator"),
    pytest.param("  Multi\n line\ttitle  ", None, None, "Multi line title", id="one line, single spaces"),
    pytest.param(
        "Title - News",
        None,
        "https://news.example.org/x",
        "Title - News",
        id="generic host labels never count",
    ),
    pytest.param("Aid arrives -BBC", None, BBC, "Aid arrives -BBC", id="no spaced separator"),
    pytest.param(
        "Putin and Xi meet - Times change",
        None,
        "https://time.com/x",
        "Putin and Xi meet - Times change",
        id="a word that merely starts with the host label stays",
    ),
    pytest.param(
        "Rates rise - Reuters World",
        None,
        "https://www.reuters.com/x",
        "Rates rise",
        id="host label plus a section word",
    ),
]


@pytest.mark.parametrize(("title", "source", "url", "expected"), CASES)
def test_clean_title(title: str, source: str | None, url: str | None, expected: str) -> None:
    assert clean_title(title, source, url) == expected
