"""Key material and tokens for authentication tests: real keys, real signatures, no mocks."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

#: A 48-byte HS secret for tests (never a default anywhere in the product).
SECRET = "test-secret-0123456789abcdefghijklmnopqrstuvwxyz-ABCD"
ISSUER = "https://issuer.test"
AUDIENCE = "ascep-test"


def private_pem(key: Any) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_pem(key: Any) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class KeyMaterial:
    """An RSA, an EC P-256 and an Ed25519 key pair; public halves in ``<dir>/public/<kid>.pem``."""

    def __init__(self, directory: Path) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.ed = ed25519.Ed25519PrivateKey.generate()
        self.public_dir = directory / "public"
        self.public_dir.mkdir(parents=True, exist_ok=True)
        for kid, key in (("rsa1", self.rsa), ("ec1", self.ec), ("ed1", self.ed)):
            (self.public_dir / f"{kid}.pem").write_bytes(public_pem(key))
        self.rsa_private_path = directory / "rsa1.pem"
        self.rsa_private_path.write_bytes(private_pem(self.rsa))

    def rsa_public_pem(self) -> bytes:
        return public_pem(self.rsa)


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims (sub, iat, exp in 5 min, scope read write, iss, aud); ``None`` removes one."""
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "alice",
        "iat": now,
        "exp": now + 300,
        "scope": "read write",
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def hs256(payload: dict[str, Any] | None = None, secret: str = SECRET, **headers: Any) -> str:
    return jwt.encode(payload or claims(), secret, algorithm="HS256", headers=headers or None)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def raw_token(header: Any, payload: Any, signature: bytes = b"sig") -> str:
    """A token built by hand (any header, any payload, any signature)."""
    encode = lambda part: b64(part if isinstance(part, bytes) else json.dumps(part).encode())  # noqa: E731
    return f"{encode(header)}.{encode(payload)}.{b64(signature)}"


def hmac_signed(header: dict[str, Any], payload: Any, secret: bytes) -> str:
    """An HS256 token signed by hand with any bytes as the secret (PyJWT refuses to sign with a
    PEM public key: exactly the forgery the algorithm-confusion attack needs)."""
    import hashlib
    import hmac

    encode = lambda part: b64(part if isinstance(part, bytes) else json.dumps(part).encode())  # noqa: E731
    signing_input = f"{encode(header)}.{encode(payload)}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"
