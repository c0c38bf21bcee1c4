"""The ``authenticate`` proxy step with a function as ``call_next``: headers, scopes, modes."""

from __future__ import annotations

import time

import pytest

from ascep.common.errors import Forbidden, Unauthorized
from ascep.gateway.auth.access import Access
from ascep.gateway.auth.api_keys import AccessTable, ApiKeyRecord, new_key
from ascep.gateway.auth.authenticator import Authenticator
from ascep.gateway.auth.keys import build_keyring
from ascep.gateway.auth.step import authenticate, split_identity
from ascep.gateway.auth.tokens import TokenVerifier
from ascep.gateway.proxy.exchange import Exchange, ProxyResponse
from ascep.gateway.routing import ServiceRegistry
from ascep.gateway.upstreams.split_step import key_resolver
from support.auth import SECRET, claims, hs256

REGISTRY = ServiceRegistry()
REGISTRY.register_service("svc", 5099, ["/svc"], access=Access(paths={"/svc/open": Access(read="public")}))
KEY_ID, KEY, DIGEST = new_key()


def authenticator(mode: str = "required") -> Authenticator:
    keyring = build_keyring(mode=mode, algorithms=("HS256",), secret=SECRET, public_keys="", private_key="")
    table = AccessTable(max_staleness=30)
    table.replace([ApiKeyRecord(KEY_ID, "ci", frozenset({"read"}), DIGEST, "t", "admin")], [])
    return Authenticator(mode, TokenVerifier(keyring), table)


def exchange(method: str, path: str, headers: list[tuple[str, str]]) -> Exchange:
    return Exchange(
        request_id="r",
        method=method,
        path=path,
        raw_path=path,
        query="",
        headers=headers,
        body=None,
        content_length=None,
        chunked=False,
        client_addr="127.0.0.1",
        scheme="http",
        host="h",
        started=time.perf_counter(),
        route=REGISTRY.match(path),
    )


def run(step, ex: Exchange) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    seen: list[list[tuple[str, str]]] = []

    def forward(e: Exchange) -> ProxyResponse:
        seen.append(list(e.headers))
        return ProxyResponse(200, "OK", [], [])

    step(ex, call_next=forward)
    return seen[0]


FORGED = [("X-Authenticated-Subject", "root"), ("x-authenticated-scopes", "admin"), ("Accept", "*/*")]


def test_off_mode_lets_everyone_in_and_drops_forged_identity_headers() -> None:
    ex = exchange("DELETE", "/svc/x", [*FORGED, ("Authorization", "Bearer garbage")])
    sent = run(authenticate(authenticator("off")), ex)
    assert sent == [("Accept", "*/*"), ("Authorization", "Bearer garbage")], "nothing else changes"
    assert ex.principal is not None
    assert ex.principal.has_scope("admin")


def test_a_token_becomes_trusted_headers_and_the_credential_stays_here() -> None:
    token = hs256(claims(iss=None, aud=None, scope="read write"))
    ex = exchange("POST", "/svc/x", [*FORGED, ("Authorization", f"Bearer {token}")])
    sent = run(authenticate(authenticator()), ex)
    assert sent == [
        ("Accept", "*/*"),
        ("X-Authenticated-Subject", "alice"),
        ("X-Authenticated-Scopes", "read write"),
    ]


def test_an_api_key_and_its_scopes() -> None:
    step = authenticate(authenticator())
    sent = run(step, exchange("GET", "/svc/x", [("X-API-Key", KEY)]))
    assert ("X-Authenticated-Subject", f"key:{KEY_ID}") in sent
    assert all(name.lower() != "x-api-key" for name, _ in sent)
    with pytest.raises(Forbidden) as caught:
        run(step, exchange("POST", "/svc/x", [("X-API-Key", KEY)]))
    assert caught.value.details == {"scope": "write", "granted": ["read"]}
    assert 'error="insufficient_scope"' in caught.value.response_headers()[0][1]


def test_anonymous_callers_get_401_except_on_public_routes() -> None:
    step = authenticate(authenticator())
    with pytest.raises(Unauthorized):
        run(step, exchange("GET", "/svc/x", []))
    assert run(step, exchange("GET", "/svc/open/x", [*FORGED])) == [("Accept", "*/*")]
    with pytest.raises(Unauthorized):
        run(step, exchange("POST", "/svc/open/x", []))


@pytest.mark.parametrize(
    "headers",
    [
        [("Authorization", "Basic dXNlcjpwYXNz")],
        [("Authorization", "Bearer")],
        [("Authorization", "Bearer a"), ("Authorization", "Bearer b")],
        [("X-API-Key", KEY), ("X-API-Key", KEY)],
        [("X-API-Key", KEY), ("Authorization", "Bearer x")],
    ],
)
def test_odd_credentials_are_401(headers: list[tuple[str, str]]) -> None:
    with pytest.raises(Unauthorized):
        run(authenticate(authenticator()), exchange("GET", "/svc/x", headers))


def test_a_split_sticks_to_the_authenticated_subject_before_the_header() -> None:
    key_of = key_resolver("X-User-ID", split_identity)
    token = hs256(claims(iss=None, aud=None, sub="erin"))
    signed_in = exchange("GET", "/svc/x", [("Authorization", f"Bearer {token}"), ("X-User-ID", "mallory")])
    run(authenticate(authenticator()), signed_in)
    assert key_of(signed_in) == "erin"
    keyed = exchange("GET", "/svc/x", [("X-API-Key", KEY), ("X-User-ID", "mallory")])
    run(authenticate(authenticator()), keyed)
    assert key_of(keyed) == f"key:{KEY_ID}"
    anonymous = exchange("GET", "/svc/x", [("X-User-ID", "mallory")])
    run(authenticate(authenticator("off")), anonymous)
    assert key_of(anonymous) == "mallory"
