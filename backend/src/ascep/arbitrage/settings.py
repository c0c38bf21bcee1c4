"""Process settings of the arbitrage detector, read once from the environment.

What a trader tunes at run time (fees, thresholds, cycle length...) is not here: it is the live
configuration of :mod:`.config`, changed with ``PUT /config`` and persisted in Redis.
"""

from __future__ import annotations

from ascep.common.config import Setting, port_setting

SERVICE_NAME = "arbitrage"
DEFAULT_PORT = 5003

SETTINGS: tuple[Setting, ...] = (
    port_setting(DEFAULT_PORT),
    Setting(
        "ARBITRAGE_HISTORY_MAX",
        int,
        1000,
        "Signals kept in Redis (`ascep:arbitrage:signals`); the least recently seen are deleted first.",
        minimum=1,
    ),
    Setting(
        "ARBITRAGE_HISTORY_TTL_S",
        int,
        86_400,
        "Seconds a stored signal lives after its last write (bounded history by age).",
        minimum=1,
    ),
    Setting(
        "ARBITRAGE_SWEEP_INTERVAL_S",
        float,
        0.5,
        "Seconds between sweeps that close signals whose quotes went stale.",
        minimum=0.01,
        maximum=60.0,
    ),
    Setting(
        "ARBITRAGE_LEADER_LEASE_S",
        float,
        5.0,
        "Lease of the instance that stores and publishes signals (others stand by and take over "
        "when it expires); 0 = every instance publishes.",
        minimum=0.0,
    ),
)
