"""Typed settings: one frozen object per service, rules between settings, ports from the registry."""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from ascep.arbitrage.settings import ArbitrageSettings
from ascep.cep.settings import CepSettings
from ascep.common.config import COMMON_SETTINGS, CommonSettings
from ascep.common.errors import ConfigError
from ascep.gateway.settings import GATEWAY_PORT, GatewaySettings
from ascep.health.settings import HealthSettings
from ascep.price_feed.settings import PriceFeedSettings
from ascep.service_registry import service_registry
from ascep.tasks.settings import TasksSettings

#: (settings class, registry name, settings module)
SERVICES: list[tuple[type[CommonSettings], str, str]] = [
    (HealthSettings, "health", "ascep.health.settings"),
    (PriceFeedSettings, "price_feed", "ascep.price_feed.settings"),
    (ArbitrageSettings, "arbitrage", "ascep.arbitrage.settings"),
    (CepSettings, "cep_engine", "ascep.cep.settings"),
    (TasksSettings, "tasks", "ascep.tasks.settings"),
]
ALL = [GatewaySettings, *(cls for cls, _, _ in SERVICES)]


@pytest.mark.parametrize(("cls", "name", "_module"), SERVICES, ids=lambda v: getattr(v, "__name__", v))
def test_a_services_default_port_is_its_registry_port(
    cls: type[CommonSettings], name: str, _module: str
) -> None:
    definition = service_registry.get(name)
    assert definition is not None
    assert cls.load(environ={}).port == definition.port


def test_the_gateway_port_is_declared_once() -> None:
    assert GatewaySettings.load(environ={}).port == GATEWAY_PORT == 5000


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_every_declared_setting_is_a_typed_attribute(cls: type[CommonSettings]) -> None:
    settings = cls.load(environ={})
    for declared in cls.declared():
        value = getattr(settings, declared.name.lower())
        assert isinstance(value, declared.type), declared.name
    assert set(settings.as_config()) == {s.name for s in cls.declared()}
    assert {s.name for s in COMMON_SETTINGS} <= set(settings.as_config())


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_settings_are_frozen(cls: type[CommonSettings]) -> None:
    settings = cls.load(environ={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.redis_url = "redis://elsewhere"  # type: ignore[misc]


@pytest.mark.parametrize(("cls", "_name", "module"), SERVICES, ids=lambda v: getattr(v, "__name__", v))
def test_each_module_lists_what_its_class_adds(cls: type[CommonSettings], _name: str, module: str) -> None:
    """``SETTINGS`` (what README's service tables document) is derived, never written twice."""
    assert cls.own() == importlib.import_module(module).SETTINGS


def test_environment_values_are_parsed_to_the_declared_type() -> None:
    settings = GatewaySettings.load(
        environ={"PROXY_READ_TIMEOUT": "3", "CORS_ORIGINS": "http://a, http://b", "PROXY_TRUST_ENV": "yes"}
    )
    assert settings.proxy_read_timeout == 3.0
    assert isinstance(settings.proxy_read_timeout, float)
    assert settings.cors_origins == ("http://a", "http://b")
    assert settings.proxy_trust_env is True


def test_redis_timeouts_are_settings_every_client_uses() -> None:
    settings = HealthSettings.load(
        environ={"REDIS_URL": "redis://r:1/2", "REDIS_SOCKET_TIMEOUT": "4.5", "REDIS_CONNECT_TIMEOUT": "0.25"}
    )
    assert settings.redis.url == "redis://r:1/2"
    assert settings.redis.socket_timeout == 4.5
    assert settings.redis.connect_timeout == 0.25
    client = settings.redis.client()
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["socket_timeout"] == 4.5
    assert kwargs["socket_connect_timeout"] == 0.25
    client.close()


@pytest.mark.parametrize(
    ("cls", "environ", "setting", "other"),
    [
        (GatewaySettings, {"SOCKETIO_QUEUE_LOW": "200", "SOCKETIO_QUEUE_HIGH": "200"}, "SOCKETIO_QUEUE_LOW",
         "SOCKETIO_QUEUE_HIGH"),
        (TasksSettings, {"TASK_TIME_LIMIT_S": "600", "TASK_VISIBILITY_TIMEOUT_S": "600"},
         "TASK_VISIBILITY_TIMEOUT_S", "TASK_TIME_LIMIT_S"),
        (ArbitrageSettings, {"ARBITRAGE_LEADER_LEASE_S": "1", "ARBITRAGE_SWEEP_INTERVAL_S": "0.5"},
         "ARBITRAGE_LEADER_LEASE_S", "ARBITRAGE_SWEEP_INTERVAL_S"),
    ],
)  # fmt: skip
def test_a_broken_rule_between_settings_names_both(
    cls: type[CommonSettings], environ: dict[str, str], setting: str, other: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        cls.load(environ=environ)
    assert caught.value.setting == setting
    assert setting in str(caught.value)
    assert other in str(caught.value)


@pytest.mark.parametrize(
    ("cls", "environ"),
    [
        (GatewaySettings, {"SOCKETIO_QUEUE_LOW": "199", "SOCKETIO_QUEUE_HIGH": "200"}),
        (TasksSettings, {"TASK_TIME_LIMIT_S": "600", "TASK_VISIBILITY_TIMEOUT_S": "0"}),
        (TasksSettings, {"TASK_TIME_LIMIT_S": "600", "TASK_VISIBILITY_TIMEOUT_S": "601"}),
        (ArbitrageSettings, {"ARBITRAGE_LEADER_LEASE_S": "0", "ARBITRAGE_SWEEP_INTERVAL_S": "0.5"}),
        (ArbitrageSettings, {"ARBITRAGE_LEADER_LEASE_S": "1.5", "ARBITRAGE_SWEEP_INTERVAL_S": "0.5"}),
    ],
)
def test_values_that_keep_the_rules_load(cls: type[CommonSettings], environ: dict[str, str]) -> None:
    cls.load(environ=environ)


def test_overrides_win_over_the_environment_and_rules_see_the_result() -> None:
    settings = TasksSettings.load(
        {"TASK_VISIBILITY_TIMEOUT_S": 0}, environ={"TASK_VISIBILITY_TIMEOUT_S": "5"}
    )
    assert settings.task_visibility_timeout_s == 0


def test_auth_mode_defaults_to_required_in_production_unless_set() -> None:
    production = {"ASCEP_ENV": "production", "SECRET_KEY": "k" * 40, "ALLOWED_HOSTS": "gw"}
    assert GatewaySettings.load(environ={}).auth_mode == "off"
    assert GatewaySettings.load(environ=production).auth_mode == "required"
    assert GatewaySettings.load(environ={**production, "AUTH_MODE": "off"}).auth_mode == "off"
    with pytest.raises(ConfigError):
        GatewaySettings.load(environ={"AUTH_MODE": "sometimes"})
