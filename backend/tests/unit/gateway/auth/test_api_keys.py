"""API keys: format, constant-time check against the in-memory table, staleness, grants."""

from __future__ import annotations

import pytest

from ascep.common.errors import DependencyUnavailable, Unauthorized
from ascep.gateway.auth.api_keys import AccessTable, ApiKeyRecord, new_key, split_key


def table_with(*records: ApiKeyRecord, now: list[float] | None = None) -> AccessTable:
    clock = now or [0.0]
    table = AccessTable(max_staleness=30, clock=lambda: clock[0])
    table.replace(records, ["user-1"])
    return table


def record(key_id: str, digest: str, scopes: frozenset[str] = frozenset({"read"})) -> ApiKeyRecord:
    return ApiKeyRecord(key_id, "ci", scopes, digest, "2026-01-01T00:00:00Z", "admin")


def test_a_new_key_verifies_and_its_siblings_do_not() -> None:
    key_id, key, digest = new_key()
    assert split_key(key) is not None
    assert key.startswith(f"ascep_{key_id}_")
    table = table_with(record(key_id, digest))
    assert table.verify_key(key).id == key_id
    other_id, other_key, _ = new_key()
    for wrong in (
        key[:-1] + ("A" if key[-1] != "A" else "B"),  # one character off
        other_key,  # unknown id
        key.replace(key_id, other_id),  # right secret, other id
    ):
        with pytest.raises(Unauthorized) as caught:
            table.verify_key(wrong)
        assert caught.value.details["reason"] == "unknown_key"


@pytest.mark.parametrize(
    "presented", ["", "ascep_", "ascep_xyz_abc", "x" * 100, "ascep_0123456789abcdef_" + "a" * 42]
)
def test_malformed_keys(presented: str) -> None:
    with pytest.raises(Unauthorized) as caught:
        table_with().verify_key(presented)
    assert caught.value.details["reason"] == "malformed"


def test_a_stale_table_refuses_with_503_not_with_an_old_answer() -> None:
    key_id, key, digest = new_key()
    now = [0.0]
    table = table_with(record(key_id, digest), now=now)
    now[0] = 29.0
    assert table.verify_key(key).id == key_id
    now[0] = 31.0
    with pytest.raises(DependencyUnavailable):
        table.verify_key(key)
    with pytest.raises(DependencyUnavailable):
        table.grant_alive("user", "user-1")
    never_synced = AccessTable(max_staleness=30)
    with pytest.raises(DependencyUnavailable):
        never_synced.verify_key(key)


def test_grants_are_alive_while_their_key_or_user_exists() -> None:
    key_id, _, digest = new_key()
    table = table_with(record(key_id, digest))
    assert table.grant_alive("key", key_id)
    assert table.grant_alive("user", "user-1")
    assert not table.grant_alive("user", "user-2")
    table.replace([], [])
    assert not table.grant_alive("key", key_id)


def test_records_round_trip_and_never_show_the_hash() -> None:
    original = record("0123456789abcdef", "f" * 64, frozenset({"read", "write"}))
    assert ApiKeyRecord.from_dict(original.to_dict()) == original
    assert "secret_sha256" not in original.describe()
