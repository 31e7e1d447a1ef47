"""`newsflow eval places`: gazetteer precision and recall on ``place_labels.yaml`` (hand labels of
every candidate mention in a fixed sample of the shared datasets; guideline and sampling in its
header). An accepted mention is correct when labelled a place of the same country, else wrong.

Documents are re-read from the data folder as (title, text), NFKC-normalised as Mention's
offsets are; paragraphs whitespace-collapsed and joined by a blank line:
- BBC ``datasets/bbc-news/bbc/<category>/<n>.txt`` (UTF-8, else Latin-1): first line; the rest;
- Reuters ``datasets/reuters-21578-sample/<file>.sgm#<NEWID>``: ``<TITLE>``; ``<BODY>``, entities
  resolved, control characters dropped, a paragraph starting at each indented line;
- AG News ``datasets/ag-news-test/test.csv#<row>`` (1-based): column 2; column 3 with
  backslashes (escaped newlines) as spaces.
"""

from __future__ import annotations

import csv
import html
import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from newsflow.evaluation import DataMissing, _decode
from pipeline.matching import Tokenized
from pipeline.places import load_gazetteer
from pipeline.places.gazetteer import Gazetteer

MIN_POPULATION = 50_000  # the gazetteer the labels were drawn against
TARGET = 0.95
CONTEXT = 50  # characters either side in error lists
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_STORY = re.compile(r'<REUTERS\b[^>]*NEWID="(\d+)"[^>]*>(.*?)</REUTERS>', re.S)


@dataclass(frozen=True)
class Label:
    doc: str
    field: str
    start: int
    stop: int
    written: str
    place: bool
    country: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Error:
    doc: str
    field: str
    written: str
    context: str
    system: str  # "<country> <place>" taken, or "rejected"
    label: str  # country code, "not a place" or "unlabelled", and the label's note

    def __str__(self) -> str:
        where = f"  {self.doc} {self.field}: {self.written!r}"
        return f"{where} system={self.system} label={self.label}\n    {self.context}"


@dataclass
class PlaceReport:
    documents: int
    candidates: int
    labelled_places: int
    accepted: int
    correct: int
    errors: list[Error] = field(default_factory=list)  # accepted but wrong
    missed: list[Error] = field(default_factory=list)  # labelled places the system rejected
    unlabelled: list[Error] = field(default_factory=list)  # candidates without a label
    stale: list[Error] = field(default_factory=list)  # labels that match no candidate
    held_out: PlaceReport | None = None  # the same, for the documents labelled blind only

    @property
    def precision(self) -> float:
        return self.correct / self.accepted if self.accepted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.labelled_places if self.labelled_places else 1.0

    @property
    def met(self) -> bool:
        return self.precision >= TARGET

    def to_dict(self) -> dict[str, Any]:
        figures = {"precision": self.precision, "recall": self.recall, "met": self.met}
        return {**asdict(self), **figures, "held_out": self.held_out.to_dict() if self.held_out else None}


def _paragraphs(blocks: list[str]) -> str:
    return "\n\n".join(p for p in (" ".join(b.split()) for b in blocks) if p)


@cache
def _sgml_stories(path: Path) -> dict[str, tuple[str, str]]:
    stories = {}
    for story in _STORY.finditer(path.read_text("latin-1")):  # ASCII but one stray byte
        parts = [re.search(rf"<{tag}>(.*?)</{tag}>", story.group(2), re.S) for tag in ("TITLE", "BODY")]
        title, body = (_CONTROL.sub("", html.unescape(p.group(1))) if p else "" for p in parts)
        stories[story.group(1)] = (" ".join(title.split()), _paragraphs(re.split(r"\n(?=[ \t])", body)))
    return stories


@cache
def _csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(path.read_text(encoding="utf-8").splitlines()))  # no newline in a field


def read_document(data_dir: Path, doc: str) -> tuple[str, str]:
    """(title, text) of a document named as in the labels; see the module docstring."""
    name, _, item = doc.partition("#")
    path = data_dir / name
    if not path.is_file():
        raise DataMissing(f"no dataset file {path} (set --data or NEWSFLOW_DATA)")
    if name.endswith(".txt"):
        title, _, body = _decode(path.read_bytes()).partition("\n")
        title, text = title.strip(), _paragraphs(re.split(r"\n\s*\n", body))
    elif name.endswith(".sgm"):
        title, text = _sgml_stories(path)[item]
    else:
        row = _csv_rows(path)[int(item) - 1]
        title, text = row[1], " ".join(row[2].replace("\\", " ").split())
    return unicodedata.normalize("NFKC", title), unicodedata.normalize("NFKC", text)


