"""A real HTTP service for gateway tests, run as its own process: ``python upstream_server.py``.

Every path echoes what arrived (method, path, query, headers, body) as JSON. Query parameters
steer the answer so one server covers every case: ``delay_ms`` (answer late), ``status`` (answer
with that status), ``set_cookie`` (two Set-Cookie headers), ``bytes`` (a large streamed body),
``health`` via ``POST /control/health?status=unhealthy`` (what ``GET /health`` reports).
``ECHO_VERSION`` is reported in every echo (``version``) and announced; with ``ECHO_FAIL_EVERY=n``
every n-th proxied call (not ``/health``, not the gateway's ``/openapi.json`` fetch, which gets a
404 here) answers 500 — a canary that fails at a known rate.

With ``ANNOUNCE_AS=<service>`` (and ``REDIS_URL``) it also announces itself for service discovery
through ASCEP's own :class:`~ascep.common.discovery.ServiceAnnouncer`, like a real service, and
deregisters on SIGTERM before exiting.
"""

import eventlet

eventlet.monkey_patch()

import base64  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402

HEALTH = {"status": "healthy", "delay_ms": 0}
VERSION = os.environ.get("ECHO_VERSION", "")
FAIL_EVERY = int(os.environ.get("ECHO_FAIL_EVERY", "0"))
CALLS = [0]


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    query = dict(
        part.split("=", 1) if "=" in part else (part, "")
        for part in environ.get("QUERY_STRING", "").split("&")
        if part
    )
    if path == "/control/health":
        HEALTH["status"] = query.get("status", "healthy")
        HEALTH["delay_ms"] = int(query.get("delay_ms", 0))
        return _json(start_response, 200, HEALTH)
    if path == "/health":
        time.sleep(HEALTH["delay_ms"] / 1000)
        code = 503 if HEALTH["status"] == "unhealthy" else 200
        return _json(start_response, code, {"status": HEALTH["status"], "service": "upstream"})
    if path == "/openapi.json":  # the gateway's background fetch: not a call, and no document here
        return _json(start_response, 404, {"error": "no document"})
    CALLS[0] += 1
    if FAIL_EVERY and CALLS[0] % FAIL_EVERY == 0:
        failure = {"error": "planned failure", "pid": os.getpid(), "version": VERSION}
        return _json(start_response, 500, failure)
    if "delay_ms" in query:
        time.sleep(int(query["delay_ms"]) / 1000)
    if "bytes" in query:
        size = int(query["bytes"])
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return (b"x" * min(65536, size - i) for i in range(0, size, 65536))
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else environ["wsgi.input"].read()
    echo = {
        "method": environ["REQUEST_METHOD"],
        "path": path,
        "raw_path": environ.get("RAW_PATH_INFO"),
        "query": environ.get("QUERY_STRING", ""),
        "headers": {k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")},
        "content_type": environ.get("CONTENT_TYPE"),
        "body_b64": base64.b64encode(body).decode(),
        "pid": os.getpid(),
        "version": VERSION,
    }
    extra = []
    if "set_cookie" in query:
        extra = [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Path=/")]
    extra.append(("X-Upstream", "yes"))
    return _json(start_response, int(query.get("status", 200)), echo, extra)


def _json(start_response, status, payload, extra=()):
    body = json.dumps(payload).encode()
    reasons = {200: "OK", 201: "Created", 404: "Not Found", 418: "I'm a teapot", 503: "Service Unavailable"}
    reasons[500] = "Internal Server Error"
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *extra]
    start_response(f"{status} {reasons.get(status, 'Status')}", headers)
    return [body]


def announce(service, port):
    """Keep this process registered as an instance of ``service``; deregister on SIGTERM."""
    import signal

    from ascep.common.discovery import InstanceRecord, ServiceAnnouncer
    from ascep.common.redis_client import connect

    record = InstanceRecord(
        service=service,
        instance_id=f"echo:{port}:{os.getpid()}",
        base_url=f"http://127.0.0.1:{port}",
        version=VERSION or "test-1",
        weight=int(os.environ.get("DISCOVERY_WEIGHT", "1")),
        metadata={"pid": os.getpid()},
    )
    announcer = ServiceAnnouncer(
        connect(os.environ["REDIS_URL"], socket_timeout=1.0, retries=0),
        record,
        heartbeat_s=float(os.environ.get("DISCOVERY_HEARTBEAT_S", "1")),
        ttl_s=float(os.environ.get("DISCOVERY_TTL", "3")),
    )
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))

    def watch():
        while not stopping:
            eventlet.sleep(0.02)
        announcer.stop()
        os._exit(0)

    eventlet.spawn(watch)
    return announcer


if __name__ == "__main__":
    import eventlet.wsgi

    port = int(os.environ["PORT"])
    sock = eventlet.listen(("127.0.0.1", port), reuse_port=False, backlog=1024)
    if os.environ.get("ANNOUNCE_AS"):
        announce(os.environ["ANNOUNCE_AS"], port).start()
    eventlet.wsgi.server(sock, app, log_output=False)
