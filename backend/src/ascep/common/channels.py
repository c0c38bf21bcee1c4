"""Every name two ASCEP processes must agree on: Redis channels and keys, Socket.IO events.

Producers publish JSON on the Redis channels; the gateway's bridge turns each channel into one
Socket.IO event. Keep these names stable: they are the public contract documented in the README.
"""

from __future__ import annotations

from typing import Final

# --- Redis pub/sub channels (the original ASCEP names, so existing producers keep working) ---
PRICE_UPDATES: Final = "price_updates"
ARBITRAGE_SIGNALS: Final = "arbitrage_signals"
CEP_ALERTS: Final = "cep_alerts"
SERVICE_STATUS: Final = "service_status"
TASK_UPDATES: Final = "task_updates"
CONFIG_CHANGES: Final = "ascep:config_changes"  # services reload shared config on a message

# --- Socket.IO events, server -> client ---
EVENT_CONNECTED: Final = "connected"
EVENT_PRICE_UPDATE: Final = "price_update"
EVENT_PRICE_BATCH: Final = "price_batch"
EVENT_ARBITRAGE_SIGNAL: Final = "arbitrage_signal"
EVENT_CEP_ALERT: Final = "cep_alert"
EVENT_SERVICE_STATUS: Final = "service_status"
EVENT_TASK_UPDATE: Final = "task_update"
EVENT_SUBSCRIPTION_CONFIRMED: Final = "subscription_confirmed"
EVENT_ERROR: Final = "error"

# --- Socket.IO events, client -> server ---
EVENT_SUBSCRIBE_PRICES: Final = "subscribe_prices"
EVENT_UNSUBSCRIBE_PRICES: Final = "unsubscribe_prices"
EVENT_SUBSCRIBE_SIGNALS: Final = "subscribe_signals"
EVENT_UNSUBSCRIBE_SIGNALS: Final = "unsubscribe_signals"
EVENT_SUBSCRIBE_ALERTS: Final = "subscribe_alerts"
EVENT_UNSUBSCRIBE_ALERTS: Final = "unsubscribe_alerts"

#: Which Socket.IO event each Redis channel becomes.
CHANNEL_EVENTS: Final[dict[str, str]] = {
    PRICE_UPDATES: EVENT_PRICE_UPDATE,
    ARBITRAGE_SIGNALS: EVENT_ARBITRAGE_SIGNAL,
    CEP_ALERTS: EVENT_CEP_ALERT,
    SERVICE_STATUS: EVENT_SERVICE_STATUS,
    TASK_UPDATES: EVENT_TASK_UPDATE,
}

# --- Redis keys (all under one prefix so an operator can see what is ours) ---
KEY_PREFIX: Final = "ascep:"

#: Hash: registered service name -> JSON description (mirrored by the gateway for discovery).
REGISTRY_KEY: Final = "ascep:registry"

#: Set of latency sample keys, so readers never need ``KEYS``/``SCAN``.
LATENCY_INDEX_KEY: Final = "ascep:latency:index"

#: Hash: symbol -> JSON of its latest ``price_update`` (also the index of known symbols).
PRICES_LATEST_KEY: Final = "ascep:prices:latest"


def latency_key(service: str, endpoint: str) -> str:
    """Sorted set of latency samples for one (service, endpoint), scored by epoch ms."""
    return f"ascep:latency:{service}:{endpoint}"


def price_history_key(symbol: str) -> str:
    """Capped Redis Stream of one symbol's ``price_update`` records."""
    return f"ascep:prices:history:{symbol}"


# --- health monitor and Celery workers ---

#: Sorted set: Celery worker hostname, scored by the epoch ms of its latest heartbeat.
WORKER_HEARTBEATS_KEY: Final = "ascep:workers:heartbeats"

#: Hash: target name -> JSON of its current status as the health monitor sees it.
HEALTH_CURRENT_KEY: Final = "ascep:health:current"

#: Sorted set of status changes (JSON), scored by epoch ms, capped.
HEALTH_CHANGES_KEY: Final = "ascep:health:changes"


def health_checks_key(target: str) -> str:
    """Sorted set of one target's recent check results (JSON), scored by epoch ms."""
    return f"ascep:health:checks:{target}"


