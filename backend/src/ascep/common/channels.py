"""Every name two ASCEP processes must agree on: Redis channels and keys, Socket.IO events.

Producers publish JSON on the Redis channels; the gateway's bridge turns each channel into one
Socket.IO event. Keep these names stable: they are the public contract documented in the README.

Every Redis *key* we write, and the two internal channels, start with :data:`KEY_PREFIX`
(``REDIS_KEY_PREFIX``, default ``ascep:``), so an operator sees what is ours, two stacks can
share one Redis, and ``./ascep run --fresh`` can delete exactly our keys. The prefix is read from
the environment once, when this module is first imported (process start-up): every process of a
stack must be started with the same value, and changing it needs a restart. The public event
channels (``price_updates``...) are *not* prefixed: external producers publish on those names.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Final

from ascep.common.errors import ConfigError

DEFAULT_KEY_PREFIX: Final = "ascep:"
#: What a prefix may contain: no glob characters (``--fresh`` deletes ``SCAN MATCH <prefix>*``)
#: and never empty (an empty prefix would make every key of a shared Redis look like ours).
_PREFIX_PATTERN: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def read_key_prefix(environ: Mapping[str, str] | None = None) -> str:
    """``REDIS_KEY_PREFIX`` from the environment (default ``ascep:``), validated."""
    raw = (os.environ if environ is None else environ).get("REDIS_KEY_PREFIX", DEFAULT_KEY_PREFIX)
    if not _PREFIX_PATTERN.fullmatch(raw):
        raise ConfigError(
            "REDIS_KEY_PREFIX", f"{raw!r} must be 1-64 characters among letters, digits and _.:-"
        )
    return raw


#: Prefix of every Redis key ASCEP writes (Celery's included). Importable by any module that
#: builds keys outside this one, e.g. Celery's ``global_keyprefix``.
KEY_PREFIX: Final = read_key_prefix()


# --- Redis pub/sub channels (the original ASCEP names, so existing producers keep working) ---
PRICE_UPDATES: Final = "price_updates"
ARBITRAGE_SIGNALS: Final = "arbitrage_signals"
CEP_ALERTS: Final = "cep_alerts"
#: A rule's ``emit_signal`` action (the original ASCEP ``create_signal`` channel and name).
CEP_SIGNALS: Final = "cep_signals"
SERVICE_STATUS: Final = "service_status"
TASK_UPDATES: Final = "task_updates"
#: A gateway changed an instance's circuit breaker (published by the Redis script that changed it).
CIRCUIT_STATE: Final = "circuit_state"
#: A gateway rolled a canary back automatically (published by the Redis script that did it).
SPLIT_ROLLBACK: Final = "split_rollback"
CONFIG_CHANGES: Final = f"{KEY_PREFIX}config_changes"  # internal: services reload shared config

# --- Socket.IO events, server -> client ---
EVENT_CONNECTED: Final = "connected"
EVENT_PRICE_UPDATE: Final = "price_update"
EVENT_PRICE_BATCH: Final = "price_batch"
EVENT_ARBITRAGE_SIGNAL: Final = "arbitrage_signal"
EVENT_CEP_ALERT: Final = "cep_alert"
EVENT_CEP_SIGNAL: Final = "cep_signal"
EVENT_SERVICE_STATUS: Final = "service_status"
EVENT_TASK_UPDATE: Final = "task_update"
EVENT_CIRCUIT_STATE: Final = "circuit_state"
EVENT_SPLIT_ROLLBACK: Final = "split_rollback"
EVENT_SUBSCRIPTION_CONFIRMED: Final = "subscription_confirmed"
EVENT_ERROR: Final = "error"

# --- Socket.IO events, client -> server ---
EVENT_SUBSCRIBE_PRICES: Final = "subscribe_prices"
EVENT_UNSUBSCRIBE_PRICES: Final = "unsubscribe_prices"
EVENT_SUBSCRIBE_SIGNALS: Final = "subscribe_signals"
EVENT_UNSUBSCRIBE_SIGNALS: Final = "unsubscribe_signals"
EVENT_SUBSCRIBE_ALERTS: Final = "subscribe_alerts"
EVENT_UNSUBSCRIBE_ALERTS: Final = "unsubscribe_alerts"

# --- Redis keys (all under KEY_PREFIX) ---

#: String (JSON ``{"id", "created_at", "by"}``) written once with ``SET NX``: if it disappears or
#: changes, Redis lost its data (see :mod:`ascep.common.data_epoch`).
DATA_EPOCH_KEY: Final = f"{KEY_PREFIX}data_epoch"

#: Hash: registered service name -> JSON description (mirrored by the gateway for discovery).
REGISTRY_KEY: Final = f"{KEY_PREFIX}registry"

#: Set of latency sample keys, so readers never need ``KEYS``/``SCAN``.
LATENCY_INDEX_KEY: Final = f"{KEY_PREFIX}latency:index"

#: Hash: symbol -> JSON of its latest ``price_update`` (also the index of known symbols).
PRICES_LATEST_KEY: Final = f"{KEY_PREFIX}prices:latest"

#: Hash: ``<service>/<instance>`` -> JSON of that instance's circuit breaker (state, generation,
#: open end, half-open probe budget); changed only by the Lua scripts of the breaker store.
BREAKERS_KEY: Final = f"{KEY_PREFIX}gateway:breakers"


def latency_key(service: str, endpoint: str) -> str:
    """Sorted set of latency samples for one (service, endpoint), scored by epoch ms."""
    return f"{KEY_PREFIX}latency:{service}:{endpoint}"


#: The field of each price-history stream entry that holds the JSON record.
PRICE_HISTORY_FIELD: Final = "data"


def price_history_key(symbol: str) -> str:
    """Capped Redis Stream of one symbol's ``price_update`` records."""
    return f"{KEY_PREFIX}prices:history:{symbol}"


