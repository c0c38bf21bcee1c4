"""Socket.IO event handlers: validate, update the fan-out, acknowledge. Nothing else.

Every subscription event is acknowledged twice, as the contract promises: the ack callback gets
``{"ok": true, ...}`` and a ``subscription_confirmed`` event follows. A malformed payload gets an
``error`` event (the HTTP envelope) and ``{"ok": false, ...}`` as ack; the connection stays up.
The protocol a client speaks is read from its handshake (:func:`.protocol.parse_protocol`); an
unknown one refuses the connection with the envelope as the ``connect_error`` data.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import request
from flask_socketio import ConnectionRefusedError as Refused
from flask_socketio import SocketIO, emit

from ascep import __version__
from ascep.common import channels
from ascep.common.errors import AscepError, ValidationFailed
from ascep.common.events import EventFormatError
from ascep.common.request_id import new_request_id
from ascep.common.timeutil import iso_utc
from ascep.gateway.realtime import protocol
from ascep.gateway.realtime.access import SocketAccess
from ascep.gateway.realtime.fanout import Fanout

logger = logging.getLogger(__name__)

#: ``(sid, parsed payload) -> confirmation``: what a subscription event does once validated.
Action = Callable[[str, Any], dict[str, Any]]


def _reject(event: str, exc: EventFormatError) -> dict[str, Any]:
    return _refuse(
        ValidationFailed(f"{event}: {exc.field} {exc.reason}", {"event": event, "field": exc.field})
    )


def _refuse(error: AscepError) -> dict[str, Any]:
    """Tell the client with an ``error`` event (the envelope) and a failed acknowledgement."""
    envelope = error.envelope(new_request_id())
    emit(channels.EVENT_ERROR, envelope)
    return {"ok": False, **envelope}


def _subscription_handler(
    event: str, parse: Callable[[Any], Any], act: Action, access: SocketAccess | None
) -> Callable[..., dict[str, Any]]:
    """Check the client's scope, validate with ``parse``, apply with ``act``; acknowledge either way."""

    def handle(payload: Any = None) -> dict[str, Any]:
        if access is not None:
            try:
                access.allow(request.sid, event)  # type: ignore[attr-defined]
            except AscepError as error:
                return _refuse(error)
        try:
            parsed = parse(payload)
        except EventFormatError as exc:
            return _reject(event, exc)
        confirmation = act(request.sid, parsed)  # type: ignore[attr-defined]
        return {"ok": True, **confirmation}

    return handle


def _subscription_actions(fanout: Fanout, max_symbols: int) -> dict[str, tuple[Callable[[Any], Any], Action]]:
    def confirmed(confirmation: dict[str, Any]) -> dict[str, Any]:
        emit(channels.EVENT_SUBSCRIPTION_CONFIRMED, confirmation)
        return confirmation

    def delivery(sid: str) -> dict[str, Any]:
        speaks = fanout.protocol_of(sid)
        return {
            "protocol": speaks,
            "delivery": "all" if speaks == protocol.PROTOCOL_ORIGINAL else "subscribed",
        }

    def subscribe_prices(sid: str, subscription: protocol.PriceSubscription) -> dict[str, Any]:
        resolution = fanout.resolve(subscription)
        confirmation = {
            **resolution.subscription.describe(),
            "resolved": resolution.resolved,
            "unknown": list(resolution.unknown),
            **delivery(sid),
        }
        # Confirm first: the snapshot the fan-out sends while joining must follow the confirmation.
        confirmed(confirmation)
        fanout.subscribe_prices(sid, resolution.subscription)
        return confirmation

    def subscribe_signals(sid: str, signal_filter: protocol.SignalFilter) -> dict[str, Any]:
        fanout.subscribe_signals(sid, signal_filter)
        return confirmed({**signal_filter.describe(), **delivery(sid)})

    def unsubscribe(stream: str, leave: Callable[[str], None]) -> Action:
        def act(sid: str, _: None) -> dict[str, Any]:
            leave(sid)
            return confirmed({"stream": stream, "subscribed": False})

        return act

    def subscribe_alerts(sid: str, _: None) -> dict[str, Any]:
        fanout.subscribe_alerts(sid, True)
        return confirmed({"stream": "alerts", "subscribed": True})

    return {
        channels.EVENT_SUBSCRIBE_PRICES: (
            functools.partial(protocol.parse_price_subscription, max_symbols=max_symbols),
            subscribe_prices,
        ),
        channels.EVENT_UNSUBSCRIBE_PRICES: (
            protocol.parse_empty,
            unsubscribe("prices", fanout.unsubscribe_prices),
        ),
        channels.EVENT_SUBSCRIBE_SIGNALS: (protocol.parse_signal_filter, subscribe_signals),
        channels.EVENT_UNSUBSCRIBE_SIGNALS: (
            protocol.parse_empty,
            unsubscribe("signals", fanout.unsubscribe_signals),
        ),
        channels.EVENT_SUBSCRIBE_ALERTS: (protocol.parse_empty, subscribe_alerts),
        channels.EVENT_UNSUBSCRIBE_ALERTS: (
            protocol.parse_empty,
            unsubscribe("alerts", lambda sid: fanout.subscribe_alerts(sid, False)),
        ),
    }


def register_handlers(
    socketio: SocketIO,
    fanout: Fanout,
    on_count: Callable[[int], None],
    *,
    max_symbols: int,
    access: SocketAccess | None = None,
) -> None:
    """Attach the client-facing events to ``socketio``; ``access`` checks credentials and scopes."""

    @socketio.on("connect")
    def connected(auth: Any = None) -> None:
        sid: str = request.sid  # type: ignore[attr-defined]
        if access is not None:
            access.connect(sid, auth)  # HandshakeRefused -> connect_error with the envelope
        try:
            speaks = protocol.parse_protocol(auth, request.args.get("protocol"))
        except EventFormatError as exc:
            error = ValidationFailed(f"{exc.field} {exc.reason}", {"field": exc.field})
            # CONNECT_ERROR data {"message", "data": envelope}: socket.io-client's err.message, err.data
            raise Refused(error.message, error.envelope(new_request_id())) from exc
        fanout.connect(sid, speaks)
        on_count(len(fanout.clients))
        hello = {
            "message": "Connected to ASCEP API Gateway",  # what the original gateway said
            "server": "ascep-gateway",
            "version": __version__,
            "time": iso_utc(),
            "sid": sid,
            "protocol": speaks,
        }
        # Sent once the handler has returned, so it follows the namespace's connect acknowledgement.
        socketio.start_background_task(socketio.emit, channels.EVENT_CONNECTED, hello, to=sid)

    @socketio.on("disconnect")
    def disconnected(reason: Any = None) -> None:
        fanout.disconnect(request.sid)  # type: ignore[attr-defined]
        if access is not None:
            access.disconnect(request.sid)  # type: ignore[attr-defined]
        on_count(len(fanout.clients))

    for event, (parse, act) in _subscription_actions(fanout, max_symbols).items():
        socketio.on_event(event, _subscription_handler(event, parse, act, access))

    @socketio.on_error_default
    def unexpected(exc: BaseException) -> dict[str, Any]:
        logger.exception("Socket.IO handler failed")
        return {"ok": False, "error": {"code": "INTERNAL_ERROR", "message": "internal error", "details": {}}}
