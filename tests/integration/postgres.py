"""A real, throwaway PostgreSQL cluster for tests and benchmarks: no Docker, no mocks.

``find_bin_dir()`` looks for the server binaries ($NEWSFLOW_PG_BIN, PATH, then
/usr/lib/postgresql/*/bin, newest first). ``PostgresServer.setup()`` runs initdb into a
temporary folder (trust authentication, 127.0.0.1 on a free port, the unix socket inside the
folder so nothing in /var/run is touched) and starts it with pg_ctl; ``stop()`` and ``start()``
take it down and bring it back on the same port and data (outage tests); ``destroy()`` stops it
and removes the folder. PostgreSQL refuses to run as root: as root, the cluster belongs to an
unprivileged account (``postgres``, else ``nobody``) and the server commands run as it.

No pytest in here: the benchmarks use it too. tests/integration/conftest_postgres.py turns a
missing PostgreSQL into a skip (a failure when CI=true).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

SERVER_BINARIES = ("initdb", "pg_ctl", "postgres", "createdb")
START_TIMEOUT = 60


class PostgresUnavailable(Exception):
    """No PostgreSQL server binaries, or the throwaway cluster would not start."""


def find_bin_dir() -> Path | None:
    """The folder holding initdb, pg_ctl, postgres and createdb, or None."""
    candidates: list[Path] = []
    if os.environ.get("NEWSFLOW_PG_BIN"):
        candidates.append(Path(os.environ["NEWSFLOW_PG_BIN"]))
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda path: _version(path.parent.name), reverse=True)
    for folder in candidates:
        if all((folder / name).is_file() for name in SERVER_BINARIES):
            return folder
    return None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One initdb'd cluster; ``url(database)`` connects to it as the superuser ``postgres``."""

    def __init__(self, bin_dir: Path, *, fsync: bool = False) -> None:
        self.bin_dir = bin_dir
        # Tests throw the data away, so durability is wasted time; benchmarks keep it on.
        self.fsync = fsync
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="newsflow-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.running = False
        self._owner = _unprivileged_owner()

    def setup(self) -> PostgresServer:
        if self._owner is not None:
            os.chown(self.root, self._owner.pw_uid, self._owner.pw_gid)
        # C.UTF-8 classifies non-ASCII letters as a production locale does (text search splits
        # words by it); a system without that locale falls back to plain C.
        for locale in ("--locale=C.UTF-8", "--no-locale"):
            try:
                self._server_command(
                    "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", locale,
                    "--no-sync",
                )  # fmt: skip
                break
            except PostgresUnavailable:
                if locale == "--no-locale":
                    raise
                shutil.rmtree(self.data, ignore_errors=True)
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "max_connections": "100",
        }
        if not self.fsync:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# newsflow test cluster\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        atexit.register(self.destroy)  # pg_ctl daemonises: never leave a server behind
        self.start()
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "newsflow_test") -> str:
        """A fresh, empty database; its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        createdb = str(self.bin_dir / "createdb")
        self._run([createdb, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name])
        return self.url(name)

    def start(self) -> None:
        if self.running:
            return
        self._server_command(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(START_TIMEOUT), "start"
        )
        self.running = True

    def stop(self) -> None:
        """Fast shutdown: open sessions are terminated, as in a real outage or a restart."""
        if not self.running:
            return
        self._server_command("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        self.running = False

    def destroy(self) -> None:
        with contextlib.suppress(PostgresUnavailable):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _server_command(self, binary: str, *args: str) -> None:
        self._run([str(self.bin_dir / binary), *args], as_owner=True)

    def _run(self, command: list[str], as_owner: bool = False) -> None:
        owner = self._owner if as_owner else None
        try:
            subprocess.run(
                command,
                check=True,
                capture_output=True,
                text=True,
                timeout=START_TIMEOUT + 30,
                cwd=self.root,
                user=owner.pw_uid if owner else None,
                group=owner.pw_gid if owner else None,
                extra_groups=[] if owner else None,
            )
        except subprocess.CalledProcessError as exc:
            output = (exc.stderr or exc.stdout or "").strip()
            raise PostgresUnavailable(
                f"{Path(command[0]).name} failed ({exc.returncode}): {output}\n{self.log_tail()}"
            ) from None
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresUnavailable(f"{Path(command[0]).name}: {exc}") from None


def _unprivileged_owner() -> pwd.struct_passwd | None:
    """None when not root; else the account the cluster will run as."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise PostgresUnavailable("running as root and no 'postgres' or 'nobody' account to run PostgreSQL as")
