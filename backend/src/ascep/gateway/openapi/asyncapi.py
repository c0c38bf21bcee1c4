"""The AsyncAPI 3.0 document of the real-time events, built from the definitions the code uses.

Event names come from :mod:`ascep.common.channels`, payloads from the event dataclasses of
:mod:`ascep.common.events` (through :mod:`ascep.common.event_schemas`), what clients may send
from the schemas next to the parsers in :mod:`ascep.gateway.realtime.protocol`. Two channels:
the Socket.IO connection every browser uses, and the public Redis channels other processes
publish on (README, "Publishing from other processes"). The README's event tables are checked
against this document (``tests/unit/gateway/openapi/test_asyncapi.py``).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from ascep import __version__
from ascep.common import channels
from ascep.common.event_schemas import event_schema
from ascep.common.events import ArbitrageSignal, CepAlert, CepSignal, PriceUpdate, ServiceStatus, TaskUpdate
from ascep.common.openapi.schemas import (
    ERROR_ENVELOPE,
    INTEGER,
    NUMBER,
    OBJECT,
    STRING,
    TIMESTAMP,
    nullable,
    obj,
)
from ascep.gateway.realtime.protocol import EMPTY_SCHEMA, SIGNAL_FILTER_SCHEMA, price_subscription_schema

_BREAKER_STATES = {"enum": ["closed", "open", "half_open"]}
_CIRCUIT_STATE = obj(
    {
        "service": STRING,
        "instance": STRING,
        "state": _BREAKER_STATES,
        "previous": _BREAKER_STATES,
        "at": TIMESTAMP,
        "ts": INTEGER,
        "reason": STRING,
        "failure_rate": nullable(NUMBER),
        "volume": nullable(INTEGER),
        "generation": INTEGER,
        "open_until": nullable(INTEGER),
    },
    required=["service", "instance", "state", "previous", "ts"],
    description="Published by the Redis script that changed the breaker (payload built there).",
)
_SPLIT_ROLLBACK = obj(
    {
        "service": STRING,
        "stable": STRING,
        "canary": STRING,
        "generation": INTEGER,
        "at": TIMESTAMP,
        "reason": STRING,
        "canary_error_rate": NUMBER,
        "stable_error_rate": NUMBER,
        "requests": OBJECT,
        "errors": OBJECT,
        "basis_points_before": INTEGER,
    },
    required=["service", "stable", "canary", "reason"],
    description="Published by the Redis script that rolled the canary back (payload built there).",
)
_CONNECTED = obj(
    {
        "server": STRING,
        "version": STRING,
        "time": TIMESTAMP,
        "sid": STRING,
        "message": {"type": "string", "description": "human greeting, as the original ASCEP sent"},
        "protocol": {"enum": [1, 2], "description": "what the handshake declared (1: the original)"},
    }
)
_CONFIRMED = obj({"stream": {"enum": ["prices", "signals", "alerts"]}, "subscribed": {"type": "boolean"}},
                 required=["stream", "subscribed"])  # fmt: skip

_SCHEMAS: dict[str, Any] = {
    "PriceUpdate": event_schema(PriceUpdate),
    "ArbitrageSignal": event_schema(ArbitrageSignal),
    "CepAlert": event_schema(CepAlert),
    "CepSignal": event_schema(CepSignal),
    "ServiceStatus": event_schema(ServiceStatus),
    "TaskUpdate": event_schema(TaskUpdate),
    "CircuitState": _CIRCUIT_STATE,
    "SplitRollback": _SPLIT_ROLLBACK,
    "ErrorEnvelope": ERROR_ENVELOPE,
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_BATCH = {"type": "array", "items": _ref("PriceUpdate")}


def server_events() -> dict[str, tuple[str, Any]]:
    """Socket.IO event -> (when it is sent, payload schema): what the gateway emits."""
    c = channels
    return {
        c.EVENT_CONNECTED: ("right after connecting", _CONNECTED),
        c.EVENT_PRICE_UPDATE: ("one per tick, to per-event price subscribers", _ref("PriceUpdate")),
        c.EVENT_PRICE_BATCH: ("every 50 ms at most, to batch subscribers", _BATCH),
        c.EVENT_ARBITRAGE_SIGNAL: ("to signal subscribers whose filter matches", _ref("ArbitrageSignal")),
        c.EVENT_CEP_ALERT: ("to alert subscribers", _ref("CepAlert")),
        c.EVENT_CEP_SIGNAL: ("to alert subscribers: a rule's create_signal action", _ref("CepSignal")),
        c.EVENT_SERVICE_STATUS: ("to every client: a watched target changed status", _ref("ServiceStatus")),
        c.EVENT_TASK_UPDATE: ("to every client: a task changed", _ref("TaskUpdate")),
        c.EVENT_CIRCUIT_STATE: ("to every client: a circuit breaker changed", _ref("CircuitState")),
        c.EVENT_SPLIT_ROLLBACK: ("to every client: a canary was rolled back", _ref("SplitRollback")),
        c.EVENT_SUBSCRIPTION_CONFIRMED: ("after each (un)subscribe", _CONFIRMED),
        c.EVENT_ERROR: ("a malformed client message, or a client over its rate", _ref("ErrorEnvelope")),
    }


def client_events(max_symbols: int) -> dict[str, tuple[str, Any]]:
    """Socket.IO event -> (effect, payload schema): what a client may send."""
    c = channels
    return {
        c.EVENT_SUBSCRIBE_PRICES: (
            "subscribe to prices (a snapshot first)",
            price_subscription_schema(max_symbols),
        ),
        c.EVENT_UNSUBSCRIBE_PRICES: ("stop prices", EMPTY_SCHEMA),
        c.EVENT_SUBSCRIBE_SIGNALS: ("subscribe to arbitrage signals", SIGNAL_FILTER_SCHEMA),
        c.EVENT_UNSUBSCRIBE_SIGNALS: ("stop signals", EMPTY_SCHEMA),
        c.EVENT_SUBSCRIBE_ALERTS: ("subscribe to CEP alerts", EMPTY_SCHEMA),
        c.EVENT_UNSUBSCRIBE_ALERTS: ("stop alerts", EMPTY_SCHEMA),
    }


#: Public Redis channels -> payload schema (other processes may publish on them).
BUS_CHANNELS: dict[str, str] = {
    channels.PRICE_UPDATES: "PriceUpdate",
    channels.ARBITRAGE_SIGNALS: "ArbitrageSignal",
    channels.CEP_ALERTS: "CepAlert",
    channels.CEP_SIGNALS: "CepSignal",
    channels.SERVICE_STATUS: "ServiceStatus",
    channels.TASK_UPDATES: "TaskUpdate",
    channels.CIRCUIT_STATE: "CircuitState",
    channels.SPLIT_ROLLBACK: "SplitRollback",
}


def _messages(events: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    return {
        name: {"name": name, "summary": text, "payload": schema} for name, (text, schema) in events.items()
    }


@cache
def asyncapi_document(max_symbols: int) -> bytes:
    """The document as JSON bytes (built once per symbol limit: it depends on nothing else)."""
    sent = server_events()
    received = client_events(max_symbols)
    socketio_messages = {**_messages(sent), **_messages(received)}
    bus_messages = {f"bus_{c}": {"name": c, "payload": _ref(s)} for c, s in BUS_CHANNELS.items()}
    operations: dict[str, Any] = {}
    for name in sent:
        operations[f"receive_{name}"] = {
            "action": "receive",
            "channel": {"$ref": "#/channels/socketio"},
            "messages": [{"$ref": f"#/channels/socketio/messages/{name}"}],
        }
    for name in received:
        operations[f"send_{name}"] = {
            "action": "send",
            "channel": {"$ref": "#/channels/socketio"},
            "messages": [{"$ref": f"#/channels/socketio/messages/{name}"}],
        }
    for key, message in bus_messages.items():
        channel = f"bus_{message['name']}"
        operations[f"publish_{message['name']}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{key}"}],
        }
    document = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "ASCEP real-time events",
            "version": __version__,
            "description": "Socket.IO (protocol v5) on the gateway's port at /socket.io, and the public "
            "Redis pub/sub channels the gateway relays. Payloads carry extra fields other publishers add.",
        },
        "servers": {
            "gateway": {
                "host": "localhost:5000",
                "protocol": "ws",
                "pathname": "/socket.io",
                "description": "Socket.IO on the gateway's origin",
            },
            "redis": {"host": "localhost:6379", "protocol": "redis", "description": "the platform's Redis"},
        },
        "channels": {
            "socketio": {
                "address": "/socket.io",
                "servers": [{"$ref": "#/servers/gateway"}],
                "messages": socketio_messages,
            },
            **{
                f"bus_{message['name']}": {
                    "address": message["name"],
                    "servers": [{"$ref": "#/servers/redis"}],
                    "messages": {key: message},
                }
                for key, message in bus_messages.items()
            },
        },
        "operations": operations,
        "components": {"schemas": _SCHEMAS},
    }
    return json.dumps(document, separators=(",", ":")).encode()