def load_labels(path: Path | None = None) -> tuple[list[str], list[Label]]:
    """The sampled documents (also those without candidates) and the labels."""
    data = _labels_file(path)
    return list(data["documents"]), [Label(**entry) for entry in data["labels"]]


def held_out_documents(path: Path | None = None) -> list[str]:
    """The documents labelled blind, after the rules were written (see the file's header)."""
    return list(_labels_file(path).get("held_out") or [])


def _labels_file(path: Path | None) -> dict[str, Any]:
    data = yaml.safe_load((path or files("newsflow") / "place_labels.yaml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def evaluate(
    data_dir: Path, documents: list[str], labels: list[Label], gazetteer: Gazetteer | None = None
) -> PlaceReport:
    """Compare the gazetteer's verdicts on every sampled document with the labels."""
    gazetteer = gazetteer or load_gazetteer(MIN_POPULATION)
    by_span = {(lab.doc, lab.field, lab.start, lab.stop): lab for lab in labels}
    report = PlaceReport(len(documents), 0, sum(lab.place for lab in labels), 0, 0)
    seen: set[tuple[str, str, int, int]] = set()
    for doc in documents:  # a label of a document not listed shows as stale
        title, text = read_document(data_dir, doc)
        fields = {"title": title, "text": text}
        for mention in gazetteer.mentions({"title": Tokenized.of(title), "text": Tokenized.of(text)}):
            key = (doc, mention.field, mention.start, mention.stop)
            label, taken = by_span.get(key), mention.place
            seen.add(key)
            context = _context(fields[mention.field], mention.start, mention.stop)
            said = f"{taken.country} {taken.name}" if taken else "rejected"
            error = Error(doc, mention.field, mention.written, context, said, _truth(label))
            if label is None:
                report.unlabelled.append(error)
            if taken is not None:
                report.accepted += 1
                if label is not None and label.place and label.country == taken.country:
                    report.correct += 1
                else:
                    report.errors.append(error)
            elif label is not None and label.place:
                report.missed.append(error)
    for lab in (lab for key, lab in by_span.items() if key not in seen):
        where = f"at {lab.start}-{lab.stop}"
        report.stale.append(Error(lab.doc, lab.field, lab.written, where, "no candidate", _truth(lab)))
    report.candidates = len(seen)  # every (document, field, span) once
    return report


def _context(text: str, a: int, b: int) -> str:
    return " ".join(f"{text[max(0, a - CONTEXT) : a]}[{text[a:b]}]{text[b : b + CONTEXT]}".split())


def _truth(label: Label | None) -> str:
    what = "unlabelled" if label is None else label.country if label.place else "not a place"
    return f"{what} ({label.note})" if label and label.note else str(what)


def run_eval(data_dir: Path) -> PlaceReport:
    if not (data_dir / "datasets").is_dir():
        raise DataMissing(f"no datasets folder at {data_dir} (set --data or NEWSFLOW_DATA)")
    documents, labels = load_labels()
    report = evaluate(data_dir, documents, labels)
    held_out = set(held_out_documents())
    if held_out:
        kept = [doc for doc in documents if doc in held_out]
        report.held_out = evaluate(data_dir, kept, [lab for lab in labels if lab.doc in held_out])
    return report


def _held_out_line(report: PlaceReport) -> list[str]:
    return [
        f"of which held out (labelled blind, {report.documents} documents): precision "
        f"{report.precision:.3f} ({report.correct}/{report.accepted}), recall {report.recall:.3f} "
        f"({report.correct}/{report.labelled_places})"
    ]


def render(report: PlaceReport) -> str:
    r = report
    lines = [
        f"place evaluation: {r.documents} documents, {r.candidates} candidates, {r.accepted} accepted",
        f"precision {r.precision:.3f} ({r.correct}/{r.accepted}), "
        f"recall {r.recall:.3f} ({r.correct}/{r.labelled_places} labelled places)",
        *(_held_out_line(r.held_out) if r.held_out else []),
        "\nwrong, by label:",
        *(f"  {count:4d}  {label}" for label, count in Counter(e.label for e in r.errors).most_common()),
    ]
    sections = {"wrong": r.errors, "missed": r.missed, "unlabelled": r.unlabelled, "stale labels": r.stale}
    for title, errors in sections.items():
        lines += [f"\n{title} ({len(errors)}):", *map(str, errors)] if errors else []
    return "\n".join([*lines, f"\nprecision target {TARGET:.2f}: {'met' if r.met else 'NOT met'}"])
