"""Keep the platform's OpenAPI document current without ever fetching on a request.

A background loop asks every registered service for ``/openapi.json`` (all at once, each with
``OPENAPI_FETCH_TIMEOUT`` for the whole answer and at most ``OPENAPI_MAX_SPEC_BYTES``) every
``OPENAPI_REFRESH_SECONDS``, and rebuilds the merged document when anything changed. A service
that does not answer keeps its last good document, marked stale in the document itself
(``info.x-ascep-services``, its tag); one never reached yet is marked unavailable. Requests read
the prepared bytes: a hung or dead service costs them nothing, and the proxy path never sees
any of this.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import requests
import yaml

from ascep import __version__
from ascep.common.concurrency import parallel_map
from ascep.common.timeutil import iso_utc
from ascep.gateway.openapi.aggregate import ServiceDoc, SpecState, aggregate
from ascep.gateway.routing import ServiceDefinition, ServiceRegistry

logger = logging.getLogger(__name__)

SPEC_PATH = "/openapi.json"
TITLE = "ASCEP platform API"
DESCRIPTION = (
    "Every HTTP endpoint of the platform, as the gateway routes it: the gateway's own routes and "
    "each registered service's, under the prefix the gateway gives it. Errors always use the "
    "envelope `{error: {code, message, details}, request_id}`. Real-time events (Socket.IO) are "
    "described by the AsyncAPI document at /api/asyncapi.json."
)


class SpecFetchError(Exception):
    """A service's document could not be had (unreachable, slow, too large, not a document)."""


@dataclass(frozen=True)
class Fetched:
    """The last attempt for one service: its last good document and the error of the last try."""

    spec: Mapping[str, Any] | None
    fetched_at: str | None
    error: str | None


@dataclass(frozen=True)
class Published:
    """One version of the merged document, rendered once for every request that wants it."""

    document: dict[str, Any]
    json_bytes: bytes

    @cached_property
    def yaml_text(self) -> str:
        """YAML, rendered on the first request that asks (a few clients want it; JSON is the norm)."""
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        fresh = json.loads(self.json_bytes)  # no shared objects, so no YAML anchors/aliases
        return yaml.dump(fresh, Dumper=dumper, sort_keys=False, allow_unicode=True)


