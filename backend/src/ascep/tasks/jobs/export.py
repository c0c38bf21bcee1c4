"""``export_prices``: one symbol's stored price history as CSV (what a quant loads into pandas)."""

from __future__ import annotations

import csv
import io
from typing import Any

from ascep.common.channels import price_history_key
from ascep.price_feed.history import iter_history
from ascep.tasks.catalog import Job, JobContext

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


def export_prices(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    symbol = args["symbol"]
    total = ctx.redis.xlen(price_history_key(symbol)) or 0
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = 0
    for page in iter_history(ctx.redis, symbol, args.get("since", 0), args.get("until")):
        for record in page:
            writer.writerow(["" if record.get(c) is None else record[c] for c in COLUMNS])
        rows += len(page)
        ctx.progress(rows / total if total else 1.0, f"{rows} rows")
    return {"symbol": symbol, "rows": rows, "columns": list(COLUMNS), "csv": out.getvalue()}


EXPORT_PRICES = Job(
    "export_prices",
    "A symbol's stored price history (optionally a time range) as CSV.",
    SCHEMA,
    export_prices,
)
