"""Key rings: pinned algorithms, typed keys, and the ConfigErrors that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ascep.common.errors import ConfigError
from ascep.gateway.auth.keys import build_keyring, fits
from support.auth import SECRET, KeyMaterial, private_pem, public_pem


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyMaterial:
    return KeyMaterial(tmp_path_factory.mktemp("keys"))


def ring(**overrides: object):  # type: ignore[no-untyped-def]
    options: dict = {
        "mode": "required",
        "algorithms": ("HS256",),
        "secret": SECRET,
        "public_keys": "",
        "private_key": "",
    }
    options.update(overrides)
    return build_keyring(**options)


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"algorithms": ("none",)}, "JWT_ALGORITHMS"),
        ({"algorithms": ("HS256", "None")}, "JWT_ALGORITHMS"),
        ({"algorithms": ("HS1",)}, "JWT_ALGORITHMS"),
        ({"algorithms": ()}, "JWT_ALGORITHMS"),
        ({"secret": ""}, "JWT_SECRET"),
        ({"secret": "short"}, "JWT_SECRET"),
        ({"secret": "-----BEGIN PUBLIC KEY-----" + "A" * 40}, "JWT_SECRET"),
        ({"algorithms": ("RS256",), "secret": ""}, "JWT_PUBLIC_KEYS"),
        ({"algorithms": ("RS256",), "public_keys": "/nonexistent/keys"}, "JWT_PUBLIC_KEYS"),
    ],
)
def test_unusable_settings_stop_start_up_naming_the_setting(overrides: dict, setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ring(**overrides)
    assert caught.value.setting == setting


def test_off_mode_needs_no_secret_but_a_short_one_is_still_refused() -> None:
    assert ring(mode="off", secret="").signing is None
    with pytest.raises(ConfigError):
        ring(mode="off", secret="x" * 31)


def test_a_directory_of_keys_by_kid_and_family_checks(keys: KeyMaterial) -> None:
    keyring = ring(algorithms=("RS256", "ES256", "EdDSA"), secret="", public_keys=str(keys.public_dir))
    assert sorted(keyring.public) == ["ec1", "ed1", "rsa1"]
    assert keyring.key_for("RS256", "rsa1") is keyring.public["rsa1"]
    assert keyring.key_for("RS256", "ec1") is None, "an EC key never verifies RS256"
    assert keyring.key_for("ES256", "rsa1") is None
    assert keyring.key_for("EdDSA", "ed1") is keyring.public["ed1"]
    assert keyring.key_for("RS256", "missing") is None
    assert keyring.key_for("RS256", None) is None, "several keys: the token must name one"
    assert keyring.key_for("RS256", 5) is None


def test_one_file_serves_tokens_without_a_kid(keys: KeyMaterial) -> None:
    keyring = ring(algorithms=("RS256",), secret="", public_keys=str(keys.public_dir / "rsa1.pem"))
    assert keyring.key_for("RS256", None) is keyring.public["rsa1"]
    assert keyring.key_for("RS256", "other") is None


def test_es256_wants_p256_exactly(tmp_path: Path) -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    assert not fits("ES256", p384.public_key())
    assert fits("ES384", p384.public_key())


def test_weak_rsa_keys_are_refused(tmp_path: Path) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    (tmp_path / "weak.pem").write_bytes(public_pem(weak))
    with pytest.raises(ConfigError, match="2048"):
        ring(algorithms=("RS256",), public_keys=str(tmp_path / "weak.pem"))


def test_signing_key_must_be_verifiable_by_the_gateway_itself(keys: KeyMaterial, tmp_path: Path) -> None:
    keyring = ring(
        algorithms=("RS256",),
        secret="",
        public_keys=str(keys.public_dir),
        private_key=str(keys.rsa_private_path),
    )
    assert keyring.signing is not None
    assert (keyring.signing.algorithm, keyring.signing.kid) == ("RS256", "rsa1")
    stranger = tmp_path / "rsa1.pem"
    stranger.write_bytes(private_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    with pytest.raises(ConfigError) as caught:
        ring(algorithms=("RS256",), secret="", public_keys=str(keys.public_dir), private_key=str(stranger))
    assert caught.value.setting == "JWT_PRIVATE_KEY"


def test_hs_signing_uses_the_secret() -> None:
    keyring = ring(algorithms=("RS256", "HS384"), mode="off")
    assert keyring.signing is not None
    assert keyring.signing.algorithm == "HS384"
