"""Rate-limit specifications: ``100/60s``, ``10/s burst 20``, ``off`` — parsed once, validated hard.

A spec says a *rate* (``count`` requests per ``period``) and how many may come *at once*
(``burst``, default ``count``). Both algorithms read the same two numbers:

* **GCRA** (a token bucket without a refill timer): one request every ``period / count``
  (the emission interval) on average, and up to ``burst`` back to back;
* **sliding window** (an exact log of accepted requests): at most ``quota = burst`` requests in
  any window of ``quota * period / count`` seconds — the same long-run rate and the same largest
  burst. ``100/60s`` is 100 in any 60 s; ``10/s burst 20`` is 20 in any 2 s.

That window is also what the ``RateLimit-Policy`` header advertises (``q=quota;w=window``), so a
client reads the same policy whichever algorithm runs.

Every number is bounded (a typo such as ``10000000000/s``, or a spec that would keep a key for a
year, is refused with the reason), digits are ASCII only (``int()`` would also take Arabic-Indic digits), and
the text is at most :data:`MAX_SPEC_LENGTH` characters. Plain Python, no I/O: the registry, the
settings and the admin API all parse with :func:`parse_limit` and wrap :class:`LimitSpecError` in
their own error naming the setting, the argument or the field.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

MAX_SPEC_LENGTH: Final = 64
MAX_COUNT: Final = 1_000_000
MAX_BURST: Final = 1_000_000
#: Longest period a spec may name, and longest window its quota may take to refill (a key lives
#: that long in Redis): one day.
MAX_PERIOD_S: Final = 86_400
MAX_WINDOW_S: Final = 86_400
#: A sliding window keeps one sorted-set entry (~70 bytes) per accepted request of the window,
#: per client: 10 000 is ≤ ~1 MB for a client at its limit. GCRA keeps one number whatever the
#: limit; use it above this.
MAX_SLIDING_QUOTA: Final = 10_000

_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_SPEC = re.compile(  # spaces and tabs only: a newline in a limit is a pasting accident
    r"(?P<count>[0-9]{1,9})[ \t]*/[ \t]*(?P<mult>[0-9]{1,6})?(?P<unit>[smhd])"
    r"(?:[ \t]+burst[ \t]+(?P<burst>[0-9]{1,9}))?",
    re.ASCII | re.IGNORECASE,
)


class LimitSpecError(ValueError):
    """A spec that cannot be used; ``str()`` is the reason, written for the operator."""


@dataclass(frozen=True, slots=True)
class LimitSpec:
    """One limit. ``count == 0`` is ``off`` (:data:`OFF`): no limit at all."""

    count: int
    period_s: int
    burst: int | None = None
    #: How the period was written (``60s``, ``m``): kept so the canonical text reads as written.
    period_text: str = "s"

    @property
    def enabled(self) -> bool:
        return self.count > 0

    @property
    def quota(self) -> int:
        """Requests that may come at once; also the sliding window's quota."""
        return self.burst if self.burst is not None else self.count

    @property
    def emission_us(self) -> float:
        """Microseconds between requests at the sustained rate (GCRA's emission interval)."""
        return self.period_s * 1_000_000 / self.count

    @property
    def window_us(self) -> int:
        """The sliding window (and the time a full quota takes to come back), in microseconds."""
        return round(self.quota * self.emission_us)

    @property
    def window_s(self) -> int:
        """:attr:`window_us` in whole seconds, rounded up (the header's ``w``, at least 1)."""
        return max(1, math.ceil(self.window_us / 1_000_000))

    def __str__(self) -> str:
        if not self.enabled:
            return "off"
        text = f"{self.count}/{self.period_text}"
        return f"{text} burst {self.burst}" if self.burst is not None else text

    def check_sliding_window(self) -> None:
        """Raise unless a sliding window may run this spec (its log is bounded by the quota)."""
        if self.enabled and self.quota > MAX_SLIDING_QUOTA:
            raise LimitSpecError(
                f"{self}: a sliding window keeps every request of its window; at most "
                f"{MAX_SLIDING_QUOTA} per window (RATE_LIMIT_ALGORITHM=gcra has no such bound)"
            )


OFF: Final = LimitSpec(0, 0, None, "")


def parse_limit(text: object) -> LimitSpec:
    """``"100/60s"``, ``"10/s burst 20"``, ``"5/m"``, ``"off"`` → a :class:`LimitSpec`.

    Units: ``s``, ``m``, ``h``, ``d``, optionally preceded by a whole multiplier (``60s``).
    Case and spaces around ``/`` do not matter; anything else raises :class:`LimitSpecError`.
    """
    if not isinstance(text, str):
        raise LimitSpecError(
            f"must be a string such as '100/60s', '10/s burst 20' or 'off', not {type(text).__name__}"
        )
    if len(text) > MAX_SPEC_LENGTH:
        raise LimitSpecError(f"must be at most {MAX_SPEC_LENGTH} characters")
    stripped = text.strip(" \t")
    if stripped.lower() == "off":
        return OFF
    match = _SPEC.fullmatch(stripped)
    if match is None:
        raise LimitSpecError(
            f"{text!r} is not a limit: write '<count>/<period>[ burst <n>]' with a period in "
            "s, m, h or d (e.g. '100/60s', '10/s burst 20'), or 'off'"
        )
    count = int(match["count"])
    mult = int(match["mult"]) if match["mult"] is not None else 1
    unit = match["unit"].lower()
    period_s = mult * _UNITS[unit]
    burst = int(match["burst"]) if match["burst"] is not None else None
    if not 1 <= count <= MAX_COUNT:
        raise LimitSpecError(f"{text!r}: the count must be from 1 to {MAX_COUNT}")
    if not 1 <= period_s <= MAX_PERIOD_S:
        raise LimitSpecError(f"{text!r}: the period must be from 1 s to {MAX_PERIOD_S} s (1 day)")
    if burst is not None and not 1 <= burst <= MAX_BURST:
        raise LimitSpecError(f"{text!r}: the burst must be from 1 to {MAX_BURST}")
    spec = LimitSpec(count, period_s, burst, f"{match['mult'] or ''}{unit}".lstrip("0") or unit)
    if spec.window_us > MAX_WINDOW_S * 1_000_000:
        raise LimitSpecError(
            f"{text!r}: a burst of {spec.quota} at this rate takes more than a day to come back; "
            "lower the burst or raise the rate"
        )
    return spec
