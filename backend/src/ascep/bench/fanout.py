"""``python -m ascep.bench fanout``: Redis bus → gateway → N Socket.IO clients, both delivery modes.

A publisher puts ``price_update`` events on Redis at a fixed rate, each carrying its publish time;
N real websocket clients (see :mod:`._readers`) receive them through the gateway. For each mode
(per-event ``price_update`` and batched ``price_batch``), client count and rate it reports the
delivery latency p50/p95/p99, events delivered per client against events published, and the
highest rate sustained with zero loss and p99 within 100 ms. The gateway runs pinned to CPU 0,
publisher and readers on CPU 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import redis

from ascep.bench._publish import publish_paced
from ascep.bench._servers import Processes, free_port, wait_port
from ascep.common.stats import nearest_rank

SYMBOLS = [f"SYM{i:02d}USDT" for i in range(20)]


@dataclass
class Run:
    mode: str
    clients: int
    rate: int
    published: int
    min_delivered: int
    p50: float
    p95: float
    p99: float

    @property
    def lossless(self) -> bool:
        return self.min_delivered >= self.published

    @property
    def sustained(self) -> bool:
        return self.lossless and self.p99 <= 100.0


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank ``p`` of ``values``; NaN when there are none (a table cell, not a crash)."""
    value = nearest_rank(sorted(values), p)
    return float("nan") if value is None else value


def publish_for(client: redis.Redis, rate: int, seconds: float, run_id: str) -> int:
    """Publish ``rate`` events/s for ``seconds``; returns how many were sent."""

    def event(n: int) -> dict[str, Any]:
        return {
            "symbol": SYMBOLS[n % len(SYMBOLS)],
            "price": 100.0 + n % 7,
            "bid": 99.9,
            "ask": 100.1,
            "volume": 1.0,
            "source": "bench",
            "ts": int(time.time() * 1000) * 1000 + n % 1000,
            "run": run_id,
            "pt": time.time(),
        }

    return publish_paced(client, rate, seconds, event)


def one_run(
    url: str, bus: redis.Redis, mode: str, clients: int, rate: int, seconds: float, cpu: int | None
) -> Run:
    run_id = f"{mode}-{clients}-{rate}-{time.time():.0f}"
    readers = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ascep.bench._readers",
            "--url",
            url,
            "--clients",
            str(clients),
            "--seconds",
            str(seconds + 2.0),
            "--run",
            run_id,
        ]
        + (["--batch"] if mode == "batch" else []),
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None,
    )
    assert readers.stdout is not None
    if readers.stdout.readline().strip() != "READY":
        readers.kill()
        raise RuntimeError("readers did not connect")
    published = publish_for(bus, rate, seconds, run_id=run_id)
    out, _ = readers.communicate(timeout=seconds + 60)
    result = json.loads(out.strip().splitlines()[-1])
    latencies = result["latencies_ms"]
    return Run(
        mode,
        clients,
        rate,
        published,
        min(result["counts"]),
        percentile(latencies, 50),
        percentile(latencies, 95),
        percentile(latencies, 99),
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ascep.bench fanout")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="10,100")
    parser.add_argument("--rates", default="200,1000,5000", help="the fixed rates of the issue")
    parser.add_argument(
        "--explore", default="2000,10000,20000", help="extra rates tried to find the highest sustained one"
    )
    args = parser.parse_args(argv)
    gateway_cpu, client_cpu = (0, 1) if (os.cpu_count() or 1) >= 2 else (None, None)
    if client_cpu is not None:
        os.sched_setaffinity(0, {client_cpu})
    procs = Processes()
    try:
        redis_url = procs.redis()
        port = free_port()
        env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "REDIS_URL": redis_url,
            "LOG_LEVEL": "WARNING",
            # rate limits have their own row in `bench gateway`; every client here is one address
            "RATE_LIMIT": "off",
            "RATE_LIMIT_SOCKETIO": "off",
        }
        procs.start([sys.executable, "-m", "ascep.gateway"], env=env, cpu=gateway_cpu)
        wait_port(port)
        bus = redis.Redis.from_url(redis_url)
        url = f"http://127.0.0.1:{port}"
        rates = sorted({int(r) for r in (args.rates + "," + args.explore).split(",") if r})
        runs: list[Run] = []
        for mode in ("batch", "event"):
            for clients in [int(c) for c in args.clients.split(",")]:
                for rate in rates:
                    run = one_run(url, bus, mode, clients, rate, args.seconds, client_cpu)
                    runs.append(run)
                    sys.stderr.write(
                        f"{mode} {clients} clients {rate}/s: p99 {run.p99:.1f} ms, "
                        f"delivered {run.min_delivered}/{run.published}\n"
                    )
                    if not run.sustained and rate >= max(int(r) for r in args.rates.split(",")):
                        break  # beyond the rates, stop escalating once it breaks
        report(runs, [int(r) for r in args.rates.split(",")])
    finally:
        procs.stop_all()
    return 0


def report(runs: list[Run], fixed_rates: list[int]) -> None:
    out = sys.stdout.write
    out("\nFan-out benchmark — Redis → gateway → Socket.IO websocket clients (latency from publish)\n\n")
    out(
        f"{'mode':<6} {'clients':>7} {'rate/s':>7} {'published':>9} {'min delivered':>13} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  sustained\n"
    )
    out("-" * 86 + "\n")
    for r in runs:
        out(
            f"{r.mode:<6} {r.clients:>7} {r.rate:>7} {r.published:>9} {r.min_delivered:>13} "
            f"{r.p50:>7.1f} {r.p95:>7.1f} {r.p99:>7.1f}  {'yes' if r.sustained else 'no'}\n"
        )
    out("\nHighest rate sustained (zero loss, p99 <= 100 ms):\n")
    for mode in ("batch", "event"):
        for clients in sorted({r.clients for r in runs}):
            ok = [r.rate for r in runs if r.mode == mode and r.clients == clients and r.sustained]
            out(f"  {mode:<6} {clients:>4} clients: {max(ok) if ok else 'none of the tested rates'}\n")
    targets = [("batch", 100, 5000), ("event", 100, 1000)]
    out("\nTargets\n")
    for mode, clients, rate in targets:
        match = [r for r in runs if (r.mode, r.clients, r.rate) == (mode, clients, rate)]
        verdict = "PASS" if match and match[0].sustained else "MISS"
        out(f"  {mode} delivery, {rate}/s to {clients} clients, p99 <= 100 ms, zero loss: {verdict}\n")
    _ = fixed_rates
