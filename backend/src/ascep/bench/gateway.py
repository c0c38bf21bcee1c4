"""``python -m ascep.bench gateway``: the proxy side by side with direct calls and nginx.

Targets, interleaved in one run (round robin, ``--rounds`` times) so machine noise hits them all
alike; the table shows medians over rounds:

* ``direct``      — the fast upstream itself (nginx returning a small JSON, else an asyncio server);
* ``gw-local``    — the gateway's own ``/health`` (Flask on eventlet: the framework's floor here);
* ``gw-proxy``    — ``/api/prices`` through the gateway to the upstream (the measured product);
* ``gw-ratelimit`` — the same through a second gateway process with rate limiting on (GCRA, a
  limit so high nothing is refused): the cost of one ``EVALSHA`` per request;
* ``gw-jwt-hs``, ``gw-jwt-rs``, ``gw-apikey`` — ``gw-proxy`` through a third gateway with
  ``AUTH_MODE=required``, each request carrying an HS256 token, an RS256 token or an API key
  (:mod:`ascep.bench._auth_bench`); target: each costs at most 10 % more than ``gw-proxy``;
* ``nginx-proxy`` — nginx reverse-proxying to the same upstream (the honest ceiling), if installed.

For the gateway targets the table also shows the gateway process's CPU time per request (from
``/proc``): the proxy's cost, which other jobs on a shared machine do not change the way they
change throughput — the rate-limit and auth targets are judged on it.

The gateway is pinned to CPU 0, the load generator and upstream to CPU 1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict

import requests

from ascep.bench._auth_bench import Target, start_auth_gateway, step_costs
from ascep.bench._load import LoadResult, generator_name, run_load
from ascep.bench._servers import Processes, free_port, wait_port

TARGETS = {
    "ratelimit_overhead_max": 0.10,
    "proxy_vs_local_min": 0.25,
    "added_p50_ms_max": 2.0,
    "p99_ms_at_32_max": 150.0,
    "auth_added_cost_max": 0.10,
}
AUTH_ROWS = ("gw-jwt-hs", "gw-jwt-rs", "gw-apikey")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ascep.bench gateway")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", default="1,32", help="comma-separated concurrency levels")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.connections.split(",")]
    gateway_cpu, load_cpu = (0, 1) if (os.cpu_count() or 1) >= 2 else (None, None)

    procs = Processes()
    try:
        nginx = procs.nginx(cpu=load_cpu)
        upstream_port = nginx[0] if nginx else procs.fast_upstream(cpu=load_cpu)
        gateway_port = free_port()
        env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(gateway_port),
            # Redis beside the load, not on the gateway's core: the rate-limit row's round trips
            # must not steal the measured process's CPU (in production Redis has its own)
            "REDIS_URL": procs.redis(cpu=load_cpu),
            "PRICE_FEED_URL": f"http://127.0.0.1:{upstream_port}",
            "LOG_LEVEL": "WARNING",
            "RATE_LIMIT": "off",  # the plain rows; gw-ratelimit runs a second process with it on
        }
        plain = procs.start([sys.executable, "-m", "ascep.gateway"], env=env, cpu=gateway_cpu)
        wait_port(gateway_port)
        limited_port = free_port()
        limited_env = {**env, "PORT": str(limited_port), "RATE_LIMIT": "1000000/s"}
        limited = procs.start([sys.executable, "-m", "ascep.gateway"], env=limited_env, cpu=gateway_cpu)
        wait_port(limited_port)
        # the gateway process each target measures: its CPU time per request is the proxy's cost,
        # which other jobs on a shared machine do not change (throughput they do)
        pids = {"gw-local": plain.pid, "gw-proxy": plain.pid, "gw-ratelimit": limited.pid}
        urls: dict[str, Target] = {
            "direct": (f"http://127.0.0.1:{upstream_port}/prices", {}),
            "gw-local": (f"http://127.0.0.1:{gateway_port}/health", {}),
            "gw-proxy": (f"http://127.0.0.1:{gateway_port}/api/prices", {}),
            "gw-ratelimit": (f"http://127.0.0.1:{limited_port}/api/prices", {}),
        }
        if nginx:
            urls["nginx-proxy"] = (f"http://127.0.0.1:{nginx[1]}/prices", {})
        auth_targets, auth_pid = start_auth_gateway(procs, env, gateway_cpu)
        urls.update(auth_targets)
        pids.update(dict.fromkeys(auth_targets, auth_pid))
        for url, headers in urls.values():
            requests.get(url, headers=headers, timeout=5).raise_for_status()
            run_load(url, 8, 1, cpu=load_cpu, headers=headers)  # warm pools and caches

        results: dict[tuple[str, int], list[LoadResult]] = defaultdict(list)
        cpu_us: dict[tuple[str, int], list[float]] = defaultdict(list)
        for round_no in range(args.rounds):
            for connections in levels:
                for name, (url, headers) in urls.items():
                    before = process_cpu_s(pids[name]) if name in pids else 0.0
                    result = run_load(url, connections, args.duration, cpu=load_cpu, headers=headers)
                    results[(name, connections)].append(result)
                    if name in pids and result.requests:
                        spent = process_cpu_s(pids[name]) - before
                        cpu_us[(name, connections)].append(spent / result.requests * 1e6)
            sys.stderr.write(f"round {round_no + 1}/{args.rounds} done\n")
        report(results, urls, levels, upstream="nginx" if nginx else "asyncio", cpu_us=cpu_us)
    finally:
        procs.stop_all()
    return 0


def median(values: list[float]) -> float:
    return statistics.median(values)


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (``/proc/<pid>/stat``)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(
    results: dict[tuple[str, int], list[LoadResult]],
    urls: dict[str, Target],
    levels: list[int],
    upstream: str,
    cpu_us: dict[tuple[str, int], list[float]] | None = None,
) -> None:
    cpu_us = cpu_us or {}
    out = sys.stdout.write
    out(
        f"\nGateway benchmark — upstream: {upstream}, load: {generator_name()}, "
        f"{len(next(iter(results.values())))} interleaved rounds, medians\n\n"
    )
    columns = f"{'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'cpu us/req':>10}"
    out(f"{'target':<13} {'conns':>5} {columns}\n")
    out("-" * 67 + "\n")
    med: dict[tuple[str, int], dict[str, float]] = {}
    for connections in levels:
        for name in urls:
            runs = results[(name, connections)]
            row = {
                "rps": median([r.requests_per_second for r in runs]),
                "p50": median([r.p50_ms for r in runs]),
                "p99": median([r.p99_ms for r in runs]),
                "errors": sum(r.errors for r in runs),
            }
            med[(name, connections)] = row
            figures = f"{row['rps']:>10.0f} {row['p50']:>8.2f} {row['p99']:>8.2f} {row['errors']:>7.0f}"
            cpu = cpu_us.get((name, connections))
            if cpu:
                row["cpu"] = median(cpu)
            cpu_text = f"{row['cpu']:>10.0f}" if cpu else f"{'':>10}"
            out(f"{name:<13} {connections:>5} {figures} {cpu_text}\n")
    high, low = max(levels), min(levels)
    ratio = med[("gw-proxy", high)]["rps"] / med[("gw-local", high)]["rps"]
    added = med[("gw-proxy", low)]["p50"] - med[("direct", low)]["p50"]
    p99 = med[("gw-proxy", high)]["p99"]
    errors = sum(r["errors"] for r in med.values())
    out("\nRatios and targets\n")
    checks = [
        (
            f"proxy / gateway-local throughput at {high} conns",
            f"{ratio:.2f}x",
            ratio >= TARGETS["proxy_vs_local_min"],
            ">= 0.25x",
        ),
        (
            f"proxy p50 added over direct at {low} conn",
            f"{added:.2f} ms",
            added <= TARGETS["added_p50_ms_max"],
            "<= 2 ms",
        ),
        (f"proxy p99 at {high} conns", f"{p99:.1f} ms", p99 <= TARGETS["p99_ms_at_32_max"], "<= 150 ms"),
        ("errors (all runs)", f"{errors:.0f}", errors == 0, "0"),
    ]
    if ("gw-ratelimit", high) in med:
        for level in levels:
            limited, plain = med[("gw-ratelimit", level)], med[("gw-proxy", level)]
            if "cpu" in limited and "cpu" in plain:
                added = limited["cpu"] / plain["cpu"] - 1
                checks.append(
                    (
                        f"rate limiting's gateway CPU per request at {level} conn(s)",
                        f"{added * 100:+.1f} %",
                        added <= TARGETS["ratelimit_overhead_max"],
                        "<= +10 %",
                    )
                )
        cost = 1 - med[("gw-ratelimit", high)]["rps"] / med[("gw-proxy", high)]["rps"]
        checks.append(
            (f"rate limiting's throughput cost at {high} conns", f"{cost * 100:.1f} %", True, "(reference)")
        )
        # one conn: latency, not capacity — one Redis round trip is added to every request
        added_ms = med[("gw-ratelimit", low)]["p50"] - med[("gw-proxy", low)]["p50"]
        checks.append((f"rate limiting's p50 added at {low} conn", f"{added_ms:.2f} ms", True, "(reference)"))
    if ("nginx-proxy", high) in med:
        nginx_ratio = med[("nginx-proxy", high)]["rps"] / med[("gw-proxy", high)]["rps"]
        checks.append(
            (
                f"nginx-proxy / gateway-proxy throughput at {high} conns",
                f"{nginx_ratio:.1f}x",
                True,
                "(reference)",
            )
        )
    for name in AUTH_ROWS:
        if (name, high) in med:
            secured, plain = med[(name, high)], med[("gw-proxy", high)]
            if "cpu" in secured and "cpu" in plain:
                cost, what = secured["cpu"] / plain["cpu"] - 1, "gateway CPU per request"
            else:
                cost, what = plain["rps"] / secured["rps"] - 1, "throughput cost"
            checks.append(
                (
                    f"{name} {what} over gw-proxy at {high} conns",
                    f"{cost * 100:+.1f} %",
                    cost <= TARGETS["auth_added_cost_max"],
                    "<= +10 %",
                )
            )
            p50_added = med[(name, low)]["p50"] - med[("gw-proxy", low)]["p50"]
            checks.append((f"{name} p50 added at {low} conn", f"{p50_added:+.2f} ms", True, "(reference)"))
    for label, value, ok, target in checks:
        out(f"  {label:<48} {value:>10}  target {target:<10} {'PASS' if ok else 'MISS'}\n")
    costs = step_costs()
    proxied_us = 1e6 / med[("gw-proxy", low)]["rps"]  # one connection: a request's whole time
    out("\nThe authenticate step alone, in-process, fastest of 5 runs (vs. off: added per request)\n")
    for name, us in costs.items():
        added_us = us - costs["off"]
        share = f"{added_us / proxied_us * 100:.2f} % of a proxied request" if name != "off" else "baseline"
        out(f"  {name:<8} {us:6.1f} us  {added_us:+6.1f} us  {share}\n")
    out(f"\n(measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
