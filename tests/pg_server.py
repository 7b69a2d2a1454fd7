"""A throwaway PostgreSQL server for tests and benchmarks: initdb, start, stop.

Uses the system's binaries (Debian's ``postgresql`` package, installed by
``python3 tasks.py setup``) under /usr/lib/postgresql/*/bin.  The server listens
on a free port of 127.0.0.1 only, trusts local connections, and its data folder
lives in the caller's temporary folder.  PostgreSQL refuses to run as root, so
as root the binaries run as the ``postgres`` user the package creates, and the
data folder is a folder of its own under the system's temporary directory: pytest
resets its own base folder to 0700 whenever a session or worker starts, which
would lock the postgres user out of a server already running there.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from hub_servers import free_port

__all__ = ["PostgresServer", "postgres_bin", "unavailable_reason"]


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or ``None``."""
    found = [
        Path(p)
        for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if (Path(p) / "initdb").exists() and (Path(p) / "pg_ctl").exists()
    ]
    return found[-1] if found else None


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def unavailable_reason() -> str | None:
    if postgres_bin() is None:
        return (
            "PostgreSQL binaries are absent (/usr/lib/postgresql/*/bin/initdb): "
            "`python3 tasks.py setup` installs Debian's postgresql package"
        )
    if _as_root() and shutil.which("runuser") is None:
        return "running as root and `runuser` is missing: PostgreSQL refuses to run as root"
    if _as_root():
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run PostgreSQL as"
    return None


class PostgresServer:
    """``with PostgresServer(folder) as pg: pg.url`` — a running server, stopped on exit."""

    def __init__(self, folder: Path) -> None:
        self._own_folder = _as_root()
        self.folder = Path(tempfile.mkdtemp(prefix="osop-pg-")) if self._own_folder else folder
        self.data = self.folder / "data"
        self.port = free_port()
        self.bin = postgres_bin()
        self.user = "osop"

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if _as_root() else []
        done = subprocess.run([*prefix, *args], capture_output=True, timeout=300, check=False)
        if done.returncode != 0:
            log = self.folder / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{Path(args[0]).name} failed ({done.returncode}): "
                f"{done.stderr.decode(errors='replace')[-2000:]}\n{tail}"
            )

    def _open_for_postgres_user(self) -> None:
        # The folder is ours (mkdtemp under the world-traversable temp dir): hand it over.
        import pwd

        entry = pwd.getpwnam("postgres")
        os.chown(self.folder, entry.pw_uid, entry.pw_gid)

    def start(self) -> str:
        assert self.bin is not None, unavailable_reason()
        self.folder.mkdir(parents=True, exist_ok=True)
        if _as_root():
            self._open_for_postgres_user()
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user,
            "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.folder / "server.log"), "-w", "-t", "240", "start",
        )  # fmt: skip
        return self.url

    def stop(self) -> None:
        if self.bin is not None and self.data.exists():
            with contextlib.suppress(RuntimeError):
                self._run(
                    str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"
                )
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def create_database(self, name: str) -> str:
        """A fresh, empty database on this server; its URL."""
        import psycopg

        deadline = time.monotonic() + 120
        while True:
            try:
                with psycopg.connect(
                    f"host=127.0.0.1 port={self.port} user={self.user} dbname=postgres",
                    autocommit=True,
                ) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
