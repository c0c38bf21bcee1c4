"""``GET /openapi.json`` on every ASCEP app: its own OpenAPI 3.1 document, built once.

The URL map does not change after start-up, so the document is built on the first request and
kept (``app.extensions``); the gateway fetches it from each service in the background.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify

from ascep.common.openapi.builder import build_spec
from ascep.common.openapi.model import doc
from ascep.common.openapi.schemas import OBJECT

_KEY = "ascep.openapi"

openapi_blueprint = Blueprint("openapi", __name__)


def service_spec(app: Flask) -> dict[str, Any]:
    """``app``'s OpenAPI document (built on first use, then cached)."""
    spec: dict[str, Any] | None = app.extensions.get(_KEY)
    if spec is None:
        service = app.extensions["ascep.ops"].service
        spec = build_spec(
            app,
            title=f"ASCEP {service} API",
            description=f"The {service} service's HTTP API as it serves it (without the gateway's /api).",
            tag=service,
        )
        app.extensions[_KEY] = spec
    return spec


@openapi_blueprint.get("/openapi.json")
@doc("This service's OpenAPI 3.1 document", ok=OBJECT, public=True)
def openapi_json() -> Response:
    return jsonify(service_spec(current_app))
