"""Arbitrage detection throughput and per-tick latency: ``python -m ascep.bench arbitrage``.

A synthetic market of 30 currencies and 200 pairs (a spanning tree, so everything is connected,
plus random pairs; several venues per pair) moves as a random walk of one consistent price
vector, so it is arbitrage-free except where the bench plants mispricings: every ``--plant-every``
ticks one pair is pushed 1 % off for 50 market ticks and then snaps back, so signals really open,
update and close. Ticks are generated up front as the JSON the price channel carries, then
replayed as fast as possible through the same path the service runs per message: JSON decode,
quote parsing, graph update, incremental search through the changed pair, signal lifecycle.
Redis is deliberately not in the loop: this measures detection; publication costs one atomic
script per *signal event*, which is rare next to ticks.

Pinned to one core (CPU 0) when the OS allows. Reports ticks/s and detection time per tick
(p50/p99/max) for each ``max_cycle_length``, with the targets (>= 5 000 ticks/s, p99 <= 5 ms).

Then the same ticks end to end (``--service-ticks``, 0 to skip): a private ``redis-server``, the
real service (``python -m ascep.arbitrage``, eventlet) pinned to CPU 0, and this process on CPU 1
publishing the records on ``price_updates`` in pipelines as fast as Redis takes them; ticks/s is
records processed by the service per second of wall time (read from its ``/stats``), with the
service's own detection p50/p99.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import random
import subprocess
import sys
import time
from collections import Counter

import redis
import requests

from ascep.arbitrage.config import DetectorConfig
from ascep.arbitrage.engine import ArbitrageEngine
from ascep.bench._servers import Processes, free_port
from ascep.common.channels import PRICE_UPDATES
from ascep.common.stats import nearest_rank

TARGET_TICKS_PER_S = 5000
TARGET_P99_MS = 5.0
BASE_TS = 1_800_000_000_000
PLANT_TICKS = 50  # a planted mispricing lasts this many market ticks
DRIFT = 0.00002  # log-sd of one value step: quotes a few hundred ticks old stay within fees


def build_pairs(rng: random.Random, currencies: list[str], count: int) -> list[tuple[str, str]]:
    """``count`` distinct unordered pairs: a random spanning tree, then random extra pairs."""
    pairs: set[tuple[str, str]] = set()
    order = currencies[:]
    rng.shuffle(order)
    for i in range(1, len(order)):
        pairs.add((order[i], order[rng.randrange(i)]))
    while len(pairs) < count:
        a, b = rng.sample(currencies, 2)
        if (a, b) not in pairs and (b, a) not in pairs:
            pairs.add((a, b))
    return sorted(pairs)


def generate_ticks(
    n: int, currencies: int, pair_count: int, venues: int, plant_every: int, seed: int
) -> list[str]:
    """Pre-encoded ``price_update`` JSON records (see the module docstring)."""
    rng = random.Random(seed)
    names = [f"C{i:02d}" for i in range(currencies)]
    values = {c: math.exp(rng.uniform(-5, 5)) for c in names}
    pairs = build_pairs(rng, names, pair_count)
    sources = [f"venue{v}" for v in range(venues)]
    fixes: dict[int, tuple[str, str]] = {}  # tick index -> planted pair to put back
    records: list[str] = []
    for i in range(n):
        factor = 1.0
        if i in fixes:  # the planted pair snaps back to fair value
            base, quote = fixes.pop(i)
        elif plant_every and i % plant_every == 0:
            base, quote = rng.choice(pairs)
            factor = 1.01
            fixes[i + PLANT_TICKS] = (base, quote)
        else:
            base, quote = rng.choice(pairs)
            values[base] *= math.exp(rng.gauss(0.0, DRIFT))
        mid = values[base] / values[quote] * factor
        half = mid * rng.uniform(0.00005, 0.0003)
        record = {
            "symbol": f"{base}/{quote}",
            "price": mid,
            "bid": mid - half,
            "ask": mid + half,
            "volume": None,
            "source": rng.choice(sources),
            "timestamp": "",
            "ts": BASE_TS + i // 10,
        }
        records.append(json.dumps(record))
    return records


def replay(records: list[str], max_len: int) -> dict[str, float]:
    """Run every record through a fresh engine; time each tick (decode included)."""
    engine = ArbitrageEngine(DetectorConfig(max_cycle_length=max_len, max_quote_age_ms=60_000))
    events: Counter[str] = Counter()
    times: list[float] = []
    perf = time.perf_counter
    loads = json.loads
    gc.collect()
    started = perf()
    for raw in records:
        t0 = perf()
        record = loads(raw)
        for event in engine.on_record(record, record["ts"]):
            events[event.kind] += 1
        times.append(perf() - t0)
    elapsed = perf() - started
    ms = sorted(t * 1000.0 for t in times)
    return {
        "ticks_per_s": len(records) / elapsed,
        "p50": nearest_rank(ms, 50) or 0.0,
        "p99": nearest_rank(ms, 99) or 0.0,
        "max": ms[-1],
        "open": events["open"],
        "update": events["update"],
        "close": events["close"],
    }


def _pin(cpu: int) -> str:
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {cpu})
        return f"CPU {cpu}"
    return "unpinned"


def _cpu_seconds(pid: int) -> float:
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return math.nan


def _wait(probe: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException, KeyError, ValueError):
            if probe():  # type: ignore[operator]
                return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def service_run(records: list[str]) -> dict[str, float]:
    """Publish ``records`` to the real service through Redis; see the module docstring."""
    procs = Processes()
    try:
        redis_url = procs.redis()
        port = free_port()
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "REDIS_URL": redis_url}
        env.update(LOG_LEVEL="WARNING", ASYNC_MODE="eventlet")
        service = procs.start([sys.executable, "-m", "ascep.arbitrage"], env=env, cpu=0)
        url = f"http://127.0.0.1:{port}"
        _wait(lambda: requests.get(f"{url}/health", timeout=1).status_code == 200, 30, "the service")
        requests.put(f"{url}/config", json={"max_quote_age_ms": 86_400_000}, timeout=5).raise_for_status()
        stats_url = f"{url}/stats"
        client = redis.Redis.from_url(redis_url)
        cpu_before = _cpu_seconds(service.pid)
        started = time.perf_counter()
        for i in range(0, len(records), 1000):
            pipe = client.pipeline(transaction=False)
            for raw in records[i : i + 1000]:
                pipe.publish(PRICE_UPDATES, raw)
            pipe.execute()
        published = time.perf_counter() - started
        _wait(
            lambda: requests.get(stats_url, timeout=5).json()["ticks_processed"] >= len(records),
            300,
            "the service to process every tick",
        )
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds(service.pid) - cpu_before
        stats = requests.get(stats_url, timeout=5).json()
        client.close()
        return {
            "ticks_per_s": len(records) / elapsed,
            "publish_per_s": len(records) / published,
            "p50": stats["detection_ms"]["p50"],
            "p99": stats["detection_ms"]["p99"],
            "cpu_pct": 100.0 * cpu / elapsed,
            "opened": stats["signals_opened_total"],
        }
    except (
        OSError,
        RuntimeError,
        redis.RedisError,
        requests.RequestException,
        subprocess.SubprocessError,
    ) as exc:
        sys.stderr.write(f"service run failed: {exc}\n")
        return {}
    finally:
        procs.stop_all()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ascep.bench arbitrage")
    parser.add_argument("--ticks", type=int, default=100_000, help="ticks replayed per run")
    parser.add_argument("--currencies", type=int, default=30)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--venues", type=int, default=2, help="sources quoting each pair")
    parser.add_argument("--plant-every", type=int, default=2000, help="ticks between planted mispricings")
    parser.add_argument("--lengths", default="3,4", help="max_cycle_length values to run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--service-ticks", type=int, default=50_000, help="end-to-end ticks; 0 skips")
    args = parser.parse_args(argv)
    pinned = _pin(0)
    records = generate_ticks(
        args.ticks, args.currencies, args.pairs, args.venues, args.plant_every, args.seed
    )
    out = sys.stdout
    out.write(
        f"\nArbitrage detection: {args.currencies} currencies, {args.pairs} pairs x {args.venues} venues, "
        f"{args.ticks} ticks, {pinned}\n\n"
    )
    columns: tuple[tuple[str, int], ...] = (
        ("max_len", 7),
        ("ticks/s", 9),
        ("p50 ms", 8),
        ("p99 ms", 8),
        ("max ms", 8),
    )
    columns += (("open", 6), ("update", 6), ("close", 6))
    header = " ".join(f"{name:>{width}}" for name, width in columns)
    out.write(header + "\n" + "-" * len(header) + "\n")
    ok = True
    for length in (int(x) for x in args.lengths.split(",")):
        r = replay(records, length)
        out.write(
            f"{length:>7} {r['ticks_per_s']:>9.0f} {r['p50']:>8.3f} {r['p99']:>8.3f} {r['max']:>8.2f} "
            f"{r['open']:>6} {r['update']:>6} {r['close']:>6}\n"
        )
        if length == 4:
            ok = r["ticks_per_s"] >= TARGET_TICKS_PER_S and r["p99"] <= TARGET_P99_MS
    out.write(f"\ntargets (max_len 4): >= {TARGET_TICKS_PER_S} ticks/s, p99 <= {TARGET_P99_MS} ms: ")
    out.write("met\n" if ok else "MISSED\n")
    if args.service_ticks:
        _pin(1)
        out.write(
            f"\nEnd to end: Redis pub/sub -> python -m ascep.arbitrage (CPU 0), {args.service_ticks} ticks\n"
        )
        out.flush()
        r = service_run(records[: args.service_ticks])
        if r:
            out.write(
                f"ticks/s {r['ticks_per_s']:.0f} (published at {r['publish_per_s']:.0f}/s), "
                f"detection p50 {r['p50']:.3f} ms, p99 {r['p99']:.3f} ms, service CPU {r['cpu_pct']:.0f} %, "
                f"signals opened {r['opened']:.0f}\n"
            )
            ok = ok and r["ticks_per_s"] >= TARGET_TICKS_PER_S and r["p99"] <= TARGET_P99_MS
        else:
            ok = False
    out.flush()
    return 0 if ok else 1
