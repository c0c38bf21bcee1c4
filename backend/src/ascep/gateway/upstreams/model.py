"""One instance of a registered service, as every upstream module sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Source = Literal["static", "discovered"]


@dataclass(frozen=True, slots=True)
class UpstreamKey:
    """Identifies an instance across gateway processes (Redis keys and events use it)."""

    service: str
    instance_id: str

    def __str__(self) -> str:
        return f"{self.service}/{self.instance_id}"


@dataclass(eq=False, slots=True)
class Upstream:
    """One address that serves a service, with the local view of its routing state.

    The identity fields come from the registry (``static``: ``instance_id`` is ``host:port``) or
    from a service's own registration (``discovered``). The mutable fields are this process's
    copy of shared state (health, ejection, breaker), written by their owning modules only, and
    ``in_flight`` counts this process's calls in progress (what ``least_request`` compares).
    """

    service: str
    instance_id: str
    base_url: str  # scheme://host:port, no trailing slash
    source: Source = "static"
    weight: int = 1
    version: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    last_heartbeat: float | None = None  # epoch seconds, discovered instances only
    # --- routing state (local copy; owners: health routing, outlier detection, breakers) ---
    healthy: bool = True
    ejected_until: float = 0.0  # monotonic seconds; 0 = not ejected
    times_ejected: int = 0
    breaker_state: Literal["closed", "open", "half_open"] = "closed"
    breaker_retry_at: float = 0.0  # monotonic seconds: an open breaker lets probes through from then
    in_flight: int = 0

    @property
    def key(self) -> UpstreamKey:
        return UpstreamKey(self.service, self.instance_id)

    @property
    def address(self) -> str:
        """``host:port`` of :attr:`base_url` (the keep-alive pool is per address)."""
        return self.base_url.split("://", 1)[-1]
