"""Everything one price feed process holds, and its lifecycle (``app.extensions["ascep.price_feed"]``)."""

from __future__ import annotations

from dataclasses import dataclass

import redis

from ascep.price_feed.feed import PriceFeed
from ascep.price_feed.settings import PriceFeedSettings


@dataclass
class PriceFeedRuntime:
    """The feed (sources + publisher) and the client that reads histories back."""

    settings: PriceFeedSettings
    feed: PriceFeed
    reader: redis.Redis

    def start(self) -> None:
        self.feed.start()

    def stop(self) -> None:
        """Stop the sources, then write what the publisher still buffers."""
        self.feed.stop()
