"""The gateway's settings (in addition to the common ones), each with its default and reason."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ascep.common.config import CommonSettings, Rule, Setting, port_setting, setting

#: The gateway is not on the registry (it *is* the registry's user): its port is declared here.
GATEWAY_PORT = 5000


@dataclass(frozen=True, kw_only=True)
class GatewaySettings(CommonSettings):
    """Every gateway setting, typed; built once by ``create_app``."""

    RULES: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "BREAKER_PROBE_TIMEOUT",
            "PROXY_READ_TIMEOUT",
            lambda s: s.breaker_probe_timeout > s.proxy_connect_timeout + s.proxy_read_timeout,
            "must exceed PROXY_CONNECT_TIMEOUT +",
        ),
        Rule(
            "RETRY_BACKOFF_BASE_MS",
            "RETRY_BACKOFF_CAP_MS",
            lambda s: s.retry_backoff_base_ms <= s.retry_backoff_cap_ms,
            "must not exceed",
        ),
        Rule(
            "SOCKETIO_QUEUE_LOW",
            "SOCKETIO_QUEUE_HIGH",
            lambda s: s.socketio_queue_low < s.socketio_queue_high,
            "must be below",
        ),
    )

    port: int = port_setting(GATEWAY_PORT)
    auth_mode: str = setting(
        "off",
        "`off`: no credentials needed (every caller has every scope; said loudly at start-up); "
        "`required`: every API call needs a JWT or API key with the route's scope. The default "
        "is `required` when ASCEP_ENV=production.",
        choices=("off", "required"),
        production_default="required",
    )
    jwt_algorithms: tuple[str, ...] = setting(
        ("HS256",),
        "Signature algorithms a JWT may use (comma-separated; HS256/384/512 with `JWT_SECRET`, "
        "RS*/PS*/ES*/EdDSA with `JWT_PUBLIC_KEYS`); `none` is never accepted.",
    )
    jwt_secret: str = setting(
        "",
        "Shared secret of the HS* algorithms, at least 32 bytes; no default: required when "
        "AUTH_MODE=required with an HS* algorithm (also signs the tokens the gateway issues).",
        secret=True,
    )
    jwt_public_keys: str = setting(
        "",
        "PEM public key file, or a directory of `<kid>.pem` files, for RS*/PS*/ES*/EdDSA; a "
        "token's `kid` header picks the key (a file's key id is its name without `.pem`).",
    )
    jwt_private_key: str = setting(
        "",
        "PEM private key file (`<kid>.pem`) the gateway signs its own tokens with under an "
        "asymmetric algorithm; its public half must be in `JWT_PUBLIC_KEYS`. Empty: tokens are "
        "signed with `JWT_SECRET`, or not issued at all.",
    )
    jwt_issuer: str = setting(
        "", "Required `iss` of every JWT (and the `iss` of issued ones); empty: not checked."
    )
    jwt_audience: str = setting(
        "", "Required `aud` of every JWT (and the `aud` of issued ones); empty: not checked."
    )
    jwt_leeway_seconds: float = setting(
        30.0, "Clock skew tolerated on `exp` and `nbf`, in seconds.", minimum=0, maximum=300
    )
    jwt_token_ttl_seconds: int = setting(
        900,
        "Lifetime of the tokens `POST /api/auth/token` and `./ascep token` issue, in seconds.",
        minimum=30,
        maximum=86_400,
    )
    jwt_cache_size: int = setting(
        10_000,
        "Verified tokens remembered (until their `exp`) so a repeated token costs a dict lookup, "
        "not a signature check; 0: verify every time.",
        minimum=0,
        maximum=1_000_000,
    )
    access_sync_interval: float = setting(
        1.0,
        "Seconds between full re-reads of the API keys and users from Redis (changes normally "
        "arrive at once by pub/sub; this bounds a missed message).",
        minimum=0.05,
        maximum=60,
    )
    access_max_staleness_s: float = setting(
        30.0,
        "While the API keys could not be re-read from Redis for this long, API keys (and tokens "
        "issued for them or for users) are refused with 503 instead of trusting an old list.",
        minimum=1,
        maximum=3600,
    )
    cors_origins: tuple[str, ...] = setting(
        (),
        "Origins allowed to call the API and Socket.IO from a browser (comma-separated "
        "`scheme://host[:port]`; `*`: any, without credentials; `null` refused). Empty: none but "
        "the gateway's own pages — and, with AUTH_MODE=off while HOST is loopback, any page on "
        "this machine (`localhost`, `127.0.0.1`, `[::1]`, any port).",
    )
    max_body_bytes: int = setting(
        10 * 1024 * 1024,
        "Largest request body forwarded to a service; larger gets 413.",
        minimum=0,
    )
    proxy_connect_timeout: float = setting(
        2.0,
        "Seconds to open a connection to a service before answering 504.",
        minimum=0.01,
    )
    proxy_read_timeout: float = setting(
        10.0,
        "Seconds to wait for a service's response (or its next bytes) before answering 504.",
        minimum=0.01,
    )
    proxy_request_timeout: float = setting(
        30.0,
        "Deadline of a proxied call, retries included, unless the registration sets `timeout_s` "
        "or `endpoint_timeouts`; a client may shorten it with `X-Request-Timeout`. Past it: 504.",
        minimum=0.05,
        maximum=3600,
    )
    retry_max_attempts: int = setting(
        3,
        "Tries per proxied call, the first included (1: never retry); `policy.max_attempts` "
        "overrides it per service. Only idempotent calls (or with `Idempotency-Key`) are retried.",
        minimum=1,
        maximum=10,
    )
    retry_backoff_base_ms: float = setting(
        25.0, "First retry waits a random 0..this many ms (full jitter), doubling per retry.", minimum=0
    )
    retry_backoff_cap_ms: float = setting(250.0, "Largest backoff before a retry, in ms.", minimum=0)
    retry_min_remaining_ms: float = setting(
        25.0, "No retry starts with less than this many ms left before the deadline.", minimum=0
    )
    retry_max_body_bytes: int = setting(
        64 * 1024,
        "Request bodies up to this size are kept so a retry can replay them; larger ones are "
        "streamed and never retried.",
        minimum=0,
    )
    retry_budget_percent: float = setting(
        20.0,
        "Retries of one service may add this percentage to its requests of the budget window "
        "(across all gateway processes); beyond it calls are not retried.",
        minimum=0,
        maximum=1000,
    )
    retry_budget_min_per_second: float = setting(
        10.0, "Retries per second one service may always make, on top of `RETRY_BUDGET_PERCENT`.", minimum=0
    )
    retry_budget_window_seconds: int = setting(
        10, "Seconds of requests and retries the retry budget looks at.", minimum=1, maximum=300
    )
    retry_budget_sync_interval: float = setting(
        0.1,
        "Seconds between exchanges of retry-budget counts with the other gateway processes "
        "through Redis (never per request); bounds how far the processes together can overshoot.",
        minimum=0.01,
        maximum=5,
    )
    proxy_max_concurrency: int = setting(
        64,
        "Calls one service may have in progress (its bulkhead; also its keep-alive pool size); "
        "more get 503 `SERVICE_OVERLOADED` at once. `register_service(max_concurrency=...)` "
        "overrides it per service.",
        minimum=1,
    )
    proxy_trust_env: bool = setting(
        False,
        "Honour HTTP(S)_PROXY/NO_PROXY for calls to services (off: faster, and services are local).",
    )
    discovery_resync_s: float = setting(
        5.0,
        "Seconds between full re-reads of discovered instances from Redis (pub/sub may drop "
        "messages; changes normally arrive at once).",
        minimum=0.1,
        maximum=300,
    )
    discovery_max_instances: int = setting(
        64,
        "Discovered instances one service may have in this gateway; further announcements are "
        "ignored (logged): bounds memory and keep-alive pools.",
        minimum=1,
    )
    upstream_active_health_checks: bool = setting(
        True,
        "Check every instance's health endpoint (rise/fall per its policy); off: only passive "
        "outlier ejection and circuit breakers take instances out (e.g. a front balancer checks).",
    )
    breaker_window_seconds: float = setting(
        10.0,
        "Sliding window (per gateway process) over which an instance's failure rate is computed.",
        minimum=1,
    )
    breaker_failure_rate: float = setting(
        50.0,
        "Percentage of failed calls (5xx, timeouts, refused connections) in the window that "
        "opens an instance's circuit breaker.",
        minimum=1,
        maximum=100,
    )
    breaker_min_volume: int = setting(
        20, "Calls the window must hold before the failure rate can open the breaker.", minimum=1
    )
    breaker_open_seconds: float = setting(
        5.0,
        "How long an open breaker answers 503 `CIRCUIT_OPEN` before letting probes through.",
        minimum=0.1,
    )
    breaker_half_open_probes: int = setting(
        3,
        "Calls let through to a half-open instance, across all gateway processes; all must "
        "succeed to close the breaker, one failure re-opens it.",
        minimum=1,
    )
    breaker_probe_timeout: float = setting(
        15.0,
        "Seconds after which a half-open round whose probes never reported (their gateway died) "
        "hands out new probes; keep above `PROXY_CONNECT_TIMEOUT` + `PROXY_READ_TIMEOUT`.",
        minimum=0.1,
    )
    breaker_resync_interval: float = setting(
        1.0,
        "Seconds between full re-reads of the shared breaker states (catches missed pub/sub messages).",
        minimum=0.1,
        maximum=60,
    )
    split_key_header: str = setting(
        "X-User-ID",
        "Request header whose value assigns a caller to a traffic split's arm (sticky) when the "
        "caller is not authenticated (the JWT subject or API key wins); without it the client "
        "address is used.",
    )
    split_sync_interval: float = setting(
        0.5,
        "Seconds between re-reads of the splits from Redis (changes normally arrive at once by "
        "pub/sub) and merges of per-arm counts for the automatic rollback.",
        minimum=0.05,
        maximum=10,
    )
    split_rollback_margin: float = setting(
        2.0,
        "Percentage points by which a canary's error rate may exceed the stable arm's before it "
        "is rolled back to 0 automatically.",
        minimum=0,
        maximum=100,
    )
    split_rollback_min_requests: int = setting(
        200,
        "Canary requests the rollback window must hold (all gateway processes) before the canary "
        "can be rolled back.",
        minimum=1,
    )
    split_rollback_window_seconds: float = setting(
        60.0,
        "Sliding window (since the split's last change at most) over which the arms' error "
        "rates are compared.",
        minimum=1,
        maximum=86_400,
    )
    rate_limit: str = setting(
        "10/s burst 20",
        "Default limit of every route, per client (API key, else JWT subject, else address) and "
        "per service: `<count>/<period>[ burst <n>]` (`100/60s`, `10/s burst 20`) or `off`; "
        "`register_service(rate_limit=...)` and the admin API override it. Over it: 429 "
        "`RATE_LIMITED` with `Retry-After`.",
    )
    rate_limit_algorithm: str = setting(
        "gcra",
        "`gcra` (token bucket: the rate on average, `burst` at once) or `sliding_window` (an "
        "exact log: at most `burst` (default the count) in any window of burst x period / count).",
        choices=("gcra", "sliding_window"),
    )
    rate_limit_fail: str = setting(
        "open",
        "When Redis is unreachable: `open` lets requests through unchecked (the bulkheads still "
        "bound each service), `closed` refuses them with 503 `DEPENDENCY_UNAVAILABLE`; decided at "
        "once, logged once per outage, counted in `/metrics`.",
        choices=("open", "closed"),
    )
    rate_limit_socketio: str = setting(
        "1/s burst 20",
        "Socket.IO connection attempts per client address (a session's own requests are not "
        "counted); over it: 429 `RATE_LIMITED`. `off` disables it.",
    )
    rate_limit_redis_timeout: float = setting(
        0.5,
        "Seconds one rate-limit check may wait for Redis's answer before the request is decided "
        "by `RATE_LIMIT_FAIL` and Redis counts as down (re-probed every 250 ms in the background; "
        "a refused or reset connection is decided at once). Not lower than the event loop's worst "
        "stall under a burst, or a busy gateway would take itself for cut off.",
        minimum=0.001,
        maximum=5,
    )
    rate_limit_sync_interval: float = setting(
        0.5,
        "Seconds between re-reads of the runtime rate-limit overrides from Redis (changes "
        "normally arrive at once by pub/sub).",
        minimum=0.05,
        maximum=10,
    )
    trusted_proxies: tuple[str, ...] = setting(
        (),
        "Addresses or CIDR networks of front proxies whose `X-Forwarded-For` names the client "
        "(read from the right, past trusted hops); from any other peer it is ignored.",
    )
    latency_retention_seconds: int = setting(
        3600,
        "How long latency samples are kept in Redis (also the largest `window`).",
        minimum=10,
    )
    latency_max_samples: int = setting(
        10000,
        "Samples kept per (service, endpoint) in Redis; the oldest are trimmed first.",
        minimum=100,
    )
    latency_flush_interval: float = setting(
        0.1,
        "Seconds between flushes of buffered latency samples to Redis.",
        minimum=0.01,
        maximum=10,
    )
    latency_buffer_max: int = setting(
        100000,
        "Samples held in memory while Redis is unreachable; beyond it the oldest are dropped.",
        minimum=100,
    )
    health_check_timeout: float = setting(
        2.0,
        "Seconds each service's health endpoint may take in `/api/health`.",
        minimum=0.05,
    )
    health_poll_interval: float = setting(
        15.0,
        "Seconds between background health polls (last known health in `/api/services`).",
        minimum=1,
    )
    socketio_batch_interval: float = setting(
        0.05,
        "Seconds between `price_batch` flushes and client lag checks.",
        minimum=0.005,
        maximum=1,
    )
    socketio_batch_max: int = setting(500, "Updates that trigger an early `price_batch` flush.", minimum=1)
    socketio_queue_high: int = setting(
        200,
        "Packets queued for one client above which it is lagging (its prices are conflated).",
        minimum=2,
    )
    socketio_queue_low: int = setting(
        20,
        "Packets queued below which a lagging client catches up.",
        minimum=0,
    )
    socketio_backlog_max: int = setting(
        500,
        "Signals/alerts/status events kept for one lagging client; older ones are dropped.",
        minimum=1,
    )
    socketio_max_message_bytes: int = setting(
        16 * 1024,
        "Largest message a Socket.IO client may send (websocket message or polling POST); larger "
        "closes its connection.",
        minimum=1024,
    )
    socketio_client_rate: float = setting(
        20.0,
        "Messages per second one Socket.IO client may send on average; beyond the burst it is disconnected.",
        minimum=0.1,
    )
    socketio_client_burst: int = setting(
        50,
        "Messages one Socket.IO client may send at once before `SOCKETIO_CLIENT_RATE` applies.",
        minimum=1,
    )
    socketio_max_symbols: int = setting(
        200,
        "Symbols one `subscribe_prices` may name (a client holds one price subscription).",
        minimum=1,
    )
    dashboard_dist: str = setting(
        "",
        "Directory of the built dashboard served at `/` to browsers; empty: `frontend/dist` of the "
        "checkout. No `index.html` there: `/` stays JSON only.",
    )
    openapi_refresh_seconds: float = setting(
        30.0,
        "How often the gateway asks every service for its `/openapi.json` (in the background) to "
        "rebuild `/api/openapi.json`; a change shows within this.",
        minimum=1.0,
        maximum=60.0,
    )
    openapi_fetch_timeout: float = setting(
        2.0,
        "Seconds one service's `/openapi.json` may take, whole answer included; slower counts as "
        "unreachable (its last good copy stays, marked stale).",
        minimum=0.1,
    )
    openapi_max_spec_bytes: int = setting(
        4 * 1024 * 1024,
        "Largest `/openapi.json` the gateway accepts from a service; larger counts as unreachable.",
        minimum=1024,
    )


SETTINGS: tuple[Setting, ...] = GatewaySettings.own()
