"""`newsflow alerts check FILE` (newsflow/alerts_cmd.py): exit 0 with a summary, or exit 2
with one line naming file, rule and reason — never a traceback, whatever the file holds."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsflow.alerts_cmd import add_commands

EXAMPLE = (Path(__file__).parents[1] / "fixtures" / "alerts-example.yaml").read_text("utf-8")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="newsflow")
    add_commands(root.add_subparsers(dest="command", required=True))
    return root


def check(*argv: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    args = parser().parse_args(["alerts", "check", *argv])
    out, err = io.StringIO(), io.StringIO()
    code: int = args.run(args, out, err, environ if environ is not None else {})
    return code, out.getvalue(), err.getvalue()


def written(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "alerts.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_valid_file_exits_0_with_a_summary(tmp_path: Path) -> None:
    file = written(tmp_path, EXAMPLE)
    assert check(file) == (0, f"{file}: 2 rules, 2 channels\n", "")


def test_singular_counts(tmp_path: Path) -> None:
    file = written(tmp_path, "rules: [{name: a, match: x}]\n")
    assert check(file) == (0, f"{file}: 1 rule, 0 channels\n", "")


BAD = [
    # (case, file contents or None for a missing file, text expected in the error line)
    ("missing file", None, "cannot read alert rules"),
    ("YAML syntax error", "rules:\n  - name: a\n    match: 'unclosed\n", "line "),
    ("impossible date", "rules: [{name: a, match: x, digest: 2026-13-01}]\n", "invalid YAML"),
    ("not UTF-8", b"\xff\xfe\x00rules", "invalid YAML"),
    ("empty file", "", "top level must be a mapping"),
    (
        "bad rule",
        EXAMPLE.replace("aleppo AND ceasefire", "aleppo AND"),
        "rules[0] (aleppo-ceasefire): match:",
    ),
    (
        "unknown channel",
        EXAMPLE.replace("[ops]", "[pager]"),
        "rules[1] (aleppo-spike): notify: unknown channel",
    ),
    ("factor", EXAMPLE.replace("factor: 3", "factor: 1"), "rules[1] (aleppo-spike): spike.factor: must be"),
    ("python tag", "rules: !!python/object/apply:os.system [echo]\n", "invalid YAML"),
]


@pytest.mark.parametrize(("case", "content", "message"), BAD, ids=[c[0] for c in BAD])
def test_a_bad_file_exits_2_with_one_line_naming_it(
    tmp_path: Path, case: str, content: str | bytes | None, message: str
) -> None:
    file = written(tmp_path, content) if content is not None else str(tmp_path / "missing.yaml")
    code, out, err = check(file)
    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert line.startswith(f"{file}: ") and message in line, line


def test_env_checks_the_channel_variables(tmp_path: Path) -> None:
    file = written(tmp_path, EXAMPLE)
    code, _, err = check(file, "--env", environ={"NEWSFLOW_OPS_SECRET": "s"})
    assert (
        code == 2 and "channels.newsroom: url_env: environment variable NEWSFLOW_SLACK_URL is not set" in err
    )
    environ = {"NEWSFLOW_OPS_SECRET": "s", "NEWSFLOW_SLACK_URL": "https://hooks.slack.com/services/T/B/X"}
    assert check(file, "--env", environ=environ)[0] == 0


def test_alerts_without_an_action_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as caught:
        parser().parse_args(["alerts"])
    assert caught.value.code == 2


def test_the_command_is_described_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["alerts", "check", "--help"])
    text = capsys.readouterr().out
    assert "FILE" in text and "--env" in text


YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
RULE_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(max_size=8) | st.integers(),
        "match": st.text(max_size=20) | YAML_VALUES,
        "spike": st.dictionaries(
            st.sampled_from(["topic", "window", "baseline", "factor", "min_count"]), YAML_VALUES
        ),
        "notify": YAML_VALUES,
        "quiet_hours": YAML_VALUES,
        "rate_limit": YAML_VALUES,
        "digest": YAML_VALUES,
        "escalate_sources": YAML_VALUES,
    },
)
DOCUMENTS = (
    st.fixed_dictionaries(
        {}, optional={"rules": st.lists(RULE_LIKE, max_size=3) | YAML_VALUES, "channels": YAML_VALUES}
    )
    | YAML_VALUES
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=DOCUMENTS)
def test_never_a_traceback(tmp_path: Path, document: object) -> None:
    file = written(tmp_path, yaml.safe_dump(document, allow_unicode=True))
    code, out, err = check(file)
    assert code in (0, 2)
    assert (len(out.splitlines()), len(err.splitlines())) == ((1, 0) if code == 0 else (0, 1))
