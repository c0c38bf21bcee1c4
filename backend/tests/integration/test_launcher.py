"""``./ascep run``: supervisord brings the stack up (embedded Redis when needed) and down cleanly;
``./ascep ctl`` drives it; the embedded Redis keeps its data; ``--fresh`` starts clean."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import requests

from ascep.common import channels
from ascep.launcher import RedisPlan, start_fresh
from ascep.service_registry import service_registry
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


def ctl(run_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``./ascep ctl ...`` run from the repository root, as a user would."""
    env = {**os.environ, "ASCEP_RUN_DIR": str(run_dir), "ASCEP_VENV": str(Path(sys.executable).parents[1])}
    return subprocess.run(
        [str(REPO / "ascep"), "ctl", *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=30
    )


def supervisorctl(run_dir: Path, *args: str) -> str:
    return ctl(run_dir, *args).stdout


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def start_stack(tmp_path: Path, *args: str, **extra: str) -> tuple[ManagedProcess, dict[str, str]]:
    env = launcher_env(tmp_path / "run", **extra)
    stack = ManagedProcess("stack", [sys.executable, "-m", "ascep.launcher", *args], env, tmp_path).start()
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


def redis_server_process(stack: ManagedProcess) -> psutil.Process:
    return next(p for p in descendants(stack.pid) if "redis-server" in " ".join(p.cmdline()))


@pytest.mark.timeout(240)
def test_whole_stack_with_embedded_redis_is_healthy_and_stops_cleanly(tmp_path: Path) -> None:
    stack, env = start_stack(
        tmp_path,
        ASCEP_REDIS_PORT=str(free_port()),
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
        check_every_service_announced_itself(gateway)
        children = descendants(stack.pid)
        names = " ".join(" ".join(p.cmdline()) for p in children)
        assert "redis-server" in names
        assert "ascep.gateway" in names
        assert "celery" in names
        assert "Redis: embedded, private to this stack" in stack.log_text()
        cep = f"http://127.0.0.1:{env['CEP_ENGINE_PORT']}"
        check_embedded_redis_keeps_its_data(stack, gateway, cep)
        check_ctl(tmp_path / "run")
        children = descendants(stack.pid)
    except BaseException:
        abandon_stack(stack)
        raise
    stop_stack(stack, children)


def check_every_service_announced_itself(gateway: str) -> None:
    """Each service announces itself (discovery) and is one instance: its static address, beating."""

    def announced() -> list:
        listing = requests.get(f"{gateway}/api/services", timeout=5).json()["services"]
        one_each = all(len(s["instances"]) == 1 and s["instances"][0]["last_heartbeat"] for s in listing)
        return listing if one_each else []

    listing = wait_for(announced, timeout=30, message="every service announced itself")
    assert {s["name"] for s in listing} == {d.name for d in service_registry}
    assert {s["instances"][0]["source"] for s in listing} == {"static"}


def check_embedded_redis_keeps_its_data(stack: ManagedProcess, gateway: str, cep: str) -> None:
    """SIGKILL the embedded Redis: supervisord restarts it on its append-only file, nothing is lost."""
    rule = {"name": "kept", "pattern": "threshold", "conditions": {"field": "price", "op": ">", "value": 1}}
    created = requests.post(f"{gateway}/api/rules", json=rule, timeout=5)
    assert created.status_code == 201, created.text
    rule_id = created.json()["rule"]["rule_id"]
    killed = redis_server_process(stack)
    killed.kill()
    killed.wait(timeout=10)
    wait_for(
        lambda: redis_server_process(stack).pid != killed.pid and requests.get(f"{cep}/ready", timeout=2).ok,
        timeout=30,
        message="embedded Redis restarted by supervisord",
    )
    rules = wait_for(
        lambda: requests.get(f"{gateway}/api/rules", timeout=5).json()["rules"],
        timeout=20,
        message="rules readable again",
    )
    assert [r["rule_id"] for r in rules] == [rule_id]
    again = wait_for(
        lambda: (r := requests.post(f"{gateway}/api/rules", json=rule, timeout=5)).status_code == 201 and r,
        timeout=20,
        message="a second rule",
    )
    assert again.json()["rule"]["rule_id"] > rule_id, "ids are never reused"
    # The data epoch survived too: the engine reports no data loss.
    health = requests.get(f"{cep}/health", timeout=5).json()
    assert health["checks"]["redis_data"]["status"] == "healthy", health


def check_ctl(run_dir: Path) -> None:
    """``./ascep ctl`` from the repository root: status, restart, logs, stop."""
    status = ctl(run_dir, "status")
    assert status.returncode == 0, status.stderr
    assert "gateway" in status.stdout
    assert "RUNNING" in status.stdout
    restarted = ctl(run_dir, "restart", "cep_engine")
    assert "cep_engine: started" in restarted.stdout, restarted.stdout + restarted.stderr
    logs = ctl(run_dir, "logs", "cep_engine", "-n", "50")
    assert logs.returncode == 0, logs.stderr
    assert "listening on" in logs.stdout
    unknown = ctl(run_dir, "logs", "nope")
    assert unknown.returncode != 0
    assert "no log for 'nope'" in unknown.stderr
    stopped = ctl(run_dir, "stop", "celery_worker")
    assert "celery_worker: stopped" in stopped.stdout, stopped.stdout + stopped.stderr
    assert "STOPPED" in ctl(run_dir, "status", "celery_worker").stdout


@pytest.mark.timeout(120)
def test_explicit_redis_url_starts_no_redis_and_fresh_deletes_only_our_keys(tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis").start()
    with redis.client() as client:
        client.hset(channels.CEP_RULES_KEY, "1", "{}")  # left by an earlier run
        client.set(channels.CEP_RULE_SEQ_KEY, 1)
        client.set("someone_else:key", "kept")
    try:
        stack, env = start_stack(tmp_path, "--fresh", REDIS_URL=redis.url)
        try:
            gateway = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
            stack.wait_until(
                lambda: requests.get(f"{gateway}/ready", timeout=1).status_code == 200,
                timeout=40,
                what="gateway ready on the given Redis",
            )
            children = descendants(stack.pid)
            assert not any("redis-server" in " ".join(p.cmdline()) for p in children)
            assert "Redis: SHARED instance from REDIS_URL" in stack.log_text()
            with redis.client() as client:
                assert client.get("someone_else:key") == "kept"
                assert not client.exists(channels.CEP_RULES_KEY)
                # Every program has written by now (worker heartbeat, prices, health rounds):
                # nothing of ours lives outside the prefix on a shared Redis, Celery's keys included.
                wait_for(
                    lambda: all(
                        client.exists(key)
                        for key in (channels.WORKER_HEARTBEATS_KEY, channels.PRICES_LATEST_KEY,
                                    channels.HEALTH_CURRENT_KEY)
                    ),
                    timeout=40,
                    message="every program wrote to Redis",
                )  # fmt: skip
                stray = [k for k in client.scan_iter(count=1000) if not k.startswith(channels.KEY_PREFIX)]
                assert stray == ["someone_else:key"]
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


def test_the_embedded_port_taken_refuses_to_share_silently(tmp_path: Path) -> None:
    other = RedisServer(tmp_path / "other").start()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "ascep.launcher"],
            env=launcher_env(tmp_path / "run", ASCEP_REDIS_PORT=str(other.port)),
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        other.stop()
    assert result.returncode != 0
    assert f"a Redis already listens on 127.0.0.1:{other.port}" in result.stderr
    assert "REDIS_URL=" in result.stderr


def test_fresh_deletes_the_embedded_redis_files(tmp_path: Path) -> None:
    data = tmp_path / "redis"
    (data / "appendonlydir").mkdir(parents=True)
    (data / "appendonlydir" / "appendonly.aof.1.incr.aof").write_text("*1\r\n")
    start_fresh(RedisPlan("redis://127.0.0.1:1/0", embedded=True, port=1, data_dir=str(data)), "ascep:")
    assert not data.exists()


def test_ctl_without_a_running_stack_says_so(tmp_path: Path) -> None:
    result = ctl(tmp_path / "nothing", "status")
    assert result.returncode != 0
    assert "no running stack" in result.stderr
