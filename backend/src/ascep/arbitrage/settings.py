"""Process settings of the arbitrage detector, read once from the environment.

What a trader tunes at run time (fees, thresholds, cycle length...) is not here: it is the live
configuration of :mod:`.config`, changed with ``PUT /config`` and persisted in Redis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ascep.common.config import CommonSettings, Rule, Setting, port_setting, setting
from ascep.service_registry import registered_port

SERVICE_NAME = "arbitrage"


@dataclass(frozen=True, kw_only=True)
class ArbitrageSettings(CommonSettings):
    """Process settings of the detector, typed; built once by ``create_app``."""

    RULES: ClassVar[tuple[Rule, ...]] = (
        Rule(
            "ARBITRAGE_LEADER_LEASE_S",
            "ARBITRAGE_SWEEP_INTERVAL_S",
            # the lease is renewed every sweep: it must survive a late one
            lambda s: (
                s.arbitrage_leader_lease_s == 0
                or s.arbitrage_leader_lease_s >= 3 * s.arbitrage_sweep_interval_s
            ),
            "must be 0 or at least 3 x",
        ),
    )

    port: int = port_setting(registered_port(SERVICE_NAME))
    arbitrage_history_max: int = setting(
        1000,
        "Signals kept in Redis (`ascep:arbitrage:signals`); the least recently seen are deleted first.",
        minimum=1,
    )
    arbitrage_history_ttl_s: int = setting(
        86_400,
        "Seconds a stored signal lives after its last write (bounded history by age).",
        minimum=1,
    )
    arbitrage_sweep_interval_s: float = setting(
        0.5,
        "Seconds between sweeps that close signals whose quotes went stale.",
        minimum=0.01,
        maximum=60.0,
    )
    arbitrage_leader_lease_s: float = setting(
        5.0,
        "Lease of the instance that stores and publishes signals (others stand by and take over "
        "when it expires); 0 = every instance publishes.",
        minimum=0.0,
    )


SETTINGS: tuple[Setting, ...] = ArbitrageSettings.own()
