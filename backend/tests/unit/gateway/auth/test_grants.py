"""Which scopes an issued token gets."""

from __future__ import annotations

import pytest

from ascep.common.errors import BadRequest
from ascep.gateway.auth.grants import granted_scopes


def test_all_of_the_grant_by_default_and_fewer_on_request() -> None:
    assert granted_scopes(frozenset({"admin", "read"}), None) == ["read", "admin"]
    assert granted_scopes(frozenset({"admin"}), "read write") == ["read", "write"]
    assert granted_scopes(frozenset({"write"}), "read") == ["read"]


def test_more_than_the_grant_is_invalid_scope() -> None:
    with pytest.raises(BadRequest) as caught:
        granted_scopes(frozenset({"read"}), "read admin")
    assert caught.value.details == {"oauth_error": "invalid_scope", "scope": ["admin"]}
