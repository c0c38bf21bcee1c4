"""A real HTTP endpoint that records the JSON POSTed to it (webhook tests)."""

from __future__ import annotations

import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookReceiver:
    """A real HTTP server recording the JSON bodies POSTed to it; answers ``status`` (settable).

    ``address``: where it listens (``127.0.0.2`` makes a second loopback host, e.g. a "forbidden
    internal service" a test checks is never reached). ``tls``: an ``ssl.SSLContext`` to serve
    HTTPS with; the name the client asked for (SNI) is recorded in ``server_names``.
    """

    def __init__(self, address: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.hosts: list[str] = []  # the Host header of every request
        self.server_names: list[str | None] = []  # SNI of every TLS handshake
        self.attempts = 0
        self.fail_first = 0  # this many first attempts fail ...
        self.fail_status = 503  # ... with this status
        self.delay_s = 0.0  # a slow endpoint: each answer waits this long
        self.redirect_to: str | None = None  # answer 307 to this URL instead
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                receiver.attempts += 1
                receiver.hosts.append(self.headers.get("Host", ""))
                time.sleep(receiver.delay_s)
                if receiver.redirect_to is not None:
                    self.send_response(307)
                    self.send_header("Location", receiver.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = receiver.fail_status if receiver.attempts <= receiver.fail_first else 200
                if status == 200:
                    receiver.bodies.append(body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((address, 0), Handler)
        self.scheme = "http"
        if tls is not None:

            def record_sni(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
                receiver.server_names.append(name)

            tls.sni_callback = record_sni  # type: ignore[assignment]
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        # A short poll interval: close() (shutdown) waits up to one interval for the loop to notice.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return self.url_for(str(self.server.server_address[0]))

    def url_for(self, host: str) -> str:
        """This receiver's URL written with another host (a name, an IP form) for the same socket."""
        return f"{self.scheme}://{host}:{self.port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
