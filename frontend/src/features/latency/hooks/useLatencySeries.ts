import { useEffect, useRef, useState } from 'react';
import type { LatencyReport, LatencyStats } from '../../../lib/types';
import { fetchLatency } from '../api/latency';

/** One poll: the statistics of every scope ("overall", "svc", "svc /endpoint") at time t. */
export interface LatencyPoint {
  t: number;
  stats: Record<string, LatencyStats>;
}

export const OVERALL = 'overall';

/** Flatten a report into scope → stats. */
export function scopesOf(report: LatencyReport): Record<string, LatencyStats> {
  const out: Record<string, LatencyStats> = { [OVERALL]: report.overall };
  for (const [service, entry] of Object.entries(report.services ?? {})) {
    out[service] = entry.summary;
    for (const [endpoint, stats] of Object.entries(entry.endpoints ?? {})) out[`${service} ${endpoint}`] = stats;
  }
  return out;
}

/** Columns for the chart: x, then one array per field, for one scope. */
export function seriesFor(points: readonly LatencyPoint[], scope: string, fields: (keyof LatencyStats)[]): (number | null)[][] {
  return [
    points.map((p) => p.t / 1000),
    ...fields.map((f) => points.map((p) => {
      const v = p.stats[scope]?.[f];
      return typeof v === 'number' ? (f === 'error_rate' ? v * 100 : v) : null;
    })),
  ];
}

const MAX_POINTS = 720;

/** Points survive leaving the page (per window), so coming back does not start from nothing. */
const kept = new Map<number, LatencyPoint[]>();

/**
 * `/api/latency` answers windowed aggregates, not buckets; polling it every `intervalMs` and
 * keeping each answer gives the time series the charts draw (the window is what each point covers).
 */
export function useLatencySeries(windowSeconds: number, intervalMs = 2000) {
  const [points, setPoints] = useState<LatencyPoint[]>(() => kept.get(windowSeconds) ?? []);
  const [latest, setLatest] = useState<LatencyReport>();
  const [error, setError] = useState<unknown>();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    let cancelled = false;
    const controller = new AbortController();
    setPoints(kept.get(windowSeconds) ?? []);
    const poll = () => {
      fetchLatency(windowSeconds, controller.signal)
        .then((report) => {
          if (cancelled) return;
          setLatest(report);
          setError(undefined);
          const next = [...(kept.get(windowSeconds) ?? []).slice(-(MAX_POINTS - 1)), { t: Date.now(), stats: scopesOf(report) }];
          kept.set(windowSeconds, next);
          setPoints(next);
        })
        .catch((exc: unknown) => {
          if (!cancelled) setError(exc);
        })
        .finally(() => {
          if (!cancelled) timer.current = setTimeout(poll, intervalMs);
        });
    };
    poll();
    return () => {
      cancelled = true;
      controller.abort();
      if (timer.current) clearTimeout(timer.current);
    };
  }, [windowSeconds, intervalMs]);

  return { points, latest, error };
}