# --- service discovery (ascep.common.discovery announces, ascep.gateway.upstreams.discovery reads) ---
#: Pub/sub: an instance's heartbeat (``{"op": "up", "ttl_ms", "instance"}``) or its clean
#: shutdown (``{"op": "down", "service", "instance_id"}``); gateways apply both at once.
DISCOVERY_CHANNEL: Final = f"{KEY_PREFIX}discovery:changes"


def discovery_instances_key(service: str) -> str:
    """Hash: instance id -> JSON record of one announced instance of ``service``."""
    return f"{KEY_PREFIX}discovery:{service}:instances"


def discovery_expiry_key(service: str) -> str:
    """Sorted set: instance id, scored by when it expires (epoch ms on Redis's own clock)."""
    return f"{KEY_PREFIX}discovery:{service}:expiry"


# --- health monitor and Celery workers ---

#: Sorted set: Celery worker hostname, scored by the epoch ms of its latest heartbeat.
WORKER_HEARTBEATS_KEY: Final = f"{KEY_PREFIX}workers:heartbeats"

#: Name under which the Celery workers are watched, record their starts and are reported
#: (the supervisord program's name): the same in ``/api/health`` and ``/api/monitor``.
WORKER_SERVICE: Final = "celery_worker"

#: Hash: service name -> JSON of its latest process start (``pid``, ``host``, ``ts``, ``at``).
SERVICE_STARTS_KEY: Final = f"{KEY_PREFIX}services:starts"


def service_restarts_key(service: str) -> str:
    """Sorted set of one service's restarts (``<pid>@<ts>``), scored by epoch ms, kept a day."""
    return f"{KEY_PREFIX}services:restarts:{service}"


#: Hash: target name -> JSON of its current status as the health monitor sees it.
HEALTH_CURRENT_KEY: Final = f"{KEY_PREFIX}health:current"

#: Sorted set of status changes (JSON), scored by epoch ms, capped.
HEALTH_CHANGES_KEY: Final = f"{KEY_PREFIX}health:changes"


def health_checks_key(target: str) -> str:
    """Sorted set of one target's recent check results (JSON), scored by epoch ms."""
    return f"{KEY_PREFIX}health:checks:{target}"


def health_availability_key(target: str, granularity: str) -> str:
    """Hash of ``<bucket>:up`` / ``<bucket>:n`` counters, per minute (``m``) or per hour (``h``)."""
    return f"{KEY_PREFIX}health:availability:{target}:{granularity}"


# --- tasks ---

