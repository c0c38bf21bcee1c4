"""The base of "this input record is refused" errors raised by pure parsers.

Parsers of untrusted records (Binance frames, price records on the bus) refuse bad input with a
short, counter-friendly ``reason`` label plus a free-text ``detail``; their callers count the
labels and carry on. One base keeps the message format and the attributes the same everywhere.
"""

from __future__ import annotations


class RecordRejected(ValueError):
    """A record cannot be used; ``reason`` is a short counter label, ``detail`` says more."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
