"""Load generation for benchmarks: wrk when installed, else a small built-in HTTP/1.1 client.

Both report the same figures (requests/s, p50, p99 in ms, errors) so tables stay comparable.
The built-in generator uses keep-alive connections on threads; it tops out around a few thousand
requests/s, which is above what a Python proxy serves on one core, but not above nginx: runs
without wrk report that in the table.
"""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def generator_name() -> str:
    return "wrk" if shutil.which("wrk") else "built-in"


def run_load(
    url: str,
    connections: int,
    seconds: float,
    cpu: int | None = None,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """Keep-alive GETs of ``url`` on ``connections`` connections for ``seconds``; ``headers`` are
    sent with every request (credentials)."""
    if shutil.which("wrk"):
        return _run_wrk(url, connections, seconds, cpu, headers or {})
    return _run_builtin(url, connections, seconds, headers or {})


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNIT_MS[unit]


def _run_wrk(
    url: str, connections: int, seconds: float, cpu: int | None, headers: dict[str, str]
) -> LoadResult:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    if cpu is not None and shutil.which("taskset"):
        command = ["taskset", "-c", str(cpu), *command]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _to_ms(re.search(r"50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _to_ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket_errors:
        errors += sum(int(g) for g in socket_errors.groups())
    return LoadResult(rps, p50, p99, errors, total)


def _run_builtin(url: str, connections: int, seconds: float, headers: dict[str, str]) -> LoadResult:
    parts = urlsplit(url)
    host = parts.hostname
    if host is None:
        raise ValueError(f"no host in {url!r}")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    deadline = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection(host, parts.port, timeout=10)
        own = latencies[index]
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    errors[index] += 1
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, parts.port, timeout=10)
                continue
            own.append((time.perf_counter() - started) * 1000)
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    merged = sorted(x for own in latencies for x in own)
    if not merged:
        return LoadResult(0.0, float("nan"), float("nan"), sum(errors), 0)
    return LoadResult(
        len(merged) / elapsed,
        merged[len(merged) // 2],
        merged[min(len(merged) - 1, int(len(merged) * 0.99))],
        sum(errors),
        len(merged),
    )
