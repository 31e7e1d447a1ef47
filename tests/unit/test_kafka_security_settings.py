"""Kafka security settings (kafka.security_protocol, sasl_*, ssl_*) and secrets from files
(``NEWSFLOW_<KEY>_FILE``): validated at load, secrets never shown."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.config import KafkaSettings, load_settings, tls_context
from pipeline.errors import ConfigError

TLS = Path(__file__).parents[1] / "fixtures" / "tls"
PASSWORD = "pa55-Word-not-for-logs"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsflow.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own NEWSFLOW_* variables must not leak into these cases.
    for name in list(os.environ):
        if name.startswith("NEWSFLOW_"):
            monkeypatch.delenv(name)


VALID = [
    ("plaintext default", {}, "PLAINTEXT"),
    (
        "sasl plaintext",
        {"security_protocol": "SASL_PLAINTEXT", "sasl_username": "u", "sasl_password": PASSWORD},
        "SASL_PLAINTEXT",
    ),
    (
        "scram over tls with a CA",
        {
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_username": "u",
            "sasl_password": PASSWORD,
            "ssl_cafile": str(TLS / "ca.pem"),
        },
        "SASL_SSL",
    ),
    (
        "mutual tls",
        {
            "security_protocol": "SSL",
            "ssl_cafile": str(TLS / "ca.pem"),
            "ssl_certfile": str(TLS / "client.pem"),
            "ssl_keyfile": str(TLS / "client.key"),
        },
        "SSL",
    ),
    (
        "certificate and key in one file",
        {
            "security_protocol": "SSL",
            "ssl_certfile": str(TLS / "client-with-key.pem"),
            "ssl_keyfile": str(TLS / "client-with-key.pem"),
        },
        "SSL",
    ),
    ("tls with the system CAs", {"security_protocol": "SSL"}, "SSL"),
]


@pytest.mark.parametrize(("case", "fields", "protocol"), VALID, ids=[c[0] for c in VALID])
def test_valid_security_settings(case: str, fields: dict[str, str], protocol: str) -> None:
    assert KafkaSettings(**fields).security_protocol == protocol


ERRORS = [
    ("sasl without user", "{security_protocol: SASL_SSL}", "kafka.sasl_username: required when"),
    (
        "sasl without password",
        "{security_protocol: SASL_PLAINTEXT, sasl_username: u}",
        "kafka.sasl_password: required when security_protocol is SASL_PLAINTEXT",
    ),
    (
        "password but plaintext",
        "{sasl_username: u, sasl_password: x}",
        "kafka.sasl_username: set, but security_protocol is PLAINTEXT",
    ),
    ("unknown protocol", "{security_protocol: TLS}", "kafka.security_protocol"),
    (
        "unknown mechanism",
        "{security_protocol: SASL_SSL, sasl_mechanism: GSSAPI, sasl_username: u, sasl_password: x}",
        "kafka.sasl_mechanism",
    ),
    (
        "tls file but no tls",
        "{ssl_cafile: tls/ca.pem}",
        "kafka.ssl_cafile: set, but security_protocol is PLAINTEXT (use SSL or SASL_SSL)",
    ),
    (
        "certificate without key",
        "{security_protocol: SSL, ssl_certfile: tls/client.pem}",
        "kafka.ssl_keyfile: required with ssl_certfile",
    ),
    (
        "key without certificate",
        "{security_protocol: SSL, ssl_keyfile: tls/client.key}",
        "kafka.ssl_certfile: required with ssl_keyfile",
    ),
    ("missing CA file", "{security_protocol: SSL, ssl_cafile: absent.pem}", "absent.pem: no such file"),
    ("CA file is not PEM", "{security_protocol: SSL, ssl_cafile: tls/client.key}", "kafka.ssl_cafile"),
    (
        "key does not match",
        "{security_protocol: SSL, ssl_certfile: tls/ca.pem, ssl_keyfile: tls/client.key}",
        "kafka.ssl_certfile",
    ),
    (
        "encrypted key",
        "{security_protocol: SSL, ssl_certfile: tls/client.pem, ssl_keyfile: tls/client-encrypted.key}",
        "the key is encrypted",
    ),
]


@pytest.mark.parametrize(("case", "kafka", "message"), ERRORS, ids=[c[0] for c in ERRORS])
def test_inconsistent_security_fails_at_load_naming_the_key(
    tmp_path: Path, case: str, kafka: str, message: str
) -> None:
    (tmp_path / "tls").symlink_to(TLS)  # relative TLS paths resolve against the config file
    path = write(tmp_path, f"kafka: {kafka}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_relative_tls_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "tls").symlink_to(TLS)
    path = write(tmp_path, "kafka: {security_protocol: SSL, ssl_cafile: tls/ca.pem}\n")
    assert load_settings(path).kafka.ssl_cafile == tmp_path / "tls" / "ca.pem"


def test_the_password_is_never_shown() -> None:
    kafka = KafkaSettings(security_protocol="SASL_PLAINTEXT", sasl_username="u", sasl_password=PASSWORD)
    assert PASSWORD not in repr(kafka)
    assert PASSWORD not in str(kafka)
    assert PASSWORD not in kafka.model_dump_json()
    assert kafka.sasl_password is not None and kafka.sasl_password.get_secret_value() == PASSWORD


def test_a_wrong_password_type_does_not_echo_it(tmp_path: Path) -> None:
    path = write(
        tmp_path, "kafka: {security_protocol: SASL_SSL, sasl_username: u, sasl_password: [s3cr3t]}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert "kafka.sasl_password" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)


def test_tls_context_follows_the_settings() -> None:
    assert tls_context(KafkaSettings()) is None
    context = tls_context(KafkaSettings(security_protocol="SSL", ssl_cafile=TLS / "ca.pem"))
    assert context is not None and context.check_hostname
    relaxed = tls_context(KafkaSettings(security_protocol="SSL", ssl_check_hostname=False))
    assert relaxed is not None and not relaxed.check_hostname


# --- NEWSFLOW_<KEY>_FILE: Docker secrets -------------------------------------------------------


def secret(tmp_path: Path, text: str, name: str = "secret") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_key_comes_from_the_file_its_file_variable_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSFLOW_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("NEWSFLOW_KAFKA__SASL_USERNAME", "news")
    monkeypatch.setenv("NEWSFLOW_KAFKA__SASL_PASSWORD_FILE", str(secret(tmp_path, PASSWORD + "\n")))
    monkeypatch.setenv(
        "NEWSFLOW_STORAGE__URL_FILE", str(secret(tmp_path, "postgresql://u:pw@db/news\r\n", "url"))
    )
    settings = load_settings(None)
    assert settings.kafka.sasl_password is not None
    assert settings.kafka.sasl_password.get_secret_value() == PASSWORD  # trailing newline stripped
    assert settings.storage.url == "postgresql://u:pw@db/news"


def test_a_file_variable_overrides_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "storage: {url: 'sqlite:///from-yaml.db'}\n")
    monkeypatch.setenv("NEWSFLOW_STORAGE__URL_FILE", str(secret(tmp_path, "sqlite:///from-secret.db")))
    assert load_settings(path).storage.url == "sqlite:///from-secret.db"


def test_a_key_whose_own_name_ends_in_file_is_not_a_secret_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # NEWSFLOW_TAXONOMY_FILE is the taxonomy_file key (a path), not "taxonomy from a file".
    monkeypatch.setenv("NEWSFLOW_TAXONOMY_FILE", str(tmp_path / "taxonomy.yaml"))
    assert load_settings(None).taxonomy_file == tmp_path / "taxonomy.yaml"


def test_a_file_variable_of_no_key_stays_an_unknown_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSFLOW_KAFKA__PASSWORD_FILE", str(secret(tmp_path, "x")))
    with pytest.raises(ConfigError, match=r"kafka\.password_file: unknown key"):
        load_settings(None)


def test_a_key_and_its_file_variable_together_are_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSFLOW_STORAGE__URL", "sqlite:///a.db")
    monkeypatch.setenv("NEWSFLOW_STORAGE__URL_FILE", str(secret(tmp_path, "sqlite:///b.db")))
    with pytest.raises(ConfigError, match="both NEWSFLOW_STORAGE__URL and NEWSFLOW_STORAGE__URL_FILE"):
        load_settings(None)


def test_an_unreadable_secret_file_names_variable_and_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "absent"
    monkeypatch.setenv("NEWSFLOW_KAFKA__SASL_PASSWORD_FILE", str(missing))
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert str(caught.value).startswith(f"NEWSFLOW_KAFKA__SASL_PASSWORD_FILE: cannot read {missing}")


def test_a_secret_file_error_never_shows_its_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe" + PASSWORD.encode())
    monkeypatch.setenv("NEWSFLOW_KAFKA__SASL_PASSWORD_FILE", str(binary))
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert "is not UTF-8 text" in str(caught.value)
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize("content", ["", "\n", "   \n"])
def test_an_empty_secret_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str
) -> None:
    # An empty bootstrap file must not fall back to the local development broker.
    monkeypatch.setenv("NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS_FILE", str(secret(tmp_path, content)))
    with pytest.raises(ConfigError, match=r"NEWSFLOW_KAFKA__BOOTSTRAP_SERVERS_FILE: .* is empty"):
        load_settings(None)


def test_empty_variables_count_as_unset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_STORAGE__URL", "")  # a placeholder, not a second value
    monkeypatch.setenv("NEWSFLOW_STORAGE__URL_FILE", str(secret(tmp_path, "sqlite:///b.db")))
    assert load_settings(None).storage.url == "sqlite:///b.db"
    monkeypatch.setenv("NEWSFLOW_KAFKA__SASL_PASSWORD_FILE", "")  # not a path: ignored
    assert load_settings(None).kafka.sasl_password is None
