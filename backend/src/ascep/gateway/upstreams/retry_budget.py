"""Retry budget per service (Finagle's ``RetryBudget``, Linkerd's ``retryBudget``), cluster-wide.

A retry is allowed while, over the last ``window_s`` seconds and across every gateway process::

    retries + 1 <= ratio * requests + min_per_second * active_seconds

``requests`` counts first attempts only; ``active_seconds`` is how many seconds of the window the
service has seen traffic in (so the ``min_per_second`` allowance accrues like a rate and is never
a 100-retry burst on the first failure). Under a 100 % failing upstream the retries therefore stay
at ``ratio`` of the traffic plus ``min_per_second`` — the load an outage adds is bounded.

Counting is local and lock-free on the request path (a dict increment, no I/O). Every
``sync_interval`` seconds :class:`BudgetSync` sends this process's new counts to Redis and reads
the sums back: one Lua call per active service, all in one pipeline. The Lua script adds to
per-second fields of one hash and deletes the fields that left the window.

Precision: a process sees its own retries at once and the others' within one sync interval plus
a Redis round trip. Once the budget is spent every process stops; the only overshoot is what the
*other* processes spend of newly accrued budget before they see each other's spending, at most
``(processes - 1) * (ratio * request_rate + min_per_second) * (sync_interval + round trip)``
retries, plus one whole-second ``min_per_second`` step per process at a second boundary. It does
not accumulate: after a sync the totals are exact again. Buckets are epoch seconds of each
gateway's wall clock (NTP-synchronised hosts; a skew of a second or more shifts the window by as
much). While Redis is unreachable each process enforces the budget on its own counts alone, so
``N`` processes may together retry up to ``N`` budgets.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import redis

from ascep.common import channels
from ascep.common.backoff import Backoff
from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS

logger = logging.getLogger(__name__)

Buckets = dict[int, list[int]]  # epoch second -> [requests, retries]

# KEYS[1] the hash; ARGV[1] oldest second kept; ARGV[2] TTL ms; then (second, requests, retries)*
_ADD_AND_READ = """
for i = 3, #ARGV, 3 do
  if tonumber(ARGV[i + 1]) > 0 then redis.call('HINCRBY', KEYS[1], ARGV[i] .. ':q', ARGV[i + 1]) end
  if tonumber(ARGV[i + 2]) > 0 then redis.call('HINCRBY', KEYS[1], ARGV[i] .. ':r', ARGV[i + 2]) end
