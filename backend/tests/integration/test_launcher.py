"""``./ascep run``: supervisord brings the stack up (embedded Redis when needed) and down cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import requests

from ascep.gateway.service_registry import service_registry
from ascep.launcher import RedisPlan, supervisor_environment
from support.polling import wait_for
from support.ports import free_port
from support.processes import ManagedProcess
from support.redis_server import RedisServer

REPO = Path(__file__).resolve().parents[3]


def launcher_env(run_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "PORT")}
    env.update(ASCEP_RUN_DIR=str(run_dir), GATEWAY_PORT=str(free_port()), PYTHONUNBUFFERED="1")
    for definition in service_registry:
        env[f"{definition.name.upper()}_PORT"] = str(free_port())
    env.update(extra)
    return env


def supervisorctl(run_dir: Path, *args: str) -> str:
    """Ask the running supervisord (its config needs the same variables the launcher exports)."""
    plan = RedisPlan("redis://127.0.0.1:1/0", embedded=False, port=1)
    env = supervisor_environment({**os.environ, "ASCEP_RUN_DIR": str(run_dir)}, plan, run_dir)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "supervisorctl"), "-c", str(REPO / "supervisord.conf"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=20,
    )
    return result.stdout


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def start_stack(tmp_path: Path, **extra: str) -> tuple[ManagedProcess, dict[str, str]]:
    env = launcher_env(tmp_path / "run", **extra)
    stack = ManagedProcess("stack", [sys.executable, "-m", "ascep.launcher"], env, tmp_path).start()
    return stack, env


def abandon_stack(stack: ManagedProcess) -> None:
    """After a failure: stop supervisord gracefully, then kill whatever it left behind."""
    children = descendants(stack.pid)
    stack.stop(signal.SIGTERM, timeout=20)
    for child in children:
        if child.is_running():
            child.kill()


def stop_stack(stack: ManagedProcess, children: list[psutil.Process]) -> None:
    assert stack.process is not None
    stack.process.send_signal(signal.SIGINT)  # what Ctrl-C does
    assert stack.process.wait(timeout=30) == 0, stack.log_text()[-3000:]
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"left behind: {alive}"


@pytest.mark.timeout(150)
def test_whole_stack_with_embedded_redis_is_healthy_and_stops_cleanly(tmp_path: Path) -> None:
    default_redis = f"redis://127.0.0.1:{free_port()}/0"  # nothing answers there
    stack, env = start_stack(
        tmp_path,
        ASCEP_DEFAULT_REDIS_URL=default_redis,
        PRICE_SOURCES="simulated,forex",  # no internet here: the simulated crypto market
        HEALTH_CHECK_INTERVAL_S="0.5",
        WORKER_HEARTBEAT_INTERVAL_S="1",
        CELERY_CONCURRENCY="1",
    )
    try:
        gateway = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
        stack.wait_until(
            lambda: requests.get(f"{gateway}/ready", timeout=1).status_code == 200,
            timeout=60,
            what="gateway ready with the embedded Redis",
        )

        def all_running() -> str:
            status = supervisorctl(tmp_path / "run", "status")
            lines = [line for line in status.splitlines() if line.strip()]
            return status if lines and all("RUNNING" in line for line in lines) else ""

        status = wait_for(all_running, timeout=60, message="every program RUNNING")
        programs = {line.split()[0] for line in status.splitlines() if line.strip()}
        assert programs == {"redis", "gateway", "celery_worker", *(d.name for d in service_registry)}

        def platform_healthy() -> dict:
            report = requests.get(f"{gateway}/api/health", timeout=5).json()
            return report if report["status"] == "healthy" and report["source"] == "health_service" else {}

        report = wait_for(platform_healthy, timeout=60, message="/api/health healthy from the monitor's view")
        assert {name for name, s in report["services"].items() if s["status"] == "healthy"} == {
            d.name for d in service_registry
        } | {"celery_worker"}
        children = descendants(stack.pid)
        names = " ".join(" ".join(p.cmdline()) for p in children)
        assert "redis-server" in names
        assert "ascep.gateway" in names
        assert "celery" in names
    except BaseException:
        abandon_stack(stack)
        raise
    stop_stack(stack, children)


@pytest.mark.timeout(90)
def test_explicit_redis_url_starts_no_redis(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis").start()
    try:
        stack, env = start_stack(tmp_path, REDIS_URL=redis.url)
        try:
            gateway = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
            stack.wait_until(
                lambda: requests.get(f"{gateway}/ready", timeout=1).status_code == 200,
                timeout=40,
                what="gateway ready on the given Redis",
            )
            children = descendants(stack.pid)
            assert not any("redis-server" in " ".join(p.cmdline()) for p in children)
            wait_for(
                lambda: "RUNNING" in supervisorctl(tmp_path / "run", "status", "gateway"),
                timeout=10,
                message="gateway RUNNING",
            )
        except BaseException:
            abandon_stack(stack)
            raise
        stop_stack(stack, children)
    finally:
        redis.stop()
