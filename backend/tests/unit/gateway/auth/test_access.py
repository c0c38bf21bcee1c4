"""Registration-time access policy: defaults, overrides by path, and what is refused."""

from __future__ import annotations

import pytest

from ascep.common.errors import RegistrationError
from ascep.gateway.auth.access import Access
from ascep.gateway.routing import ServiceRegistry


@pytest.mark.parametrize(
    ("method", "needed"),
    [
        ("GET", "read"),
        ("HEAD", "read"),
        ("OPTIONS", "read"),
        ("POST", "write"),
        ("PUT", "write"),
        ("PATCH", "write"),
        ("DELETE", "write"),
    ],
)
def test_the_default_follows_the_method(method: str, needed: str) -> None:
    assert Access().required(method, "/anything") == needed


def test_overrides_by_longest_path_prefix() -> None:
    access = Access(
        read="public",
        paths={"/rules": Access(write="admin"), "/rules/test": Access(read="admin", write="write")},
    )
    assert access.required("GET", "/prices") == "public"
    assert access.required("POST", "/prices") == "write"
    assert access.required("POST", "/rules/7") == "admin"
    assert access.required("GET", "/rules/7") == "read"
    assert access.required("GET", "/rules/test/x") == "admin"
    assert access.required("POST", "/rules/test") == "write"
    assert access.required("POST", "/rulesx") == "write", "a prefix matches whole segments only"


@pytest.mark.parametrize(
    "make",
    [
        lambda: Access(write="public"),  # type: ignore[arg-type]
        lambda: Access(read="root"),  # type: ignore[arg-type]
        lambda: Access(paths={"rules": Access()}),
        lambda: Access(paths={"/rules/": Access()}),
        lambda: Access(paths={"/a": Access(paths={"/a/b": Access()})}),
        lambda: Access(paths={"/a": "admin"}),  # type: ignore[dict-item]
    ],
)
def test_invalid_access_is_a_registration_error(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RegistrationError) as caught:
        make()
    assert caught.value.argument == "access"


def test_registration_checks_paths_lie_under_the_endpoints() -> None:
    registry = ServiceRegistry()
    definition = registry.register_service(
        "svc", 5099, ["/svc"], access=Access(read="public", paths={"/svc/admin": Access(read="admin")})
    )
    assert definition.access.required("GET", "/svc/admin/x") == "admin"
    assert definition.describe()["access"] == {
        "read": "public",
        "write": "write",
        "paths": {"/svc/admin": {"read": "admin", "write": "write"}},
    }
    with pytest.raises(RegistrationError, match="not under"):
        registry.register_service("other", 5098, ["/other"], access=Access(paths={"/svc": Access()}))
    with pytest.raises(RegistrationError):
        registry.register_service("third", 5097, ["/third"], access="public")  # type: ignore[arg-type]


@pytest.mark.parametrize("endpoint", ["/auth", "/users", "/users/me", "/auth/token"])
def test_sign_in_paths_are_reserved_for_the_gateway(endpoint: str) -> None:
    with pytest.raises(RegistrationError, match="reserved"):
        ServiceRegistry().register_service("svc", 5099, [endpoint])