end
local all = redis.call('HGETALL', KEYS[1])
local oldest = tonumber(ARGV[1])
local stale = {}
for i = 1, #all, 2 do
  local second = tonumber(string.match(all[i], '^(%d+):'))
  if second == nil or second < oldest then stale[#stale + 1] = all[i] end
end
if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(stale)) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return all
"""


class RetryBudget:
    """Counts requests and retries per service and second; decides whether a retry may go."""

    def __init__(
        self,
        *,
        ratio: float,
        min_per_second: float,
        window_s: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.ratio = ratio
        self.min_per_second = min_per_second
        self.window_s = window_s
        self.clock = clock
        self._local: dict[str, Buckets] = {}  # not yet sent to Redis
        self._sending: dict[str, Buckets] = {}  # sent, answer not yet back
        self._shared: dict[str, dict[int, tuple[int, int]]] = {}  # sums read from Redis
        self.exhausted: dict[str, int] = {}

    # --- the request path (no I/O) -----------------------------------------------------------
    def note_request(self, service: str) -> None:
        """A client request to ``service`` (a first attempt): it adds ``ratio`` to the budget."""
        bucket = self._bucket(service, int(self.clock()))
        bucket[0] += 1

    def try_spend(self, service: str) -> bool:
        """Take one retry from the budget; ``False`` (and counted) when it is spent."""
        now = int(self.clock())
        requests, retries, active = self.window(service, now)
        if retries + 1 > self.ratio * requests + self.min_per_second * active:
            self.exhausted[service] = self.exhausted.get(service, 0) + 1
            return False
        self._bucket(service, now)[1] += 1
        return True

    def window(self, service: str, now: int | None = None) -> tuple[int, int, int]:
        """``(requests, retries, active seconds)`` of ``service`` in the window, all processes."""
        now = int(self.clock()) if now is None else now
        oldest_kept = now - self.window_s + 1
        requests = retries = 0
        first = now
        for buckets in (self._shared.get(service), self._sending.get(service), self._local.get(service)):
            if not buckets:
                continue
            for second, (q, r) in buckets.items():
                if second >= oldest_kept:
                    requests += q
                    retries += r
                    first = min(first, second)
        return requests, retries, now - first + 1

    def _bucket(self, service: str, second: int) -> list[int]:
        buckets = self._local.get(service)
        if buckets is None:
            buckets = self._local[service] = {}
        bucket = buckets.get(second)
        if bucket is None:
            bucket = buckets[second] = [0, 0]
        return bucket

    # --- the sync loop ---------------------------------------------------------------------
    def take_unsent(self) -> dict[str, Buckets]:
        """Hand the local counts to a sync (still counted until :meth:`adopt` or :meth:`give_back`)."""
        self._sending, self._local = self._local, {}
        return self._sending

    def services_to_sync(self) -> Iterable[str]:
        """Services with counts in the window here or in Redis (an idle one needs no sync)."""
        oldest_kept = int(self.clock()) - self.window_s + 1
        shared_active = (s for s, b in self._shared.items() if b and max(b) >= oldest_kept)
        return set(self._sending) | set(shared_active)

    def adopt(self, sums: dict[str, dict[int, tuple[int, int]]]) -> None:
        """Redis answered: its sums (which include what was just sent) replace the sent counts."""
        self._shared.update(sums)
        self._sending = {}

    def give_back(self) -> None:
        """Redis did not answer: keep the sent counts locally (old seconds dropped)."""
        oldest_kept = int(self.clock()) - self.window_s + 1
        for service, buckets in self._sending.items():
            for second, (q, r) in buckets.items():
                if second >= oldest_kept:
                    bucket = self._bucket(service, second)
                    bucket[0] += q
                    bucket[1] += r
        self._sending = {}
        for service in list(self._shared):  # shared sums age out: local counts alone decide
            self._shared[service] = {s: c for s, c in self._shared[service].items() if s >= oldest_kept}

    def status(self) -> dict[str, Any]:
        services = set(self._shared) | set(self._local) | set(self.exhausted)
        report: dict[str, Any] = {}
        for service in sorted(services):
            requests, retries, active = self.window(service)
            report[service] = {
                "requests": requests,
                "retries": retries,
                "allowed": round(self.ratio * requests + self.min_per_second * active, 1),
                "exhausted_total": self.exhausted.get(service, 0),
            }
        return report


class BudgetSync:
    """Every ``interval`` s: send this process's counts, read the cluster's sums (one pipeline)."""

    def __init__(self, client: redis.Redis, budget: RetryBudget, interval: float) -> None:
        self.client = client
        self.budget = budget
        self.interval = interval
        self._script = client.register_script(_ADD_AND_READ)
        self._stopping = False
        self.redis_ok = True
        self.syncs = 0

    def sync(self) -> None:
        """One exchange with Redis; on failure the counts stay local for the next one."""
        budget = self.budget
        unsent = budget.take_unsent()
        services = sorted(budget.services_to_sync())
        if not services:
            budget.adopt({})
            return
        now = int(budget.clock())
        oldest_kept = now - budget.window_s + 1
        ttl_ms = (budget.window_s + 5) * 1000
        pipe = self.client.pipeline(transaction=False)
        for service in services:
            args: list[int] = [oldest_kept, ttl_ms]
            for second, (q, r) in unsent.get(service, {}).items():
                args.extend((second, q, r))
            self._script(keys=[channels.retry_budget_key(service)], args=args, client=pipe)
        try:
            answers = pipe.execute()
        except BaseException:
            budget.give_back()
            raise
        budget.adopt({s: _parse(a) for s, a in zip(services, answers, strict=True)})
        self.syncs += 1

    def run(self, sleep: Callable[[float], Any]) -> None:
        """:meth:`sync` every ``interval`` until :meth:`stop`; back off while Redis is down."""
        backoff = Backoff(initial=self.interval, cap=max(5.0, self.interval))
        delay = self.interval
        while not self._stopping:
            sleep(delay)
            try:
                self.sync()
            except REDIS_UNAVAILABLE_ERRORS as exc:
                delay = backoff.next_delay()
                if self.redis_ok:
                    logger.warning("Redis unreachable: retry budgets counted per process only (%s)", exc)
                self.redis_ok = False
            except Exception:
                delay = backoff.next_delay()
                logger.exception("retry budget sync failed")
            else:
                if not self.redis_ok:
                    logger.info("Redis reachable again: retry budgets shared across processes")
                self.redis_ok = True
                backoff.reset()
                delay = self.interval

    def stop(self) -> None:
        self._stopping = True


def _parse(flat: list[Any]) -> dict[int, tuple[int, int]]:
    """``[field, value, ...]`` of the hash -> second -> (requests, retries)."""
    sums: dict[int, list[int]] = {}
    for name, value in zip(flat[::2], flat[1::2], strict=True):
        text = name.decode() if isinstance(name, bytes) else str(name)
        second, _, kind = text.partition(":")
        counts = sums.setdefault(int(second), [0, 0])
        counts[0 if kind == "q" else 1] += int(value)
    return {second: (q, r) for second, (q, r) in sums.items()}
