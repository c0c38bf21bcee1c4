"""The deployment files, checked statically (no Docker engine here): they must agree with the
code — every command runs a module that exists, ports match the registry, every file a
Dockerfile copies exists, no secret is baked in."""

from __future__ import annotations

import configparser
import importlib.util
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from ascep.common.config import COMMON_SETTINGS, load_settings
from ascep.common.hosts import HostAllowList
from ascep.service_registry import service_registry

REPO = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
DOCKERFILE = (REPO / "Dockerfile.railway").read_text()
SUPERVISOR = configparser.RawConfigParser()
SUPERVISOR.read(REPO / "supervisord.conf")

REGISTERED = {d.name: d for d in service_registry}
#: Registry name -> module run by ``python -m``.
MODULES = {
    "health": "ascep.health",
    "price_feed": "ascep.price_feed",
    "arbitrage": "ascep.arbitrage",
    "cep_engine": "ascep.cep",
    "tasks": "ascep.tasks",
}


def module_of(command: str | list[str]) -> str:
    words = command.split() if isinstance(command, str) else command
    if "-m" in words and words[words.index("-m") + 1] != "celery":
        return words[words.index("-m") + 1]
    return words[words.index("-A") + 1]  # celery -A <module>


def test_every_registered_service_has_a_module() -> None:
    assert set(MODULES) == set(REGISTERED)
    for module in MODULES.values():
        assert importlib.util.find_spec(f"{module}.__main__") is not None, module


def test_supervisord_runs_every_program_from_existing_modules() -> None:
    programs = {
        s.removeprefix("program:"): SUPERVISOR.get(s, "command")
        for s in SUPERVISOR.sections()
        if s.startswith("program:")
    }
    assert set(programs) == {"redis", "gateway", "celery_worker", *REGISTERED}
    for name, command in programs.items():
        if name == "redis":
            continue
        assert importlib.util.find_spec(module_of(command)) is not None, command
        section = f"program:{name}"
        assert SUPERVISOR.get(section, "autorestart") == "true"
        # One file per program (`./ascep ctl logs`); the launcher links them to stdout in the container.
        assert SUPERVISOR.get(section, "stdout_logfile") == "%(ENV_ASCEP_LOG_DIR)s/%(program_name)s.log"
        assert SUPERVISOR.get(section, "stdout_logfile_maxbytes") == "%(ENV_ASCEP_LOG_MAXBYTES)s"
        assert SUPERVISOR.get(section, "stopasgroup") == "true"
    for name in REGISTERED:
        env = SUPERVISOR.get(f"program:{name}", "environment")
        assert f'PORT="%(ENV_{name.upper()}_PORT)s"' in env


def test_the_embedded_redis_persists_in_its_own_directory() -> None:
    words = SUPERVISOR.get("program:redis", "command").split()
    options = dict(zip(words[1::2], words[2::2], strict=False))
    assert options["--appendonly"] == "yes"
    assert options["--appendfsync"] == "everysec"
    assert options["--dir"] == "%(ENV_ASCEP_REDIS_DIR)s"
    assert options["--bind"] == "127.0.0.1"


def test_the_containers_keep_redis_data_on_a_volume() -> None:
    redis_service = COMPOSE["services"]["redis"]
    command = redis_service["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert redis_service["volumes"] == ["redis-data:/data"]
    assert "redis-data" in COMPOSE["volumes"]
    assert 'VOLUME ["/data"]' in DOCKERFILE
    assert "ASCEP_REDIS_DIR=/data/redis" in DOCKERFILE
    assert "ASCEP_LOGS=console" in DOCKERFILE, "Railway reads the container's stdout"


def test_compose_services_match_the_registry() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"redis", "gateway", "worker", *REGISTERED}
    anchor_env = services["gateway"]["environment"]
    for name, definition in REGISTERED.items():
        service = services[name]
        assert module_of(service["command"]) == MODULES[name]
        assert service["environment"]["PORT"] == str(definition.port)
        assert anchor_env[definition.host_variable] == name, "the gateway reaches it by service name"
    assert module_of(services["worker"]["command"]) == "ascep.tasks.celery_app"
    assert services["gateway"]["ports"] == ["5000:5000"]
    assert anchor_env["REDIS_URL"] == "redis://redis:6379/0"
    assert anchor_env["SECRET_KEY"].startswith("${SECRET_KEY:?"), "no default secret"
    assert anchor_env["JWT_SECRET"].startswith("${JWT_SECRET:?"), "production needs it, with no default"
    for name in REGISTERED:
        assert "JWT_SECRET" not in services[name]["environment"], "only the gateway holds the token secret"
    for service in services.values():
        if service is not services["redis"]:
            assert service["depends_on"]["redis"]["condition"] == "service_healthy"


