"""Status with hysteresis: one failed check is a blip, several in a row are an outage.

Pure and tiny so the rules are easy to test and to read:

* a target starts ``unknown``; its first successful check makes it ``healthy``;
* a failed check makes a healthy target ``degraded``; ``unhealthy_after`` consecutive failures
  make it ``unhealthy``;
* a failing target is ``healthy`` again only after ``recover_after`` consecutive successes, so a
  flapping service does not flood subscribers with status events;
* a target that answers but says it is degraded is ``degraded`` at once (it knows best).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["healthy", "degraded", "failed"]
Status = Literal["unknown", "healthy", "degraded", "unhealthy"]


@dataclass(frozen=True)
class Thresholds:
    unhealthy_after: int = 3
    recover_after: int = 2


@dataclass
class StatusTracker:
    """The status of one target, fed one check outcome at a time."""

    thresholds: Thresholds
    status: Status = "unknown"
    consecutive_failures: int = 0
    consecutive_successes: int = 0

    def observe(self, outcome: Outcome) -> bool:
        """Apply one check outcome; ``True`` when the status changed."""
        before = self.status
        if outcome == "failed":
            self.consecutive_failures += 1
            self.consecutive_successes = 0
            if self.consecutive_failures >= self.thresholds.unhealthy_after:
                self.status = "unhealthy"
            elif self.status in ("unknown", "healthy"):
                self.status = "degraded"
        elif outcome == "degraded":
            self.consecutive_failures = 0
            self.consecutive_successes = 0
            self.status = "degraded"
        else:
            self.consecutive_failures = 0
            self.consecutive_successes += 1
            recovered = self.consecutive_successes >= self.thresholds.recover_after
            if recovered or self.status in ("unknown", "healthy"):
                self.status = "healthy"
        return self.status != before
