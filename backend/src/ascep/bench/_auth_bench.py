"""The authenticated rows of ``./ascep bench gateway``: a second gateway with ``AUTH_MODE=required``.

It verifies HS256 (a random secret) and RS256 (a fresh 2048-bit key, ``kid`` ``bench``); an API
key is created through its admin API with an admin token. Each row sends one credential on every
request: ``gw-jwt-hs`` and ``gw-jwt-rs`` the same token each time (what a client does until its
token expires: the verified-token cache serves it), ``gw-apikey`` the key (a dict lookup and one
SHA-256 per request).
"""

from __future__ import annotations

import secrets
import sys
import tempfile
import time
from pathlib import Path

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ascep.bench._servers import Processes, free_port, wait_port

Target = tuple[str, dict[str, str]]


def start_auth_gateway(
    procs: Processes, env: dict[str, str], cpu: int | None
) -> tuple[dict[str, Target], int]:
    """Start the secured gateway; the rows' URLs and credentials, and the process id."""
    secret = secrets.token_urlsafe(48)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys_dir = Path(tempfile.mkdtemp(prefix="ascep-bench-keys-"))
    (keys_dir / "bench.pem").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    port = free_port()
    secured = procs.start(
        [sys.executable, "-m", "ascep.gateway"],
        env={
            **env,
            "PORT": str(port),
            "AUTH_MODE": "required",
            "JWT_ALGORITHMS": "HS256,RS256",
            "JWT_SECRET": secret,
            "JWT_PUBLIC_KEYS": str(keys_dir),
        },
        cpu=cpu,
    )
    wait_port(port)
    base = f"http://127.0.0.1:{port}"
    exp = int(time.time()) + 24 * 3600
    hs = jwt.encode({"sub": "bench", "exp": exp, "scope": "read write admin"}, secret, algorithm="HS256")
    rs = jwt.encode(
        {"sub": "bench", "exp": exp, "scope": "read"}, key, algorithm="RS256", headers={"kid": "bench"}
    )
    created = requests.post(
        f"{base}/api/gateway/keys",
        json={"name": "bench", "scopes": ["read"]},
        headers={"Authorization": f"Bearer {hs}"},
        timeout=10,
    )
    created.raise_for_status()
    url = f"{base}/api/prices"
    return {
        "gw-jwt-hs": (url, {"Authorization": f"Bearer {hs}"}),
        "gw-jwt-rs": (url, {"Authorization": f"Bearer {rs}"}),
        "gw-apikey": (url, {"X-API-Key": created.json()["key"]}),
    }, secured.pid


def step_costs(repeat: int = 5_000, trials: int = 5) -> dict[str, float]:
    """Microseconds the ``authenticate`` step itself takes per request, in this process (no I/O,
    no noise from the HTTP stack): off, HS256 and RS256 tokens (cached after the first), API key.
    Each figure is the fastest of ``trials`` runs (the least disturbed by other processes); it
    includes building the ``Exchange`` (the ``off`` figure is mostly that)."""
    from ascep.gateway.auth.access import Access
    from ascep.gateway.auth.api_keys import AccessTable, ApiKeyRecord, new_key
    from ascep.gateway.auth.authenticator import Authenticator
    from ascep.gateway.auth.keys import build_keyring
    from ascep.gateway.auth.step import authenticate
    from ascep.gateway.auth.tokens import TokenVerifier
    from ascep.gateway.proxy.exchange import Exchange, ProxyResponse
    from ascep.gateway.routing import ServiceRegistry

    secret = secrets.token_urlsafe(48)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys_dir = Path(tempfile.mkdtemp(prefix="ascep-bench-keys-"))
    (keys_dir / "bench.pem").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    registry = ServiceRegistry()
    route = registry.register_service("svc", 5099, ["/svc"], access=Access()).endpoints[0]
    key_id, api_key, digest = new_key()
    exp = int(time.time()) + 3600
    headers = {
        "off": [],
        "hs256": [
            ("Authorization", "Bearer " + jwt.encode({"sub": "b", "exp": exp, "scope": "read"}, secret))
        ],
        "rs256": [
            (
                "Authorization",
                "Bearer "
                + jwt.encode(
                    {"sub": "b", "exp": exp, "scope": "read"},
                    key,
                    algorithm="RS256",
                    headers={"kid": "bench"},
                ),
            )
        ],
        "api key": [("X-API-Key", api_key)],
    }
    common = [("Host", "localhost"), ("Accept", "*/*"), ("User-Agent", "bench")]
    costs: dict[str, float] = {}
    for name, credential in headers.items():
        mode = "off" if name == "off" else "required"
        keyring = build_keyring(
            mode=mode, algorithms=("HS256", "RS256"), secret=secret, public_keys=str(keys_dir), private_key=""
        )
        table = AccessTable(max_staleness=3600)
        table.replace([ApiKeyRecord(key_id, "b", frozenset({"read"}), digest, "t", "b")], [])
        step = authenticate(Authenticator(mode, TokenVerifier(keyring), table))
        answer = ProxyResponse(200, "OK", [], [])

        def call_next(_exchange: Exchange, answer: ProxyResponse = answer) -> ProxyResponse:
            return answer

        def one(step=step, credential=credential) -> None:  # type: ignore[no-untyped-def]
            exchange = Exchange(
                "r",
                "GET",
                route,
                route,
                "",
                [*common, *credential],
                None,
                None,
                False,
                "127.0.0.1",
                "http",
                "h",
                0.0,
                route=registry.match(route),
            )
            step(exchange, call_next=call_next)

        one()  # the first verification fills the cache
        best = float("inf")
        for _ in range(trials):
            started = time.perf_counter()
            for _ in range(repeat):
                one()
            best = min(best, (time.perf_counter() - started) / repeat * 1e6)
        costs[name] = best
    return costs
