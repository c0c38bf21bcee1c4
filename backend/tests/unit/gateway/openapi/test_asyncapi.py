"""The AsyncAPI document covers every Socket.IO event and public channel, and the README agrees."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ascep.common import channels
from ascep.gateway.openapi.asyncapi import BUS_CHANNELS, asyncapi_document, client_events, server_events

README = (Path(__file__).resolve().parents[5] / "README.md").read_text()
EVENTS = {v for k, v in vars(channels).items() if k.startswith("EVENT_")}


def _document() -> dict:
    return json.loads(asyncapi_document(200))


def test_every_socketio_event_constant_is_documented() -> None:
    assert set(server_events()) | set(client_events(200)) == EVENTS
    assert set(_document()["channels"]["socketio"]["messages"]) == EVENTS


def test_every_public_bus_channel_is_documented() -> None:
    c = channels
    public = {c.PRICE_UPDATES, c.ARBITRAGE_SIGNALS, c.CEP_ALERTS, c.CEP_SIGNALS, c.SERVICE_STATUS}
    public |= {c.TASK_UPDATES, c.CIRCUIT_STATE, c.SPLIT_ROLLBACK}
    assert set(BUS_CHANNELS) == public
    addresses = {c["address"] for name, c in _document()["channels"].items() if name.startswith("bus_")}
    assert addresses == public


def test_references_resolve() -> None:
    document = _document()
    text = json.dumps(document)
    for ref in set(re.findall(r'"\$ref": ?"#/([^"]+)"', text)):
        node = document
        for part in ref.split("/"):
            node = node[part]


def test_the_symbol_limit_is_the_setting() -> None:
    payload = json.loads(asyncapi_document(7))["channels"]["socketio"]["messages"]["subscribe_prices"][
        "payload"
    ]
    assert payload["properties"]["symbols"]["maxItems"] == 7


def test_readme_tables_list_every_event() -> None:
    section = README.split("## Real-time events (Socket.IO)", 1)[1].split("\n## ", 1)[0]
    for event in EVENTS:
        assert f"| `{event}`" in section or f"`{event}` /" in section or f"/ `{event}`" in section, event