def test_dockerfile_copies_only_existing_files_runs_unprivileged_and_bakes_no_secret() -> None:
    for line in re.findall(r"^COPY (?!--from)(.+)$", DOCKERFILE, flags=re.M):
        *sources, _dest = line.split()
        for source in sources:
            assert (REPO / source).exists(), f"COPY source {source} is missing"
    assert re.search(r"^USER (?!root)\w+", DOCKERFILE, flags=re.M)
    assert "HEALTHCHECK" in DOCKERFILE
    assert "/health" in DOCKERFILE
    assert not re.search(r"^\s*(ENV|ARG)\b.*(SECRET_KEY|JWT_SECRET)", DOCKERFILE, flags=re.M)
    assert "ASCEP_ENV=production" in DOCKERFILE
    assert "redis-server" in DOCKERFILE
    assert 'CMD ["python", "-m", "ascep.launcher", "/app/supervisord.conf"]' in DOCKERFILE
    built = re.search(r"^COPY --from=dashboard (\S+) (\S+)$", DOCKERFILE, flags=re.M)
    assert built is not None
    assert "npm run build" in DOCKERFILE
    assert (REPO / "frontend" / "package-lock.json").exists()


@pytest.mark.parametrize("script", ["start_docker.sh", "ascep", ".ci/run"])
def test_shell_scripts_parse(script: str) -> None:
    assert subprocess.run(["bash", "-n", str(REPO / script)], capture_output=True).returncode == 0
    assert (REPO / script).stat().st_mode & 0o111, f"{script} is not executable"


def _compose_value(raw: str, environ: dict[str, str]) -> str:
    """Compose's ``${VAR:-default}`` interpolation, enough for the values used here."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: environ.get(m[1]) or m[2], raw)


@pytest.mark.parametrize("extra", [{}, {"ALLOWED_HOSTS": "ascep.lan"}])
def test_compose_allows_every_host_its_containers_are_called_by(extra: dict[str, str]) -> None:
    env = COMPOSE["services"]["gateway"]["environment"]
    allowed_hosts = _compose_value(env["ALLOWED_HOSTS"], extra)
    production = {"ASCEP_ENV": "production", "SECRET_KEY": "k" * 40, "ALLOWED_HOSTS": allowed_hosts}
    allowed = HostAllowList.from_patterns(load_settings(COMMON_SETTINGS, environ=production)["ALLOWED_HOSTS"])
    called_by = [f"{name}:{d.port}" for name, d in REGISTERED.items()]
    called_by += ["gateway:5000", "localhost:5000", "127.0.0.1:5000", *[f"{h}:5000" for h in extra.values()]]
    for host in called_by:
        assert allowed.allows(host), host
    assert not allowed.allows("evil.com:5000")
    assert not allowed.any_host, "compose must not switch host checking off"


def test_railway_image_allows_its_public_domain_and_loopback() -> None:
    found = re.search(r'ALLOWED_HOSTS="([^"]+)"', DOCKERFILE)
    assert found is not None, "production refuses to start without ALLOWED_HOSTS"
    allowed = HostAllowList.from_patterns(found[1].split(","))
    for host in ("ascep-production.up.railway.app", "127.0.0.1:5002", "localhost:5000"):
        assert allowed.allows(host), host
    assert not allowed.allows("evil.com")
