"""Serve the built dashboard (``frontend/dist``) from the gateway, to browsers only.

Why here and not behind a separate web server: one origin for the page, ``/api`` and
``/socket.io`` means no CORS and one URL to deploy. Why content negotiation: ``/`` already
answers API clients with the gateway's information, and they must keep getting JSON; a browser
navigating says it prefers ``text/html`` (``Accept: text/html,...,*/*;q=0.8``), ``curl`` and
``requests`` say ``*/*`` (JSON wins the tie) or ``application/json``.

- Files of the build (``/assets/*``, ``/favicon.svg``) are served to anyone; hashed assets are
  cached for a year, ``index.html`` never (so a new build is picked up at once).
- Any other GET/HEAD path that prefers HTML — ``/`` and client-side routes such as ``/prices`` —
  gets ``index.html``; the router in the page takes it from there.
- ``/api/*`` and ``/socket.io`` never reach Flask's routing (the dispatcher and Socket.IO take
  them first); ``/health``, ``/ready``, ``/status``, ``/metrics``, ``/openapi.json`` and the API
  documentation (``/docs``, ``/docs/...``, ``/redoc``) are left alone.
- No build (no ``index.html`` in the directory): nothing changes, ``/`` is JSON as before.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, Response, request, send_from_directory
from werkzeug.security import safe_join

logger = logging.getLogger(__name__)

#: Paths the gateway answers itself, whatever the Accept header says.
OWN_PATHS = frozenset({"/health", "/ready", "/status", "/metrics", "/openapi.json", "/docs", "/redoc"})
RESERVED_PREFIXES = ("/api/", "/socket.io", "/docs/")
IMMUTABLE = "public, max-age=31536000, immutable"


def default_dist_dir() -> Path:
    """``frontend/dist`` of the source checkout this package runs from (editable install)."""
    return Path(__file__).resolve().parents[4] / "frontend" / "dist"


def resolve_dist_dir(configured: str) -> Path:
    return Path(configured).expanduser().resolve() if configured else default_dist_dir()


def prefers_html() -> bool:
    """True when the client ranks ``text/html`` above JSON (a browser navigating)."""
    accept = request.accept_mimetypes
    if not accept or accept["text/html"] <= 0:
        return False
    return accept.best_match(["application/json", "text/html"]) == "text/html"


def _is_reserved(path: str) -> bool:
    return path in OWN_PATHS or path == "/api" or path.startswith(RESERVED_PREFIXES)


def install_dashboard(app: Flask, dist_dir: Path) -> None:
    """Register the hooks that serve ``dist_dir`` (checked on each request: a later build works)."""
    logger.info("dashboard: serving %s to browsers when it holds a build", dist_dir)

    @app.before_request
    def serve_dashboard() -> Response | None:
        if request.method not in ("GET", "HEAD") or _is_reserved(request.path):
            return None
        index = dist_dir / "index.html"
        if not index.is_file():
            return None
        relative = request.path.lstrip("/")
        if relative:
            candidate = safe_join(str(dist_dir), relative)
            if candidate is not None and Path(candidate).is_file():
                response = send_from_directory(dist_dir, relative, max_age=0)
                if relative.startswith("assets/"):
                    response.headers["Cache-Control"] = IMMUTABLE
                return response
            if "." in relative.rsplit("/", 1)[-1]:
                return None  # a missing file is a 404, not the app shell
        if not prefers_html():
            return None
        response = send_from_directory(dist_dir, "index.html", max_age=0)
        response.headers["Cache-Control"] = "no-cache"
        response.vary.add("Accept")
        return response

    @app.after_request
    def vary_on_accept(response: Response) -> Response:
        if request.path == "/":
            response.vary.add("Accept")
        return response
