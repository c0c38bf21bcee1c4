"""``custom``: the original ASCEP engine's user-named patterns, evaluated for real.

A rule whose ``pattern`` is not one of the built-in names is a custom pattern (the name is kept
as its label) and needs ``conditions.custom_condition``:

* ``match: "expression"`` — the text is an expression over the event's fields
  (:mod:`ascep.cep.expressions`: ``price > 50000 and symbol == "BTCUSDT"``). ``price_change`` is
  also available: the % change of ``price`` since the partition's previous event.
* ``match: "substring"`` — the original engine's behaviour: the text occurs in the event, written
  as compact JSON (keys and values), case-sensitively. ``"BTC"`` matches every BTC pair's event.
* ``match: "auto"`` (the default, resolved when the rule is stored): an expression when the text
  contains a comparison or a parenthesis or parses as one, else a substring.

It fires on every event that satisfies it (the original did too); a ``cooldown`` tames that.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from ascep.cep.errors import RuleError
from ascep.cep.expressions import MAX_EXPRESSION_LENGTH, ExpressionError, looks_like_expression, parse
from ascep.cep.filters import compile_filter
from ascep.cep.limits import Limits
from ascep.cep.patterns.base import Match, Pattern

#: The derived field an expression may use: % change of ``price`` since the previous event.
PRICE_CHANGE = "price_change"
MATCH_MODES = ("auto", "expression", "substring")


class _State:
    __slots__ = ("previous_price",)

    def __init__(self) -> None:
        self.previous_price: float | None = None


class Custom(Pattern):
    name = "custom"
    help = (
        '`custom_condition` over each event: an expression (`price > 50000 and symbol == "BTCUSDT"`; '
        "`price_change` = % change since the previous event) or, for plain text, a substring of the "
        "event's JSON (`match`: `auto`, `expression`, `substring`). Any pattern name that is not "
        "built in is a custom pattern."
    )
    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["custom_condition"],
        "properties": {
            "custom_condition": {"type": "string", "minLength": 1, "maxLength": MAX_EXPRESSION_LENGTH},
            "match": {"enum": list(MATCH_MODES), "default": "auto"},
        },
    }
    example: ClassVar[dict[str, Any]] = {"custom_condition": 'symbol == "BTCUSDT" and price_change >= 0.5%'}
    aliases: ClassVar[dict[str, str]] = {"condition": "custom_condition", "expression": "custom_condition"}

    @classmethod
    def normalise(cls, conditions: Mapping[str, Any], *, original: bool = False) -> dict[str, Any]:
        """Resolve ``auto`` so the stored rule says how its text is read."""
        out = super().normalise(conditions, original=original)
        text = out.get("custom_condition")
        if out.get("match", "auto") == "auto" and isinstance(text, str) and text.strip():
            out["match"] = "expression" if looks_like_expression(text) else "substring"
        return out

    def __init__(self, conditions: Mapping[str, Any], limits: Limits, path: str = "$.conditions") -> None:
        super().__init__(conditions, limits, path)
        text: str = conditions["custom_condition"]
        mode = conditions.get("match", "auto")
        if mode == "auto":
            mode = "expression" if looks_like_expression(text) else "substring"
        self.mode = mode
        self.text = text
        self.uses_price_change = False
        if mode == "substring":
            self.matches = self._substring
            return
        try:
            parsed = parse(text)
        except ExpressionError as exc:
            raise RuleError(f"{path}.custom_condition", f"not a valid expression: {exc}") from exc
        self.predicate = compile_filter(parsed.filter, f"{path}.custom_condition")
        self.uses_price_change = PRICE_CHANGE in parsed.fields
        self.matches = self._expression

    def new_state(self) -> _State:
        return _State()

    def on_event(self, state: _State, event: Mapping[str, Any], ts: int) -> Match | None:
        if self.uses_price_change:
            event = self._with_price_change(state, event)
        if not self.matches(event):
            return None
        return Match([event], lambda: f"custom condition {self.text!r} matched", {"condition": self.text})

    def _expression(self, event: Mapping[str, Any]) -> bool:
        return self.predicate(event, None)

    def _substring(self, event: Mapping[str, Any]) -> bool:
        return self.text in json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=str)

    @staticmethod
    def _with_price_change(state: _State, event: Mapping[str, Any]) -> Mapping[str, Any]:
        """``event`` plus ``price_change`` (absent on the partition's first priced event)."""
        price = event.get("price")
        if isinstance(price, bool) or not isinstance(price, int | float):
            return event
        previous, state.previous_price = state.previous_price, float(price)
        if previous is None or previous <= 0:
            return event
        return {**event, PRICE_CHANGE: (price - previous) / previous * 100}
