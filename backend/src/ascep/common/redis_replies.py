"""Redis replies as ``str``, whatever the client was built with.

redis-py annotates every reply as ``bytes | str`` (``str`` only with ``decode_responses=True``,
which :func:`ascep.common.redis_client.connect` sets) and the ``ZRANGE`` family as a union with its
``WITHSCORES`` shapes. Code that builds keys or parses JSON from a reply needs ``str``: a ``bytes``
member would silently become the key ``"...:b'12'"``. These helpers give the real type and keep a
client built elsewhere (a bench, a test, a future pool) correct instead of trusting a cast.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def text(value: object) -> str:
    """``value`` (one reply: a key, a member, a field value) as ``str``; ``TypeError`` otherwise."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode()
    raise TypeError(f"expected a Redis string reply, got {type(value).__name__}")


def optional_text(value: object) -> str | None:
    """:func:`text`, keeping ``None`` (a missing key or field)."""
    return None if value is None else text(value)


def texts(values: Iterable[object]) -> list[str]:
    """Members of a list, set or sorted-set reply (without scores) as ``str``."""
    return [text(v) for v in values]


def text_map(values: Mapping[bytes | str, bytes | str]) -> dict[str, str]:
    """A ``HGETALL`` reply (or one ``XRANGE`` entry's fields) as ``dict[str, str]``."""
    return {text(k): text(v) for k, v in values.items()}
