"""Host and Redis metrics for the report: what an operator looks at when services slow down."""

from __future__ import annotations

import logging
import os
from typing import Any

import psutil
import redis

from ascep.common.redis_client import REDIS_UNAVAILABLE_ERRORS

logger = logging.getLogger(__name__)


def host_metrics(disk_path: str = "/") -> dict[str, Any]:
    memory = psutil.virtual_memory()
    disk = psutil.disk_usage(disk_path)
    load1, load5, load15 = os.getloadavg()
    return {
        "cpu_percent": psutil.cpu_percent(interval=None),  # since the previous call: no blocking
        "cpu_count": psutil.cpu_count(),
        "memory": {"total": memory.total, "used": memory.used, "percent": memory.percent},
        "disk": {"path": disk_path, "total": disk.total, "used": disk.used, "percent": disk.percent},
        "load_average": {"1m": load1, "5m": load5, "15m": load15},
    }


def redis_metrics(client: redis.Redis) -> dict[str, Any]:
    """The few INFO fields that explain a slow or full Redis; ``available: False`` when it is down."""
    try:
        info = client.info()
    except REDIS_UNAVAILABLE_ERRORS as exc:
        return {"available": False, "error": type(exc).__name__}
    return {
        "available": True,
        "version": info.get("redis_version"),
        "used_memory": info.get("used_memory"),
        "used_memory_human": info.get("used_memory_human"),
        "maxmemory": info.get("maxmemory"),
        "connected_clients": info.get("connected_clients"),
        "ops_per_sec": info.get("instantaneous_ops_per_sec"),
        "uptime_seconds": info.get("uptime_in_seconds"),
    }
