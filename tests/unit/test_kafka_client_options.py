"""Every Kafka client connects the way kafka.* says: aiokafka options, Faust credentials."""

from __future__ import annotations

import ast
import ssl
from pathlib import Path
from typing import Any

import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from agents.credentials import broker_credentials
from newsflow.kafka_io import kafka_client_options
from pipeline.config import KafkaSettings

ROOT = Path(__file__).parents[2]
CA = ROOT / "tests" / "fixtures" / "tls" / "ca.pem"
PASSWORD = "pa55-not-shown"
LOGIN: dict[str, Any] = {"sasl_username": "news", "sasl_password": PASSWORD}

SETTINGS = [
    ("plaintext", KafkaSettings(bootstrap_servers="k:9092")),
    ("tls", KafkaSettings(bootstrap_servers="k:9093", security_protocol="SSL", ssl_cafile=CA)),
    ("sasl", KafkaSettings(bootstrap_servers="k:9094", security_protocol="SASL_PLAINTEXT", **LOGIN)),
    (
        "scram over tls",
        KafkaSettings(
            bootstrap_servers="k:9095",
            security_protocol="SASL_SSL",
            sasl_mechanism="SCRAM-SHA-256",
            ssl_check_hostname=False,
            **LOGIN,
        ),
    ),
]


def test_plaintext_options() -> None:
    assert kafka_client_options(KafkaSettings()) == {
        "bootstrap_servers": "127.0.0.1:19092",
        "security_protocol": "PLAINTEXT",
    }


def test_sasl_options_carry_the_login() -> None:
    options = kafka_client_options(SETTINGS[2][1])
    assert options == {
        "bootstrap_servers": "k:9094",
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": "news",
        "sasl_plain_password": PASSWORD,
    }


def test_tls_options_carry_a_context_that_checks_hostnames_unless_told() -> None:
    verified = kafka_client_options(SETTINGS[1][1])["ssl_context"]
    relaxed = kafka_client_options(SETTINGS[3][1])["ssl_context"]
    assert isinstance(verified, ssl.SSLContext) and verified.check_hostname
    assert verified.verify_mode == ssl.CERT_REQUIRED
    assert isinstance(relaxed, ssl.SSLContext) and not relaxed.check_hostname


def _comparable(options: dict[str, Any]) -> dict[str, Any]:
    shown = {key: value for key, value in options.items() if key != "bootstrap_servers" and value is not None}
    context = shown.pop("ssl_context", None)
    if context is not None:
        shown["check_hostname"] = context.check_hostname
    return shown


@pytest.mark.parametrize(("case", "kafka"), SETTINGS, ids=[c[0] for c in SETTINGS])
def test_faust_connects_like_the_other_clients(case: str, kafka: KafkaSettings) -> None:
    # Faust turns credentials into aiokafka options with this function; the result must be
    # what our own clients get.
    faust_options = credentials_to_aiokafka_auth(broker_credentials(kafka))
    assert _comparable(dict(faust_options)) == _comparable(kafka_client_options(kafka))


def test_faust_credentials_do_not_show_the_password() -> None:
    assert PASSWORD not in repr(broker_credentials(SETTINGS[2][1]))


CLIENTS = {"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient"}


def _client_calls(path: Path) -> list[ast.Call]:
    calls = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CLIENTS:
            calls.append(node)
    return calls


def _uses_options(call: ast.Call) -> bool:
    return any(
        keyword.arg is None
        and isinstance(keyword.value, ast.Call)
        and isinstance(keyword.value.func, ast.Name)
        and keyword.value.func.id == "kafka_client_options"
        for keyword in call.keywords
    )


def test_every_client_of_the_command_line_is_built_with_the_options() -> None:
    # A client built from bootstrap_servers alone would ignore TLS and SASL: it works against
    # the development broker and fails (or talks in clear) in production.
    sources = sorted((ROOT / "newsflow").rglob("*.py"))
    unsecured = [
        f"{path.relative_to(ROOT)}:{call.lineno}"
        for path in sources
        for call in _client_calls(path)
        if not _uses_options(call)
    ]
    assert unsecured == []
