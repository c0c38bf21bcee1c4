"""``signal_report``: arbitrage statistics over a period, from the detector's stored signals."""

from __future__ import annotations

from collections import Counter
from statistics import mean, median
from typing import Any

from ascep.arbitrage.store import SignalStore
from ascep.common.errors import ValidationFailed
from ascep.common.timeutil import iso_utc, now_ms
from ascep.tasks.jobs.base import Job, JobContext

TOP = 10

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "since": {"type": "integer", "minimum": 0, "description": "epoch ms; default: 24 h ago"},
        "until": {"type": "integer", "minimum": 0, "description": "epoch ms; default: now"},
    },
}


def check_period(args: dict[str, Any]) -> None:
    if "since" in args and "until" in args and args["since"] > args["until"]:
        raise ValidationFailed("args.since must not be after args.until", {"field": "args.since"})


def signal_report(ctx: JobContext, args: dict[str, Any]) -> dict[str, Any]:
    until = args.get("until", now_ms())
    since = args.get("since", until - 86_400_000)
    ctx.progress(0.1, "reading signals")
    signals = SignalStore(ctx.redis).between(since, until)
    ctx.progress(0.6, f"{len(signals)} signals")
    spreads = [float(s.get("peak_spread_percentage", s.get("spread_percentage", 0.0))) for s in signals]
    durations = [
        (s["last_seen_ts"] - s["first_seen_ts"]) / 1000
        for s in signals
        if isinstance(s.get("last_seen_ts"), int) and isinstance(s.get("first_seen_ts"), int)
    ]
    symbols: Counter[str] = Counter(sym for s in signals for sym in s.get("symbols", []))
    best = max(signals, key=lambda s: s.get("peak_spread_percentage", 0.0), default=None)
    return {
        "period": {"since": iso_utc(since), "until": iso_utc(until), "since_ts": since, "until_ts": until},
        "total": len(signals),
        "by_type": dict(Counter(s.get("type") for s in signals)),
        "by_severity": dict(Counter(s.get("severity") for s in signals)),
        "by_status": dict(Counter(s.get("status") for s in signals)),
        "peak_spread_percentage": {
            "mean": round(mean(spreads), 6) if spreads else None,
            "median": round(median(spreads), 6) if spreads else None,
            "max": round(max(spreads), 6) if spreads else None,
        },
        "duration_seconds": {
            "mean": round(mean(durations), 3) if durations else None,
            "max": round(max(durations), 3) if durations else None,
        },
        "top_symbols": [{"symbol": sym, "signals": n} for sym, n in symbols.most_common(TOP)],
        "best": best,
    }


SIGNAL_REPORT = Job(
    "signal_report",
    "Arbitrage statistics over a period: counts by type, severity and status, spreads, durations.",
    SCHEMA,
    signal_report,
    check=check_period,
)
