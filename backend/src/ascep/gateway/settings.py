"""The gateway's settings (in addition to the common ones), each with its default and reason."""

from __future__ import annotations

from ascep.common.config import Setting, port_setting

DEV_CORS_ORIGINS = (
    "http://localhost:3000",
    "http://127.0.0.1:3000",
    "http://localhost:5173",
    "http://127.0.0.1:5173",
    "http://localhost:5000",
    "http://127.0.0.1:5000",
)

SETTINGS: tuple[Setting, ...] = (
    port_setting(5000),
    Setting(
        "CORS_ORIGINS",
        tuple,
        DEV_CORS_ORIGINS,
        "Origins allowed to call the API from a browser (comma-separated; `*` disables credentials).",
    ),
    Setting(
        "MAX_BODY_BYTES",
        int,
        10 * 1024 * 1024,
        "Largest request body forwarded to a service; larger gets 413.",
        minimum=0,
    ),
    Setting(
        "PROXY_CONNECT_TIMEOUT",
        float,
        2.0,
        "Seconds to open a connection to a service before answering 504.",
        minimum=0.01,
    ),
    Setting(
        "PROXY_READ_TIMEOUT",
        float,
        10.0,
        "Seconds to wait for a service's response (or its next bytes) before answering 504.",
        minimum=0.01,
    ),
    Setting(
        "PROXY_MAX_CONCURRENCY",
        int,
        64,
        "Calls one service may have in progress (its bulkhead; also its keep-alive pool size); "
        "more get 503 `SERVICE_OVERLOADED` at once. `register_service(max_concurrency=...)` "
        "overrides it per service.",
        minimum=1,
    ),
    Setting(
        "PROXY_TRUST_ENV",
        bool,
        False,
        "Honour HTTP(S)_PROXY/NO_PROXY for calls to services (off: faster, and services are local).",
    ),
    Setting(
        "BREAKER_WINDOW_SECONDS",
        float,
        10.0,
        "Sliding window (per gateway process) over which an instance's failure rate is computed.",
        minimum=1,
    ),
    Setting(
        "BREAKER_FAILURE_RATE",
        float,
        50.0,
        "Percentage of failed calls (5xx, timeouts, refused connections) in the window that "
        "opens an instance's circuit breaker.",
        minimum=1,
        maximum=100,
    ),
    Setting(
        "BREAKER_MIN_VOLUME",
        int,
        20,
        "Calls the window must hold before the failure rate can open the breaker.",
        minimum=1,
    ),
    Setting(
        "BREAKER_OPEN_SECONDS",
        float,
        5.0,
        "How long an open breaker answers 503 `CIRCUIT_OPEN` before letting probes through.",
        minimum=0.1,
    ),
    Setting(
        "BREAKER_HALF_OPEN_PROBES",
        int,
        3,
        "Calls let through to a half-open instance, across all gateway processes; all must "
        "succeed to close the breaker, one failure re-opens it.",
        minimum=1,
    ),
    Setting(
        "BREAKER_PROBE_TIMEOUT",
        float,
        15.0,
        "Seconds after which a half-open round whose probes never reported (their gateway died) "
        "hands out new probes; keep above `PROXY_CONNECT_TIMEOUT` + `PROXY_READ_TIMEOUT`.",
        minimum=0.1,
    ),
    Setting(
        "BREAKER_RESYNC_INTERVAL",
        float,
        1.0,
        "Seconds between full re-reads of the shared breaker states (catches missed pub/sub "
        "messages).",
        minimum=0.1,
        maximum=60,
    ),
    Setting(
        "LATENCY_RETENTION_SECONDS",
        int,
        3600,
        "How long latency samples are kept in Redis (also the largest `window`).",
        minimum=10,
    ),
    Setting(
        "LATENCY_MAX_SAMPLES",
        int,
        10000,
        "Samples kept per (service, endpoint) in Redis; the oldest are trimmed first.",
        minimum=100,
    ),
    Setting(
        "LATENCY_FLUSH_INTERVAL",
        float,
        0.1,
        "Seconds between flushes of buffered latency samples to Redis.",
        minimum=0.01,
        maximum=10,
    ),
    Setting(
        "LATENCY_BUFFER_MAX",
        int,
        100000,
        "Samples held in memory while Redis is unreachable; beyond it the oldest are dropped.",
        minimum=100,
    ),
    Setting(
        "HEALTH_CHECK_TIMEOUT",
        float,
        2.0,
        "Seconds each service's health endpoint may take in `/api/health`.",
        minimum=0.05,
    ),
    Setting(
        "HEALTH_POLL_INTERVAL",
        float,
        15.0,
        "Seconds between background health polls (last known health in `/api/services`).",
        minimum=1,
    ),
    Setting(
        "SOCKETIO_BATCH_INTERVAL",
        float,
        0.05,
        "Seconds between `price_batch` flushes and client lag checks.",
        minimum=0.005,
        maximum=1,
    ),
    Setting("SOCKETIO_BATCH_MAX", int, 500, "Updates that trigger an early `price_batch` flush.", minimum=1),
    Setting(
        "SOCKETIO_QUEUE_HIGH",
        int,
        200,
        "Packets queued for one client above which it is lagging (its prices are conflated).",
        minimum=2,
    ),
    Setting(
        "SOCKETIO_QUEUE_LOW", int, 20, "Packets queued below which a lagging client catches up.", minimum=0
    ),
    Setting(
        "SOCKETIO_BACKLOG_MAX",
        int,
        500,
        "Signals/alerts/status events kept for one lagging client; older ones are dropped.",
        minimum=1,
    ),
    Setting(
        "SOCKETIO_MAX_MESSAGE_BYTES",
        int,
        16 * 1024,
        "Largest message a Socket.IO client may send (websocket message or polling POST); larger "
        "closes its connection.",
        minimum=1024,
    ),
    Setting(
        "SOCKETIO_CLIENT_RATE",
        float,
        20.0,
        "Messages per second one Socket.IO client may send on average; beyond the burst it is "
        "disconnected.",
        minimum=0.1,
    ),
    Setting(
        "SOCKETIO_CLIENT_BURST",
        int,
        50,
        "Messages one Socket.IO client may send at once before `SOCKETIO_CLIENT_RATE` applies.",
        minimum=1,
    ),
    Setting(
        "SOCKETIO_MAX_SYMBOLS",
        int,
        200,
        "Symbols one `subscribe_prices` may name (a client holds one price subscription).",
        minimum=1,
    ),
    Setting(
        "DASHBOARD_DIST",
        str,
        "",
        "Directory of the built dashboard served at `/` to browsers; empty: `frontend/dist` of the "
        "checkout. No `index.html` there: `/` stays JSON only.",
    ),
)
