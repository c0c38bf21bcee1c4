"""Many lightweight Socket.IO readers in one asyncio process (for ``ascep.bench fanout``).

Each reader does the real Engine.IO v4 / Socket.IO v5 handshake over a websocket, answers pings,
subscribes to prices and reads. ``--latency-clients`` of them parse every event to measure
delivery latency from the publish time (``pt``) carried in each event; the others only count
events, which costs almost nothing, so the benchmark measures the gateway, not the readers.
Prints one JSON object with the results on stdout.

    python -m ascep.bench._readers --url http://127.0.0.1:5000 --clients 100 --batch --seconds 7
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

import websockets


async def reader(
    url: str,
    batch: bool,
    parse: bool,
    latencies: list[float],
    counts: list[int],
    index: int,
    ready: asyncio.Event,
    connected: list[int],
    target: int,
    run: str,
) -> None:
    marker = f'"run":"{run}"'
    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with websockets.connect(ws_url, max_size=None, compression=None, ping_interval=None) as ws:
        await ws.recv()  # Engine.IO open packet
        await ws.send('40{"protocol":2}')  # subscriptions: only what it subscribes to
        while not str(await ws.recv()).startswith("40"):
            pass
        await ws.send("42" + json.dumps(["subscribe_prices", {"batch": batch}]))
        while not str(await ws.recv()).startswith('42["subscription_confirmed"'):
            pass
        connected[0] += 1
        if connected[0] == target:
            ready.set()
        async for message in ws:
            if message == "2":
                await ws.send("3")
                continue
            if not isinstance(message, str) or not message.startswith('42["price_'):
                continue
            if parse:
                now = time.time()
                _, body = json.loads(message[2:])
                updates = body if isinstance(body, list) else [body]
                for update in updates:
                    if update.get("run") == run:  # snapshots of earlier runs do not count
                        latencies.append((now - update["pt"]) * 1000)
                        counts[index] += 1
            else:
                counts[index] += message.count(marker)


async def main_async(args: argparse.Namespace) -> dict:
    latencies: list[float] = []
    counts = [0] * args.clients
    ready = asyncio.Event()
    connected = [0]
    tasks = [
        asyncio.create_task(
            reader(
                args.url,
                args.batch,
                i < args.latency_clients,
                latencies,
                counts,
                i,
                ready,
                connected,
                args.clients,
                args.run,
            )
        )
        for i in range(args.clients)
    ]
    await asyncio.wait_for(ready.wait(), timeout=30)
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    await asyncio.sleep(args.seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"counts": counts, "latencies_ms": latencies}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--latency-clients", type=int, default=5)
    parser.add_argument("--batch", action="store_true")
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--run", required=True, help="only events carrying this run id count")
    result = asyncio.run(main_async(parser.parse_args()))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
