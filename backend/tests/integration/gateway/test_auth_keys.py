"""API keys, users and the token endpoint across TWO real gateway processes sharing one Redis.

* A key created through gateway A works on gateway B; revoked through A, it stops working on B
  within 1 s (and a Socket.IO client of B connected with it is disconnected), with no Redis call
  per request (B checks its local table, kept fresh by pub/sub).
* Users: created by an admin, they sign in with the password grant; a deleted user's tokens stop
  working everywhere. The client-credentials grant turns a key into a short-lived token.
* Socket.IO: a handshake without credentials gets ``connect_error`` with the envelope.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import requests
import socketio

from ascep.common import channels
from support.auth import SECRET, hs256
from support.polling import wait_for
from support.processes import HttpService
from support.redis_server import RedisServer
from support.sio import RecordingClient

from .conftest import gateway_env

ADMIN = hs256({"sub": "root", "exp": int(time.time()) + 3600, "scope": "admin"})
AS_ADMIN = {"Authorization": f"Bearer {ADMIN}"}


@pytest.fixture(scope="module")
def two_gateways(
    redis_server: RedisServer, upstream: HttpService, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[HttpService, HttpService]]:
    """Two gateway processes on one Redis. ``ACCESS_SYNC_INTERVAL=5``: within the 1 s a change
    must take, only pub/sub can have delivered it. No leeway: expiry tests stay short."""
    env = gateway_env(
        redis_server.url,
        upstream,
        AUTH_MODE="required",
        JWT_SECRET=SECRET,
        ACCESS_SYNC_INTERVAL="5",
        JWT_LEEWAY_SECONDS="0",
    )
    logs = tmp_path_factory.mktemp("auth-keys")
    pair = [HttpService(f"gateway_{n}", [sys.executable, "-m", "ascep.gateway"], env, logs) for n in "ab"]
    try:
        for gateway in pair:
            gateway.start()
        for gateway in pair:
            gateway.wait_healthy()
        yield pair[0], pair[1]
    finally:
        for gateway in pair:
            gateway.stop()


def status_of(gateway: HttpService, headers: dict[str, str]) -> int:
    return requests.get(f"{gateway.url}/api/prices", headers=headers, timeout=5).status_code


def test_a_revoked_key_stops_working_on_every_gateway_within_a_second(
    two_gateways: tuple[HttpService, HttpService], redis_server: RedisServer
) -> None:
    redis_client = redis.Redis.from_url(redis_server.url, decode_responses=True, socket_timeout=5)
    a, b = two_gateways
    created = requests.post(
        f"{a.url}/api/gateway/keys", json={"name": "ci", "scopes": ["read"]}, headers=AS_ADMIN, timeout=5
    )
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["key"].startswith(f"ascep_{key['id']}_")
    assert key["scopes"] == ["read"]
    stored = redis_client.hget(channels.API_KEYS_KEY, key["id"])
    assert stored is not None
    assert key["key"].split("_", 2)[2] not in stored, "Redis keeps a hash, never the secret"

    with_key = {"X-API-Key": key["key"]}
    wait_for(lambda: status_of(b, with_key) == 200, timeout=5, message="B accepts the new key")
    assert status_of(a, with_key) == 200
    assert requests.post(f"{b.url}/api/prices", headers=with_key, timeout=5).status_code == 403
    echoed = requests.get(f"{b.url}/api/prices", headers=with_key, timeout=5).json()["headers"]
    assert echoed.get("X-Authenticated-Subject") == f"key:{key['id']}"

    listing = requests.get(f"{b.url}/api/gateway/keys", headers=AS_ADMIN, timeout=5).json()
    assert [k["id"] for k in listing["keys"]] == [key["id"]]
    assert "key" not in listing["keys"][0]
    assert "secret_sha256" not in listing["keys"][0]

    socket = RecordingClient(b.url, auth={"api_key": key["key"]})
    assert socket.call("subscribe_alerts")["ok"] is True

    # No Redis call per request: under 50 authenticated calls the keys' hash is touched only by
    # the periodic re-read (every 5 s here), never per request (MONITOR sees every command).
    touching = [
        c
        for c in commands_during(redis_server.url, lambda: [status_of(b, with_key) for _ in range(50)])
        if channels.API_KEYS_KEY in c
    ]
    assert len(touching) <= 2, touching
    assert all(c.startswith("HGETALL") for c in touching)

    revoked_at = time.monotonic()
    assert (
        requests.delete(f"{a.url}/api/gateway/keys/{key['id']}", headers=AS_ADMIN, timeout=5).status_code
        == 204
    )
    wait_for(lambda: status_of(b, with_key) == 401, timeout=5, message="B refuses the revoked key")
    assert time.monotonic() - revoked_at < 1.0, "revocation reaches every gateway within 1 s"
    assert status_of(a, with_key) == 401
    wait_for(lambda: socket.disconnects == 1, timeout=5, message="B drops the revoked key's socket")
    ended = socket.events("error")[-1]
    assert ended["error"]["code"] == "UNAUTHORIZED"
    assert (
        requests.delete(f"{a.url}/api/gateway/keys/{key['id']}", headers=AS_ADMIN, timeout=5).status_code
        == 404
    )


def commands_during(redis_url: str, action: Callable[[], object]) -> list[str]:
    """Every Redis command any client sent while ``action`` ran (Redis MONITOR)."""
    marker = f"monitor-end-{time.time_ns()}"
    with redis.Redis.from_url(redis_url, decode_responses=True).monitor() as monitor:
        action()
        redis.Redis.from_url(redis_url).echo(marker)
        seen: list[str] = []
        while marker not in (command := monitor.next_command()["command"]):
            seen.append(command)
    return seen


def token_for(gateway: HttpService, **form: str) -> requests.Response:
    return requests.post(f"{gateway.url}/api/auth/token", data=form, timeout=10)


def test_users_sign_in_and_lose_their_tokens_when_deleted(
    two_gateways: tuple[HttpService, HttpService],
) -> None:
    a, b = two_gateways
    user = {"username": "dana", "password": "correct horse battery", "scopes": ["read", "write"]}
    created = requests.post(f"{a.url}/api/gateway/users", json=user, headers=AS_ADMIN, timeout=10)
    assert created.status_code == 201, created.text
    assert "password_hash" not in created.json()
    assert (
        requests.post(f"{a.url}/api/gateway/users", json=user, headers=AS_ADMIN, timeout=10).status_code
        == 409
    )

    wrong = token_for(b, grant_type="password", username="dana", password="wrong password!!")
    assert wrong.status_code == 401
    assert wrong.json()["error"]["details"]["oauth_error"] == "invalid_grant"
    unknown = token_for(b, grant_type="password", username="nobody", password="wrong password!!")
    assert unknown.status_code == 401
    assert unknown.json()["error"]["message"] == wrong.json()["error"]["message"]

    issued = token_for(b, grant_type="password", username="dana", password=user["password"], scope="read")
    assert issued.status_code == 200, issued.text
    assert issued.headers["Cache-Control"] == "no-store"
    body = issued.json()
    assert (body["token_type"], body["scope"], body["expires_in"]) == ("Bearer", "read", 900)
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    me = requests.get(f"{a.url}/api/users/me", headers=bearer, timeout=5).json()
    assert (me["subject"], me["scopes"]) == ("dana", ["read"])
    assert status_of(a, bearer) == 200

    too_much = token_for(b, grant_type="password", username="dana", password=user["password"], scope="admin")
    assert too_much.status_code == 400
    assert too_much.json()["error"]["details"]["oauth_error"] == "invalid_scope"

    assert requests.delete(f"{b.url}/api/gateway/users/dana", headers=AS_ADMIN, timeout=5).status_code == 204
    wait_for(lambda: status_of(a, bearer) == 401, timeout=2, message="A refuses the deleted user's token")


def test_client_credentials_and_malformed_token_requests(
    two_gateways: tuple[HttpService, HttpService],
) -> None:
    a, b = two_gateways
    key = requests.post(
        f"{a.url}/api/gateway/keys", json={"name": "bot", "scopes": ["write"]}, headers=AS_ADMIN, timeout=5
    ).json()
    by_form = token_for(b, grant_type="client_credentials", client_id=key["id"], client_secret=key["key"])
    assert by_form.status_code == 200, by_form.text
    assert by_form.json()["scope"] == "write"
    by_basic = requests.post(
        f"{b.url}/api/auth/token",
        json={"grant_type": "client_credentials", "scope": "read"},
        auth=(key["id"], key["key"].split("_", 2)[2]),
        timeout=5,
    )
    assert by_basic.status_code == 200, by_basic.text
    assert by_basic.json()["scope"] == "read"
    token = {"Authorization": f"Bearer {by_form.json()['access_token']}"}
    assert requests.post(f"{a.url}/api/prices", headers=token, timeout=5).status_code == 200

    bad = token_for(b, grant_type="client_credentials", client_id=key["id"], client_secret=key["key"] + "x")
    assert bad.status_code == 401
    assert bad.json()["error"]["details"]["oauth_error"] == "invalid_client"
    unsupported = token_for(b, grant_type="implicit")
    assert unsupported.status_code == 400
    assert unsupported.json()["error"]["details"]["oauth_error"] == "unsupported_grant_type"
    not_form = requests.post(
        f"{b.url}/api/auth/token", data=b"x", headers={"Content-Type": "text/plain"}, timeout=5
    )
    assert not_form.status_code == 400

    requests.delete(f"{a.url}/api/gateway/keys/{key['id']}", headers=AS_ADMIN, timeout=5)
    wait_for(
        lambda: requests.post(f"{b.url}/api/prices", headers=token, timeout=5).status_code == 401,
        timeout=2,
        message="a token issued for a revoked key is refused",
    )


def connect_error(url: str, auth: Any) -> Any:
    client = socketio.Client(reconnection=False)
    errors: list[Any] = []
    client.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(url, transports=["websocket"], wait_timeout=10, auth=auth)
    return errors[0]


def test_socketio_handshake_needs_a_credential(two_gateways: tuple[HttpService, HttpService]) -> None:
    a, _ = two_gateways
    for auth in (None, {"token": "garbage"}, {"token": 5}, {"api_key": "ascep_nope"}):
        refused = connect_error(a.url, auth)
        assert refused["error"]["code"] == "UNAUTHORIZED", auth
        assert refused["data"] == {"error": refused["error"], "request_id": refused["request_id"]}
        assert refused["message"] == refused["error"]["message"]
    expired = hs256({"sub": "x", "exp": int(time.time()) - 100, "scope": "read"})
    assert connect_error(a.url, {"token": expired})["error"]["details"]["reason"] == "expired"
    no_scope = hs256({"sub": "x", "exp": int(time.time()) + 100, "scope": "other"})
    assert connect_error(a.url, {"token": no_scope})["error"]["code"] == "FORBIDDEN"

    reader = RecordingClient(
        a.url, auth={"token": hs256({"sub": "x", "exp": int(time.time()) + 100, "scope": "read"})}
    )
    reader.wait_events("connected", 1)
    assert reader.call("subscribe_signals", {})["ok"] is True
    reader.close()


def test_a_socket_is_closed_when_its_token_expires(two_gateways: tuple[HttpService, HttpService]) -> None:
    client = RecordingClient(
        two_gateways[1].url, auth={"token": hs256({"sub": "x", "exp": int(time.time()) + 2, "scope": "read"})}
    )
    client.wait_events("connected", 1)
    wait_for(lambda: client.disconnects == 1, timeout=6, message="the expired client is disconnected")
    assert client.events("error")[-1]["error"]["code"] == "UNAUTHORIZED"


def cli(redis_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REDIS_URL": redis_url, "JWT_SECRET": SECRET}
    return subprocess.run(
        [sys.executable, "-m", "ascep.gateway.auth.cli", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_cli_bootstraps_the_first_admin_and_mints_tokens(
    two_gateways: tuple[HttpService, HttpService], redis_server: RedisServer
) -> None:
    a, b = two_gateways
    added = cli(
        redis_server.url, "user", "add", "first-admin", "--scopes", "admin", stdin="a long enough password\n"
    )
    assert added.returncode == 0, added.stderr
    again = cli(
        redis_server.url, "user", "add", "first-admin", "--scopes", "admin", stdin="a long enough password\n"
    )
    assert again.returncode == 1
    signed_in = token_for(b, grant_type="password", username="first-admin", password="a long enough password")
    assert signed_in.status_code == 200, signed_in.text
    admin = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    assert requests.get(f"{a.url}/api/gateway/users", headers=admin, timeout=5).status_code == 200

    minted = cli(redis_server.url, "token", "--scopes", "read,write", "--subject", "cli-user", "--ttl", "60")
    assert minted.returncode == 0, minted.stderr
    bearer = {"Authorization": f"Bearer {minted.stdout.strip()}"}
    me = requests.get(f"{a.url}/api/users/me", headers=bearer, timeout=5).json()
    assert (me["subject"], me["scopes"]) == ("cli-user", ["read", "write"])
    assert cli(redis_server.url, "token", "--scopes", "root").returncode == 2
