"""What the monitor watches, discovered at run time rather than configured host by host.

Services come from the registry the gateway mirrors into Redis (``ascep:registry``), with the
address the gateway itself uses, so moving a service (``<NAME>_URL``, docker-compose) moves its
check too. The gateway, Redis and the Celery workers are added as targets of their own kinds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ascep.common import channels

logger = logging.getLogger(__name__)

TargetKind = Literal["http", "redis", "workers"]

GATEWAY = "gateway"
REDIS = "redis"
WORKERS = channels.WORKER_SERVICE


@dataclass(frozen=True)
class Target:
    """One thing to check: a name, how to check it and (for HTTP) where."""

    name: str
    kind: TargetKind
    url: str = ""
    description: str = ""


def targets_from_registry(mirror: Mapping[str, str], gateway_url: str) -> list[Target]:
    """Targets for the mirrored registry plus the gateway, Redis and the workers.

    A malformed registry entry is logged and skipped: one bad line must not blind the monitor.
    """
    found = [
        Target(GATEWAY, "http", gateway_url.rstrip("/") + "/health", "API gateway"),
        Target(REDIS, "redis", description="Redis: event bus and shared state"),
        Target(WORKERS, "workers", description="Celery workers (heartbeats in Redis)"),
    ]
    for name in sorted(mirror):
        try:
            entry = json.loads(mirror[name])
            url = str(entry["url"]).rstrip("/") + str(entry.get("health_endpoint") or "/health")
        except (ValueError, KeyError, TypeError):
            logger.warning("registry entry %r is malformed; not watched", name)
            continue
        found.append(Target(name, "http", url, str(entry.get("description", ""))))
    return found
