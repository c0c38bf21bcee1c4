"""Which gateway process runs the active health checks: a renewable lease in Redis.

See :mod:`.shared_state` for why one process checks and the others adopt its transitions.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid

import redis

from ascep.common import channels
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS

logger = logging.getLogger(__name__)

_ACQUIRE_OR_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""


def process_id() -> str:
    """Names this gateway process in leases and shared records (``host:pid:random``)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class HealthLease:
    """Whether this process runs the active checks now (see the module docstring).

    Asked every checker tick, it talks to Redis only every third of the lease. Same script as
    :mod:`ascep.arbitrage.leadership`, on the gateway's own key.
    """

    def __init__(self, client: redis.Redis, me: str, lease_s: float = 6.0) -> None:
        self.client = client
        self.me = me
        self.lease_ms = int(lease_s * 1000)
        self._script = client.register_script(_ACQUIRE_OR_RENEW)
        self._held = False
        self._ask_at = 0.0
        self._redis_down = False

    @property
    def checking(self) -> bool:
        """What :meth:`should_check` last answered (no Redis call)."""
        return self._held or self._redis_down

    def should_check(self) -> bool:
        now = time.monotonic()
        if now < self._ask_at:
            return self._held or self._redis_down
        try:
            held = bool(
                self._script(keys=[channels.UPSTREAM_HEALTH_LEADER_KEY], args=[self.me, self.lease_ms])
            )
        except REDIS_UNAVAILABLE_ERRORS as exc:
            if not self._redis_down:
                logger.warning("health lease: Redis unreachable (%s); checking instances locally", exc)
            self._redis_down = True
            self._ask_at = now + 1.0
            return True
        if held != self._held or self._redis_down:
            logger.info("health lease %s: %s", "held" if held else "not held", self.me)
        self._held, self._redis_down = held, False
        self._ask_at = now + self.lease_ms / 3000
        return held
