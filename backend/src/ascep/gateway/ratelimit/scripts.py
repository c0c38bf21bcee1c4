"""The two rate-limit algorithms as Redis Lua scripts: one ``EVALSHA``, one key, atomic.

Each script reads the time from Redis (``TIME``, microseconds), so the clocks of the gateway
processes never matter, and decides and records in one step, so concurrent requests through any
number of gateway processes can never both take the last unit (Kong#2629, apisix#12592,
traefik#8061 are limiters that read, decide in the process, then write). Both return
``{allowed (0/1), remaining, wait_us}``: ``wait_us`` is how long until the quota grows by one
(the oldest request leaves the window, the bucket gains a token) — within it the client can use
no more than ``remaining``, which is what the ``RateLimit`` header's ``t`` means; for a refusal
it is the ``Retry-After``.

* :data:`SLIDING_WINDOW` — an exact sliding log: a sorted set of the accepted requests of the
  last ``window`` (score = arrival µs, member = a per-request nonce). Entries older than the
  window are removed, the rest counted; below the quota the request is added. Refused requests
  are not recorded, so a client that keeps hammering is not locked out beyond the window.
* :data:`GCRA` — the generic cell rate algorithm (a token bucket without a refill timer): the key
  holds the *theoretical arrival time* (TAT) of the next request at the sustained rate. A request
  is accepted while ``TAT - now <= (burst - 1) * interval``, and moves the TAT one interval on.
  A TAT further ahead than the current limit allows (left by a stricter limit an administrator
  has since raised) is pulled back, so a raised limit applies at once.

Tests build the same scripts with the time taken from an argument instead (:func:`build`), to
compare them step by step with a reference model; the gateway only ever uses the ``TIME`` form.
"""

from __future__ import annotations

from typing import Final, Literal

Algorithm = Literal["sliding_window", "gcra"]
ALGORITHMS: Final[tuple[Algorithm, ...]] = ("gcra", "sliding_window")

_REDIS_TIME: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""
_ARGUMENT_TIME: Final = """
local now = tonumber(ARGV[#ARGV])
"""

# KEYS[1] the log (sorted set); ARGV: quota, window (µs), nonce [, now (µs): tests only]
_SLIDING_WINDOW_BODY: Final = """
local quota = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
local allowed = 0
if count < quota then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1)
  count = count + 1
  allowed = 1
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = 0
if oldest[2] then wait = tonumber(oldest[2]) + window - now end
return {allowed, quota - count, wait}
"""

# KEYS[1] the TAT (string, µs); ARGV: interval (µs), burst [, now (µs): tests only]
_GCRA_BODY: Final = """
local interval = tonumber(ARGV[1])
local tolerance = (tonumber(ARGV[2]) - 1) * interval
local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
if tat < now then tat = now end
-- beyond the tolerance and an interval a TAT comes from a stricter limit since raised: start
-- from an empty bucket of the new limit (this request is the last of its burst)
if tat > now + tolerance + interval + 1 then tat = now + tolerance end
if tat - now > tolerance then
  return {0, 0, tat - tolerance - now}
end
local new = tat + interval
redis.call('SET', KEYS[1], string.format('%.17g', new), 'PX', math.ceil((new - now) / 1000) + 1)
local remaining = math.floor((now + tolerance - new) / interval) + 1
if remaining < 0 then remaining = 0 end
return {1, remaining, new - tolerance + remaining * interval - now}
"""


def build(algorithm: Algorithm, *, clock: Literal["redis", "argument"] = "redis") -> str:
    """The script of ``algorithm``; ``clock="argument"`` (tests) reads ``now`` from the last ARGV."""
    time_source = _REDIS_TIME if clock == "redis" else _ARGUMENT_TIME
    body = _SLIDING_WINDOW_BODY if algorithm == "sliding_window" else _GCRA_BODY
    return time_source + body


SLIDING_WINDOW: Final = build("sliding_window")
GCRA: Final = build("gcra")
