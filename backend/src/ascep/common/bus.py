"""Publish on the event bus: the one call any process uses to reach Socket.IO clients.

Every gateway bridges the bus channels to its own Socket.IO clients, so publishing here reaches
every subscribed browser exactly once, whichever gateway it is connected to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis

from ascep.common.events import encode


def publish(client: redis.Redis, channel: str, payload: Mapping[str, Any]) -> int:
    """Publish ``payload`` as JSON on ``channel``; returns how many subscribers received it."""
    return int(client.publish(channel, encode(payload)))
