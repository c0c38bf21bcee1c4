"""Flask glue shared by every ASCEP app: request ids, the error envelope, JSON error pages, and
the one reader of JSON request bodies (:func:`json_body`).

Kept apart from :mod:`ascep.common.errors` so that domain code can raise ASCEP errors without
importing Flask.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import Flask, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from ascep.common.errors import (
    AscepError,
    BadRequest,
    DependencyUnavailable,
    InternalError,
    PayloadTooLarge,
    error_for_status,
)
from ascep.common.jsonparse import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, parse_json
from ascep.common.request_id import (
    REQUEST_ID_HEADER,
    current_request_id,
    request_id_from_environ,
)

logger = logging.getLogger(__name__)


def request_id() -> str | None:
    """The current request's correlation id (``None`` outside a request)."""
    return getattr(g, "request_id", None)


def error_response(error: AscepError, extra: dict[str, Any] | None = None) -> Response:
    """Render ``error`` as the envelope; ``extra`` adds top-level fields (e.g. a health report)."""
    body = dict(extra or {})
    body.update(error.envelope(request_id()))
    response = jsonify(body)
    response.status_code = error.status_code
    for name, value in error.response_headers():
        response.headers.add(name, value)
    return response


def json_body() -> Any:
    """The request's JSON document, bounded by ``MAX_JSON_BODY_BYTES`` and ``MAX_JSON_DEPTH``.

    Every JSON endpoint of every service reads its body here, so they all refuse the same things
    with the same envelope: 400 for a body that is not ``application/json``, not UTF-8 JSON or
    nested too deeply (``details.max_depth``), 413 for one over the size limit
    (``details.max_bytes``) — read at most one byte past the limit, even when chunked.
    """
    config = current_app.config
    max_bytes = int(config.get("MAX_JSON_BODY_BYTES", DEFAULT_MAX_BYTES))
    max_depth = int(config.get("MAX_JSON_DEPTH", DEFAULT_MAX_DEPTH))
    if not request.is_json:
        raise BadRequest(
            "the body must be JSON (Content-Type: application/json)",
            {"content_type": request.mimetype or None},
        )
    too_large = PayloadTooLarge(f"JSON bodies are limited to {max_bytes} bytes", {"max_bytes": max_bytes})
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    data = _read_at_most(max_bytes + 1)
    if len(data) > max_bytes:
        raise too_large
    return parse_json(data, max_depth)


def _read_at_most(limit: int) -> bytes:
    """Up to ``limit`` bytes of the body (a stream read may return less than asked: loop)."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = request.stream.read(min(64 * 1024, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def install_request_context(app: Flask) -> None:
    """Give every request a correlation id: accepted from the client or minted, echoed back."""

    @app.before_request
    def _assign_request_id() -> None:
        rid = request_id_from_environ(request.environ)
        g.request_id = rid
        g.request_id_token = current_request_id.set(rid)

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        rid = request_id()
        if rid:
            response.headers[REQUEST_ID_HEADER] = rid
        return response

    @app.teardown_request
    def _reset_request_id(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            current_request_id.reset(token)


def install_error_handlers(app: Flask) -> None:
    """Every error an app returns, including Flask's own 404/405, uses the envelope."""

    @app.errorhandler(AscepError)
    def _ascep_error(error: AscepError) -> Response:
        if error.status_code >= 500:
            logger.warning("%s %s -> %s %s", request.method, request.path, error.code, error.message)
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        wrapped = error_for_status(status, error.description or error.name)
        response = error_response(wrapped)
        valid_methods = getattr(error, "valid_methods", None)
        if status == 405 and valid_methods:
            response.headers["Allow"] = ", ".join(sorted(valid_methods))
        return response

    @app.errorhandler(redis.ConnectionError)
    @app.errorhandler(redis.TimeoutError)
    def _dependency_down(error: Exception) -> Response:
        # A view that did not handle Redis being away: still a 503 that
        # says so, not an opaque 500, so clients know to retry.
        logger.warning("%s %s: Redis unavailable (%s)", request.method, request.path, error)
        return error_response(
            DependencyUnavailable("Redis is unavailable; retry shortly", {"dependency": "redis"})
        )

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(InternalError("internal error"))
