"""Dispatch ``python -m ascep.bench <name> [options]`` to ``ascep.bench.<module>.main(argv)``."""

from __future__ import annotations

import importlib
import logging
import sys

#: Benchmark name -> module under ``ascep.bench`` exposing ``main(argv: list[str]) -> int``.
BENCHMARKS: dict[str, str] = {
    "gateway": "gateway",
    "fanout": "fanout",
    "pricefeed": "pricefeed",
    "arbitrage": "arbitrage",
    "cep": "cep",
    "upstreams": "upstreams",
    "breaker": "breaker",
}


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not argv or argv[0] in ("-h", "--help"):
        sys.stderr.write("usage: python -m ascep.bench {" + ",".join([*BENCHMARKS, "all"]) + "} [options]\n")
        return 2
    names = list(BENCHMARKS) if argv[0] == "all" else [argv[0]]
    status = 0
    for name in names:
        if name not in BENCHMARKS:
            sys.stderr.write(f"unknown benchmark {name!r}\n")
            return 2
        try:
            module = importlib.import_module(f"ascep.bench.{BENCHMARKS[name]}")
        except ModuleNotFoundError:
            sys.stderr.write(f"benchmark {name!r} is not available yet\n")
            continue
        status |= module.main(argv[1:])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
