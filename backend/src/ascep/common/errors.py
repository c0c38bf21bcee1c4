"""The one error hierarchy of ASCEP, and the JSON envelope every HTTP error is rendered in.

Every error a client can see is an :class:`AscepError` carrying an HTTP ``status_code`` and a
stable machine-readable ``code``. Views and proxy steps raise them; one handler per app renders
``{"error": {"code", "message", "details"}, "request_id"}``. Messages are written for the
client: they never contain internal URLs or tracebacks.

    AscepError                      500 INTERNAL_ERROR
    ├── ConfigError                 (start-up only: a setting is missing or malformed)
    ├── RegistrationError           (start-up only: a service registration is invalid)
    ├── ClientError                 4xx: the request is at fault
    │   ├── BadRequest              400 BAD_REQUEST
    │   │   └── HostNotAllowed      400 HOST_NOT_ALLOWED (``Host`` not in ALLOWED_HOSTS)
    │   ├── Unauthorized            401 UNAUTHORIZED (no, or no valid, credential; ``WWW-Authenticate``)
    │   ├── Forbidden               403 FORBIDDEN (a valid credential without the scope the route needs)
    │   │   └── OriginNotAllowed    403 ORIGIN_NOT_ALLOWED (Socket.IO handshake from a foreign page)
    │   ├── NotFound                404 NOT_FOUND
    │   ├── MethodNotAllowed        405 METHOD_NOT_ALLOWED
    │   ├── RequestTimeout          408 REQUEST_TIMEOUT (headers or body arrived too slowly)
    │   ├── Conflict                409 CONFLICT
    │   ├── LengthRequired          411 LENGTH_REQUIRED (a body must declare its ``Content-Length``)
    │   ├── PayloadTooLarge         413 PAYLOAD_TOO_LARGE
    │   ├── UriTooLong              414 URI_TOO_LONG
    │   ├── ValidationFailed        422 VALIDATION_ERROR
    │   ├── RateLimited             429 RATE_LIMITED
    │   └── HeadersTooLarge         431 HEADERS_TOO_LARGE
    └── ServerError                 5xx: we, or something behind us, are at fault
        ├── InternalError           500 INTERNAL_ERROR
        ├── HttpVersionNotSupported 505 HTTP_VERSION_NOT_SUPPORTED
        ├── BadGateway              502 BAD_GATEWAY
        ├── ServiceUnavailable      503 SERVICE_UNAVAILABLE
        │   ├── DependencyUnavailable  503 DEPENDENCY_UNAVAILABLE (e.g. Redis is down)
        │   ├── ServiceOverloaded   503 SERVICE_OVERLOADED (a service's concurrency limit is full)
        │   ├── NoHealthyUpstream   503 NO_HEALTHY_UPSTREAM (no instance of the service may be called)
        │   └── CircuitOpen         503 CIRCUIT_OPEN (an instance's circuit breaker is open)
        └── UpstreamTimeout         504 UPSTREAM_TIMEOUT
"""

from __future__ import annotations

import json
from typing import Any, ClassVar


class AscepError(Exception):
    """Base of every ASCEP error; renders as the standard error envelope."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}
        #: Extra response headers the answer must carry (``Retry-After``, ``RateLimit``...): a
        #: step may add to them on the way up, so an error still says what a success would.
        self.headers: list[tuple[str, str]] = []

    def envelope(self, request_id: str | None) -> dict[str, Any]:
        """The JSON-ready error envelope for this error."""
        return error_envelope(self.code, self.message, self.details, request_id)

    def response_headers(self) -> list[tuple[str, str]]:
        """Headers the answer must carry besides the envelope (every renderer adds them): what
        steps added on the way up (:attr:`headers`) plus the class's own (a challenge)."""
        return list(self.headers)


class ConfigError(AscepError):
    """A setting is missing or malformed; raised at start-up, naming the setting."""

    def __init__(self, setting: str, reason: str) -> None:
        super().__init__(f"{setting}: {reason}", {"setting": setting})
        self.setting = setting
        self.reason = reason


class RegistrationError(AscepError):
    """A service registration is invalid; raised when the registry line runs, not on traffic."""

    def __init__(self, argument: str, reason: str) -> None:
        super().__init__(f"register_service({argument}=...): {reason}", {"argument": argument})
        self.argument = argument


class ClientError(AscepError):
    """The request is at fault (4xx)."""

    status_code = 400
    code = "BAD_REQUEST"


class BadRequest(ClientError):
    status_code = 400
    code = "BAD_REQUEST"


class HostNotAllowed(BadRequest):
    code = "HOST_NOT_ALLOWED"


#: The protection space named in every ``WWW-Authenticate`` challenge (RFC 6750 §3).
AUTH_REALM = "ascep"


def bearer_challenge(
    error: str | None = None, description: str | None = None, scope: str | None = None
) -> str:
    """A ``WWW-Authenticate: Bearer ...`` value (RFC 6750 §3); ``error`` is an RFC 6750 code."""
    parts = [f'realm="{AUTH_REALM}"']
    if error:
        parts.append(f'error="{error}"')
    if description:
        parts.append('error_description="{}"'.format(description.replace("\\", "").replace('"', "'")))
    if scope:
        parts.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(parts)


