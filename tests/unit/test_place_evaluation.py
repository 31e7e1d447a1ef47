"""`newsflow eval places`: the precision/recall arithmetic and the document readers on small
hand-made files; the real figures on the labelled sample when the shared data is there."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import cast

import pytest

from newsflow import evaluation, evaluation_places
from newsflow.evaluation_places import Label, PlaceReport, evaluate, load_labels, read_document, render
from pipeline.matching import FieldName, Tokenized
from pipeline.places.data import Place
from pipeline.places.gazetteer import Gazetteer, Mention

ROOT = Path(__file__).parents[2]
SHARED = evaluation.default_data_dir()
DOC = "datasets/bbc-news/bbc/world/001.txt"
TEXT = "Talks in Paris and Lyon went well. Jordan Smith spoke of Nice, France, and of Georgia."


def place(name: str, country: str) -> Place:
    return Place(1, name, country, 100_000, False)


# What the stand-in gazetteer says for each word of TEXT (None: rejected).
VERDICTS: dict[str, Place | None] = {
    "Paris": place("Paris", "FR"),
    "Lyon": place("Lyon", "FR"),
    "Jordan": place("Jordan", "JO"),  # wrong: a person
    "Nice": None,  # missed
    "France": place("France", "FR"),  # accepted without a label: wrong and reported
    "Georgia": place("Georgia", "GE"),  # wrong country: the label says the US state
}


class StandIn:
    """A gazetteer whose candidates and verdicts are VERDICTS, found in the text field."""

    def mentions(self, fields: Mapping[FieldName, Tokenized]) -> list[Mention]:
        text = fields["text"].text
        return [
            Mention("text", text.index(word), text.index(word) + len(word), word, verdict)
            for word, verdict in VERDICTS.items()
        ]


def label(word: str, is_place: bool, country: str | None = None, start: int | None = None) -> Label:
    at = TEXT.index(word) if start is None else start
    return Label(DOC, "text", at, at + len(word), word, is_place, country)


LABELS = [
    label("Paris", True, "FR"),
    label("Lyon", True, "FR"),
    label("Jordan", False),
    label("Nice", True, "FR"),
    label("Georgia", True, "US"),
    label("Talks", False),  # no such candidate: a stale label
]


@pytest.fixture
def tiny_report(tmp_path: Path) -> PlaceReport:
    path = tmp_path / DOC
    path.parent.mkdir(parents=True)
    path.write_text(f"Tiny world news\n\n{TEXT}\n", encoding="utf-8")
    return evaluate(tmp_path, [DOC], LABELS, cast(Gazetteer, StandIn()))


def test_precision_counts_every_accepted_mention(tiny_report: PlaceReport) -> None:
    assert (tiny_report.candidates, tiny_report.accepted, tiny_report.correct) == (6, 5, 2)
    assert tiny_report.labelled_places == 4
    assert tiny_report.precision == pytest.approx(2 / 5)
    assert tiny_report.recall == pytest.approx(2 / 4)
    assert not tiny_report.met


def test_errors_say_what_the_system_and_the_label_said(tiny_report: PlaceReport) -> None:
    wrong = {e.written: (e.system, e.label) for e in tiny_report.errors}
    assert wrong == {
        "Jordan": ("JO Jordan", "not a place"),
        "France": ("FR France", "unlabelled"),
        "Georgia": ("GE Georgia", "US"),
    }
    assert [e.written for e in tiny_report.missed] == ["Nice"]
    assert [e.written for e in tiny_report.unlabelled] == ["France"]
    assert [e.written for e in tiny_report.stale] == ["Talks"]
    assert "[Jordan]" in tiny_report.errors[0].context


def test_report_renders_and_serialises(tiny_report: PlaceReport) -> None:
    text = render(tiny_report)
    assert "precision 0.400 (2/5)" in text and "NOT met" in text and "Georgia" in text
    data = json.loads(json.dumps(tiny_report.to_dict()))
    assert data["precision"] == pytest.approx(0.4) and data["met"] is False
    assert data["errors"][0]["written"] == "Jordan"


def test_documents_are_read_as_the_labels_offsets_assume(tmp_path: Path) -> None:
    bbc = tmp_path / "datasets" / "bbc-news" / "bbc" / "sport" / "001.txt"
    bbc.parent.mkdir(parents=True)
    bbc.write_bytes("Title here\n\nFirst  para\nwraps.\n\n\nCost \xa3500 in Paris.\n".encode("latin-1"))
    assert read_document(tmp_path, "datasets/bbc-news/bbc/sport/001.txt") == (
        "Title here",
        "First para wraps.\n\nCost £500 in Paris.",
    )
    reuters = tmp_path / "datasets" / "reuters-21578-sample" / "reut2-000.sgm"
    reuters.parent.mkdir(parents=True)
    story = '<REUTERS NEWID="7"><TEXT><TITLE>A &amp; B</TITLE><BODY>One\nline.\n    Two &lt;x&gt;\x03</BODY>'
    reuters.write_text(story + "</TEXT></REUTERS>", encoding="latin-1")
    assert read_document(tmp_path, "datasets/reuters-21578-sample/reut2-000.sgm#7") == (
        "A & B",
        "One line.\n\nTwo <x>",
    )
    ag = tmp_path / "datasets" / "ag-news-test" / "test.csv"
    ag.parent.mkdir(parents=True)
    ag.write_text('"1","Head","Body\\first  line\\second"\n"2","Other","Two"\n', encoding="utf-8")
    assert read_document(tmp_path, "datasets/ag-news-test/test.csv#2") == ("Other", "Two")
    assert read_document(tmp_path, "datasets/ag-news-test/test.csv#1") == ("Head", "Body first line second")


def test_the_labels_file_is_well_formed() -> None:
    documents, labels = load_labels()
    assert len(documents) == len(set(documents)) >= 100
    assert {lab.doc for lab in labels} <= set(documents)
    spans = {(lab.doc, lab.field, lab.start, lab.stop) for lab in labels}
    assert len(spans) == len(labels)
    for lab in labels:
        assert lab.field in ("title", "text") and lab.stop > lab.start
        assert (lab.country is not None) == lab.place, lab
        assert lab.country is None or (len(lab.country) == 2 and lab.country.isupper()), lab


def test_missing_data_exits_1_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "newsflow", "eval", "places", "--data", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("newsflow eval places: ")
    assert str(tmp_path / "nowhere") in lines[0]


# --- the real figures (the acceptance), when the shared data is there ---------------

needs_shared_data = pytest.mark.skipif(
    not (SHARED / "datasets" / "bbc-news" / "bbc").is_dir(),
    reason=f"shared data not found at {SHARED} (set NEWSFLOW_DATA)",
)


@pytest.fixture(scope="module")
def shared_report() -> PlaceReport:
    return evaluation_places.run_eval(SHARED)


@needs_shared_data
def test_shared_labels_cover_every_candidate(shared_report: PlaceReport) -> None:
    assert shared_report.unlabelled == [], [str(e) for e in shared_report.unlabelled[:5]]
    # Labels whose span is no longer a candidate (the matcher changed) are allowed: a place
    # among them counts as missed in the recall, a non-place cannot be accepted any more.
    assert shared_report.labelled_places >= 200


@needs_shared_data
@pytest.mark.xfail(
    strict=True,
    reason="issue 6 target not met: precision 0.929 (392/422) on the 200 labelled documents "
    "(0.952 on the 150 the rules were tuned on, 0.862 on the 50 labelled blind); the remaining "
    "errors are listed by `newsflow eval places` (stadiums, teams, organisations, same-name "
    "places). Strict: the mark must go when the target is reached.",
)
def test_shared_precision_target(shared_report: PlaceReport) -> None:
    assert shared_report.precision >= evaluation_places.TARGET, render(shared_report)[:3000]


@needs_shared_data
def test_shared_precision_does_not_fall_below_what_was_measured(shared_report: PlaceReport) -> None:
    # A floor at the figure measured when the rules were last changed (0.929): a change that
    # makes places worse fails here even while the 0.95 target above is not met.
    assert shared_report.precision >= 0.92, render(shared_report)[:3000]


@needs_shared_data
def test_shared_held_out_documents_are_reported_on_their_own(shared_report: PlaceReport) -> None:
    held_out = shared_report.held_out
    assert held_out is not None and held_out.documents == 50
    assert held_out.labelled_places < shared_report.labelled_places
    assert "of which held out" in render(shared_report)
    # Measured 0.862 when round 3 was labelled; the rules were not tuned on it.
    assert held_out.precision >= 0.85, render(held_out)[:3000]
