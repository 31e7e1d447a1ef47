"""`newsflow taxonomy diff OLD NEW SOURCE...`: exact gains and losses, output, exit codes.

Fixtures in tests/fixtures/taxonomy-diff/: old.yaml and one variant per kind of change, a feed of
five articles (one of them twice) and a news.articles export (two articles, two bad records).
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from newsflow.cli import main
from newsflow.taxonomy_diff import is_export

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "taxonomy-diff"
OLD, NEW, FEED, EXPORT = (
    str(FIXTURES / name) for name in ("old.yaml", "new.yaml", "feed.xml", "export.jsonl")
)

TRUCE = "Truce holds in Aleppo"
ARMISTICE = "Armistice talks resume in Halab"
TREMOR = "Strong tremor shakes coastal towns"
DERBY = "Aleppo derby goes ahead despite ceasefire curfew"
MARKETS = "Markets close higher"
SHELLING = "Shelling resumes in Halab"  # only in the export

NO_TAXONOMY_CHANGE: dict[str, Any] = {"added": [], "removed": [], "renamed": [], "changed": []}


def topic_change(
    name: str, added: list[str] | None = None, removed: list[str] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "terms_added": added or [],
        "terms_removed": removed or [],
        "query": None,
        "options": {},
    }


# (case, NEW file, {title: (gained, lost)}, taxonomy summary)
CASES: list[tuple[str, str, dict[str, tuple[list[str], list[str]]], dict[str, Any]]] = [
    (
        "term added",
        "term-added.yaml",
        {ARMISTICE: (["ceasefire"], [])},
        {**NO_TAXONOMY_CHANGE, "changed": [topic_change("ceasefire", added=["armistice"])]},
    ),
    (
        "term removed",
        "term-removed.yaml",
        {TRUCE: ([], ["aleppo-ceasefire", "ceasefire"])},  # the query rule falls with its operand
        {**NO_TAXONOMY_CHANGE, "changed": [topic_change("ceasefire", removed=["truce"])]},
    ),
    (
        "topic renamed",
        "renamed.yaml",
        {TREMOR: (["earthquake"], ["quake"])},
        {**NO_TAXONOMY_CHANGE, "renamed": [{"from": "quake", "to": "earthquake"}]},
    ),
    (
        "query rule changed",
        "query-changed.yaml",
        {DERBY: ([], ["aleppo-ceasefire"])},
        {
            **NO_TAXONOMY_CHANGE,
            "changed": [
                {
                    **topic_change("aleppo-ceasefire"),
                    "query": {"old": "aleppo AND ceasefire", "new": "aleppo AND ceasefire AND NOT sport"},
                }
            ],
        },
    ),
    ("no change", "old.yaml", {}, NO_TAXONOMY_CHANGE),
    (
        "all at once",
        "new.yaml",
        {
            TRUCE: ([], ["aleppo-ceasefire", "ceasefire"]),
            ARMISTICE: (["aleppo", "aleppo-ceasefire", "ceasefire"], []),
            TREMOR: (["earthquake"], ["quake"]),
            DERBY: ([], ["aleppo-ceasefire"]),
            MARKETS: (["markets"], []),
        },
        {
            "added": ["markets"],
            "removed": [],
            "renamed": [{"from": "quake", "to": "earthquake"}],
            "changed": [
                topic_change("aleppo", added=["Halab"]),
                {
                    **topic_change("aleppo-ceasefire"),
                    "query": {"old": "aleppo AND ceasefire", "new": "aleppo AND ceasefire AND NOT sport"},
                },
                topic_change("ceasefire", added=["armistice"], removed=["truce"]),
            ],
        },
    ),
]


@pytest.fixture(autouse=True)
def _no_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NEWSFLOW_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./newsflow.yaml: built-in defaults, as on a fresh checkout


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["taxonomy", "diff", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run(capsys, *args, "--json")
    return code, json.loads(out), err


def changes_by_title(report: dict[str, Any]) -> dict[str, tuple[list[str], list[str]]]:
    return {
        article["title"]: (
            [tag["name"] for tag in article["gained"]],
            [tag["name"] for tag in article["lost"]],
        )
        for article in report["articles"]
    }


@pytest.mark.parametrize(("case", "new", "expected", "taxonomy"), CASES, ids=[c[0] for c in CASES])
def test_exact_gains_and_losses(
    capsys: pytest.CaptureFixture[str],
    case: str,
    new: str,
    expected: dict[str, tuple[list[str], list[str]]],
    taxonomy: dict[str, Any],
) -> None:
    code, report, err = run_json(capsys, OLD, str(FIXTURES / new), FEED)
    assert (code, err) == (0, "")
    assert report["articles_read"] == 5  # the feed repeats one entry: counted once
    assert report["articles_changed"] == len(expected)
    assert changes_by_title(report) == expected
    assert report["taxonomy"] == taxonomy


def test_tag_summary_counts_every_article_and_ranks_by_impact(capsys: pytest.CaptureFixture[str]) -> None:
    _, report, _ = run_json(capsys, OLD, NEW, FEED, "--limit", "0")
    assert report["articles"] == []  # --limit caps the list, never the summaries
    assert [(t["name"], t["gained"], t["lost"]) for t in report["tags"]] == [
        ("aleppo-ceasefire", 1, 2),
        ("ceasefire", 1, 1),
        ("aleppo", 1, 0),
        ("earthquake", 1, 0),
        ("markets", 1, 0),
        ("quake", 0, 1),
    ]


def test_text_output_for_an_editor(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, OLD, str(FIXTURES / "renamed.yaml"), FEED)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"taxonomy diff {OLD} -> {FIXTURES / 'renamed.yaml'}",
        "articles: 5 read, 1 changed; skipped 0 malformed records, 0 unreadable sources",
        "",
        "taxonomy:",
        "  ~ quake -> earthquake  (renamed)",
        "",
        "tags (articles gaining / losing):",
        "  earthquake  +1 -0",
        "  quake       +0 -1",
        "",
        "articles (1 of 1 changed):",
        f"  1. {TREMOR}",
        "     https://diff.example/world/tremor",
        "     + earthquake  tremor@title×1, earthquake@summary×1, earthquake@text×1 (score 4)",
        "     - quake       was tremor@title×1, earthquake@summary×1, earthquake@text×1 (score 4)",
    ]


def test_text_lists_query_and_term_changes_and_lost_evidence(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, OLD, NEW, FEED, "--limit", "1")
    assert "  ~ aleppo-ceasefire: query 'aleppo AND ceasefire' -> 'aleppo AND ceasefire AND NOT sport'" in out
    assert "  ~ ceasefire: terms +armistice -truce" in out
    assert "  + markets  (new topic)" in out
    assert "articles (1 of 5 changed):" in out
    assert "     - ceasefire         was truce@title×1, truce@summary×1, truce@text×1 (score 4)" in out
    assert out.rstrip().endswith("... 4 more (raise --limit to list them)")


def test_no_changes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, OLD, OLD, FEED)
    assert (code, err) == (0, "")
    assert out.splitlines()[-4:] == [
        "taxonomy:",
        "  no changes",
        "",
        "no changes: no article gains or loses a tag",
    ]


def test_scores_only_with_the_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fewer = tmp_path / "fewer.yaml"  # quake loses "tremor": the tremor article keeps the tag, scored lower
    fewer.write_text(Path(OLD).read_text().replace("[earthquake, tremor]", "[earthquake]"), encoding="utf-8")
    _, plain, _ = run_json(capsys, OLD, str(fewer), FEED)
    assert plain["articles_changed"] == 0
    _, scored, _ = run_json(capsys, OLD, str(fewer), FEED, "--scores")
    assert [(a["title"], a["rescored"]) for a in scored["articles"]] == [
        (TREMOR, [{"name": "quake", "old": 4.0, "new": 1.0}])
    ]
    assert scored["tags"] == [{"name": "quake", "gained": 0, "lost": 0, "rescored": 1}]
    _, out, _ = run(capsys, OLD, str(fewer), FEED, "--scores")
    assert "     ~ quake  score 4 -> 1" in out.splitlines()


def test_json_document_has_stable_keys(capsys: pytest.CaptureFixture[str]) -> None:
    _, report, _ = run_json(capsys, OLD, NEW, FEED)
    assert list(report) == [
        "old",
        "new",
        "scores",
        "articles_read",
        "articles_changed",
        "failed_sources",
        "malformed_records",
        "taxonomy",
        "tags",
        "articles",
    ]
    assert (report["old"], report["new"], report["scores"]) == (OLD, NEW, False)
    assert list(report["taxonomy"]) == ["added", "removed", "renamed", "changed"]
    armistice = next(a for a in report["articles"] if a["title"] == ARMISTICE)
    assert list(armistice) == ["id", "url", "title", "gained", "lost", "rescored"]
    assert armistice["url"] == "https://diff.example/world/armistice-talks"
    assert len(armistice["id"]) == 32
    assert armistice["gained"][0] == {
        "name": "aleppo",
        "score": 3.0,
        "matches": [{"term": "Halab", "field": "title", "count": 1}],
    }


def test_broken_new_taxonomy_exits_2_naming_file_key_and_reason(capsys: pytest.CaptureFixture[str]) -> None:
    broken = str(FIXTURES / "broken.yaml")
    code, out, err = run(capsys, OLD, broken, FEED)
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        f"newsflow: config error: {broken}: topics[1] (aleppo-ceasefire): query: "
        "unexpected 'ceasefire'; missing AND/OR?"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit", "-1", OLD, NEW, FEED], "--limit must be 0 or more"),
        ([OLD, NEW], "the following arguments are required: SOURCE"),
        ([OLD, str(FIXTURES / "missing.yaml"), FEED], "cannot read taxonomy"),
    ],
    ids=["negative limit", "no source", "missing taxonomy"],
)
def test_bad_usage_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and message in err


def test_unreadable_source_exits_1_with_the_diff_of_the_others(capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(FIXTURES / "missing.xml")
    code, report, err = run_json(capsys, OLD, str(FIXTURES / "renamed.yaml"), missing, FEED)
    assert code == 1
    assert err.splitlines() == [f"newsflow: {missing}: No such file or directory"]
    assert report["failed_sources"] == [missing]
    assert report["articles_read"] == 5
    assert changes_by_title(report) == {TREMOR: (["earthquake"], ["quake"])}


EXPORT_CHANGES = {
    SHELLING: (["aleppo", "aleppo-ceasefire", "ceasefire"], []),
    TRUCE: ([], ["aleppo-ceasefire", "ceasefire"]),
}


def test_json_lines_export_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, report, err = run_json(capsys, OLD, NEW, EXPORT)
    assert code == 0  # malformed records are warned about, never fatal
    assert err.splitlines() == [
        f"newsflow: {EXPORT}:3: skipped: undecodable: not UTF-8 JSON: invalid literal, expected 'true': "
        "line 1 column 1 (char 0)",
        f"newsflow: {EXPORT}:4: skipped: not-an-article: no title and no text",
    ]
    assert (report["articles_read"], report["malformed_records"]) == (2, 2)
    assert changes_by_title(report) == EXPORT_CHANGES


def test_export_and_feed_count_an_article_once(capsys: pytest.CaptureFixture[str]) -> None:
    _, report, _ = run_json(capsys, OLD, NEW, EXPORT, FEED)
    assert report["articles_read"] == 6  # the truce article is in both
    assert [a["title"] for a in report["articles"]] == [SHELLING, TRUCE, ARMISTICE, TREMOR, DERBY, MARKETS]


def test_tail_output_and_duplicates_in_an_export(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    records = [orjson.loads(line) for line in Path(EXPORT).read_text(encoding="utf-8").splitlines()[:2]]
    copy = {**records[0], "id": "0" * 32, "duplicate_of": records[0]["id"], "duplicate_kind": "near"}
    tail = tmp_path / "tail.txt"  # what `newsflow tail` prints: indented objects, one after the other
    tail.write_text("\n".join(orjson.dumps(r, option=orjson.OPT_INDENT_2).decode() for r in [*records, copy]))
    code, report, err = run_json(capsys, OLD, NEW, str(tail))
    assert (code, err) == (0, "")
    assert (
        report["articles_read"] == 2
    )  # the duplicate, as `process --include-duplicates` prints it, is dropped
    assert changes_by_title(report) == EXPORT_CHANGES


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (EXPORT, True),
        (FEED, False),
        (str(ROOT / "tests" / "fixtures" / "feeds" / "jsonfeed-1.1.json"), False),  # JSON, but a feed
        (str(FIXTURES / "missing.jsonl"), False),  # left to the feed reader, which reports it
        ("https://example.org/export.jsonl", False),
    ],
    ids=["json lines", "rss", "json feed", "missing", "url"],
)
def test_sources_are_told_apart_by_content(source: str, expected: bool) -> None:
    assert is_export(source) is expected


def test_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "newsflow", "taxonomy", "diff", OLD, str(FIXTURES / "term-added.yaml"), FEED],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        cwd=ROOT,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert "  ceasefire  +1 -0" in result.stdout.splitlines()
    assert (
        "     + ceasefire  armistice@title×1, armistice@summary×1, armistice@text×1 (score 4)"
        in result.stdout
    )