#: Sorted set of task ids, scored by submission time (epoch ms), capped.
TASKS_INDEX_KEY: Final = f"{KEY_PREFIX}tasks:index"


def task_key(task_id: str) -> str:
    """Hash: one task's record (status, progress, timings, result or error)."""
    return f"{KEY_PREFIX}tasks:{task_id}"


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
ARBITRAGE_SIGNAL_SEQ_KEY: Final = f"{KEY_PREFIX}arbitrage:signal_seq"
#: Sorted set: signal id -> last_seen (epoch ms); capped and expiring (the bounded history).
ARBITRAGE_SIGNALS_INDEX_KEY: Final = f"{KEY_PREFIX}arbitrage:signals"
#: Hash: cycle key -> id of the open signal for that opportunity.
ARBITRAGE_OPEN_KEY: Final = f"{KEY_PREFIX}arbitrage:open"
#: Hash of lifetime counters: ``opened``, ``closed``, ``type:<type>``, ``severity:<severity>``.
ARBITRAGE_STATS_KEY: Final = f"{KEY_PREFIX}arbitrage:stats"
#: JSON of the detector's live configuration (``PUT /config``).
ARBITRAGE_CONFIG_KEY: Final = f"{KEY_PREFIX}arbitrage:config"
#: Prefix of one signal's JSON document (``<prefix>arbitrage:signal:<id>``).
ARBITRAGE_SIGNAL_KEY_PREFIX: Final = f"{KEY_PREFIX}arbitrage:signal:"
#: Lease (``SET NX PX``) naming the detector instance that stores and publishes signals.
ARBITRAGE_LEADER_KEY: Final = f"{KEY_PREFIX}arbitrage:leader"


def arbitrage_signal_key(signal_id: int | str) -> str:
    """String key holding one signal's latest JSON document (with a TTL)."""
    return f"{ARBITRAGE_SIGNAL_KEY_PREFIX}{signal_id}"


# --- CEP engine (ascep.cep, port 5004) ---
#: Pub/sub: a rule was created, changed or deleted; every engine process applies it at once.
CEP_RULE_CHANGES: Final = f"{KEY_PREFIX}cep:rule_changes"

#: Hash: rule id -> JSON of the rule (canonical form plus server fields).
CEP_RULES_KEY: Final = f"{KEY_PREFIX}cep:rules"

#: The namespace of the channels a rule's ``publish`` action may target (``cep:my_alerts``). Only
#: there: a rule publishing on ``service_status``, ``task_updates`` or any other channel a
#: service or the dashboard trusts would forge that channel's events. Nothing in ASCEP consumes
#: this namespace (the gateway does not forward it), so it cannot loop back into the engine;
#: ``emit_alert`` is how a rule reaches ``cep_alerts``.
CEP_PUBLISH_PREFIX: Final = "cep:"


def cep_may_publish(channel: str) -> bool:
    """Whether a CEP rule may ``publish`` on ``channel`` (the prefix plus at least one character).

    Never on one of our internal channels, whatever ``REDIS_KEY_PREFIX`` is (a prefix of ``cep:``
    would otherwise let a rule forge ``config_changes``).
    """
    return (
        channel.startswith(CEP_PUBLISH_PREFIX)
        and len(channel) > len(CEP_PUBLISH_PREFIX)
        and not channel.startswith(KEY_PREFIX)
    )


#: Counter (INCR) behind rule ids and rule versions: unique across restarts and processes.
CEP_RULE_SEQ_KEY: Final = f"{KEY_PREFIX}cep:rule_seq"

#: List of the latest ``cep_alert`` payloads, newest first, capped (LTRIM) at ``CEP_ALERTS_MAX``.
CEP_ALERTS_KEY: Final = f"{KEY_PREFIX}cep:alerts"

#: Hash: ``<rule id>:count`` -> times the rule fired (all engine processes), ``<rule id>:last`` ->
#: epoch ms of its latest firing; written only by the script in :mod:`ascep.cep.triggers`.
CEP_RULE_TRIGGERS_KEY: Final = f"{KEY_PREFIX}cep:rule_triggers"


def cep_alert_claim_key(rule_id: int, version: int, partition: str, ts: int) -> str:
    """``SET NX`` marker: the first engine process to claim an alert emits it, replicas skip it."""
    return f"{KEY_PREFIX}cep:claim:{rule_id}:{version}:{partition}:{ts}"


