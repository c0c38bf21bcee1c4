"""Servers the benchmarks stand up on loopback: Redis, nginx (if installed), a fast fallback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

from ascep.launcher import redis_server_binary

SMALL_JSON = b'{"symbol":"BTCUSDT","price":97123.45,"bid":97123.4,"ask":97123.5,"source":"bench"}'

_FAST_SERVER = textwrap.dedent(
    """
    import asyncio, sys
    BODY = sys.argv[2].encode()
    HEAD = (b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\n"
            b"Content-Length: %d\\r\\n\\r\\n" % len(BODY))

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\\r\\n\\r\\n")
                writer.write(HEAD + BODY)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())
    """
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class Processes:
    """Child processes of a benchmark run, all stopped at the end whatever happens."""

    def __init__(self) -> None:
        self._children: list[subprocess.Popen[bytes]] = []
        self.workdir = Path(tempfile.mkdtemp(prefix="ascep-bench-"))

    def start(
        self, args: Sequence[str], env: dict[str, str] | None = None, cpu: int | None = None
    ) -> subprocess.Popen[bytes]:
        def pin() -> None:
            if cpu is not None and hasattr(os, "sched_setaffinity"):
                os.sched_setaffinity(0, {cpu})

        log = (self.workdir / f"{Path(args[0]).name}-{len(self._children)}.log").open("wb")
        child = subprocess.Popen(
            list(args), env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=pin, start_new_session=True
        )
        self._children.append(child)
        return child

    def stop_all(self) -> None:
        for child in reversed(self._children):
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in self._children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def redis(self, cpu: int | None = None) -> str:
        """A private redis-server; ``cpu`` pins it (off the measured process's core)."""
        port = free_port()
        self.start(
            [
                redis_server_binary(),
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            cpu=cpu,
        )
        wait_port(port)
        return f"redis://127.0.0.1:{port}/0"

    def nginx(self, cpu: int | None) -> tuple[int, int] | None:
        """nginx serving :data:`SMALL_JSON` and reverse-proxying to it: (direct, proxy) ports."""
        if not shutil.which("nginx"):
            return None
        direct, proxy = free_port(), free_port()
        user = "user root;" if os.geteuid() == 0 else ""
        conf = self.workdir / "nginx.conf"
        conf.write_text(
            textwrap.dedent(f"""
            {user}
            worker_processes 1;
            daemon off;
            master_process off;
            pid {self.workdir}/nginx.pid;
            error_log {self.workdir}/nginx-error.log warn;
            events {{ worker_connections 4096; }}
            http {{
                access_log off;
                client_body_temp_path {self.workdir}/body;
                proxy_temp_path {self.workdir}/proxy;
                fastcgi_temp_path {self.workdir}/fastcgi;
                uwsgi_temp_path {self.workdir}/uwsgi;
                scgi_temp_path {self.workdir}/scgi;
                keepalive_requests 1000000;
                upstream backend {{ server 127.0.0.1:{direct}; keepalive 64; }}
                server {{
                    listen 127.0.0.1:{direct};
                    location / {{ default_type application/json; return 200 '{SMALL_JSON.decode()}'; }}
                }}
                server {{
                    listen 127.0.0.1:{proxy};
                    location / {{
                        proxy_pass http://backend;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                    }}
                }}
            }}
        """)
        )
        self.start(["nginx", "-c", str(conf), "-p", str(self.workdir)], cpu=cpu)
        wait_port(direct)
        wait_port(proxy)
        return direct, proxy

    def fast_upstream(self, cpu: int | None) -> int:
        port = free_port()
        self.start([sys.executable, "-c", _FAST_SERVER, str(port), SMALL_JSON.decode()], cpu=cpu)
        wait_port(port)
        return port
