"""Which scopes an issued token gets."""

from __future__ import annotations

import pytest

from ascep.common.errors import BadRequest, ServiceUnavailable
from ascep.gateway.auth.grants import Grants, granted_scopes
from ascep.gateway.auth.keys import build_keyring
from ascep.gateway.auth.tokens import TokenIssuer


def test_all_of_the_grant_by_default_and_fewer_on_request() -> None:
    assert granted_scopes(frozenset({"admin", "read"}), None) == ["read", "admin"]
    assert granted_scopes(frozenset({"admin"}), "read write") == ["read", "write"]
    assert granted_scopes(frozenset({"write"}), "read") == ["read"]


def test_more_than_the_grant_is_invalid_scope() -> None:
    with pytest.raises(BadRequest) as caught:
        granted_scopes(frozenset({"read"}), "read admin")
    assert caught.value.details == {"oauth_error": "invalid_scope", "scope": ["admin"]}


def test_without_a_signing_key_the_endpoint_says_which_setting_is_missing() -> None:
    keyring = build_keyring(mode="off", algorithms=("RS256",), secret="", public_keys="", private_key="")
    grants = Grants(store=None, hasher=None, issuer=TokenIssuer(keyring))  # type: ignore[arg-type]  # never reached
    with pytest.raises(ServiceUnavailable, match="JWT_SECRET"):
        grants.password("alice", "a long enough password", None)
