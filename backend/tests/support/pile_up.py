"""Pile requests on one URL from a process of its own: ``python pile_up.py PORT PATH COUNT RATE TIMEOUT``.

Why a process: the test measuring latency meanwhile must not share a GIL with the load, and the
load runs at a lower CPU priority (``nice``), as if it came from other machines. Each
request is a fresh connection (``Connection: close``, as from many independent clients) started
on a fixed schedule (``RATE`` per second), so the load ramps up like a real pile-up instead of
overflowing the listen queue in one burst. Every answer's status (or ``timeout``/``error``) and
how long the 503s took are written as one JSON line when all are done or given up on.
"""

import asyncio
import json
import os
import sys
import time
from collections import Counter


async def one(port: int, path: str, timeout: float, outcomes: Counter, rejected_in: list) -> None:
    started = time.monotonic()
    writer = None
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        await asyncio.wait_for(reader.read(), timeout)
        status = status_line.split(b" ", 2)[1].decode() if status_line else "empty"
        outcomes[status] += 1
        if status == "503":
            rejected_in.append(time.monotonic() - started)
    except TimeoutError:
        outcomes["timeout"] += 1
    except OSError:
        outcomes["error"] += 1
    finally:
        if writer is not None:
            writer.close()


async def main(port: int, path: str, count: int, rate: float, timeout: float) -> dict:
    outcomes: Counter = Counter()
    rejected_in: list[float] = []
    tasks = []
    start = time.monotonic()
    for i in range(count):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(port, path, timeout, outcomes, rejected_in)))
    await asyncio.gather(*tasks)
    rejected_in.sort()
    p95 = rejected_in[int(len(rejected_in) * 0.95) - 1] if rejected_in else None
    return {"outcomes": dict(outcomes), "rejected_p95_s": p95}


if __name__ == "__main__":
    os.nice(10)
    port, path, count, rate, timeout = sys.argv[1:6]
    result = asyncio.run(main(int(port), path, int(count), float(rate), float(timeout)))
    sys.stdout.write(json.dumps(result) + "\n")
