"""``backtest_rule``: what a CEP rule would have fired on a symbol's stored price history.

The rule runs in the CEP engine's own replay (``ascep.cep.replay``): the same code that runs live,
fed the history in time order, deterministic and without side effects (no alert is published).
The matches returned are the latest ones that fit the result budget (``TASK_RESULT_MAX_BYTES``)
and at most :data:`MAX_MATCHES_RETURNED`; ``match_count`` counts them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ascep.cep.errors import RuleValidationError
from ascep.cep.replay import replay
from ascep.cep.rules import validate_rule
from ascep.common.channels import price_history_key
from ascep.common.errors import ValidationFailed
from ascep.common.price_history import iter_history
from ascep.tasks.jobs.base import Job, JobContext
from ascep.tasks.results import encoded_size, fit_tail

MAX_MATCHES_RETURNED = 1000

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["rule", "symbol"],
    "properties": {
        "rule": {"type": "object", "description": "a CEP rule, as accepted by POST /api/rules"},
        "symbol": {"type": "string", "minLength": 1, "maxLength": 40},
        "since": {"type": "integer", "minimum": 0, "description": "epoch ms, inclusive"},
        "until": {"type": "integer", "minimum": 0, "description": "epoch ms, inclusive"},
    },
}


def check_rule(args: dict[str, Any]) -> None:
    """Reject an invalid rule at submission, with the CEP engine's JSON path under ``args.rule``."""
    try:
        validate_rule({**args["rule"], "enabled": True})
    except RuleValidationError as exc:
        path = "args.rule" + exc.path.removeprefix("$")
        raise ValidationFailed(
            f"invalid rule: {path}: {exc.errors[0].message}", {"field": path, **exc.details()}
        ) from exc


def backtest_rule(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    symbol = args["symbol"]
    total = ctx.redis.xlen(price_history_key(symbol)) or 0
    seen = [0]

    def events() -> Iterator[dict[str, Any]]:
        for page in iter_history(ctx.redis, symbol, args.get("since", 0), args.get("until")):
            yield from page
            seen[0] += len(page)
            ctx.progress(min(0.99, seen[0] / total) if total else 0.99, f"{seen[0]} events replayed")

    report = replay(args["rule"], events()).as_dict()
    matches = report["matches"]
    result = {
        "symbol": symbol,
        "rule": args["rule"].get("name"),
        "events": report["events"],
        "match_count": len(matches),
        "matches": [],
        "truncated": False,
        "late_events": report["late_events"],
        "suppressed_by_cooldown": report["suppressed_by_cooldown"],
        "rule_error": report["error"],
    }
    budget = ctx.max_result_bytes - encoded_size(result) - 512  # 512: room for the reason
    kept = fit_tail(matches[-MAX_MATCHES_RETURNED:], budget)
    result["matches"] = kept
    if len(kept) < len(matches):
        result["truncated"] = True
        result["truncated_reason"] = (
            f"the last {len(kept)} of {len(matches)} matches (at most {MAX_MATCHES_RETURNED}, "
            f"and {ctx.max_result_bytes} bytes: TASK_RESULT_MAX_BYTES)"
        )
    return result


BACKTEST_RULE = Job(
    "backtest_rule",
    "Run a CEP rule over a symbol's stored price history and return the matches it would have produced.",
    SCHEMA,
    backtest_rule,
    check=check_rule,
    symbol_fields=("symbol",),
)
