"""The key material JWTs are verified and signed with, loaded and checked once at start-up.

Algorithms are pinned by ``JWT_ALGORITHMS``; each belongs to one *family* and is verified only
with a key of that family — the HMAC secret for ``HS*``, an RSA public key for ``RS*``/``PS*``,
an EC key on the algorithm's own curve for ``ES*``, an Ed25519/Ed448 key for ``EdDSA``. That is
what rules out algorithm confusion (a token signed ``HS256`` with the RSA public key as secret:
``HS*`` never sees a public key) whatever the token's header says. ``none`` is never accepted.

Keys are objects of ``cryptography``, built once: PyJWT gets them ready-made on every verify.
A problem is a :class:`~ascep.common.errors.ConfigError` naming the setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from ascep.common.errors import ConfigError

Family = Literal["hmac", "rsa", "ec", "okp"]

FAMILIES: dict[str, Family] = {
    **{f"HS{n}": "hmac" for n in (256, 384, 512)},
    **{f"{p}{n}": "rsa" for p in ("RS", "PS") for n in (256, 384, 512)},
    **{f"ES{n}": "ec" for n in (256, 384, 512)},
    "EdDSA": "okp",
}
_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "ES256": ec.SECP256R1,
    "ES384": ec.SECP384R1,
    "ES512": ec.SECP521R1,
}
#: Shortest HMAC secret accepted (RFC 7518 §3.2: at least the hash size; 32 bytes for HS256).
MIN_SECRET_BYTES = 32
#: Smallest RSA modulus accepted, in bits.
MIN_RSA_BITS = 2048
_KID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
PrivateKey = (
    rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
)


def fits(algorithm: str, key: Any) -> bool:
    """Whether ``key`` (public or private) is of ``algorithm``'s family (and curve, for ES*)."""
    family = FAMILIES.get(algorithm)
    if family == "rsa":
        return isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey)
    if family == "ec":
        return isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) and isinstance(
            key.curve, _CURVES[algorithm]
        )
    if family == "okp":
        return isinstance(
            key,
            ed25519.Ed25519PublicKey
            | ed25519.Ed25519PrivateKey
            | ed448.Ed448PublicKey
            | ed448.Ed448PrivateKey,
        )
    return False


@dataclass(frozen=True)
class SigningKey:
    """What the gateway signs its own tokens with: an algorithm, its key, the ``kid`` to announce."""

    algorithm: str
    key: bytes | PrivateKey
    kid: str | None = None


@dataclass(frozen=True)
class KeyRing:
    """Everything JWT verification needs: the pinned algorithms and their keys."""

    algorithms: tuple[str, ...]
    secret: bytes | None = None
    public: dict[str, PublicKey] = field(default_factory=dict)
    signing: SigningKey | None = None

    def key_for(self, algorithm: str, kid: object) -> bytes | PublicKey | None:
        """The key to verify ``algorithm`` with (``None``: no such key — an unknown ``kid``).

        The caller has checked that ``algorithm`` is pinned. HMAC ignores ``kid`` (one secret);
        an asymmetric algorithm takes the key named by ``kid``, or the only key when the token
        names none; the key must be of the algorithm's family.
        """
        if FAMILIES[algorithm] == "hmac":
            return self.secret
        if kid is None:
            key = next(iter(self.public.values())) if len(self.public) == 1 else None
        elif isinstance(kid, str):
            key = self.public.get(kid)
        else:
            key = None
        return key if key is not None and fits(algorithm, key) else None

    @property
    def usable(self) -> bool:
        """Can any pinned algorithm verify anything?"""
        return any(
            self.secret if FAMILIES[a] == "hmac" else any(fits(a, k) for k in self.public.values())
            for a in self.algorithms
        )


def parse_algorithms(names: tuple[str, ...]) -> tuple[str, ...]:
    """``JWT_ALGORITHMS`` validated: known names only, never ``none``, at least one."""
    if not names:
        raise ConfigError("JWT_ALGORITHMS", "at least one algorithm is required")
    for name in names:
        if name.lower() == "none":
            raise ConfigError("JWT_ALGORITHMS", "'none' is never accepted (unsigned tokens)")
        if name not in FAMILIES:
            raise ConfigError("JWT_ALGORITHMS", f"{name!r} is not one of {', '.join(FAMILIES)}")
    return tuple(dict.fromkeys(names))


