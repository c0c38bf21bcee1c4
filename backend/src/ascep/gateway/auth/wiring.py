"""Authentication as one bundle: key ring, verifier, issuer, access table and its sync, admin writes.

Built once by ``build_app`` (a bad key setting stops start-up with a ``ConfigError`` naming it);
the proxy step and the WSGI middleware come from here, the sync loop starts with the other
background tasks (only under ``AUTH_MODE=required``: with ``off`` no credential is checked).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from ascep.common.errors import Conflict, NotFound
from ascep.common.redis_client import connect
from ascep.common.timeutil import iso_utc
from ascep.gateway.auth.access_store import AccessStore
from ascep.gateway.auth.access_sync import AccessSync
from ascep.gateway.auth.api_keys import AccessTable, ApiKeyRecord, new_key
from ascep.gateway.auth.authenticator import Authenticator
from ascep.gateway.auth.grants import Grants
from ascep.gateway.auth.keys import FAMILIES, KeyRing, build_keyring
from ascep.gateway.auth.own_routes import AuthMiddleware, WSGIApp
from ascep.gateway.auth.step import authenticate
from ascep.gateway.auth.tokens import TokenIssuer, TokenVerifier
from ascep.gateway.auth.users import Offload, PasswordHasher, UserRecord, new_user_id
from ascep.gateway.proxy.pipeline import Step
from ascep.gateway.settings import GatewaySettings

logger = logging.getLogger(__name__)

#: Seconds a Redis command of the access store (admin API, token endpoint, sync) may take.
STORE_TIMEOUT_S = 1.0


def keyring_from(settings: GatewaySettings) -> KeyRing:
    return build_keyring(
        mode=settings.auth_mode,
        algorithms=settings.jwt_algorithms,
        secret=settings.jwt_secret,
        public_keys=settings.jwt_public_keys,
        private_key=settings.jwt_private_key,
    )


class Auth:
    """Everything about authentication one gateway process holds."""

    def __init__(self, settings: GatewaySettings, offload: Offload[Any]) -> None:
        self.mode = settings.auth_mode
        self.keyring = keyring_from(settings)
        self.table = AccessTable(settings.access_max_staleness_s)
        client = connect(
            settings.redis_url, socket_timeout=STORE_TIMEOUT_S, connect_timeout=STORE_TIMEOUT_S, retries=0
        )
        self.store = AccessStore(client)
        self.verifier = TokenVerifier(
            self.keyring,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway=settings.jwt_leeway_seconds,
            cache_size=settings.jwt_cache_size,
        )
        self.issuer = TokenIssuer(
            self.keyring,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_seconds=settings.jwt_token_ttl_seconds,
        )
        self.authenticator = Authenticator(self.mode, self.verifier, self.table)
        self.passwords = PasswordHasher(offload)
        self.grants = Grants(self.store, self.passwords, self.issuer)
        self.sync = AccessSync(
            settings.redis_url,
            self.table,
            self.store,
            sleep=time.sleep,
            interval=settings.access_sync_interval,
            clock=time.time,
        )

    @property
    def required(self) -> bool:
        return self.authenticator.required

    def step(self) -> Step:
        return authenticate(self.authenticator)

    def middleware(self, app: WSGIApp) -> AuthMiddleware:
        return AuthMiddleware(app, self.authenticator)

    def announce(self) -> None:
        """Say at start-up how callers are checked; ``off`` loudly."""
        if not self.required:
            logger.warning(
                "AUTH_MODE=off: NO AUTHENTICATION. Every caller may read, write and administer "
                "everything (meant for a developer's loopback; ASCEP_ENV=production defaults to "
                "AUTH_MODE=required)"
            )
            return
        logger.info(
            "AUTH_MODE=required: algorithms %s, %d public keys, token issuing %s",
            ",".join(self.keyring.algorithms),
            len(self.keyring.public),
            self.keyring.signing.algorithm if self.keyring.signing else "disabled",
        )

    def start(self, spawn: Callable[..., Any], sleep: Callable[[float], Any]) -> None:
        self.announce()  # here, not when the app is built: logging is configured by now
        if self.required:
            self.sync.sleep = sleep
            spawn(self.sync.run)

    def stop(self) -> None:
        self.sync.stop()

    # --- admin writes (every gateway applies them within ACCESS_SYNC_INTERVAL, normally at once) ---
    def create_key(self, name: str, scopes: frozenset[str], by: str) -> tuple[ApiKeyRecord, str]:
        key_id, key, secret_digest = new_key()
        record = ApiKeyRecord(key_id, name, scopes, secret_digest, iso_utc(), by)
        if not self.store.add_key(record):
            raise Conflict("key id collision; retry", {"id": key_id})  # 2^-64: never in practice
        self._refresh()
        return record, key

    def revoke_key(self, key_id: str) -> None:
        if not self.store.revoke_key(key_id):
            raise NotFound(f"no API key {key_id!r}", {"id": key_id})
        self._refresh()

    def create_user(self, username: str, password: str, scopes: frozenset[str], by: str) -> UserRecord:
        record = UserRecord(new_user_id(), username, scopes, self.passwords.hash(password), iso_utc(), by)
        if not self.store.add_user(record):
            raise Conflict(f"a user named {username!r} exists already", {"username": username})
        self._refresh()
        return record

    def delete_user(self, username: str) -> None:
        if not self.store.delete_user(username):
            raise NotFound(f"no user named {username!r}", {"username": username})
        self._refresh()

    def _refresh(self) -> None:
        """Apply a change made here at once (others follow by pub/sub)."""
        if self.required:
            self.sync.resync()

    def status(self) -> dict[str, Any]:
        cache = self.verifier.cache
        return {
            "mode": self.mode,
            "algorithms": list(self.keyring.algorithms),
            "families": sorted({FAMILIES[a] for a in self.keyring.algorithms}),
            "public_keys": sorted(self.keyring.public),
            "token_issuing": self.keyring.signing.algorithm if self.keyring.signing else None,
            "tokens_refused": self.verifier.refused,
            "verified_cache": {
                "size": len(cache),
                "capacity": cache.capacity,
                "hits": cache.hits,
                "misses": cache.misses,
            },
            "sync": self.sync.status() if self.required else None,
        }
