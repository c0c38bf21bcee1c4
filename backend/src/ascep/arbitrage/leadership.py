"""Which instance writes signals: a lease in Redis, so N detectors still give one signal each.

Every instance detects (its state stays warm), but only the holder of the lease
``ascep:arbitrage:leader`` stores and publishes signal events; the others are hot standbys whose
events are discarded. The holder renews the lease every sweep; if it dies, the lease expires and
another instance takes over, adopting the open signals (and their ids) from Redis. Without this,
two detectors on one Redis would publish every opportunity twice under two ids.
"""

from __future__ import annotations

import os
import socket
import uuid

import redis

from ascep.common import channels
from ascep.common.redis_replies import optional_text

_ACQUIRE_OR_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class LeaderLease:
    """A renewable lease; ``lease_s <= 0`` means every instance leads (no coordination)."""

    def __init__(self, client: redis.Redis, lease_s: float) -> None:
        self.client = client
        self.lease_ms = int(lease_s * 1000)
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._acquire = client.register_script(_ACQUIRE_OR_RENEW)
        self._release = client.register_script(_RELEASE)

    @property
    def enabled(self) -> bool:
        return self.lease_ms > 0

    def holder(self) -> str | None:
        return optional_text(self.client.get(channels.ARBITRAGE_LEADER_KEY)) if self.enabled else self.me

    def acquire_or_renew(self) -> bool:
        """``True`` while this instance holds the lease (Redis errors propagate)."""
        if not self.enabled:
            return True
        return bool(self._acquire(keys=[channels.ARBITRAGE_LEADER_KEY], args=[self.me, self.lease_ms]))

    def release(self) -> None:
        if self.enabled:
            self._release(keys=[channels.ARBITRAGE_LEADER_KEY], args=[self.me])
