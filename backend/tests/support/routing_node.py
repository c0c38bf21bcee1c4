"""One gateway process's health routing, run alone as a real process: ``python routing_node.py``.

It holds the :class:`HealthRouting` a gateway holds (active checks, outlier ejection, state
shared through Redis) for the instances in ``INSTANCES`` (comma-separated URLs of one service,
``upstream``), and answers:

* ``GET /state`` — every instance's routing state, as ``/api/services`` would show it;
* ``POST /call?instance=i0`` — one real HTTP call to that instance with ``CALL_TIMEOUT``, reported
  to outlier detection exactly as the proxy's ``observe_outcome`` step does;
* ``GET /health`` — 200 (so the process fixtures can wait for it).

Settings come from the environment: ``REDIS_URL``, ``PORT``, ``HC_INTERVAL``, ``HC_TIMEOUT``,
``HC_RISE``, ``HC_FALL``, ``OUTLIER_FAILURES``, ``LEASE_S``, ``CALL_TIMEOUT``.
"""

import eventlet

eventlet.monkey_patch()

import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402

import eventlet.wsgi  # noqa: E402
import requests  # noqa: E402

from ascep.common.redis_client import connect  # noqa: E402
from ascep.gateway.upstreams.active_health import HealthCheckOptions  # noqa: E402
from ascep.gateway.upstreams.health_routing import HealthRouting  # noqa: E402
from ascep.gateway.upstreams.model import Upstream  # noqa: E402
from ascep.gateway.upstreams.outliers import OutlierOptions  # noqa: E402

ENV = os.environ
INSTANCES = [
    Upstream("upstream", f"i{n}", url.rstrip("/")) for n, url in enumerate(ENV["INSTANCES"].split(","))
]
HEALTH = HealthCheckOptions(
    interval=float(ENV.get("HC_INTERVAL", "0.2")),
    timeout=float(ENV.get("HC_TIMEOUT", "0.3")),
    rise=int(ENV.get("HC_RISE", "2")),
    fall=int(ENV.get("HC_FALL", "3")),
)
OUTLIERS = OutlierOptions(consecutive_failures=int(ENV.get("OUTLIER_FAILURES", "5")))
CALL_TIMEOUT = float(ENV.get("CALL_TIMEOUT", "0.3"))

routing = HealthRouting(
    lambda: INSTANCES,
    health_options=lambda _service: HEALTH,
    outlier_options=lambda _service: OUTLIERS,
    redis_client=connect(ENV["REDIS_URL"]),
    redis_url=ENV["REDIS_URL"],
    async_mode="eventlet",
    sleep=eventlet.sleep,
    lease_s=float(ENV.get("LEASE_S", "1.5")),
    resync_interval=1.0,
    tick=0.05,
)
session = requests.Session()
session.trust_env = False


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path == "/state":
        body = {
            "instances": {u.instance_id: {**routing.report(u), "healthy": u.healthy} for u in INSTANCES},
            "status": routing.status(),
            "transitions": [[*k, n] for k, n in routing.transitions.items()],
        }
        return _json(start_response, body)
    if path == "/call":
        wanted = environ.get("QUERY_STRING", "").partition("instance=")[2]
        upstream = next(u for u in INSTANCES if u.instance_id == wanted)
        try:
            failed = session.get(upstream.base_url + "/work", timeout=(0.5, CALL_TIMEOUT)).status_code >= 500
        except requests.RequestException:
            failed = True
        routing.observe(upstream, failed)
        return _json(start_response, {"failed": failed})
    return _json(start_response, {"status": "healthy"})


def _json(start_response, payload):
    body = json.dumps(payload).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    routing.start(eventlet.spawn)
    sock = eventlet.listen(("127.0.0.1", int(ENV["PORT"])))
    eventlet.wsgi.server(sock, app, log_output=False)
