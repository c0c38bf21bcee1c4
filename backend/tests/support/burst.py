"""Fire many HTTP requests at once from this process (asyncio, one fresh connection each)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence


async def _one(
    port: int, request: bytes, timeout: float, outcomes: Counter[str], start: asyncio.Event, ready: list[int]
) -> None:
    writer = None
    try:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
        finally:
            ready[0] += 1
        await start.wait()  # every connection is open before the first request goes out
        writer.write(request)
        status_line = await asyncio.wait_for(reader.readline(), timeout)
        await asyncio.wait_for(reader.read(), timeout)
        outcomes[status_line.split(b" ", 2)[1].decode() if status_line else "empty"] += 1
    except TimeoutError:
        outcomes["timeout"] += 1
    except OSError:
        outcomes["error"] += 1
    finally:
        if writer is not None:
            writer.close()


async def _burst(ports: Sequence[int], path: str, count: int, headers: str, timeout: float) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    start = asyncio.Event()
    ready = [0]
    tasks = []
    for i in range(count):
        port = ports[i % len(ports)]
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}Connection: close\r\n\r\n".encode()
        )
        tasks.append(asyncio.ensure_future(_one(port, request, timeout, outcomes, start, ready)))
    deadline = asyncio.get_running_loop().time() + timeout
    while ready[0] < count and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.005)  # connections complete in the kernels' backlogs
    start.set()
    await asyncio.gather(*tasks)
    return outcomes


def burst(
    ports: Sequence[int], path: str, count: int, *, headers: str = "", timeout: float = 30.0
) -> Counter[str]:
    """``count`` GETs of ``path`` spread round robin over ``ports``, sent together; statuses counted."""
    return asyncio.run(_burst(ports, path, count, headers, timeout))
