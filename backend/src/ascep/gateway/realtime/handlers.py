"""Socket.IO event handlers: validate, update the fan-out, acknowledge. Nothing else.

Every subscription event is acknowledged twice, as the contract promises: the ack callback gets
``{"ok": true, ...}`` and a ``subscription_confirmed`` event follows. A malformed payload gets an
``error`` event (the HTTP envelope) and ``{"ok": false, ...}`` as ack; the connection stays up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import request
from flask_socketio import SocketIO, emit

from ascep import __version__
from ascep.common import channels
from ascep.common.errors import ValidationFailed
from ascep.common.events import EventFormatError
from ascep.common.request_id import new_request_id
from ascep.common.timeutil import iso_utc
from ascep.gateway.realtime import protocol
from ascep.gateway.realtime.fanout import Fanout

logger = logging.getLogger(__name__)


def _reject(event: str, exc: EventFormatError) -> dict[str, Any]:
    error = ValidationFailed(f"{event}: {exc.field} {exc.reason}", {"event": event, "field": exc.field})
    envelope = error.envelope(new_request_id())
    emit(channels.EVENT_ERROR, envelope)
    return {"ok": False, **envelope}


def _confirm(confirmation: dict[str, Any]) -> dict[str, Any]:
    emit(channels.EVENT_SUBSCRIPTION_CONFIRMED, confirmation)
    return {"ok": True, **confirmation}


def register_handlers(socketio: SocketIO, fanout: Fanout, on_count: Callable[[int], None]) -> None:
    """Attach the client-facing events to ``socketio``."""

    @socketio.on("connect")
    def connected(auth: Any = None) -> None:
        sid: str = request.sid  # type: ignore[attr-defined]
        fanout.connect(sid)
        on_count(len(fanout.clients))
        hello = {"server": "ascep-gateway", "version": __version__, "time": iso_utc(), "sid": sid}
        # Sent once the handler has returned, so it follows the namespace's connect acknowledgement.
        socketio.start_background_task(socketio.emit, channels.EVENT_CONNECTED, hello, to=sid)

    @socketio.on("disconnect")
    def disconnected(reason: Any = None) -> None:
        fanout.disconnect(request.sid)  # type: ignore[attr-defined]
        on_count(len(fanout.clients))

    @socketio.on(channels.EVENT_SUBSCRIBE_PRICES)
    def subscribe_prices(payload: Any = None) -> dict[str, Any]:
        try:
            subscription = protocol.parse_price_subscription(payload)
        except EventFormatError as exc:
            return _reject(channels.EVENT_SUBSCRIBE_PRICES, exc)
        confirmation = subscription.describe()
        emit(channels.EVENT_SUBSCRIPTION_CONFIRMED, confirmation)
        resolved = fanout.subscribe_prices(request.sid, subscription)  # type: ignore[attr-defined]
        return {"ok": True, **resolved.describe()}

    @socketio.on(channels.EVENT_UNSUBSCRIBE_PRICES)
    def unsubscribe_prices(payload: Any = None) -> dict[str, Any]:
        try:
            protocol.parse_empty(payload)
        except EventFormatError as exc:
            return _reject(channels.EVENT_UNSUBSCRIBE_PRICES, exc)
        fanout.unsubscribe_prices(request.sid)  # type: ignore[attr-defined]
        return _confirm({"stream": "prices", "subscribed": False})

    @socketio.on(channels.EVENT_SUBSCRIBE_SIGNALS)
    def subscribe_signals(payload: Any = None) -> dict[str, Any]:
        try:
            signal_filter = protocol.parse_signal_filter(payload)
        except EventFormatError as exc:
            return _reject(channels.EVENT_SUBSCRIBE_SIGNALS, exc)
        fanout.subscribe_signals(request.sid, signal_filter)  # type: ignore[attr-defined]
        return _confirm(signal_filter.describe())

    @socketio.on(channels.EVENT_UNSUBSCRIBE_SIGNALS)
    def unsubscribe_signals(payload: Any = None) -> dict[str, Any]:
        try:
            protocol.parse_empty(payload)
        except EventFormatError as exc:
            return _reject(channels.EVENT_UNSUBSCRIBE_SIGNALS, exc)
        fanout.unsubscribe_signals(request.sid)  # type: ignore[attr-defined]
        return _confirm({"stream": "signals", "subscribed": False})

    @socketio.on(channels.EVENT_SUBSCRIBE_ALERTS)
    def subscribe_alerts(payload: Any = None) -> dict[str, Any]:
        try:
            protocol.parse_empty(payload)
        except EventFormatError as exc:
            return _reject(channels.EVENT_SUBSCRIBE_ALERTS, exc)
        fanout.subscribe_alerts(request.sid, True)  # type: ignore[attr-defined]
        return _confirm({"stream": "alerts", "subscribed": True})

    @socketio.on(channels.EVENT_UNSUBSCRIBE_ALERTS)
    def unsubscribe_alerts(payload: Any = None) -> dict[str, Any]:
        try:
            protocol.parse_empty(payload)
        except EventFormatError as exc:
            return _reject(channels.EVENT_UNSUBSCRIBE_ALERTS, exc)
        fanout.subscribe_alerts(request.sid, False)  # type: ignore[attr-defined]
        return _confirm({"stream": "alerts", "subscribed": False})

    @socketio.on_error_default
    def unexpected(exc: BaseException) -> dict[str, Any]:
        logger.exception("Socket.IO handler failed")
        return {"ok": False, "error": {"code": "INTERNAL_ERROR", "message": "internal error", "details": {}}}
