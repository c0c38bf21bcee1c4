"""The ``cep_alert`` payload of a match, the ``cep_signal`` of ``emit_signal``, and message templates."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ascep.cep.fields import MISSING, getter
from ascep.cep.patterns import Match
from ascep.cep.patterns.base import text
from ascep.cep.rules import CompiledRule
from ascep.common.events import CepAlert, CepSignal
from ascep.common.timeutil import iso_utc, now_ms

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
    last = match.events[-1] if match.events else {}
    return _substitute(template, _context(rule.name, partition, last, match.values, message))


def _context(
    rule: str, partition: Mapping[str, Any], last: Mapping[str, Any], values: Any, message: str
) -> dict[str, Any]:
    context: dict[str, Any] = dict(last)
    context.update(partition)
    context.update({"rule": rule, "message": message, "values": values})
    return context


def _substitute(template: str, context: Mapping[str, Any]) -> str:
    def substitute(found: re.Match[str]) -> str:
        value = getter(found.group(1))(context)
        if value is MISSING:
            return found.group(0)
        return f"{value:g}" if isinstance(value, float) else str(value)

    return _TEMPLATE.sub(substitute, template)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def signal_of(rule: CompiledRule, alert: Mapping[str, Any], action: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`CepSignal` an ``emit_signal`` action publishes for an emitted ``alert``."""
    events = alert.get("matched_events") or []
    last: Mapping[str, Any] = events[-1] if events else {}
    partition = alert.get("partition") or {}
    symbol = partition.get("symbol", last.get("symbol"))
    listed = last.get("symbols")
    if isinstance(symbol, str):
        symbols: tuple[str, ...] = (symbol,)
    elif isinstance(listed, list) and all(isinstance(s, str) for s in listed):
        symbols = tuple(listed)
    else:
        symbols = ()
    message = alert["message"]
    template = action.get("message")
    if template:
        message = _substitute(template, _context(rule.name, partition, last, alert["values"], message))
    detected = now_ms()
    return CepSignal(
        id=f"cep_{alert['alert_id']}",
        rule_id=rule.rule_id,
        rule_name=rule.name,
        pattern=rule.spec["pattern"],
        stream=alert["stream"],
        symbols=symbols,
        partition=dict(partition),
        severity=action.get("severity") or rule.severity,
        message=message,
        values=dict(alert["values"]),
        event_data=dict(last),
        spread=_number(last.get("spread")),
        spread_percentage=_number(last.get("spread_percentage")),
        alert_id=alert["alert_id"],
        event_ts=alert["ts"],
        ts=detected,
        timestamp=iso_utc(detected),
    ).to_dict()
