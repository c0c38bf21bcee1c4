"""``python -m ascep.bench upstreams``: what service instances cost and what they buy.

Targets, interleaved in one run (``--rounds`` times, the order reversed every other round) so
machine noise hits them all alike; the table shows medians over rounds:

* ``steps-off``  — the gateway as before issue 15 (``PROXY_UPSTREAM_STEPS=False``: no
  ``select_upstream``, every call to the service's one address) in front of a fast upstream;
* ``steps-on``   — the same gateway and upstream with instance selection (the product);
  target: at most 5 % less throughput than ``steps-off``;
* the ``select_upstream`` step timed alone in this process (100 000 calls over three instances):
  a noise-free figure for what the step adds to each proxied call, next to the loaded numbers;
* ``1-instance`` / ``3-instances`` — a gateway in front of one, then three, upstreams that each
  serve one call at a time in ``--service-ms`` (a capacity-bound service): three instances
  should carry about three times the calls;
* ``retries-off`` / ``retries-on`` — the product gateway in front of the fast upstream with
  ``RETRY_MAX_ATTEMPTS=1`` (never retry), then the default 3 (retry step, budget counting and
  its Redis sync loop active; nothing fails): target at most 5 % less throughput.

Further rows (the breaker helper's "answer while the breaker is open") plug in through
:data:`EXTRA_TARGETS`: a factory gets the :class:`BenchContext` (processes, Redis, CPUs, a way to
start a gateway) and returns :class:`Target` rows, each with an optional pass/miss check.

Gateways are pinned to CPU 0, upstreams and the load generator to CPU 1. The hot path is
measured as it runs in production: no Redis round trip per proxied call.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import textwrap
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from ascep.bench._load import LoadResult, generator_name, run_load
from ascep.bench._servers import SMALL_JSON, Processes, free_port, wait_port
from ascep.bench._split_bench import split_rows

THROUGHPUT_LOSS_MAX = 0.05

#: An upstream that serves one call at a time, each taking ``argv[2]`` ms: a capacity-bound
#: service, so that more instances mean more throughput.
_SERIAL_SERVER = textwrap.dedent(
    """
    import asyncio, sys
    BODY = sys.argv[3].encode()
    HEAD = (b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\n"
            b"Content-Length: %d\\r\\n\\r\\n" % len(BODY))
    DELAY = float(sys.argv[2]) / 1000

    async def main():
        lock = asyncio.Lock()

        async def handle(reader, writer):
            try:
                while True:
                    await reader.readuntil(b"\\r\\n\\r\\n")
                    async with lock:
                        await asyncio.sleep(DELAY)
                    writer.write(HEAD + BODY)
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())
    """
)

#: The gateway with a config override (not a setting): how ``steps-off`` runs the old pipeline.
_GATEWAY_WITH_CONFIG = textwrap.dedent(
    """
    from ascep.common.asyncmode import prepare_async_mode
    prepare_async_mode()
    import ascep.gateway, ascep.gateway.app as app_module
    build = app_module.build_app
    ascep.gateway.create_app = lambda config=None: build({**(config or {}), %r: %r})
    from ascep.gateway.__main__ import main
    main()
    """
)


@dataclass
class BenchContext:
    """What a target factory may use to stand up its own processes."""

    procs: Processes
    redis_url: str
    gateway_cpu: int | None
    load_cpu: int | None
    args: argparse.Namespace

    def start_gateway(
        self,
        service_urls: str,
        config: tuple[str, object] | None = None,
        settings: dict[str, str] | None = None,
    ) -> int:
        """A gateway whose ``price_feed`` is ``service_urls``; its port once it listens.

        ``settings``: further environment variables (e.g. ``RETRY_MAX_ATTEMPTS``)."""
        port = free_port()
        env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "REDIS_URL": self.redis_url,
            "PRICE_FEED_URL": service_urls,
            "LOG_LEVEL": "WARNING",
            # rate limits have their own row in `bench gateway`; every client here is one address
            "RATE_LIMIT": "off",
            "RATE_LIMIT_SOCKETIO": "off",
            **(settings or {}),
        }
        command = [sys.executable, "-m", "ascep.gateway"]
        if config is not None:
            command = [sys.executable, "-c", _GATEWAY_WITH_CONFIG % config]
        self.procs.start(command, env=env, cpu=self.gateway_cpu)
        wait_port(port)
        return port

    def serial_upstream(self, service_ms: float) -> int:
        port = free_port()
        script = [sys.executable, "-c", _SERIAL_SERVER, str(port), str(service_ms), SMALL_JSON.decode()]
        self.procs.start(script, cpu=self.load_cpu)
        wait_port(port)
        return port


Row = dict[str, float]
#: ``check(rows_by_target_name) -> (label, value, passed, target)``
Check = Callable[[dict[str, Row]], tuple[str, str, bool, str]]


@dataclass
class Target:
    name: str
    url: str
    connections: int
    checks: list[Check] = field(default_factory=list)


#: Factories of further rows (e.g. the breaker-open latency); each returns its targets.
EXTRA_TARGETS: list[Callable[[BenchContext], list[Target]]] = [
    lambda ctx: [Target(*row) for row in split_rows(ctx)],  # split-off / split-on (issue 16)
]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ascep.bench upstreams")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--service-ms", type=float, default=20.0, help="time per call of a bound upstream")
    args = parser.parse_args(argv)
    gateway_cpu, load_cpu = (0, 1) if (os.cpu_count() or 1) >= 2 else (None, None)

    procs = Processes()
    try:
        ctx = BenchContext(procs, procs.redis(), gateway_cpu, load_cpu, args)
        targets = core_targets(ctx)
        for factory in EXTRA_TARGETS:
            targets.extend(factory(ctx))
        for target in targets:
            requests.get(target.url, timeout=5)
            run_load(target.url, 8, 1, cpu=load_cpu)  # warm pools and caches

        results: dict[str, list[LoadResult]] = defaultdict(list)
        for round_no in range(args.rounds):
            # ABBA order: every target runs as often early as late in a round (no order bias).
            for target in targets if round_no % 2 == 0 else reversed(targets):
                results[target.name].append(
                    run_load(target.url, target.connections, args.duration, cpu=load_cpu)
                )
            sys.stderr.write(f"round {round_no + 1}/{args.rounds} done\n")
        report(targets, results, args, step_micro_cost_us())
    finally:
        procs.stop_all()
    return 0


def core_targets(ctx: BenchContext) -> list[Target]:
    fast = f"http://127.0.0.1:{ctx.procs.fast_upstream(cpu=ctx.load_cpu)}"
    bound = [f"http://127.0.0.1:{ctx.serial_upstream(ctx.args.service_ms)}" for _ in range(3)]
    off = ctx.start_gateway(fast, config=("PROXY_UPSTREAM_STEPS", False))
    on = ctx.start_gateway(fast, config=("PROXY_UPSTREAM_STEPS", True))  # launched the same way
    one = ctx.start_gateway(bound[0])
    three = ctx.start_gateway(",".join(bound))
    conns = ctx.args.connections
    return [
        Target("steps-off", f"http://127.0.0.1:{off}/api/prices", conns),
        Target("steps-on", f"http://127.0.0.1:{on}/api/prices", conns, [_step_cost]),
        Target("1-instance", f"http://127.0.0.1:{one}/api/prices", conns),
        Target("3-instances", f"http://127.0.0.1:{three}/api/prices", conns, [_scale_out]),
    ]


def _step_cost(rows: dict[str, Row]) -> tuple[str, str, bool, str]:
    ratio = rows["steps-on"]["rps"] / rows["steps-off"]["rps"]
    return (
        "throughput with instance selection vs without",
        f"{(ratio - 1) * 100:+.1f} %",
        ratio >= 1 - THROUGHPUT_LOSS_MAX,
        f">= -{THROUGHPUT_LOSS_MAX * 100:.0f} %",
    )


def _scale_out(rows: dict[str, Row]) -> tuple[str, str, bool, str]:
    ratio = rows["3-instances"]["rps"] / rows["1-instance"]["rps"]
    return ("3 bound instances / 1 (throughput)", f"{ratio:.2f}x", True, "(reference)")


def retry_targets(ctx: BenchContext) -> list[Target]:
    """Retries configured vs not, nothing failing (issue 16): the cost of being ready to retry."""
    fast = f"http://127.0.0.1:{ctx.procs.fast_upstream(cpu=ctx.load_cpu)}"
    off = ctx.start_gateway(fast, settings={"RETRY_MAX_ATTEMPTS": "1"})
    on = ctx.start_gateway(fast, settings={"RETRY_MAX_ATTEMPTS": "3"})
    conns = ctx.args.connections
    return [
        Target("retries-off", f"http://127.0.0.1:{off}/api/prices", conns),
        Target("retries-on", f"http://127.0.0.1:{on}/api/prices", conns, [_retry_cost]),
    ]


def _retry_cost(rows: dict[str, Row]) -> tuple[str, str, bool, str]:
    ratio = rows["retries-on"]["rps"] / rows["retries-off"]["rps"]
    return (
        "throughput with retries configured vs without",
        f"{(ratio - 1) * 100:+.1f} %",
        ratio >= 1 - THROUGHPUT_LOSS_MAX,
        f">= -{THROUGHPUT_LOSS_MAX * 100:.0f} %",
    )


EXTRA_TARGETS.append(retry_targets)


def step_micro_cost_us(calls: int = 100_000) -> float:
    """Microseconds one ``select_upstream`` pass costs (choose, count, give back), in process."""
    from ascep.gateway.proxy.exchange import Exchange, ProxyResponse
    from ascep.gateway.routing import Route, ServiceRegistry
    from ascep.gateway.upstreams.instances import build_upstreams
    from ascep.gateway.upstreams.selection import select_upstream

    registry = ServiceRegistry()
    definition = registry.register_service(
        name="svc", port=1, endpoints=["/svc"], instances=["a:1", "b:1", "c:1"]
    )
    step = select_upstream(build_upstreams(registry, max_discovered=1, environ={}))
    exchange = Exchange("r", "GET", "/svc", "/svc", "", [], None, None, False, "", "http", "h", 0.0)
    exchange.route = Route("/svc", definition)

    def answer(_exchange: Exchange) -> ProxyResponse:
        return ProxyResponse(200, "OK", [], [])

    started = time.perf_counter()
    for _ in range(calls):
        response = step(exchange, answer)
        for callback in response.close_callbacks:
            callback(200, False)
    return (time.perf_counter() - started) / calls * 1e6


def report(
    targets: list[Target],
    results: dict[str, list[LoadResult]],
    args: argparse.Namespace,
    step_us: float,
) -> None:
    out = sys.stdout.write
    out(
        f"\nUpstreams benchmark — load: {generator_name()}, {args.rounds} interleaved rounds of "
        f"{args.duration:.0f} s, medians; bound upstreams serve one call at a time in "
        f"{args.service_ms} ms\n\n"
    )
    out(f"{'target':<14} {'conns':>5} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}\n")
    out("-" * 57 + "\n")
    rows: dict[str, Row] = {}
    for target in targets:
        runs = results[target.name]
        row = {
            "rps": statistics.median(r.requests_per_second for r in runs),
            "p50": statistics.median(r.p50_ms for r in runs),
            "p99": statistics.median(r.p99_ms for r in runs),
            "errors": float(sum(r.errors for r in runs)),
        }
        rows[target.name] = row
        figures = f"{row['rps']:>10.0f} {row['p50']:>8.2f} {row['p99']:>8.2f} {row['errors']:>7.0f}"
        out(f"{target.name:<14} {target.connections:>5} {figures}\n")
    out("\nTargets\n")
    call_us = 1e6 / rows["steps-off"]["rps"] if rows.get("steps-off", {}).get("rps") else float("nan")
    share = step_us / call_us if call_us == call_us else float("nan")
    out(
        f"  {'select_upstream alone, per call (in process)':<48} {step_us:>7.2f} us  "
        f"= {share * 100:.2f} % of a proxied call's CPU at steps-off throughput\n"
    )
    for target in targets:
        for check in target.checks:
            label, value, ok, goal = check(rows)
            out(f"  {label:<48} {value:>10}  target {goal:<10} {'PASS' if ok else 'MISS'}\n")
    out(f"\n(measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
