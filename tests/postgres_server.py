"""A throwaway PostgreSQL server for the tests and the claim benchmark: `initdb` and `pg_ctl` in a
temporary folder, listening on 127.0.0.1 at a free port, removed when stopped. Not a test module:
`conftest.py` and `benchmarks/bench_claims.py` use it.

`initdb` refuses to run as root, so as root the server runs as the `postgres` user (which the
Debian `postgresql` package creates; `.ci/run` installs it). The binaries are found on PATH or
under /usr/lib/postgresql/<version>/bin, the newest first.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

from tests.support import free_port

SERVER_USER = "postgres"


def binaries() -> Path | None:
    """The folder holding `initdb` and `pg_ctl`, or None when PostgreSQL is not installed."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for folder in reversed(versions):
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


class PostgresServer:
    """One server; `start()` it, connect with `url()`, `stop()` it (which removes its files).

    `durable=False` (the tests) turns fsync off; the benchmark keeps PostgreSQL's defaults
    (fsync and synchronous commit on), as a real server would run."""

    def __init__(self, *, durable: bool = False) -> None:
        folder = binaries()
        if folder is None:
            raise RuntimeError("PostgreSQL is not installed (no initdb/pg_ctl found)")
        self.bin = folder
        self.durable = durable
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="claude-task-pg-"))
        self.data = self.root / "data"
        self._user: str | None = None
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise RuntimeError(
                    f"running as root and no {SERVER_USER!r} user to run initdb as"
                ) from None
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            self._user = SERVER_USER

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            user=self._user,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr.strip()}\n{tail}")

    def start(self) -> PostgresServer:
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
            "--no-sync", "--no-instructions",
        )  # fmt: skip
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.root} -c max_connections=120"
        )
        if not self.durable:
            options += " -F -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl", "start", "-D", str(self.data), "-w", "-t", "60",
            "-l", str(self.root / "server.log"), "-o", options,
        )  # fmt: skip
        return self

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, schema: str | None = None, database: str = "postgres") -> str:
        """The server's URL; with `schema`, every table is made and found in that schema."""
        url = f"postgresql://postgres@127.0.0.1:{self.port}/{database}"
        if schema is not None:
            url += "?options=" + quote(f"-c search_path={schema}", safe="")
        return url

    def create_schema(self, name: str) -> str:
        """A fresh schema `name` and the URL that works in it."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
        return self.url(name)
