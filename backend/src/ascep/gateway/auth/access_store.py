"""API keys and users in Redis: each change and its announcement in one atomic script.

Two hashes (``API_KEYS_KEY``: id -> record, ``USERS_KEY``: name -> record) and one doorbell
channel (``ACCESS_CHANGES``). A script writes and publishes together, so no gateway can miss a
change that happened; the message carries no data (gateways re-read the hashes), so a forged
message can never grant anything. Only admin endpoints and the CLI write here; the proxy never
reads here (it reads the :class:`~.api_keys.AccessTable` the sync loop keeps).
"""

from __future__ import annotations

import logging
from typing import Any

import redis

from ascep.common import channels
from ascep.common.events import EventFormatError, decode, encode
from ascep.common.redis_replies import text
from ascep.gateway.auth.api_keys import ApiKeyRecord
from ascep.gateway.auth.users import UserRecord

logger = logging.getLogger(__name__)

#: KEYS[1] hash; ARGV[1] field, ARGV[2] record, ARGV[3] channel, ARGV[4] message.
#: Creates only: answers 0 when the field exists already.
_CREATE = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
"""
#: KEYS[1] hash; ARGV[1] field, ARGV[2] channel, ARGV[3] message. Answers how many were removed.
_REMOVE = """
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
if removed == 1 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return removed
"""


class AccessStore:
    """Reads and atomic writes of API keys and users."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._create = client.register_script(_CREATE)
        self._remove = client.register_script(_REMOVE)

    def _ring(self, kind: str, op: str, name: str) -> str:
        return encode({"kind": kind, "op": op, "id": name})

    # --- API keys -----------------------------------------------------------------------
    def add_key(self, record: ApiKeyRecord) -> bool:
        created = self._create(
            keys=[channels.API_KEYS_KEY],
            args=[
                record.id,
                encode(record.to_dict()),
                channels.ACCESS_CHANGES,
                self._ring("key", "add", record.id),
            ],
        )
        return bool(created)

    def revoke_key(self, key_id: str) -> bool:
        removed = self._remove(
            keys=[channels.API_KEYS_KEY],
            args=[key_id, channels.ACCESS_CHANGES, self._ring("key", "revoke", key_id)],
        )
        return bool(removed)

    def key(self, key_id: str) -> ApiKeyRecord | None:
        raw = self.client.hget(channels.API_KEYS_KEY, key_id)
        if raw is None:
            return None
        try:
            return ApiKeyRecord.from_dict(decode(text(raw)))
        except EventFormatError:
            logger.warning("ignoring a malformed API key record %r", key_id)
            return None

    def keys(self) -> list[ApiKeyRecord]:
        return _records(self.client.hgetall(channels.API_KEYS_KEY), ApiKeyRecord.from_dict, "API key")

    # --- users ----------------------------------------------------------------------------
    def add_user(self, record: UserRecord) -> bool:
        created = self._create(
            keys=[channels.USERS_KEY],
            args=[
                record.username,
                encode(record.to_dict()),
                channels.ACCESS_CHANGES,
                self._ring("user", "add", record.id),
            ],
        )
        return bool(created)

    def delete_user(self, username: str) -> bool:
        removed = self._remove(
            keys=[channels.USERS_KEY],
            args=[username, channels.ACCESS_CHANGES, self._ring("user", "delete", username)],
        )
        return bool(removed)

    def user(self, username: str) -> UserRecord | None:
        raw = self.client.hget(channels.USERS_KEY, username)
        if raw is None:
            return None
        try:
            return UserRecord.from_dict(decode(text(raw)))
        except EventFormatError:
            logger.warning("ignoring a malformed user record for %r", username)
            return None

    def users(self) -> list[UserRecord]:
        return _records(self.client.hgetall(channels.USERS_KEY), UserRecord.from_dict, "user")

    def read_all(self) -> tuple[list[ApiKeyRecord], list[UserRecord]]:
        """Both hashes in one round trip (the sync loop's re-read)."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(channels.API_KEYS_KEY)
        pipe.hgetall(channels.USERS_KEY)
        raw_keys, raw_users = pipe.execute()
        return (
            _records(raw_keys, ApiKeyRecord.from_dict, "API key"),
            _records(raw_users, UserRecord.from_dict, "user"),
        )


def _records(raw: Any, parse: Any, what: str) -> list[Any]:
    found = []
    for field, value in (raw or {}).items():
        try:
            found.append(parse(decode(text(value))))
        except EventFormatError as exc:
            logger.warning("ignoring a malformed %s record %r (%s)", what, text(field), exc)
    return found
