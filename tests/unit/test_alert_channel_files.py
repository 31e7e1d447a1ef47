"""Alert channel secrets from files: ``<VAR>_FILE`` stands for ``<VAR>`` (Docker secrets), as
for settings; errors name the variable and path, never the content."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.alerting.channels import Channel, ChannelTarget, resolve_channels
from pipeline.errors import ConfigError

SOURCE = "alerts.yaml"
SECRET = "whsec-never-in-messages"
SLACK = "https://hooks.slack.com/services/T0/B0/never-in-messages"
CHANNELS = (
    Channel(name="ops", type="webhook", url="https://h.example.org/x", secret_env="OPS_SECRET"),
    Channel(name="news", type="slack", url_env="SLACK_URL"),
)


def file_with(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_url_and_secret_from_files(tmp_path: Path) -> None:
    environ = {
        "OPS_SECRET_FILE": file_with(tmp_path, "secret", SECRET + "\n"),
        "SLACK_URL_FILE": file_with(tmp_path, "url", SLACK + "\n"),
    }
    targets = resolve_channels(CHANNELS, environ, SOURCE)
    assert targets["ops"] == ChannelTarget("ops", "webhook", "https://h.example.org/x", SECRET)
    assert targets["news"] == ChannelTarget("news", "slack", SLACK, None)


def test_variables_still_work_without_files() -> None:
    targets = resolve_channels(CHANNELS, {"OPS_SECRET": SECRET, "SLACK_URL": SLACK}, SOURCE)
    assert targets["ops"].secret == SECRET


ERRORS = [
    (
        "both set",
        {"OPS_SECRET": "a", "OPS_SECRET_FILE": "secret", "SLACK_URL": SLACK},
        "alerts.yaml: channels.ops: secret_env: both OPS_SECRET and OPS_SECRET_FILE are set; set only one",
    ),
    (
        "file missing",
        {"OPS_SECRET_FILE": "absent", "SLACK_URL": SLACK},
        "alerts.yaml: channels.ops: secret_env: OPS_SECRET_FILE: cannot read",
    ),
    (
        "empty file",
        {"OPS_SECRET_FILE": "empty", "SLACK_URL": SLACK},
        "alerts.yaml: channels.ops: secret_env: OPS_SECRET_FILE:",
    ),
    (
        "url file not http",
        {"OPS_SECRET": "a", "SLACK_URL_FILE": "not-http"},
        "alerts.yaml: channels.news: url_env: SLACK_URL is not an http(s) URL",
    ),
    (
        "neither",
        {"SLACK_URL": SLACK},
        "channels.ops: secret_env: environment variable OPS_SECRET is not set (nor OPS_SECRET_FILE)",
    ),
]


@pytest.mark.parametrize(("case", "environ", "message"), ERRORS, ids=[c[0] for c in ERRORS])
def test_file_errors_name_variable_and_path_never_content(
    tmp_path: Path, case: str, environ: dict[str, str], message: str
) -> None:
    file_with(tmp_path, "secret", SECRET)
    file_with(tmp_path, "empty", "\n")
    file_with(tmp_path, "not-http", f"file:///{SECRET}")
    paths = {
        name: str(tmp_path / value) if name.endswith("_FILE") else value for name, value in environ.items()
    }
    with pytest.raises(ConfigError) as caught:
        resolve_channels(CHANNELS, paths, SOURCE)
    shown = str(caught.value)
    assert message in shown
    if case == "file missing":
        assert str(tmp_path / "absent") in shown  # the path, so the operator can look
    assert SECRET not in shown
    assert "\n" not in shown
