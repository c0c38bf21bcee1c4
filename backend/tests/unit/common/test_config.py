"""Settings: typed parsing, precedence, and errors that name the variable."""

from __future__ import annotations

import pytest

from ascep.common.config import COMMON_SETTINGS, Setting, load_settings, public_summary
from ascep.common.errors import ConfigError

DECLARED = (
    *COMMON_SETTINGS,
    Setting("RATE", float, 1.5, "r", minimum=0),
    Setting("COUNT", int, 3, "c", maximum=10),
    Setting("ENABLED", bool, False, "e"),
    Setting("ORIGINS", tuple, ("a",), "o"),
)


def test_defaults_environment_and_overrides_in_that_order() -> None:
    values = load_settings(
        DECLARED,
        overrides={"COUNT": 7},
        environ={"RATE": "2.5", "COUNT": "4", "ENABLED": "yes", "ORIGINS": "x, y,,z"},
    )
    assert values["RATE"] == 2.5
    assert values["COUNT"] == 7
    assert values["ENABLED"] is True
    assert values["ORIGINS"] == ("x", "y", "z")
    assert values["REDIS_URL"] == "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    ("environ", "name"),
    [
        ({"RATE": "fast"}, "RATE"),
        ({"RATE": "-1"}, "RATE"),
        ({"COUNT": "11"}, "COUNT"),
        ({"ENABLED": "maybe"}, "ENABLED"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    ],
)
def test_bad_values_name_the_variable(environ: dict, name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(DECLARED, environ=environ)
    assert caught.value.setting == name


def test_no_usable_default_secret() -> None:
    dev_a = load_settings(DECLARED, environ={})["SECRET_KEY"]
    dev_b = load_settings(DECLARED, environ={})["SECRET_KEY"]
    assert len(dev_a) >= 32
    assert dev_a != dev_b, "development gets a random key per process"
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(DECLARED, environ={"ASCEP_ENV": "production"})
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings(DECLARED, environ={"ASCEP_ENV": "production", "SECRET_KEY": "short"})
    key = "k" * 40
    production = {"ASCEP_ENV": "production", "SECRET_KEY": key, "ALLOWED_HOSTS": "api.example.com"}
    assert load_settings(DECLARED, environ=production)["SECRET_KEY"] == key


def test_allowed_hosts_default_to_loopback_and_must_be_explicit_in_production() -> None:
    assert load_settings(DECLARED, environ={})["ALLOWED_HOSTS"] == ("localhost", "127.0.0.1", "[::1]")
    production = {"ASCEP_ENV": "production", "SECRET_KEY": "k" * 40}
    with pytest.raises(ConfigError) as caught:
        load_settings(DECLARED, environ=production)
    assert caught.value.setting == "ALLOWED_HOSTS"
    assert load_settings(DECLARED, environ={**production, "ALLOWED_HOSTS": "*"})["ALLOWED_HOSTS"] == ("*",)
    explicit = load_settings(DECLARED, overrides={"ALLOWED_HOSTS": ["gw"]}, environ=production)
    assert explicit["ALLOWED_HOSTS"] == ("gw",)


def test_public_summary_masks_secrets_and_credentials() -> None:
    values = load_settings(
        DECLARED, environ={"SECRET_KEY": "s3cret", "REDIS_URL": "redis://user:pw@redis:6379/0"}
    )
    summary = public_summary(DECLARED, values)
    assert summary["SECRET_KEY"] == "***"
    assert summary["REDIS_URL"] == "redis://***@redis:6379/0"
    assert "s3cret" not in str(summary)
    assert "pw" not in summary["REDIS_URL"]
