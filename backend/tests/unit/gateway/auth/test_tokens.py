"""Token verification: what is refused (and why), what a good token yields, and the cache."""

from __future__ import annotations

import time

import jwt
import pytest

from ascep.common.errors import Unauthorized
from ascep.gateway.auth.keys import build_keyring
from ascep.gateway.auth.tokens import TokenIssuer, TokenVerifier, scopes_of
from support.auth import AUDIENCE, ISSUER, SECRET, KeyMaterial, claims, hmac_signed, hs256, raw_token


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyMaterial:
    return KeyMaterial(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def verifier(keys: KeyMaterial) -> TokenVerifier:
    keyring = build_keyring(
        mode="required",
        algorithms=("HS256", "RS256", "ES256", "EdDSA"),
        secret=SECRET,
        public_keys=str(keys.public_dir),
        private_key="",
    )
    return TokenVerifier(keyring, issuer=ISSUER, audience=AUDIENCE, leeway=5, cache_size=100)


def refusal(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(token)
    assert caught.value.challenge.startswith('Bearer realm="ascep", error="invalid_token"')
    return caught.value.details["reason"]


def test_a_good_token_of_each_family(verifier: TokenVerifier, keys: KeyMaterial) -> None:
    for algorithm, key, kid in (
        ("HS256", SECRET, None),
        ("RS256", keys.rsa, "rsa1"),
        ("ES256", keys.ec, "ec1"),
        ("EdDSA", keys.ed, "ed1"),
    ):
        token = jwt.encode(
            claims(sub=f"u-{algorithm}"), key, algorithm=algorithm, headers={"kid": kid} if kid else None
        )
        principal = verifier.verify(token).principal
        assert (principal.kind, principal.subject, principal.scopes) == (
            "jwt",
            f"u-{algorithm}",
            {"read", "write"},
        )


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda k: raw_token({"alg": "none", "typ": "JWT"}, claims(), b""), "algorithm"),
        (lambda k: hmac_signed({"alg": "HS256", "kid": "rsa1"}, claims(), k.rsa_public_pem()), "signature"),
        (lambda k: jwt.encode(claims(), SECRET * 2, algorithm="HS512"), "algorithm"),
        (lambda k: jwt.encode(claims(), k.ec, algorithm="ES256", headers={"kid": "rsa1"}), "unknown_key"),
        (lambda k: jwt.encode(claims(), k.rsa, algorithm="RS256", headers={"kid": "nope"}), "unknown_key"),
        (lambda k: jwt.encode(claims(), k.rsa, algorithm="RS256"), "unknown_key"),
        (lambda k: hs256(crit=["exp"]), "malformed"),  # PyJWT refuses an unknown extension
        (  # an extension PyJWT knows: refused here (no extension is understood by the gateway)
            lambda k: hmac_signed({"alg": "HS256", "crit": ["b64"], "b64": True}, claims(), SECRET.encode()),
            "crit",
        ),
        (lambda k: hs256(claims(aud="someone-else")), "audience"),
        (lambda k: hs256(claims(iss="https://evil.test")), "issuer"),
        (lambda k: hs256(claims(exp=int(time.time()) - 60)), "expired"),
        (lambda k: hs256(claims(nbf=int(time.time()) + 60)), "not_yet_valid"),
        (lambda k: hs256(claims(iat=int(time.time()) + 60)), "not_yet_valid"),
        (lambda k: hs256(claims(sub=None)), "missing_claim"),
        (lambda k: hs256(claims(exp=None)), "missing_claim"),
        (lambda k: hs256(claims(sub="bad\r\nX-Injected: 1")), "subject"),
        (lambda k: hs256(claims(scope=["read"])), "scope"),
        (lambda k: hs256(claims(scope=None, scopes="read")), "scope"),
        (lambda k: hs256(claims(scope='read "x"')), "scope"),
        (lambda k: hs256(secret=SECRET + "x"), "signature"),
        (lambda k: "not-a-token", "malformed"),
        (lambda k: "a.b.c", "malformed"),
        (lambda k: "e30.e30.!!!", "malformed"),
        (lambda k: raw_token([1, 2], claims()), "malformed"),
        (lambda k: hmac_signed({"alg": "HS256"}, b"[1,2]", SECRET.encode()), "malformed"),
        (lambda k: hs256(claims(pad="x" * 5000)), "too_large"),
    ],
)
def test_refused_tokens(verifier: TokenVerifier, keys: KeyMaterial, make, reason: str) -> None:  # type: ignore[no-untyped-def]
    assert refusal(verifier, make(keys)) == reason


def test_scopes_from_either_claim() -> None:
    assert scopes_of({"scope": "read  write"}) == {"read", "write"}
    assert scopes_of({"scopes": ["admin"]}) == {"admin"}
    assert scopes_of({"scope": "read", "scopes": ["write"]}) == {"read", "write"}
    assert scopes_of({}) == frozenset()


def test_verified_tokens_are_remembered_until_they_expire(keys: KeyMaterial) -> None:
    start = int(time.time())
    now = [float(start)]
    keyring = build_keyring(
        mode="required", algorithms=("HS256",), secret=SECRET, public_keys="", private_key=""
    )
    verifier = TokenVerifier(keyring, leeway=5, cache_size=2, clock=lambda: now[0])
    token = jwt.encode({"sub": "a", "exp": start + 100, "iat": start}, SECRET, algorithm="HS256")
    assert verifier.verify(token).principal.subject == "a"
    assert verifier.verify(token).principal.subject == "a"
    assert verifier.cache.hits == 1
    now[0] = start + 104.0  # inside the leeway: still good
    assert verifier.cache.get(token) is not None
    now[0] = start + 105.0  # exp + leeway: forgotten, as verification would refuse it now
    assert verifier.cache.get(token) is None
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(Unauthorized):
        verifier.verify(tampered)


def test_the_cache_is_bounded() -> None:
    keyring = build_keyring(
        mode="required", algorithms=("HS256",), secret=SECRET, public_keys="", private_key=""
    )
    verifier = TokenVerifier(keyring, cache_size=3)
    for i in range(10):
        verifier.verify(hs256(claims(sub=f"u{i}", iss=None, aud=None)))
    assert len(verifier.cache) == 3


def test_issued_tokens_verify_and_carry_their_grant(keys: KeyMaterial) -> None:
    keyring = build_keyring(
        mode="required",
        algorithms=("RS256",),
        secret="",
        public_keys=str(keys.public_dir),
        private_key=str(keys.rsa_private_path),
    )
    issuer = TokenIssuer(keyring, issuer=ISSUER, audience=AUDIENCE, ttl_seconds=60)
    issued = issuer.issue("key:0123456789abcdef", ["read"], grant=("key", "0123456789abcdef"))
    assert jwt.get_unverified_header(issued.access_token)["kid"] == "rsa1"
    verified = TokenVerifier(keyring, issuer=ISSUER, audience=AUDIENCE).verify(issued.access_token)
    assert verified.grant == ("key", "0123456789abcdef")
    assert verified.principal.key_id == "0123456789abcdef"
    assert issued.response()["token_type"] == "Bearer"
    assert issued.response()["expires_in"] == 60
