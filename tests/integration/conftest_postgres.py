"""Real PostgreSQL for integration tests: one throwaway cluster per session, a fresh database
per test. Registered by one line in tests/integration/conftest.py:

    from tests.integration.conftest_postgres import postgres, postgres_url  # noqa: F401

Without the server binaries the tests are skipped with the reason; with CI=true (where
.ci/run installs PostgreSQL from Debian packages) that is a failure instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NoReturn

import pytest

from tests.integration.postgres import PostgresServer, PostgresUnavailable, find_bin_dir


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and PostgreSQL is unavailable: {reason}")
    pytest.skip(f"PostgreSQL unavailable: {reason}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's server; tests may ``stop()`` and ``start()`` it (outages)."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        _unavailable(
            "initdb/pg_ctl/postgres/createdb not found on PATH, $NEWSFLOW_PG_BIN or "
            "/usr/lib/postgresql/*/bin (Debian: apt-get install postgresql)"
        )
    try:
        server = PostgresServer(bin_dir).setup()
    except PostgresUnavailable as exc:
        _unavailable(str(exc))
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """A fresh, empty database on the session's server."""
    postgres.start()  # in case an outage test failed before bringing it back
    return postgres.create_database()