class SpecCatalog:
    """The merged document and the per-service state behind it (one per gateway process)."""

    def __init__(
        self,
        registry: ServiceRegistry,
        own_spec: Callable[[], Mapping[str, Any]],
        base_url: Callable[[ServiceDefinition], str],
        *,
        auth_required: bool,
        refresh_s: float,
        fetch_timeout_s: float,
        max_bytes: int,
        async_mode: str,
        trust_env: bool = False,
    ) -> None:
        self.registry = registry
        self._own_spec = own_spec
        self._base_url = base_url
        self.auth_required = auth_required
        self.refresh_s = refresh_s
        self.fetch_timeout_s = fetch_timeout_s
        self.max_bytes = max_bytes
        self.async_mode = async_mode
        self._session = requests.Session()
        self._session.trust_env = trust_env
        self._fetched: dict[str, Fetched] = {}
        self._published: Published | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.refreshes = 0

    # --- what requests read ------------------------------------------------------------------

    def published(self) -> Published:
        """The current document (built from what is known, without fetching, on first use)."""
        current = self._published
        if current is None:
            current = self._publish()
        return current

    def status(self) -> dict[str, Any]:
        """For ``/status``: each service's state and when its document was last fetched."""
        docs = self._service_docs()
        return {
            "refresh_seconds": self.refresh_s,
            "refreshes": self.refreshes,
            "services": {
                d.name: {"state": d.state, "fetched_at": d.fetched_at, "error": d.error} for d in docs
            },
        }

    # --- the background loop -----------------------------------------------------------------

    def run(self, sleep: Callable[[float], object]) -> None:
        """Refresh now, then every ``refresh_s`` until :meth:`stop` (one failure never ends it)."""
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception:
                logger.exception("OpenAPI refresh failed; retrying in %ss", self.refresh_s)
            sleep(self.refresh_s)

    def stop(self) -> None:
        self._stop.set()

    def refresh(self) -> bool:
        """Fetch every service's document once; republish when anything changed. True if it did."""
        definitions = list(self.registry)
        results = parallel_map(self._attempt, definitions, self.async_mode)
        changed = False
        for definition, (spec, error) in zip(definitions, results, strict=True):
            before = self._fetched.get(definition.name)
            if error is None:
                entry = Fetched(spec, iso_utc(), None)
                changed = changed or before is None or before.spec != spec or before.error is not None
            else:
                entry = Fetched(before.spec if before else None, before.fetched_at if before else None, error)
                first = before is None or before.error is None
                changed = changed or first
                # Once per outage, not once per round: the document itself says it for as long as it lasts.
                (logger.warning if first else logger.debug)(
                    "OpenAPI of %s not refreshed (%s); %s",
                    definition.name,
                    error,
                    "keeping its last good copy" if entry.spec is not None else "its paths are missing",
                )
            self._fetched[definition.name] = entry
        self.refreshes += 1
        if changed or self._published is None:
            self._publish()
        return changed

    def _attempt(self, definition: ServiceDefinition) -> tuple[Mapping[str, Any] | None, str | None]:
        try:
            return self._fetch(self._base_url(definition) + SPEC_PATH), None
        except SpecFetchError as exc:
            return None, str(exc)

    def _fetch(self, url: str) -> Mapping[str, Any]:
        deadline = time.monotonic() + self.fetch_timeout_s
        try:
            with self._session.get(url, timeout=self.fetch_timeout_s, stream=True) as response:
                if response.status_code != 200:
                    raise SpecFetchError(f"HTTP {response.status_code}")
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise SpecFetchError(f"larger than {self.max_bytes} bytes")
                    if time.monotonic() > deadline:
                        raise SpecFetchError(f"slower than {self.fetch_timeout_s}s")
                    chunks.append(chunk)
        except requests.RequestException as exc:
            raise SpecFetchError(type(exc).__name__) from exc
        try:
            spec = json.loads(b"".join(chunks))
        except (ValueError, RecursionError) as exc:
            raise SpecFetchError("not JSON") from exc
        _check_shape(spec)
        return spec

    # --- building ----------------------------------------------------------------------------

    def _service_docs(self) -> list[ServiceDoc]:
        docs = []
        for definition in self.registry:
            fetched = self._fetched.get(definition.name)
            state: SpecState
            if fetched is None or fetched.spec is None:
                state = "unavailable"
            else:
                state = "fresh" if fetched.error is None else "stale"
            docs.append(
                ServiceDoc(
                    name=definition.name,
                    endpoints=definition.endpoints,
                    description=definition.description,
                    spec=fetched.spec if fetched else None,
                    state=state,
                    fetched_at=fetched.fetched_at if fetched else None,
                    error=(fetched.error if fetched else "not fetched yet"),
                )
            )
        return docs

    def _publish(self) -> Published:
        with self._lock:
            document = aggregate(
                self._own_spec(),
                self._service_docs(),
                auth_required=self.auth_required,
                title=TITLE,
                version=__version__,
                description=DESCRIPTION,
            )
            published = Published(document, json.dumps(document, separators=(",", ":")).encode())
            self._published = published
            return published


def _check_shape(spec: Any) -> None:
    """What the merge relies on; anything else in a service's document is passed through as is."""
    if not isinstance(spec, dict) or not isinstance(spec.get("paths"), dict):
        raise SpecFetchError("not an OpenAPI document (no paths)")
    if not all(isinstance(item, dict) for item in spec["paths"].values()):
        raise SpecFetchError("a path item is not an object")
    components = spec.get("components", {})
    if not isinstance(components, dict) or not all(isinstance(v, dict) for v in components.values()):
        raise SpecFetchError("components is not an object of objects")
