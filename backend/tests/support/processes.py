"""Real service processes for integration tests: started, awaited, logged and always stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import requests

from support.polling import wait_for
from support.ports import free_port


class ManagedProcess:
    """A child process whose output goes to a log file that failures can show."""

    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str], log_dir: Path) -> None:
        self.name = name
        self.args = list(args)
        self.env = dict(env)
        self.log_path = log_dir / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ManagedProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.args, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_until(self, probe: Callable[[], object], timeout: float = 20.0, what: str = "ready") -> None:
        """Poll ``probe`` until truthy; fail with the process log if it dies or times out."""

        def check() -> object:
            if not self.alive():
                raise RuntimeError(f"{self.name} exited early")
            return probe()

        try:
            wait_for(check, timeout=timeout, message=f"{self.name} {what}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- {self.name} log ---\n{self.log_text()[-4000:]}") from None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int | None:
        """Signal the process group, escalate to SIGKILL after ``timeout``; return the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        return self.process.returncode


class HttpService(ManagedProcess):
    """A ``python -m <module>`` HTTP service on a free loopback port."""

    def __init__(
        self,
        name: str,
        module_or_args: str | Sequence[str],
        env: Mapping[str, str],
        log_dir: Path,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        args = (
            [sys.executable, "-m", module_or_args]
            if isinstance(module_or_args, str)
            else list(module_or_args)
        )
        full_env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port), **env}
        full_env.setdefault("PYTHONUNBUFFERED", "1")
        super().__init__(name, args, full_env, log_dir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_healthy(self, path: str = "/health", timeout: float = 20.0) -> HttpService:
        self.wait_until(
            lambda: requests.get(self.url + path, timeout=1).status_code == 200,
            timeout=timeout,
            what=f"answering {path}",
        )
        return self
