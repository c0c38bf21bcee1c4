"""Status with hysteresis: one failed check is a blip, several in a row are an outage.

Pure and tiny so the rules are easy to test and to read:

* a target starts ``unknown``; its first successful check makes it ``healthy``;
* while the start-up grace lasts, a target that has never answered yet is ``starting``: failing
  to reach it is not an outage (services come up after the monitor), and it is not counted;
* a failed check makes a healthy target ``degraded``; ``unhealthy_after`` consecutive failures
  make it ``unhealthy``;
* a failing target is ``healthy`` again only after ``recover_after`` consecutive successes, so a
  flapping service does not flood subscribers with status events;
* a target that answers but says it is degraded is ``degraded`` at once (it knows best).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ascep.common.events import HealthState as Status

Outcome = Literal["healthy", "degraded", "failed"]

#: Statuses of a target that has not answered yet: nothing to recover from.
_NOT_YET_UP = ("unknown", "starting")


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
    answered: bool = False

    def observe(self, outcome: Outcome, in_grace: bool = False) -> bool:
        """Apply one check outcome; ``True`` when the status changed.

        ``in_grace``: the start-up grace period still runs, so a failure of a target that never
        answered means "not listening yet" (``starting``), not an outage.
        """
        before = self.status
        if outcome == "failed" and in_grace and not self.answered:
            self.status = "starting"
        elif outcome == "failed":
            self.consecutive_failures += 1
            self.consecutive_successes = 0
            if self.consecutive_failures >= self.thresholds.unhealthy_after:
                self.status = "unhealthy"
            elif self.status in ("healthy", *_NOT_YET_UP):
                self.status = "degraded"
        elif outcome == "degraded":
            self.answered = True
            self.consecutive_failures = 0
            self.consecutive_successes = 0
            self.status = "degraded"
        else:
            self.answered = True
            self.consecutive_failures = 0
            self.consecutive_successes += 1
            recovered = self.consecutive_successes >= self.thresholds.recover_after
            if recovered or self.status in ("healthy", *_NOT_YET_UP):
                self.status = "healthy"
        return self.status != before

    @property
    def counted(self) -> bool:
        """Whether the latest check counts in availability (checks of a ``starting`` target don't)."""
        return self.status != "starting"