def health_availability_key(target: str, granularity: str) -> str:
    """Hash of ``<bucket>:up`` / ``<bucket>:n`` counters, per minute (``m``) or per hour (``h``)."""
    return f"ascep:health:availability:{target}:{granularity}"


# --- tasks ---

#: Sorted set of task ids, scored by submission time (epoch ms), capped.
TASKS_INDEX_KEY: Final = "ascep:tasks:index"


def task_key(task_id: str) -> str:
    """Hash: one task's record (status, progress, timings, result or error)."""
    return f"ascep:tasks:{task_id}"


#: Lease (``SET NX PX``) held by the one worker reconciling task records in a given round.
TASKS_REAPER_LOCK_KEY: Final = f"{KEY_PREFIX}tasks:reaper"

# --- Celery (kombu's ``global_keyprefix``: the broker's own keys live under ours too) ---
#: Prefix of every key and pub/sub channel Celery's Redis transport uses (queues, ``unacked``,
#: ``_kombu.binding.*``, pidbox). Derived from :data:`KEY_PREFIX`, the one place it is named.
CELERY_KEY_PREFIX: Final = f"{KEY_PREFIX}celery:"
#: The queue tasks are sent to (a Redis list ``CELERY_KEY_PREFIX + CELERY_QUEUE``).
CELERY_QUEUE: Final = "celery"
#: kombu's hash of delivered but unacknowledged messages, and its index scored by delivery time.
CELERY_UNACKED_KEY: Final = f"{CELERY_KEY_PREFIX}unacked"
CELERY_UNACKED_INDEX_KEY: Final = f"{CELERY_KEY_PREFIX}unacked_index"


# --- arbitrage detector (port 5003) ---
#: Counter (``INCR``) giving every signal an id unique across restarts and instances.
ARBITRAGE_SIGNAL_SEQ_KEY: Final = "ascep:arbitrage:signal_seq"
#: Sorted set: signal id -> last_seen (epoch ms); capped and expiring (the bounded history).
ARBITRAGE_SIGNALS_INDEX_KEY: Final = "ascep:arbitrage:signals"
#: Hash: cycle key -> id of the open signal for that opportunity.
ARBITRAGE_OPEN_KEY: Final = "ascep:arbitrage:open"
#: Hash of lifetime counters: ``opened``, ``closed``, ``type:<type>``, ``severity:<severity>``.
ARBITRAGE_STATS_KEY: Final = "ascep:arbitrage:stats"
#: JSON of the detector's live configuration (``PUT /config``).
ARBITRAGE_CONFIG_KEY: Final = "ascep:arbitrage:config"
#: Prefix of one signal's JSON document (``ascep:arbitrage:signal:<id>``).
ARBITRAGE_SIGNAL_KEY_PREFIX: Final = "ascep:arbitrage:signal:"
#: Lease (``SET NX PX``) naming the detector instance that stores and publishes signals.
ARBITRAGE_LEADER_KEY: Final = "ascep:arbitrage:leader"


def arbitrage_signal_key(signal_id: int | str) -> str:
    """String key holding one signal's latest JSON document (with a TTL)."""
    return f"{ARBITRAGE_SIGNAL_KEY_PREFIX}{signal_id}"


# --- CEP engine (ascep.cep, port 5004) ---
#: Pub/sub: a rule was created, changed or deleted; every engine process applies it at once.
CEP_RULE_CHANGES: Final = "ascep:cep:rule_changes"

#: Hash: rule id -> JSON of the rule (canonical form plus server fields).
CEP_RULES_KEY: Final = "ascep:cep:rules"

#: Counter (INCR) behind rule ids and rule versions: unique across restarts and processes.
CEP_RULE_SEQ_KEY: Final = "ascep:cep:rule_seq"

#: List of the latest ``cep_alert`` payloads, newest first, capped (LTRIM) at ``CEP_ALERTS_MAX``.
CEP_ALERTS_KEY: Final = "ascep:cep:alerts"


def cep_alert_claim_key(rule_id: int, version: int, partition: str, ts: int) -> str:
    """``SET NX`` marker: the first engine process to claim an alert emits it, replicas skip it."""
    return f"ascep:cep:claim:{rule_id}:{version}:{partition}:{ts}"