def check_secret(secret: str, algorithms: tuple[str, ...] = ()) -> bytes | None:
    """``JWT_SECRET`` as bytes (``None`` when empty); shorter than the longest pinned HS*
    algorithm's hash (32 bytes at least; RFC 7518 §3.2) is a ConfigError."""
    if not secret:
        return None
    raw = secret.encode()
    needed = max([MIN_SECRET_BYTES] + [int(a[2:]) // 8 for a in algorithms if FAMILIES[a] == "hmac"])
    if len(raw) < needed:
        raise ConfigError("JWT_SECRET", f"must be at least {needed} bytes (has {len(raw)})")
    if raw.lstrip().startswith(b"-----BEGIN") or raw.startswith(b"ssh-"):
        raise ConfigError("JWT_SECRET", "looks like a key file's content: HS* needs a random secret")
    return raw


def load_public_keys(location: str) -> dict[str, PublicKey]:
    """``JWT_PUBLIC_KEYS``: one PEM file (its key id is the file's stem) or a directory of ``<kid>.pem``."""
    if not location:
        return {}
    path = Path(location)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix == ".pem" and p.is_file())
        if not files:
            raise ConfigError("JWT_PUBLIC_KEYS", f"no *.pem file in the directory {location}")
    elif path.is_file():
        files = [path]
    else:
        raise ConfigError("JWT_PUBLIC_KEYS", f"{location} is neither a PEM file nor a directory")
    return {_kid_of(p, "JWT_PUBLIC_KEYS"): _public_key(p) for p in files}


def _kid_of(path: Path, setting: str) -> str:
    kid = path.name.removesuffix(".pem")
    if not _KID.fullmatch(kid):
        raise ConfigError(setting, f"{path.name}: a key id (file name) is 1-64 of letters, digits, ._-")
    return kid


def _public_key(path: Path) -> PublicKey:
    try:
        key = load_pem_public_key(path.read_bytes())
    except (ValueError, TypeError, OSError) as exc:
        raise ConfigError("JWT_PUBLIC_KEYS", f"{path.name} is not a PEM public key ({exc})") from exc
    if not isinstance(key, PublicKey):
        raise ConfigError("JWT_PUBLIC_KEYS", f"{path.name}: {type(key).__name__} keys are not supported")
    _check_strength(key, "JWT_PUBLIC_KEYS", path.name)
    return key


def _check_strength(key: PublicKey | PrivateKey, setting: str, name: str) -> None:
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey) and key.key_size < MIN_RSA_BITS:
        raise ConfigError(setting, f"{name}: RSA keys must have at least {MIN_RSA_BITS} bits")


def load_signing_key(
    location: str, algorithms: tuple[str, ...], secret: bytes | None, public: dict[str, PublicKey]
) -> SigningKey | None:
    """The key issued tokens are signed with: ``JWT_PRIVATE_KEY`` if set, else ``JWT_SECRET``.

    The private key's algorithm is the first pinned one of its family; its ``kid`` (file stem)
    must name its own public half in ``JWT_PUBLIC_KEYS``, or the gateway would issue tokens it
    cannot verify itself.
    """
    if location:
        path = Path(location)
        try:
            key = load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError, OSError) as exc:
            raise ConfigError(
                "JWT_PRIVATE_KEY", f"{location} is not an unencrypted PEM private key ({exc})"
            ) from exc
        if not isinstance(key, PrivateKey):
            raise ConfigError("JWT_PRIVATE_KEY", f"{type(key).__name__} keys are not supported")
        _check_strength(key, "JWT_PRIVATE_KEY", path.name)
        algorithm = next((a for a in algorithms if fits(a, key)), None)
        if algorithm is None:
            raise ConfigError(
                "JWT_PRIVATE_KEY", f"no algorithm of JWT_ALGORITHMS ({','.join(algorithms)}) fits it"
            )
        kid = _kid_of(path, "JWT_PRIVATE_KEY")
        if public.get(kid) != key.public_key():
            raise ConfigError(
                "JWT_PRIVATE_KEY", f"its public half must be in JWT_PUBLIC_KEYS under the key id {kid!r}"
            )
        return SigningKey(algorithm, key, kid)
    hmac = next((a for a in algorithms if FAMILIES[a] == "hmac"), None)
    if hmac is not None and secret is not None:
        return SigningKey(hmac, secret)
    return None


def build_keyring(
    *,
    mode: str,
    algorithms: tuple[str, ...],
    secret: str,
    public_keys: str,
    private_key: str,
) -> KeyRing:
    """Load and check every key setting; with ``mode`` ``required`` the pinned algorithms must be
    usable (``JWT_SECRET`` for HS*, keys of the right family for the others)."""
    pinned = parse_algorithms(algorithms)
    families = {FAMILIES[a] for a in pinned}
    raw_secret = check_secret(secret, pinned)
    public = load_public_keys(public_keys)
    if mode == "required":
        if "hmac" in families and raw_secret is None:
            raise ConfigError(
                "JWT_SECRET",
                f"must be set (at least {MIN_SECRET_BYTES} random bytes) when AUTH_MODE=required "
                f"with {', '.join(a for a in pinned if FAMILIES[a] == 'hmac')}",
            )
        for algorithm in (a for a in pinned if FAMILIES[a] != "hmac"):
            if not any(fits(algorithm, k) for k in public.values()):
                raise ConfigError(
                    "JWT_PUBLIC_KEYS", f"needs at least one key for {algorithm} when AUTH_MODE=required"
                )
    signing = load_signing_key(private_key, pinned, raw_secret, public)
    return KeyRing(pinned, raw_secret, public, signing)
