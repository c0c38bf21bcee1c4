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

/**
 * Buckets in which p95 and p99 are the same sample: with fewer than 20 samples the nearest rank of
 * both is the largest one, so the two lines coincide (the chart draws them so both stay visible,
 * and the page says why).
 */
export function coincidingBuckets(points: readonly LatencyPoint[], scope: string): number {
  return points.filter((p) => {
    const s = p.stats[scope];
    return s && s.count > 0 && s.p95_ms !== null && s.p95_ms === s.p99_ms;
  }).length;
}

/** Below this many requests in a window the page explains what it would show. */
export const QUIET_REQUESTS = 20;

/** Buckets per window: one point per second for 1 min, per 15 s for 1 h. */
export const BUCKETS = 60;

/** The server's series as chart points: overall and every service per bucket; an endpoint scope
 * comes from a second, filtered series whose `overall` is that endpoint. */
export function pointsOf(report: LatencyReport, scoped?: { scope: string; report: LatencyReport }): LatencyPoint[] {
  const extra = scoped?.report.series ?? [];
  return (report.series ?? []).map((bucket, i) => {
    const stats: Record<string, LatencyStats> = { [OVERALL]: bucket.overall, ...bucket.services };
    if (scoped && extra[i]) stats[scoped.scope] = extra[i].overall;
    return { t: bucket.end_ts, stats };
  });
}

/**
 * The window cut into {@link BUCKETS} time buckets by the gateway (`?buckets=`), refreshed every
 * `intervalMs`: the charts show the whole window at once, from history kept in Redis, not only
 * what was polled since the page opened. An endpoint scope adds one filtered request.
 */
export function useLatencySeries(windowSeconds: number, scope: string, intervalMs = 3000) {
  const [points, setPoints] = useState<LatencyPoint[]>([]);
  const [latest, setLatest] = useState<LatencyReport>();
  const [error, setError] = useState<unknown>();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    let cancelled = false;
    const controller = new AbortController();
    const [service, endpoint] = scope.split(' ');
    const poll = async () => {
      try {
        const report = await fetchLatency(windowSeconds, { buckets: BUCKETS }, controller.signal);
        const scoped = endpoint
          ? { scope, report: await fetchLatency(windowSeconds, { buckets: BUCKETS, service, endpoint }, controller.signal) }
          : undefined;
        if (cancelled) return;
        setLatest(report);
        setPoints(pointsOf(report, scoped));
        setError(undefined);
      } catch (exc: unknown) {
        if (!cancelled) setError(exc);
      } finally {
        if (!cancelled) timer.current = setTimeout(poll, intervalMs);
      }
    };
    void poll();
    return () => {
      cancelled = true;
      controller.abort();
      if (timer.current) clearTimeout(timer.current);
    };
  }, [windowSeconds, scope, intervalMs]);

  return { points, latest, error };
}
