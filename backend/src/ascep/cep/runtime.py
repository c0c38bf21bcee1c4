"""Everything one CEP engine process holds, and its lifecycle (``app.extensions["ascep.cep_engine"]``).

:meth:`CepRuntime.start` subscribes to the event streams and starts the webhook workers; it also
tunes the garbage collector for the engine (:mod:`.gc_tuning`), which is process-wide — so it
belongs here, with whoever decided this process runs the engine, and never in ``create_app``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import redis

from ascep.cep.actions import ActionRunner
from ascep.cep.engine import Engine
from ascep.cep.gc_tuning import tune_gc
from ascep.cep.runner import EngineRunner
from ascep.cep.settings import CepSettings
from ascep.cep.store import AlertStore, RuleStore
from ascep.cep.webhook import WebhookWorker
from ascep.common.symbols import SymbolIndex

logger = logging.getLogger(__name__)


@dataclass
class CepRuntime:
    """The engine, its stores and actions, and the subscription loop that feeds it."""

    settings: CepSettings
    redis: redis.Redis
    engine: Engine
    store: RuleStore
    alerts: AlertStore
    actions: ActionRunner
    webhooks: WebhookWorker
    runner: EngineRunner
    started: bool = False
    #: The price feed's instruments: original-shape rules' symbols are resolved against them.
    symbols: SymbolIndex = field(default_factory=SymbolIndex)

    def start(self) -> None:
        tune_gc()
        self.webhooks.start()
        self.runner.start()
        self.started = True

    def stop(self) -> None:
        """End the subscription loop, then deliver the webhooks still queued (bounded)."""
        self.runner.stop()
        self.webhooks.stop()
        logger.info("CEP engine stopped: %d webhooks delivered", self.webhooks.delivered)
