"""The platform's documents and documentation pages, served by the gateway.

``/api/openapi.json`` and ``/api/openapi.yaml`` answer the prepared merged document (never a fetch:
:mod:`.catalog` refreshes it in the background); ``/api/asyncapi.json`` the Socket.IO events;
``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) render the OpenAPI document with assets served
from the dashboard's build (:mod:`.pages`).
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory

from ascep.common.errors import NotFound, ServiceUnavailable
from ascep.common.openapi import Reply, doc
from ascep.common.openapi.params import path_param
from ascep.common.openapi.schemas import OBJECT
from ascep.gateway.bundle import Gateway
from ascep.gateway.openapi import pages
from ascep.gateway.openapi.asyncapi import asyncapi_document

bp = Blueprint("api_docs", __name__)

_ASSETS = (*pages.SWAGGER_FILES, *pages.REDOC_FILES)
_ASSET = path_param("name", "One of the vendored files", {"enum": list(_ASSETS)}, example="swagger-ui.css")
_MISSING = {503: "The documentation assets are not built (npm run build in frontend/)"}
_HTML = Reply("The page", {"type": "string"}, media="text/html")
_JS = Reply("Its start-up script", {"type": "string"}, media="text/javascript")


def _gateway() -> Gateway:
    return current_app.extensions["ascep.gateway"]


def _assets_dir() -> Path:
    return _gateway().dashboard_dist / pages.ASSETS_DIR


def _page(html: str, needs: tuple[str, ...]) -> Response:
    missing = [name for name in needs if not (_assets_dir() / name).is_file()]
    if missing:
        raise ServiceUnavailable(
            "the documentation pages' assets are not built: run `npm run build` in frontend/ "
            "(./ascep run does it); the document itself is at /api/openapi.json",
            {"missing": missing, "directory": pages.ASSETS_DIR},
        )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = pages.CSP
    response.headers["Cache-Control"] = "no-cache"
    return response


def _script(text: str) -> Response:
    response = Response(text, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/api/openapi.json")
@doc(
    "The platform's OpenAPI 3.1 document (this one)",
    description="The gateway's routes and every service's, as routed here; refreshed in the background "
    "every OPENAPI_REFRESH_SECONDS. `info.x-ascep-services` says which service's part is stale.",
    ok=OBJECT,
    public=True,
)
def openapi_json() -> Response:
    response = Response(_gateway().openapi.published().json_bytes, mimetype="application/json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/api/openapi.yaml")
@doc(
    "The platform's OpenAPI 3.1 document, as YAML",
    ok=Reply("The document", {"type": "string"}, media="application/yaml"),
    public=True,
)
def openapi_yaml() -> Response:
    response = Response(_gateway().openapi.published().yaml_text, mimetype="application/yaml")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/api/asyncapi.json")
@doc("The AsyncAPI 3.0 document of the Socket.IO events and the Redis bus", ok=OBJECT, public=True)
def asyncapi_json() -> Response:
    return Response(asyncapi_document(_gateway().settings.socketio_max_symbols), mimetype="application/json")


@bp.get("/docs")
@doc("Interactive documentation (Swagger UI)", ok=_HTML, errors=_MISSING, public=True)
def swagger_page() -> Response:
    return _page(pages.SWAGGER_PAGE, pages.SWAGGER_FILES)


@bp.get("/redoc")
@doc("Reference documentation (ReDoc)", ok=_HTML, errors=_MISSING, public=True)
def redoc_page() -> Response:
    return _page(pages.REDOC_PAGE, pages.REDOC_FILES)


@bp.get("/docs/swagger-init.js")
@doc("Start-up script of the Swagger UI page", ok=_JS, public=True)
def swagger_init() -> Response:
    return _script(pages.SWAGGER_INIT)


@bp.get("/docs/redoc-init.js")
@doc("Start-up script of the ReDoc page", ok=_JS, public=True)
def redoc_init() -> Response:
    return _script(pages.REDOC_INIT)


@bp.get("/docs/assets/<name>")
@doc(
    "A vendored asset of the documentation pages",
    params={"name": _ASSET},
    ok=Reply("The file", {"type": "string"}, media="*/*"),
    errors={404: "Not one of the vendored files, or not built"},
    public=True,
)
def asset(name: str) -> Response:
    if name not in _ASSETS or not (_assets_dir() / name).is_file():
        raise NotFound(f"no documentation asset {name!r}", {"name": name, "known": list(_ASSETS)})
    response = send_from_directory(_assets_dir(), name, max_age=3600)
    return response
