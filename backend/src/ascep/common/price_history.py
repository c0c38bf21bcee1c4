"""Reading a symbol's capped history stream, with ``limit`` and ``since`` semantics.

* without ``since``: the newest ``limit`` records, oldest first;
* with ``since`` (epoch ms): the first ``limit`` records whose ``ts >= since``, oldest first — so a
  client can page forward by passing the last ``ts + 1`` it saw.

Stream ids are Redis's arrival times, which are never earlier than a record's ``ts`` (the record is
stamped on receipt, on the same host, before it is written), so ``XRANGE`` from ``since`` finds
every candidate; records that arrived late (e.g. buffered through a Redis outage) are filtered out
by their own ``ts``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import redis

from ascep.common.channels import PRICE_HISTORY_FIELD, price_history_key
from ascep.common.redis_replies import text, text_map

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


#: One ``XRANGE`` entry as redis-py types it: (stream id, fields).
_Entry = tuple[bytes | str | None, Mapping[bytes | str, bytes | str] | None]


def _records(entries: Iterable[_Entry]) -> list[dict[str, Any]]:
    out = []
    for _, fields in entries:
        raw = text_map(fields).get(PRICE_HISTORY_FIELD) if fields else None
        if raw is not None:
            out.append(json.loads(raw))
    return out


def read_history(client: redis.Redis, symbol: str, limit: int, since_ms: int | None) -> list[dict[str, Any]]:
    """Records of ``symbol`` as stored (``PriceUpdate.to_dict()``), oldest first."""
    key = price_history_key(symbol)
    if since_ms is None:
        return list(reversed(_records(client.xrevrange(key, "+", "-", count=limit) or [])))
    found: list[dict[str, Any]] = []
    start = str(max(0, since_ms))
    while len(found) < limit:
        entries = client.xrange(key, start, "+", count=limit)
        if not entries:
            break
        found.extend(r for r in _records(entries) if r.get("ts", 0) >= since_ms)
        if len(entries) < limit:
            break
        start = "(" + text(entries[-1][0])
    return found[:limit]


def iter_history(
    client: redis.Redis, symbol: str, since_ms: int = 0, until_ms: int | None = None, chunk: int = MAX_LIMIT
) -> Iterator[list[dict[str, Any]]]:
    """Every stored record of ``symbol`` with ``since_ms <= ts <= until_ms``, in pages, oldest first.

    Pages instead of one list so a backtest or an export over a long history keeps memory bounded
    and can report progress between pages.
    """
    key = price_history_key(symbol)
    start = str(max(0, since_ms))
    while True:
        entries = client.xrange(key, start, "+", count=chunk)
        if not entries:
            return
        page = [r for r in _records(entries) if r.get("ts", 0) >= since_ms]
        if until_ms is not None:
            page = [r for r in page if r.get("ts", 0) <= until_ms]
        if page:
            yield page
        if len(entries) < chunk:
            return
        start = "(" + text(entries[-1][0])
