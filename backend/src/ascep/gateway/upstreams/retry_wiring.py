"""Retries as one bundle built from settings: the step's options, the budget and its sync loop."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import redis

from ascep.gateway.proxy.exchange import Exchange
from ascep.gateway.proxy.retries import RetryOptions
from ascep.gateway.routing import ServiceDefinition
from ascep.gateway.settings import GatewaySettings
from ascep.gateway.upstreams.instances import Upstreams
from ascep.gateway.upstreams.retry_budget import BudgetSync, RetryBudget


@dataclass(frozen=True)
class Retries:
    options: RetryOptions
    budget: RetryBudget
    sync: BudgetSync
    max_attempts: dict[str, int]  # services whose policy sets its own


def build_retries(
    registry: Iterable[ServiceDefinition], client: redis.Redis, settings: GatewaySettings
) -> Retries:
    options = RetryOptions(
        max_attempts=settings.retry_max_attempts,
        backoff_base_s=settings.retry_backoff_base_ms / 1000,
        backoff_cap_s=settings.retry_backoff_cap_ms / 1000,
        min_remaining_s=settings.retry_min_remaining_ms / 1000,
        max_body_bytes=settings.retry_max_body_bytes,
    )
    budget = RetryBudget(
        ratio=settings.retry_budget_percent / 100,
        min_per_second=settings.retry_budget_min_per_second,
        window_s=settings.retry_budget_window_seconds,
    )
    return Retries(
        options=options,
        budget=budget,
        sync=BudgetSync(client, budget, settings.retry_budget_sync_interval),
        max_attempts={d.name: d.policy.max_attempts for d in registry if d.policy.max_attempts is not None},
    )


def has_untried(upstreams: Upstreams, exchange: Exchange) -> bool:
    """Is an instance the call has not tried yet among its service's candidates (local memory)?"""
    route = exchange.route
    if route is None:
        return False
    return any(u.instance_id not in exchange.tried for u in upstreams[route.service.name].candidates())
