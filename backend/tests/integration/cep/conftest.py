"""CEP integration fixtures: the engine as a real process, real Redis, a webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from support.processes import HttpService


def cep_env(redis_url: str, **overrides: str) -> dict[str, str]:
    env = {"REDIS_URL": redis_url, "CEP_TICK_INTERVAL_S": "0.05", "LOG_LEVEL": "INFO"}
    env.update(overrides)
    return env


@pytest.fixture
def start_cep(start_service: Callable[..., HttpService], redis_url: str) -> Callable[..., HttpService]:
    """Start ``python -m ascep.cep`` on a free port (stopped after the test); waits until subscribed."""

    def start(name: str = "cep", **overrides: str) -> HttpService:
        return start_service(name, "ascep.cep", cep_env(redis_url, **overrides))

    return start


class WebhookReceiver:
    """A real HTTP server recording the JSON bodies POSTed to it; answers ``status`` (settable)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.attempts = 0
        self.fail_first = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                receiver.attempts += 1
                status = 503 if receiver.attempts <= receiver.fail_first else 200
                if status == 200:
                    receiver.bodies.append(body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A local webhook endpoint, shut down after the test."""
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()
