"""Publish on the event bus: the one call any process uses to reach Socket.IO clients.

Every gateway bridges the bus channels to its own Socket.IO clients, so publishing here reaches
every subscribed browser exactly once, whichever gateway it is connected to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis

from ascep.common import channels
from ascep.common.events import encode

_EVENT_CHANNELS = {event: channel for channel, event in channels.CHANNEL_EVENTS.items()}


def publish(client: redis.Redis, channel: str, payload: Mapping[str, Any]) -> int:
    """Publish ``payload`` as JSON on ``channel``; returns how many subscribers received it."""
    return int(client.publish(channel, encode(payload)))


def push_event(client: redis.Redis, event: str, payload: Mapping[str, Any]) -> int:
    """Send a Socket.IO event (``price_update``, ``cep_alert``, ``task_update``...) via the bus."""
    try:
        channel = _EVENT_CHANNELS[event]
    except KeyError:
        raise ValueError(f"{event!r} is not a bus event; use one of {sorted(_EVENT_CHANNELS)}") from None
    return publish(client, channel, payload)