# --- gateway upstream routing (health and outlier ejection shared by every gateway process) ---
#: Pub/sub: an instance's routing state changed (health transition or ejection); every gateway
#: process applies it to its local copy at once.
UPSTREAM_ROUTING_CHANGES: Final = f"{KEY_PREFIX}upstreams:routing_changes"

#: Lease (``SET NX PX``) naming the gateway process that runs the active health checks.
UPSTREAM_HEALTH_LEADER_KEY: Final = f"{KEY_PREFIX}upstreams:health_leader"


def upstream_routing_key(service: str) -> str:
    """Hash: instance id -> JSON of its shared routing state (health, ejection) for one service."""
    return f"{KEY_PREFIX}upstreams:routing:{service}"


def retry_budget_key(service: str) -> str:
    """Hash: ``<epoch second>:q`` / ``<epoch second>:r`` -> requests / retries of ``service`` in that
    second, summed over every gateway process (the retry budget); fields older than the budget
    window are deleted by the Lua script that adds to them."""
    return f"{KEY_PREFIX}gateway:retry_budget:{service}"


# --- gateway traffic splits (canary releases; ascep.gateway.upstreams.split_store) ---
#: Hash: service name -> JSON of its split (versions, canary basis points, salt, generation,
#: rollback); changed only by the store's scripts, which also ring :data:`SPLIT_CHANGES`.
SPLITS_KEY: Final = f"{KEY_PREFIX}gateway:splits"

#: Pub/sub (internal): a split was written, deleted or rolled back; gateways re-read the hash.
SPLIT_CHANGES: Final = f"{KEY_PREFIX}gateway:split_changes"


def split_stats_key(service: str, generation: int, bucket: int) -> str:
    """Hash of one time bucket's per-arm request and error counts (all gateway processes), with a TTL."""
    return f"{KEY_PREFIX}gateway:split_stats:{service}:{generation}:{bucket}"


# --- gateway access control (ascep.gateway.auth: API keys and users) ---
#: Hash: API key id -> JSON of the key's record (name, scopes, SHA-256 of its secret, creation);
#: never the secret itself, which is shown once when the key is created.
API_KEYS_KEY: Final = f"{KEY_PREFIX}gateway:api_keys"

#: Hash: user name -> JSON of the user (id, scopes, argon2id password hash, creation).
USERS_KEY: Final = f"{KEY_PREFIX}gateway:users"

#: Pub/sub (internal): an API key or a user was created, revoked or deleted; every gateway
#: re-reads both hashes (a doorbell: the message's content is never trusted).
ACCESS_CHANGES: Final = f"{KEY_PREFIX}gateway:access_changes"
# --- gateway rate limits (ascep.gateway.ratelimit) ---
#: Hash: target (service name, ``gateway``, ``socketio``) -> JSON of its runtime override
#: (``{"limit", "updated_at", "generation"}``); written only by the override store's scripts,
#: which also ring :data:`RATE_LIMIT_CHANGES`.
RATE_LIMITS_KEY: Final = f"{KEY_PREFIX}gateway:rate_limits"

#: Pub/sub (internal): an override was set or removed; every gateway re-reads the hash.
RATE_LIMIT_CHANGES: Final = f"{KEY_PREFIX}gateway:rate_limit_changes"

#: Hash: ``<process> <target> <client>`` -> JSON ``{"target", "client", "refused", "last_ms",
#: "retry_after_s"}``: the clients each gateway process refused in the last minute, for the admin
#: listing's "limited right now" (written by every process's sync loop, expiring with the window).
RATE_LIMITED_KEY: Final = f"{KEY_PREFIX}gateway:rate_limited"


def rate_limit_key(identity_digest: str, target: str, algorithm: str) -> str:
    """One client's counter for one target: a sorted set (``sw``) or a number (``gcra``).

    The client's part is hash-tagged (``{...}``): every key of one client lives in one Redis
    Cluster slot. ``identity_digest`` is a fixed-length digest of the identity, never the raw
    subject, key id or address.
    """
    return f"{KEY_PREFIX}ratelimit:{{{identity_digest}}}:{target}:{algorithm}"