class Unauthorized(ClientError):
    """No credential, or one that does not verify: the client must (re)authenticate.

    ``challenge`` becomes the ``WWW-Authenticate`` header every 401 carries (RFC 9110 §11.6.1).
    """

    status_code = 401
    code = "UNAUTHORIZED"

    def __init__(
        self, message: str, details: dict[str, Any] | None = None, *, challenge: str | None = None
    ) -> None:
        super().__init__(message, details)
        self.challenge = challenge or bearer_challenge()

    def response_headers(self) -> list[tuple[str, str]]:
        return [*self.headers, ("WWW-Authenticate", self.challenge)]


class Forbidden(ClientError):
    """Authenticated, but not allowed; ``challenge`` (optional) names the missing scope (RFC 6750)."""

    status_code = 403
    code = "FORBIDDEN"

    def __init__(
        self, message: str, details: dict[str, Any] | None = None, *, challenge: str | None = None
    ) -> None:
        super().__init__(message, details)
        self.challenge = challenge

    def response_headers(self) -> list[tuple[str, str]]:
        challenge = [("WWW-Authenticate", self.challenge)] if self.challenge else []
        return [*self.headers, *challenge]


class OriginNotAllowed(Forbidden):
    code = "ORIGIN_NOT_ALLOWED"


class NotFound(ClientError):
    status_code = 404
    code = "NOT_FOUND"


class MethodNotAllowed(ClientError):
    status_code = 405
    code = "METHOD_NOT_ALLOWED"


class RequestTimeout(ClientError):
    status_code = 408
    code = "REQUEST_TIMEOUT"


class Conflict(ClientError):
    status_code = 409
    code = "CONFLICT"


class LengthRequired(ClientError):
    status_code = 411
    code = "LENGTH_REQUIRED"


class PayloadTooLarge(ClientError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


class UriTooLong(ClientError):
    status_code = 414
    code = "URI_TOO_LONG"


class ValidationFailed(ClientError):
    status_code = 422
    code = "VALIDATION_ERROR"


class RateLimited(ClientError):
    """Over a rate limit; the answer carries ``Retry-After`` and the ``RateLimit`` headers."""

    status_code = 429
    code = "RATE_LIMITED"


class HeadersTooLarge(ClientError):
    status_code = 431
    code = "HEADERS_TOO_LARGE"


class ServerError(AscepError):
    """We, or a dependency behind us, are at fault (5xx)."""


class InternalError(ServerError):
    status_code = 500
    code = "INTERNAL_ERROR"


class BadGateway(ServerError):
    status_code = 502
    code = "BAD_GATEWAY"


class ServiceUnavailable(ServerError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"


class DependencyUnavailable(ServiceUnavailable):
    code = "DEPENDENCY_UNAVAILABLE"


class ServiceOverloaded(ServiceUnavailable):
    code = "SERVICE_OVERLOADED"


class NoHealthyUpstream(ServiceUnavailable):
    code = "NO_HEALTHY_UPSTREAM"


class CircuitOpen(ServiceUnavailable):
    """The instance's breaker is open (or half-open with every probe taken): answered at once."""

    code = "CIRCUIT_OPEN"

    def __init__(self, message: str, details: dict[str, Any], retry_after: int) -> None:
        super().__init__(message, details)
        self.retry_after = retry_after


class UpstreamTimeout(ServerError):
    status_code = 504
    code = "UPSTREAM_TIMEOUT"


class HttpVersionNotSupported(ServerError):
    status_code = 505
    code = "HTTP_VERSION_NOT_SUPPORTED"


_STATUS_TO_CLASS: dict[int, type[AscepError]] = {
    cls.status_code: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        RequestTimeout,
        Conflict,
        PayloadTooLarge,
        UriTooLong,
        ValidationFailed,
        RateLimited,
        HeadersTooLarge,
        InternalError,
        BadGateway,
        ServiceUnavailable,
        UpstreamTimeout,
        HttpVersionNotSupported,
    )
}


def error_for_status(status: int, message: str, details: dict[str, Any] | None = None) -> AscepError:
    """Build the canonical error for an HTTP status (used to wrap framework errors)."""
    cls = _STATUS_TO_CLASS.get(status)
    if cls is None:
        cls = ClientError if 400 <= status < 500 else InternalError
    err = cls(message, details)
    if cls in (ClientError, InternalError) and status != cls.status_code:
        err.status_code = status  # type: ignore[misc]  # keep an unusual status verbatim
    return err


def error_envelope(
    code: str, message: str, details: dict[str, Any] | None, request_id: str | None
) -> dict[str, Any]:
    """The one error shape of every ASCEP HTTP API."""
    return {
        "error": {"code": code, "message": message, "details": details or {}},
        "request_id": request_id,
    }


def envelope_bytes(error: AscepError, request_id: str | None) -> bytes:
    """The envelope of ``error`` as compact UTF-8 JSON (for raw WSGI responses)."""
    return json.dumps(error.envelope(request_id), separators=(",", ":")).encode()
