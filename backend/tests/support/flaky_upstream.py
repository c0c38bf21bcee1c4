"""A real service that fails, recovers and counts its calls: ``python flaky_upstream.py`` (``PORT``).

Every path except ``/health``, ``/openapi.json`` (the gateway's background probes: 404 here) and
``/control/*`` is a *call*: it is counted, waits ``delay_ms``,
then answers ``status`` with a small JSON body. ``POST /control/mode?status=500&delay_ms=0``
changes how calls are answered; ``GET /control/calls`` returns ``{"calls": n}``;
``POST /control/reset`` sets the count back to 0. Breaker tests use it to see exactly how many
calls reached the instance while the gateway was refusing the rest.
"""

import eventlet

eventlet.monkey_patch()

import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

STATE = {"status": 200, "delay_ms": 0, "calls": 0}


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    query = dict(
        part.split("=", 1) if "=" in part else (part, "")
        for part in environ.get("QUERY_STRING", "").split("&")
        if part
    )
    if path == "/health":
        return _json(start_response, 200, {"status": "healthy"})
    if path == "/openapi.json":
        return _json(start_response, 404, {"error": "no document"})
    if path == "/control/mode":
        STATE["status"] = int(query.get("status", 200))
        STATE["delay_ms"] = int(query.get("delay_ms", 0))
        return _json(start_response, 200, STATE)
    if path == "/control/calls":
        return _json(start_response, 200, {"calls": STATE["calls"]})
    if path == "/control/reset":
        STATE["calls"] = 0
        return _json(start_response, 200, STATE)
    STATE["calls"] += 1
    status, delay_ms = STATE["status"], STATE["delay_ms"]
    if delay_ms:
        time.sleep(delay_ms / 1000)
    return _json(start_response, status, {"status": status, "pid": os.getpid()})


def _json(start_response, status, payload):
    body = json.dumps(payload).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    start_response(f"{status} Status", headers)
    return [body]


if __name__ == "__main__":
    import eventlet.wsgi

    sock = eventlet.listen(("127.0.0.1", int(os.environ["PORT"])), reuse_port=False, backlog=1024)
    eventlet.wsgi.server(sock, app, log_output=False)
