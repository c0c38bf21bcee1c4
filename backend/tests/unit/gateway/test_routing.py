"""The registry validates at registration time and routes by longest prefix."""

from __future__ import annotations

import pytest

from ascep.common.errors import RegistrationError
from ascep.gateway.routing import ServiceRegistry


@pytest.fixture
def registry() -> ServiceRegistry:
    reg = ServiceRegistry()
    reg.register_service(name="prices", port=5002, endpoints=["/prices"], description="p")
    reg.register_service(name="history", port=5010, endpoints=["/prices/history"], description="h")
    reg.register_service(name="rules", port=5004, endpoints=["/rules", "/alerts/"], description="r")
    return reg


@pytest.mark.parametrize(
    ("path", "service", "endpoint"),
    [
        ("/prices", "prices", "/prices"),
        ("/prices/", "prices", "/prices"),
        ("/prices/BTCUSDT", "prices", "/prices"),
        ("/prices/history", "history", "/prices/history"),
        ("/prices/history/BTCUSDT/x", "history", "/prices/history"),
        ("/alerts", "rules", "/alerts"),
        ("/rules/7/test", "rules", "/rules"),
    ],
)
def test_longest_prefix_wins(registry: ServiceRegistry, path: str, service: str, endpoint: str) -> None:
    route = registry.match(path)
    assert route is not None
    assert (route.service.name, route.endpoint) == (service, endpoint)


@pytest.mark.parametrize("path", ["/", "", "/pricesX", "/price", "/unknown/prices", "/ru"])
def test_unregistered_paths_do_not_match(registry: ServiceRegistry, path: str) -> None:
    assert registry.match(path) is None


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"name": "Bad-Name"}, "name"),
        ({"name": ""}, "name"),
        ({"port": 0}, "port"),
        ({"port": 70000}, "port"),
        ({"port": "5000"}, "port"),
        ({"port": True}, "port"),
        ({"endpoints": "/foo"}, "endpoints"),
        ({"endpoints": []}, "endpoints"),
        ({"endpoints": ["foo"]}, "endpoints"),
        ({"endpoints": ["/foo//bar"]}, "endpoints"),
        ({"endpoints": ["/foo/../bar"]}, "endpoints"),
        ({"endpoints": ["/latency"]}, "endpoints"),
        ({"endpoints": ["/health/x"]}, "endpoints"),
        ({"endpoints": ["/gateway/splits"]}, "endpoints"),
        ({"endpoints": ["/a", "/a"]}, "endpoints"),
        ({"host": "not a host"}, "host"),
        ({"health_endpoint": "health"}, "health_endpoint"),
        ({"methods": ["GET", "FETCH"]}, "methods"),
        ({"methods": "GET"}, "methods"),
        ({"description": 3}, "description"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"max_concurrency": "8"}, "max_concurrency"),
        ({"max_concurrency": True}, "max_concurrency"),
    ],
)
def test_bad_registration_names_the_argument(kwargs: dict, argument: str) -> None:
    arguments = {"name": "svc", "port": 5010, "endpoints": ["/foo"], "description": "d", **kwargs}
    with pytest.raises(RegistrationError) as caught:
        ServiceRegistry().register_service(**arguments)
    assert caught.value.argument == argument
    assert argument in str(caught.value)


def test_endpoint_claimed_twice_names_the_owner(registry: ServiceRegistry) -> None:
    with pytest.raises(RegistrationError, match="already claimed by 'prices'"):
        registry.register_service(name="other", port=6000, endpoints=["/prices/"], description="x")


def test_duplicate_service_name_is_refused(registry: ServiceRegistry) -> None:
    with pytest.raises(RegistrationError, match="already registered"):
        registry.register_service(name="prices", port=6000, endpoints=["/other"], description="x")


def test_url_override_from_environment() -> None:
    definition = ServiceRegistry().register_service(
        name="price_feed", port=5002, endpoints=["/prices"], description=""
    )
    assert definition.url_variable == "PRICE_FEED_URL"
    assert definition.base_url({}) == "http://localhost:5002"
    assert definition.base_url({"PRICE_FEED_URL": "http://10.0.0.7:6002/"}) == "http://10.0.0.7:6002"
    with pytest.raises(RegistrationError, match="PRICE_FEED_URL"):
        definition.base_url({"PRICE_FEED_URL": "ftp://x"})
    with pytest.raises(RegistrationError, match="no path"):
        definition.base_url({"PRICE_FEED_URL": "http://x:1/sub"})


def test_host_override_keeps_the_registry_port_and_url_wins() -> None:
    definition = ServiceRegistry().register_service(
        name="price_feed", port=5002, endpoints=["/prices"], description=""
    )
    assert definition.base_url({"PRICE_FEED_HOST": "price_feed"}) == "http://price_feed:5002"
    both = {"PRICE_FEED_HOST": "price_feed", "PRICE_FEED_URL": "http://127.0.0.1:7000"}
    assert definition.base_url(both) == "http://127.0.0.1:7000"
    with pytest.raises(RegistrationError, match="PRICE_FEED_HOST"):
        definition.base_url({"PRICE_FEED_HOST": "bad host/"})


def test_methods_restrict_routing() -> None:
    definition = ServiceRegistry().register_service(
        name="ro", port=5010, endpoints=["/ro"], description="", methods=["get", "head"]
    )
    assert definition.allows("GET")
    assert not definition.allows("POST")


def test_default_registrations_load() -> None:
    from ascep.service_registry import service_registry

    names = {d.name: d for d in service_registry}
    assert set(names) >= {"health", "price_feed", "arbitrage", "cep_engine", "tasks"}
    assert names["price_feed"].port == 5002
    assert service_registry.match("/arbitrage/config").service.name == "arbitrage"
