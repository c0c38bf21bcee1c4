"""Redis connections with the timeouts and health checks every ASCEP process needs.

Command connections get a socket timeout so a dead Redis fails a call quickly instead of hanging a
request; pub/sub connections get none (a quiet channel is not an error) and rely on TCP keepalive
plus redis-py's periodic health check to notice a dead peer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

#: Errors that mean "Redis is unreachable right now" (as opposed to a bad command). Left to
#: inference: a fixed-length tuple type is what lets mypy check ``except (X, *REDIS_UNAVAILABLE_ERRORS)``.
REDIS_UNAVAILABLE_ERRORS = (
    redis.ConnectionError,
    redis.TimeoutError,
    OSError,
)


def connect(
    url: str,
    *,
    for_pubsub: bool = False,
    socket_timeout: float = 5.0,
    connect_timeout: float = 2.0,
    retries: int = 1,
) -> redis.Redis:
    """A client for ``url`` returning ``str`` values; one per process is enough (it pools).

    ``retries=0`` suits supervised loops that reconnect themselves and want to see every error.
    """
    return redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=connect_timeout,
        socket_timeout=None if for_pubsub else socket_timeout,
        socket_keepalive=True,
        health_check_interval=15,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries),
    )


@dataclass(frozen=True)
class RedisOptions:
    """Where Redis is and how long a call may wait for it (``REDIS_URL``, ``REDIS_*_TIMEOUT``)."""

    url: str
    socket_timeout: float = 2.0
    connect_timeout: float = 1.0

    def client(self, *, retries: int = 1) -> redis.Redis:
        """A command client with these timeouts (see :func:`connect` for ``retries``)."""
        return connect(
            self.url,
            socket_timeout=self.socket_timeout,
            connect_timeout=self.connect_timeout,
            retries=retries,
        )


def is_reachable(client: redis.Redis) -> bool:
    """``True`` when Redis answers PING; never raises."""
    try:
        return bool(client.ping())
    except REDIS_UNAVAILABLE_ERRORS:
        return False
    except redis.RedisError:
        logger.exception("unexpected error pinging Redis")
        return False


def _glob_escape(text: str) -> str:
    """``text`` as a literal in a ``SCAN MATCH`` pattern."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def delete_keys_with_prefix(client: redis.Redis, prefix: str, *, batch: int = 500) -> int:
    """Delete every key starting with ``prefix`` (``SCAN`` + ``UNLINK``); how many were deleted.

    What ``./ascep run --fresh`` does on a shared Redis: never ``FLUSHDB``, which would take
    other applications' keys with ours. ``SCAN`` does not block the server the way ``KEYS`` does.
    """
    if not prefix:
        raise ValueError("refusing to delete every key: the prefix is empty")
    deleted = 0
    pending: list[str] = []
    for key in client.scan_iter(match=f"{_glob_escape(prefix)}*", count=batch):
        pending.append(key)
        if len(pending) >= batch:
            deleted += int(client.unlink(*pending))
            pending.clear()
    if pending:
        deleted += int(client.unlink(*pending))
    return deleted


class LazyClient:
    """A Redis client made by ``factory`` on first use rather than at construction (building a
    component does no I/O, and a process forked after construction gets its own connection).

    :meth:`reset` drops it so the next use reconnects from scratch.
    """

    def __init__(self, factory: Callable[[], redis.Redis]) -> None:
        self._factory = factory
        self._client: redis.Redis | None = None

    def get(self) -> redis.Redis:
        if self._client is None:
            self._client = self._factory()
        return self._client

    def reset(self) -> None:
        self._client = None
