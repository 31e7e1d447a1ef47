"""Prometheus rules and Grafana dashboards (deploy/prometheus, deploy/grafana).

promtool (Prometheus's own parser and rule engine) checks the rules, the configuration and the
rule unit tests of deploy/prometheus/tests/; every dashboard query is parsed by it and then
evaluated against series exported by the real metrics code (pipeline/metrics.py), so a panel
that names a metric, suffix or label value the code does not export fails here. Without
promtool those tests skip, or fail when CI=true (Debian/Ubuntu: `apt-get install prometheus`).
The static checks (runbook anchors, metric catalogue, dashboard structure) need nothing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from pipeline.metrics import PipelineMetrics
from tests.promql import DASHBOARDS, RULE_FILES, panels, rules, substituted, targets
from tests.promql import load_dashboard as load

REPO = Path(__file__).parents[2]
PROMETHEUS = REPO / "deploy" / "prometheus"
CONFIG = PROMETHEUS / "prometheus.yml"
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))
GRAFANA = REPO / "deploy" / "grafana"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDER = GRAFANA / "provisioning" / "dashboards" / "newsflow.yml"
OPERATIONS = REPO / "docs" / "operations.md"
METRICS_DOC = REPO / "docs" / "metrics.md"

SEVERITIES = {"warning", "critical"}
UNITS = {"s", "ops", "short", "percentunit"}


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        reason = "promtool not found (Debian/Ubuntu: apt-get install prometheus)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true requires it")
        pytest.skip(f"{reason}; set CI=true to make this a failure")
    return path


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"{' '.join(result.args)}\n{result.stdout}\n{result.stderr}"


def alert_rules() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "alert" in rule]


def recorded_names() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def dashboard_queries() -> list[tuple[str, int, str, str]]:
    """(dashboard uid, panel id, refId, expr) of every query of every dashboard."""
    return [
        (board["uid"], panel["id"], target["refId"], target["expr"])
        for board in map(load, DASHBOARDS)
        for panel, target in targets(board)
    ]


def provisioned_datasource_uid() -> str:
    (source,) = yaml.safe_load(DATASOURCES.read_text("utf-8"))["datasources"]
    uid: str = source["uid"]
    return uid


# ---------------------------------------------------------------------------------------------
# promtool: rules, configuration, rule unit tests
# ---------------------------------------------------------------------------------------------


def test_rule_files_exist() -> None:
    assert RULE_FILES, "no deploy/prometheus/rules/*.yml"
    assert RULE_TESTS, "no deploy/prometheus/tests/*.yml"


def test_rules_pass_promtool_check(promtool: str) -> None:
    assert_ok(run(promtool, "check", "rules", *map(str, RULE_FILES)))


def test_config_passes_promtool_check(promtool: str) -> None:
    # Also loads rule_files (resolved against the config file's folder): they must be found.
    result = run(promtool, "check", "config", str(CONFIG))
    assert_ok(result)
    for path in RULE_FILES:  # a rule_files glob that matches nothing would pass silently
        assert path.name in result.stdout + result.stderr, f"{CONFIG} does not load {path}"


def test_rule_unit_tests_pass(promtool: str) -> None:
    assert_ok(run(promtool, "test", "rules", *map(str, RULE_TESTS)))


# ---------------------------------------------------------------------------------------------
# rules: labels, annotations, runbook, tests for every alert
# ---------------------------------------------------------------------------------------------


def runbook_anchors() -> set[str]:
    """GitHub-style anchors of the headings of docs/operations.md §8."""
    text = OPERATIONS.read_text("utf-8")
    section = text.split("\n## 8. Dashboards and alerts", 1)
    assert len(section) == 2, "docs/operations.md has no '## 8. Dashboards and alerts'"
    anchors = set()
    for heading in re.findall(r"^#{2,4} (.+)$", "## 8. Dashboards and alerts" + section[1], re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def test_every_alert_has_for_severity_and_annotations() -> None:
    rules = alert_rules()
    assert rules
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names)), "alert names must be unique (one runbook entry each)"
    for rule in rules:
        assert "for" in rule, rule["alert"]
        assert rule.get("labels", {}).get("severity") in SEVERITIES, rule["alert"]
        annotations = rule.get("annotations", {})
        assert {"summary", "description", "runbook_url"} <= set(annotations), rule["alert"]


def test_every_alert_has_a_runbook_entry() -> None:
    anchors = runbook_anchors()
    for rule in alert_rules():
        url = rule["annotations"]["runbook_url"]
        path, _, anchor = url.partition("#")
        assert path.endswith("docs/operations.md"), url
        assert anchor == rule["alert"].lower(), f"{rule['alert']}: anchor {anchor!r}"
        assert anchor in anchors, f"{rule['alert']}: no heading for #{anchor} in docs/operations.md §8"


def test_every_alert_is_tested_firing_and_quiet() -> None:
    fires: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text("utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names - fires == set(), "alerts without a case where they fire"
    assert names - quiet == set(), "alerts without a case where they must not fire"


# ---------------------------------------------------------------------------------------------
# metric names: every one a dashboard or rule uses is in docs/metrics.md
# ---------------------------------------------------------------------------------------------

METRIC_NAME = re.compile(r"\b(?:newsflow|faust)_[a-z0-9_]+\b|\bup\b|\b[a-z_]+:[a-z0-9_:]+\b")


def base_metric(name: str) -> str:
    return re.sub(r"_(bucket|count|sum)$", "", name) if name.startswith("newsflow_") else name


def used_metrics() -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}
    for uid, panel_id, ref, expr in dashboard_queries():
        for name in METRIC_NAME.findall(expr):
            used.setdefault(base_metric(name), set()).add(f"{uid} panel {panel_id}{ref}")
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text("utf-8"))["groups"]:
            for rule in group["rules"]:
                for name in METRIC_NAME.findall(rule["expr"]):
                    used.setdefault(base_metric(name), set()).add(rule.get("alert") or rule["record"])
    return used


def table_rows(markdown: str) -> set[str]:
    """The names in the first column of the tables: `| `name` |`."""
    return set(re.findall(r"^\| `([a-z_:][a-z0-9_:]*)`", markdown, re.M))


def test_every_metric_used_is_in_the_catalogue() -> None:
    text = METRICS_DOC.read_text("utf-8")
    catalogue, _, used_by = text.partition("\n## Dashboards and alerts\n")
    assert used_by, "docs/metrics.md has no '## Dashboards and alerts' section"
    used = used_metrics()
    assert "newsflow_articles_total" in used  # the regex finds names at all
    missing = {name: sorted(where) for name, where in used.items() if name not in table_rows(used_by)}
    assert missing == {}, "used by dashboards or rules but not in docs/metrics.md's panel table"
    exported = {name for name in used if name.startswith(("newsflow_", "faust_"))}
    assert exported - table_rows(catalogue) == set(), "not in docs/metrics.md's metric catalogue"


def test_recorded_series_used_are_recorded() -> None:
    recorded = recorded_names()
    for name, where in used_metrics().items():
        if ":" in name:
            assert name in recorded, f"{name} (used by {sorted(where)}) is not a recording rule"


# ---------------------------------------------------------------------------------------------
# dashboards: structure
# ---------------------------------------------------------------------------------------------


def test_dashboards_exist() -> None:
    assert {path.name for path in DASHBOARDS} >= {"newsflow-overview.json", "newsflow-topics.json"}
    uids = {load(path)["uid"]: load(path)["title"] for path in DASHBOARDS}
    assert uids["newsflow-overview"] == "newsflow overview"
    assert uids["newsflow-topics"] == "newsflow topics"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_structure(path: Path) -> None:
    board = load(path)
    uid = provisioned_datasource_uid()
    assert 36 <= board["schemaVersion"] <= 41
    ids = [panel["id"] for panel in panels(board)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels(board):
        assert panel.get("title"), panel["id"]
        if panel["type"] == "row":
            continue
        where = f"{path.name} panel {panel['id']} {panel['title']!r}"
        assert panel["datasource"] == {"type": "prometheus", "uid": uid}, where
        assert panel["fieldConfig"]["defaults"].get("unit") in UNITS, where
        assert len(panel.get("description", "")) > 40, f"{where}: say what to do when it looks wrong"
        assert panel["targets"], where
        for target in panel["targets"]:
            assert target["datasource"] == {"type": "prometheus", "uid": uid}, where
            assert target["expr"].strip(), where
    for variable in board.get("templating", {}).get("list", []):
        assert variable["datasource"] == {"type": "prometheus", "uid": uid}, variable["name"]


def test_dashboard_variables_are_used_as_regex_matchers() -> None:
    for uid, panel_id, _ref, expr in dashboard_queries():
        for match in re.finditer(r"(\w+)\s*(=~|!~|=|!=)\s*\"[^\"]*\$\{?(\w+)", expr):
            assert not match.group(3).startswith("__"), expr
            assert match.group(2) == "=~", f"{uid} panel {panel_id}: use =~ for ${match.group(3)}"


def test_dashboard_provider() -> None:
    text = DASHBOARD_PROVIDER.read_text("utf-8")
    assert "/var/lib/grafana/dashboards/newsflow" in text.split("apiVersion", 1)[0], "comment names the path"
    (provider,) = yaml.safe_load(text)["providers"]
    assert provider["type"] == "file"
    assert provider["folder"] == "newsflow"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards/newsflow"
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text("utf-8"))
    mounts = [volume.rsplit(":ro", 1)[0] for volume in compose["services"]["grafana"]["volumes"]]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}" in mounts


# ---------------------------------------------------------------------------------------------
# dashboards: every query parses, and returns data from what the code exports
# ---------------------------------------------------------------------------------------------


def test_dashboard_queries_parse(promtool: str, tmp_path: Path) -> None:
    # A recording rule per query: `promtool check rules` parses each with Prometheus's parser.
    queries = dashboard_queries()
    assert queries
    rules = [
        {"record": f"dashboard:{uid.replace('-', '_')}:panel{panel_id}{ref}", "expr": substituted(expr)}
        for uid, panel_id, ref, expr in queries
    ]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}), "utf-8")
    assert_ok(run(promtool, "check", "rules", str(path)))


STEP_SECONDS = 15
STEPS = 121  # 30 minutes of scrapes, every 15 s


def simulated_scrapes() -> dict[str, list[float]]:
    """Series as Prometheus would scrape them from a poller and a worker processing a steady
    flow for 30 minutes: promtool input series ({series: values})."""
    poller_registry, worker_registry = CollectorRegistry(), CollectorRegistry()
    poller, worker = PipelineMetrics.create(poller_registry), PipelineMetrics.create(worker_registry)
    poller.preset_poller()
    worker.preset_worker(near=True, sink="sqlite", rules=["breaking", "politics-spike"], channels=["ops"])
    targets = {
        'job="newsflow-poller",instance="poller:9465"': poller_registry,
        'job="newsflow-worker",instance="worker:9464"': worker_registry,
    }
    series: dict[str, list[float]] = {}
    for step in range(STEPS):
        poller.feed_fetches.labels("ok").inc(2)
        poller.feed_fetches.labels("not-modified").inc()
        poller.feed_fetches.labels("unavailable").inc(step % 2)
        poller.feed_fetch_seconds.observe(0.3)
        for state, count in (("healthy", 8), ("not-modified", 2), ("failing", 1), ("gone", 0)):
            poller.feeds.labels(state).set(count)
        poller.parse_errors.labels("not-a-feed").inc(step % 2)
        poller.fulltext_fetches.labels("ok").inc()
        poller.articles.labels("poll", "published").inc(4)
        poller.publish_to_fetch_seconds.observe(240)
        poller.ready.labels("broker").set(1)

        for stage, outcome, count in (
            ("cleaning", "passed", 4),
            ("dedup", "unique", 3),
            ("dedup", "duplicate", 1),
            ("near-dedup", "unique", 2),
            ("near-dedup", "duplicate", 1),
            ("tagging", "passed", 2),
            ("storage", "stored", 2),
        ):
            worker.articles.labels(stage, outcome).inc(count)
        worker.duplicates.labels("exact-url").inc()
        worker.duplicates.labels("near").inc()
        worker.tags.labels("politics").inc(3 if step < 100 else 12)  # a spike at the end
        worker.tags.labels("(place)").inc(2)
        worker.dead_letters.labels("cleaning", "undecodable").inc(step % 2)
        for stage in ("cleaning", "dedup", "tagging", "alerting"):
            worker.stage_seconds.labels(stage).observe(0.002)
        worker.end_to_end_seconds.observe(250)
        worker.pipeline_seconds.observe(4 if step % 10 else 90)
        worker.fetch_to_store_seconds.observe(6)
        worker.fetch_to_alert_seconds.observe(8)
        for partition in range(2):
            worker.consumer_lag.labels("news.raw", str(partition)).set(step % 7)
        worker.ready.labels("broker").set(1)
        worker.ready.labels("database").set(1)
        worker.sink_writes.labels("sqlite", "ok").inc()
        worker.sink_rows.labels("sqlite").inc(2)
        worker.sink_write_seconds.labels("sqlite").observe(0.01)
        worker.alerts.labels("breaking").inc(step % 2)
        worker.alert_links.labels("breaking").inc()
        worker.webhook_deliveries.labels("ops", "delivered").inc(step % 2)
        worker.webhook_deliveries.labels("ops", "retry").inc(step % 3 == 0)
        if step == 0:
            worker.taxonomy_reloads.labels("applied").inc()

        for target, registry in targets.items():
            series.setdefault(f"up{{{target}}}", []).append(1)
            text = generate_latest(registry).decode("utf-8")
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    if sample.name.endswith("_created"):
                        continue
                    pairs = (f"{key}={json.dumps(value)}" for key, value in sorted(sample.labels.items()))
                    labels = ",".join([target, *pairs])
                    series.setdefault(f"{sample.name}{{{labels}}}", []).append(sample.value)
    return {name: values for name, values in series.items() if len(values) == STEPS}


def test_dashboard_queries_return_data(promtool: str, tmp_path: Path) -> None:
    """Each query, evaluated by promtool over the simulated scrapes (with the recording rules
    loaded), returns at least one sample that is not NaN: an alert `absent(query)` per query
    must stay quiet."""
    queries = dashboard_queries()
    rules = [
        {
            "alert": f"NoData_{uid.replace('-', '_')}_panel{panel_id}{ref}",
            "expr": f"absent(({substituted(expr)}) >= -Inf)",
        }
        for uid, panel_id, ref, expr in queries
    ]
    (tmp_path / "no-data.yml").write_text(
        yaml.safe_dump({"groups": [{"name": "no-data", "rules": rules}]}), "utf-8"
    )
    series = simulated_scrapes()
    assert len(series) > 100
    end = f"{(STEPS - 1) * STEP_SECONDS}s"
    tests = {
        "rule_files": ["no-data.yml", *map(str, RULE_FILES)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "name": "every dashboard query returns data",
                "interval": f"{STEP_SECONDS}s",
                "input_series": [
                    {"series": name, "values": " ".join(f"{value:g}" for value in values)}
                    for name, values in sorted(series.items())
                ],
                "alert_rule_test": [
                    {"eval_time": end, "alertname": rule["alert"], "exp_alerts": []} for rule in rules
                ],
            }
        ],
    }
    path = tmp_path / "no-data_test.yml"
    path.write_text(yaml.safe_dump(tests), "utf-8")
    assert_ok(run(promtool, "test", "rules", str(path)))
