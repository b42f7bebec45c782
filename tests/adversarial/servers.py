"""Private Redis and PostgreSQL servers that a test may stop and start (fault injection).

The shared servers of ``.ci/run`` (``SHOPASSIST_TEST_*_URL``) serve other tests at the same time,
so outage tests start their own on a free loopback port, in a temporary folder, the way
``.ci/redis`` and ``.ci/postgres`` do, and never touch the shared ones. :func:`require` skips a
test with the reason when the server binaries are not installed.

Example:
    >>> with PrivateRedis(tmp_path) as server:                        # doctest: +SKIP
    ...     server.stop(); server.start()
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

__all__ = ["PrivateRedis", "PrivatePostgres", "free_port"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, up: bool, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            is_up = True
        except OSError:
            is_up = False
        if is_up == up:
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not go {'up' if up else 'down'} in {timeout_s}s")


class PrivateRedis:
    """``redis-server`` on a free port; append-only file with fsync always, so a stop loses no
    committed turn (the point of the recovery check)."""

    def __init__(self, folder: Path) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server), so there is no "
                        "private Redis to stop and start")
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._proc: subprocess.Popen | None = None

    def start(self) -> None:
        self._proc = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder),
             "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "yes",
             "--logfile", str(self.folder / "server.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port, up=True)

    def stop(self) -> None:
        """``kill -9``: the server dies the way a crashed one does."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(10)
            self._proc = None
        _wait_port(self.port, up=False)

    def __enter__(self) -> "PrivateRedis":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    return str(Path(initdb).parent) if initdb else None


class PrivatePostgres:
    """A fresh PostgreSQL cluster on a free port (as ``.ci/postgres`` makes one); ``stop`` is an
    immediate shutdown, ``start`` brings the same cluster back."""

    USER = "shopassist"
    PASSWORD = "shopassist"

    def __init__(self, folder: Path) -> None:
        self.bin = _pg_bin()
        if self.bin is None or not Path(self.bin, "pg_ctl").exists():
            pytest.skip("PostgreSQL server binaries are not installed (apt-get install postgresql), so "
                        "there is no private PostgreSQL to stop and start")
        self.folder = Path(folder)
        self.port = free_port()
        self.url = f"postgresql+psycopg://{self.USER}:{self.PASSWORD}@127.0.0.1:{self.port}/shopassist"
        self._root = os.geteuid() == 0

    def _as_owner(self, *cmd: str) -> None:
        full = ["runuser", "-u", "postgres", "--", *cmd] if self._root else list(cmd)
        subprocess.run(full, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)

    def create(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "pwfile").write_text(self.PASSWORD + "\n")
        if self._root:
            shutil.chown(self.folder, "postgres")
            shutil.chown(self.folder / "pwfile", "postgres")
        self._as_owner(f"{self.bin}/initdb", "-D", str(self.folder / "data"), "-U", self.USER,
                       f"--pwfile={self.folder / 'pwfile'}", "--auth-local=scram-sha-256",
                       "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8")
        self.start()
        env = dict(os.environ, PGPASSWORD=self.PASSWORD)
        subprocess.run([f"{self.bin}/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.USER, "-d",
                        "postgres", "-qAt", "-c", f"CREATE DATABASE shopassist OWNER {self.USER}"],
                       check=True, env=env, capture_output=True, timeout=60)

    def start(self) -> None:
        self._as_owner(f"{self.bin}/pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "server.log"),
                       "-w", "-t", "60", "-o",
                       f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off", "start")
        _wait_port(self.port, up=True)

    def stop(self) -> None:
        self._as_owner(f"{self.bin}/pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        _wait_port(self.port, up=False)

    def __enter__(self) -> "PrivatePostgres":
        self.create()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.stop()
        except (subprocess.SubprocessError, TimeoutError):
            pass
