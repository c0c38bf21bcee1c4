"""The decision for one request: which policy, and — in one ``EVALSHA`` — may it go on?

:meth:`RateLimiter.check` is on the request path of every limited route: a dict lookup for the
policy, a digest of the identity, one ``EVALSHA`` (pipelined with the checks of concurrent
requests, :mod:`.pipelining`), and only when Redis answers ``NOSCRIPT`` (it restarted) one
``EVAL``, which also caches the script again. While Redis is down (:class:`~.outage.RedisOutage`)
it decides at once without the network — also a request that was waiting for its batch when the
outage began: the next batch is not sent, so a burst queued behind a hung Redis does not wait
for it batch by batch.

The key of a client is a BLAKE2b digest of its identity (``key:<id>``, ``sub:<subject>``,
``ip:<address>``): fixed length whatever a JWT subject holds, and no raw identity in Redis.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, Final, cast

import redis
from redis.exceptions import NoScriptError

from ascep.common import channels
from ascep.common.errors import AscepError, DependencyUnavailable, RateLimited
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS
from ascep.gateway.ratelimit.connections import LimiterConnections
from ascep.gateway.ratelimit.outage import RedisOutage
from ascep.gateway.ratelimit.pipelining import Pipeline, RedisDown
from ascep.gateway.ratelimit.policy import Decision, Outcome, Policy, whole_seconds
from ascep.gateway.ratelimit.refusals import RefusalLog
from ascep.gateway.ratelimit.scripts import GCRA, SLIDING_WINDOW, Algorithm
from ascep.gateway.ratelimit.table import PolicyTable

logger = logging.getLogger(__name__)

#: Upper bounds (seconds) of the decision-time histogram in ``/metrics``.
DECISION_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25)
_KEY_TAGS: Final[dict[Algorithm, str]] = {"sliding_window": "sw", "gcra": "gcra"}
#: Seconds between two log lines about unexpected Redis replies (not an outage: e.g. OOM).
_ERROR_LOG_EVERY_S = 10.0


def identity_digest(identity: str) -> str:
    return hashlib.blake2b(identity.encode("utf-8", "replace"), digest_size=12).hexdigest()


class RateLimiter:
    """Checks requests against the table's policies in Redis; counts every outcome."""

    def __init__(
        self,
        connections: LimiterConnections,
        table: PolicyTable,
        outage: RedisOutage,
        *,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.table = table
        self.outage = outage
        self.algorithm: Algorithm = table.algorithm
        self.clock = clock
        self.connections = connections
        self.pipeline = Pipeline(connections, self._is_up)
        self._script = SLIDING_WINDOW if self.algorithm == "sliding_window" else GCRA
        self._sha = hashlib.sha1(self._script.encode()).hexdigest()  # what Redis names it
        self._tag = _KEY_TAGS[self.algorithm]
        self._nonce_prefix = secrets.token_hex(6) + ":"  # sliding-log members unique across processes
        self._sequence = itertools.count()
        self.counts: Counter[tuple[str, Outcome]] = Counter()
        #: Who was refused lately (the admin listing's ``limited``): touched only on a refusal.
        self.refusals = RefusalLog()
        self.decision_buckets = [0] * (len(DECISION_BUCKETS) + 1)
        self.decision_sum = 0.0
        self._last_error_log = 0.0

    def load_script(self) -> None:
        """Make sure Redis has the script (the first ``EVALSHA`` would load it otherwise)."""
        with self.connections.use() as connection:
            connection.send_command("SCRIPT", "LOAD", self._script)
            connection.read_response()

    def check(self, target: str, identity: str) -> Decision | None:
        """The decision for ``identity`` on ``target``; ``None`` when the target is not limited."""
        policy = self.table.get(target)
        return None if policy is None else self.decide(policy, identity)

    def decide(self, policy: Policy, identity: str) -> Decision:
        """The decision for ``identity`` under ``policy`` (from ``table.get``: callers that build
        the identity only for limited targets ask for the policy first)."""
        started = self.clock()
        decision = self._decide(policy, identity)
        self._observe(policy.name, decision.outcome, self.clock() - started)
        if decision.outcome == "limited":
            self.refusals.record(policy.name, identity, max(1, decision.wait_s))
        return decision

    def _decide(self, policy: Policy, identity: str) -> Decision:
        if not self.outage.up:
            return self._without_redis(policy)
        key = channels.rate_limit_key(identity_digest(identity), policy.name, self._tag)
        spec = policy.spec
        if self.algorithm == "sliding_window":
            args: list[Any] = [spec.quota, spec.window_us, f"{self._nonce_prefix}{next(self._sequence)}"]
        else:
            args = [spec.emission_us, spec.quota]
        try:
            reply = self._run(key, args)
        except REDIS_UNAVAILABLE_ERRORS as exc:
            self.outage.failed(exc)
            return self._without_redis(policy)
        except redis.RedisError as exc:  # Redis answered, but not with a verdict (OOM, BUSY...)
            self._log_unexpected(exc)
            return self._without_redis(policy)
        if reply is None:  # Redis went down while this request queued for a connection
            return self._without_redis(policy)
        allowed, remaining, wait_us = reply
        self.outage.succeeded()
        return Decision(
            policy,
            "allowed" if allowed else "limited",
            max(0, int(remaining)),
            whole_seconds(int(wait_us)),
        )

    def _run(self, key: str, args: list[Any]) -> list[int] | None:
        """One script call, pipelined with concurrent ones; ``None`` if Redis is down by then."""
        try:
            try:
                return cast(list[int], self.pipeline.call(("EVALSHA", self._sha, 1, key, *args)))
            except NoScriptError:  # Redis restarted and forgot it: EVAL runs and caches it again
                return cast(list[int], self.pipeline.call(("EVAL", self._script, 1, key, *args)))
        except RedisDown:  # went down while this request waited its turn: decide here
            return None

    def _is_up(self) -> bool:
        return self.outage.up

    def _without_redis(self, policy: Policy) -> Decision:
        self.outage.decided_locally()
        return Decision(policy, "failed_open" if self.outage.fail_open else "failed_closed")

    def _observe(self, target: str, outcome: Outcome, seconds: float) -> None:
        self.counts[(target, outcome)] += 1
        self.decision_sum += seconds
        for index, bound in enumerate(DECISION_BUCKETS):
            if seconds <= bound:
                self.decision_buckets[index] += 1
                return
        self.decision_buckets[-1] += 1

    def _log_unexpected(self, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_error_log >= _ERROR_LOG_EVERY_S:
            self._last_error_log = now
            logger.warning("rate limits: Redis refused the check (%s); decided as if it were down", exc)


def refusal(decision: Decision) -> AscepError:
    """The error a refused request gets: 429 over the limit, 503 when Redis is down (fail closed)."""
    policy = decision.policy
    error: AscepError
    if decision.outcome == "limited":
        wait = max(1, decision.wait_s)
        error = RateLimited(
            f"too many requests: the limit for {policy.name} is {policy.spec} per client; retry in {wait} s",
            {"policy": policy.name, "limit": str(policy.spec), "retry_after_s": wait},
        )
    else:
        error = DependencyUnavailable(
            "rate limits cannot be checked while Redis is unreachable; retry shortly",
            {"dependency": "redis", "policy": policy.name},
        )
    error.headers.extend(decision.headers())
    return error
