"""The ``cep_alert`` payload of a match, and the message templates of ``emit_alert``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ascep.cep.fields import MISSING, getter
from ascep.cep.patterns import Match
from ascep.cep.patterns.base import text
from ascep.cep.rules import CompiledRule
from ascep.common.events import CepAlert
from ascep.common.timeutil import iso_utc

MAX_MATCHED_EVENTS = 20
_TEMPLATE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")


def build_alert(
    rule: CompiledRule, stream: str, partition: dict[str, Any], match: Match, ts: int, depth: int
) -> dict[str, Any]:
    """The :class:`CepAlert` of a match, as a dict (deterministic: times are event times, never the
    wall clock); ``alert_id`` and ``detected_at`` are added when it is emitted."""
    emit = next((a for a in rule.actions if a.get("type") == "emit_alert"), None)
    severity = (emit or {}).get("severity") or rule.severity
    message = text(match.message)
    template = (emit or {}).get("message")
    if template:
        message = render(template, rule, partition, match, message)
    return CepAlert(
        rule_id=rule.rule_id,
        rule=rule.name,
        pattern=rule.spec["pattern"],
        stream=stream,
        partition=dict(partition),
        severity=severity,
        message=message,
        matched_events=tuple(dict(e) for e in match.events[-MAX_MATCHED_EVENTS:]),
        values=match.values,
        ts=ts,
        timestamp=iso_utc(ts),
        depth=depth + 1 if stream == "alerts" else 0,
    ).to_dict()


def render(
    template: str, rule: CompiledRule, partition: Mapping[str, Any], match: Match, message: str
) -> str:
    """``{field}`` from the last matched event, ``{values.x}``, ``{rule}``, ``{message}``; dotted ok.

    A small substitution instead of ``str.format`` on purpose: format strings can reach object
    attributes, and rule templates come from API clients.
    """
    context: dict[str, Any] = dict(match.events[-1]) if match.events else {}
    context.update(partition)
    context.update({"rule": rule.name, "message": message, "values": match.values})

    def substitute(found: re.Match[str]) -> str:
        value = getter(found.group(1))(context)
        if value is MISSING:
            return found.group(0)
        return f"{value:g}" if isinstance(value, float) else str(value)

    return _TEMPLATE.sub(substitute, template)
