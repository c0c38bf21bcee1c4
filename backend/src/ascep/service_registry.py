"""Every service the gateway routes to: adding a service is one ``register_service`` line.

After ``register_service(name="my_service", port=5010, endpoints=["/foo"], ...)`` the gateway
forwards ``/api/foo`` and ``/api/foo/<anything>`` to ``http://localhost:5010/foo...`` — path
remainder and query string kept. ``MY_SERVICE_URL=http://host:port`` in the environment moves a
service elsewhere (docker-compose, tests) without touching this file.

Keep this module free of heavy imports: ``python -m ascep.gateway`` must be able to load it before
monkey-patching matters.
"""

from ascep.gateway.routing import ServiceRegistry

service_registry = ServiceRegistry()

service_registry.register_service(name="health", port=5001, endpoints=["/monitor"], description="Health monitor: status of every service, host and Redis metrics, history")
service_registry.register_service(name="price_feed", port=5002, endpoints=["/prices", "/sources"], description="Price feed: Binance WebSocket and simulated forex/crypto quotes")
service_registry.register_service(name="arbitrage", port=5003, endpoints=["/signals", "/arbitrage"], description="Arbitrage detector: direct, triangular and multi-leg cycles")
service_registry.register_service(name="cep_engine", port=5004, endpoints=["/rules", "/alerts"], description="Complex event processing: JSON rules over live events")
service_registry.register_service(name="tasks", port=5005, endpoints=["/tasks"], description="Celery task API: backtests, reports and exports")


def registered_port(name: str) -> int:
    """The port on ``name``'s line above: the service's default ``PORT`` (declared only there)."""
    definition = service_registry.get(name)
    if definition is None:
        raise LookupError(f"no service {name!r} in the registry")
    return definition.port
