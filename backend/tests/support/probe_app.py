"""A minimal service app (common settings only) for tests of what every service shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ascep.common.app_factory import ServiceApp, create_service_app
from ascep.common.config import CommonSettings, port_setting


@dataclass(frozen=True, kw_only=True)
class ProbeSettings(CommonSettings):
    """A service that declares nothing of its own."""

    port: int = port_setting(5999)


def probe_app(config: Mapping[str, Any] | None = None) -> ServiceApp:
    """``create_service_app`` for a service named ``probe`` with only the common settings."""
    return create_service_app("probe", ProbeSettings.load(config), config)
