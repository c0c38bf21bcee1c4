"""``export_prices``: one symbol's stored price history as CSV (what a quant loads into pandas).

The CSV is stored in the task's record, so it is capped at the task's result budget
(``TASK_RESULT_MAX_BYTES``): rows are written until the next one would not fit, and the result
says so (``truncated``, ``truncated_reason``) and gives ``next_since``, the ``since`` of an export
that continues where this one stopped.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from ascep.common.channels import price_history_key
from ascep.common.price_history import iter_history
from ascep.tasks.jobs.base import Job, JobContext
from ascep.tasks.results import encoded_size, json_string_size

COLUMNS = ("ts", "timestamp", "symbol", "price", "bid", "ask", "volume", "source")

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["symbol"],
    "properties": {
        "symbol": {"type": "string", "minLength": 1, "maxLength": 40},
        "since": {"type": "integer", "minimum": 0, "description": "epoch ms, inclusive"},
        "until": {"type": "integer", "minimum": 0, "description": "epoch ms, inclusive"},
    },
}

#: Room kept in the budget for the result's other fields (symbol, counts, reason).
_ENVELOPE_BYTES = 1024


def _line(row: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(row)
    return out.getvalue()


def export_prices(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    symbol = args["symbol"]
    total = ctx.redis.xlen(price_history_key(symbol)) or 0
    budget = ctx.max_result_bytes - _ENVELOPE_BYTES - encoded_size(symbol)
    lines = [_line(list(COLUMNS))]
    used = json_string_size(lines[0])
    rows = 0
    next_since: int | None = None
    for page in iter_history(ctx.redis, symbol, args.get("since", 0), args.get("until")):
        for record in page:
            line = _line(["" if record.get(c) is None else record[c] for c in COLUMNS])
            cost = json_string_size(line)
            if used + cost > budget:
                next_since = record.get("ts")
                break
            lines.append(line)
            used += cost
            rows += 1
        if next_since is not None:
            break
        ctx.progress(rows / total if total else 1.0, f"{rows} rows")
    result: dict[str, Any] = {"symbol": symbol, "rows": rows, "columns": list(COLUMNS), "csv": "".join(lines)}
    if next_since is not None:
        result |= {
            "truncated": True,
            "truncated_reason": (
                f"CSV capped at {ctx.max_result_bytes} bytes (TASK_RESULT_MAX_BYTES): the first {rows} rows; "
                f"export again with since={next_since} for the rest"
            ),
            "next_since": next_since,
        }
    return result


EXPORT_PRICES = Job(
    "export_prices",
    "A symbol's stored price history (optionally a time range) as CSV, up to TASK_RESULT_MAX_BYTES.",
    SCHEMA,
    export_prices,
    symbol_fields=("symbol",),
)
