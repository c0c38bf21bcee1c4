"""Who each Socket.IO client is, and which streams it may subscribe to.

The handshake's ``auth`` carries the credential (``{"token": "<jwt>"}`` or ``{"api_key": "..."}``;
browsers cannot set headers on a WebSocket). Under ``AUTH_MODE=required`` a client needs ``read``
to connect at all; each subscription event needs the scope in :data:`STREAM_SCOPES` (all the
current streams are market and platform data: ``read``). A refused handshake gets a
``connect_error`` whose data is the error envelope (plus ``message``, which JavaScript clients
turn into ``err.message``; the envelope is also in ``err.data``).

A connection outlives neither its credential nor its grant: :meth:`SocketAccess.ended` names the
clients whose token expired or whose API key / user was removed; the realtime side disconnects
them (at once on a revocation, within a second on an expiry).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from socketio.exceptions import ConnectionRefusedError as SocketIORefused

from ascep.common import channels
from ascep.common.errors import AscepError, DependencyUnavailable
from ascep.common.request_id import new_request_id
from ascep.gateway.auth.authenticator import Authenticator, authorize
from ascep.gateway.auth.tokens import Verified, invalid_token

#: Scope each client -> server subscription event needs (unsubscribing needs none).
STREAM_SCOPES: dict[str, str] = {
    channels.EVENT_SUBSCRIBE_PRICES: "read",
    channels.EVENT_SUBSCRIBE_SIGNALS: "read",
    channels.EVENT_SUBSCRIBE_ALERTS: "read",
}
#: Scope needed to connect at all.
CONNECT_SCOPE = "read"


class HandshakeRefused(SocketIORefused):
    """A refused connection whose ``connect_error`` carries the error envelope."""

    def __init__(self, error: AscepError) -> None:
        super().__init__(error.message)
        envelope = error.envelope(new_request_id())
        self.error_args = {"message": error.message, **envelope, "data": envelope}


class SocketAccess:
    """Per-connection credentials of this process's Socket.IO clients."""

    def __init__(self, authenticator: Authenticator, clock: Callable[[], float] = time.time) -> None:
        self.authenticator = authenticator
        self.clock = clock
        self._sessions: dict[str, Verified] = {}
        self._lock = threading.Lock()
        self.refused = 0

    @property
    def required(self) -> bool:
        return self.authenticator.required

    def connect(self, sid: str, auth: Any) -> None:
        """Admit ``sid`` or raise :class:`HandshakeRefused`."""
        try:
            verified = self.authenticator.handshake(auth)
            authorize(verified.principal, CONNECT_SCOPE)
        except AscepError as error:
            self.refused += 1
            raise HandshakeRefused(error) from error
        with self._lock:
            self._sessions[sid] = verified

    def disconnect(self, sid: str) -> None:
        with self._lock:
            self._sessions.pop(sid, None)

    def allow(self, sid: str, event: str) -> None:
        """Raise an :class:`AscepError` unless ``sid`` may send ``event`` now."""
        needed = STREAM_SCOPES.get(event)
        if needed is None or not self.required:
            return
        verified = self._sessions.get(sid)
        if verified is None or self._ended(verified):
            raise invalid_token("the connection's credential has expired or was revoked", "expired")
        authorize(verified.principal, needed)

    def _ended(self, verified: Verified) -> bool:
        if verified.expires_at is not None and self.clock() >= verified.expires_at:
            return True
        if verified.grant is None:
            return False
        try:
            return not self.authenticator.table.grant_alive(*verified.grant)
        except DependencyUnavailable:
            return False  # the table is stale: new requests get 503; do not cut live clients for it

    def ended(self) -> list[str]:
        """Clients whose credential expired or whose key/user no longer exists."""
        with self._lock:
            sessions = list(self._sessions.items())
        return [sid for sid, verified in sessions if self._ended(verified)]

    def status(self) -> dict[str, Any]:
        return {"authenticated_clients": len(self._sessions), "refused_handshakes": self.refused}
