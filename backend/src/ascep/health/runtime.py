"""Everything one health monitor process holds, and its lifecycle (``app.extensions["ascep.health"]``)."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from ascep.health.monitor import HealthMonitor
from ascep.health.settings import HealthSettings


@dataclass
class HealthRuntime:
    """The monitor and its Redis client; :meth:`start`/:meth:`stop` run the check loop."""

    settings: HealthSettings
    redis: redis.Redis
    monitor: HealthMonitor

    def start(self) -> None:
        self.monitor.start()

    def stop(self) -> None:
        self.monitor.stop()
