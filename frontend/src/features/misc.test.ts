import { describe, expect, it } from 'vitest';
import type { LatencyReport, LatencyStats } from '../lib/types';
import { axisLabels, fmtAge, fmtPct, fmtPrice, fmtPriceLike } from '../lib/format';
import { applyStatus } from './overview/hooks/useHealth';
import { pointsOf, scopesOf, seriesFor } from './latency/hooks/useLatencySeries';
import { argsFrom, fieldsOf } from './tasks/hooks/argsForm';
import { mergeTasks } from './tasks/hooks/useTasks';
import { mergeAlerts } from './alerts/hooks/useAlerts';

const stats = (p50: number, count = 10): LatencyStats => ({ count, error_count: 1, error_rate: 0.1, avg_ms: p50, min_ms: 1, max_ms: 99, p50_ms: p50, p95_ms: p50 * 2, p99_ms: p50 * 3 });

describe('latency series', () => {
  const report = {
    window_seconds: 60,
    generated_at: '',
    retention_seconds: 3600,
    overall: stats(5),
    services: { price_feed: { summary: stats(4), endpoints: { '/prices': stats(3), '/sources': { ...stats(0, 0), p50_ms: null, p95_ms: null, p99_ms: null, error_rate: null } } } },
  } as LatencyReport;

  it('flattens a report into scopes and columns per scope', () => {
    const scopes = scopesOf(report);
    expect(Object.keys(scopes)).toEqual(['overall', 'price_feed', 'price_feed /prices', 'price_feed /sources']);
    const points = [{ t: 1000, stats: scopes }, { t: 3000, stats: scopes }];
    expect(seriesFor(points, 'price_feed /prices', ['p50_ms', 'p99_ms', 'error_rate'])).toEqual([[1, 3], [3, 3], [9, 9], [10, 10]]);
    expect(seriesFor(points, 'price_feed /sources', ['p50_ms'])).toEqual([[1, 3], [null, null]]);
  });

  it("turns the gateway's buckets into points, an endpoint scope from its filtered series", () => {
    const bucket = (end: number, p50: number) => ({ start_ts: end - 1000, end_ts: end, start: '', overall: stats(p50), services: { price_feed: stats(p50 + 1) } });
    const withSeries = { ...report, series: [bucket(1000, 5), bucket(2000, 6)] };
    const filtered = { ...report, series: [bucket(1000, 2), bucket(2000, 3)] };
    const points = pointsOf(withSeries, { scope: 'price_feed /prices', report: filtered });
    expect(points.map((p) => p.t)).toEqual([1000, 2000]);
    expect(seriesFor(points, 'overall', ['p50_ms'])).toEqual([[1, 2], [5, 6]]);
    expect(seriesFor(points, 'price_feed', ['p50_ms'])).toEqual([[1, 2], [6, 7]]);
    expect(seriesFor(points, 'price_feed /prices', ['p50_ms'])).toEqual([[1, 2], [2, 3]]);
    expect(pointsOf(report)).toEqual([]);
  });
});

describe('health events', () => {
  it('service_status updates one card', () => {
    const next = applyStatus({ arbitrage: { status: 'healthy', response_time_ms: 3 } }, { service: 'arbitrage', status: 'degraded', previous_status: 'healthy', error: 'HTTP 503', timestamp: 't' });
    expect(next.arbitrage).toMatchObject({ status: 'degraded', response_time_ms: 3, error: 'HTTP 503', checked_at: 't' });
  });

  it('service_status carries the reason onto the card', () => {
    const next = applyStatus({ price_feed: { status: 'healthy' } }, { service: 'price_feed', status: 'degraded', reason: 'Binance not delivering', timestamp: 't' });
    expect(next.price_feed).toMatchObject({ status: 'degraded', reason: 'Binance not delivering' });
  });
});

describe('tasks', () => {
  it('builds arguments from the schema, JSON for objects', () => {
    const fields = fieldsOf({ type: 'object', required: ['rule', 'symbol'], properties: { rule: { type: 'object' }, symbol: { type: 'string' }, limit: { type: 'integer' } } });
    expect(fields.map((f) => [f.name, f.kind, f.required])).toEqual([
      ['rule', 'json', true],
      ['symbol', 'string', true],
      ['limit', 'number', false],
    ]);
    expect(argsFrom(fields, { rule: '{"name":"x"}', symbol: 'BTCUSDT', limit: '12' }).args).toEqual({ rule: { name: 'x' }, symbol: 'BTCUSDT', limit: 12 });
    expect(argsFrom(fields, { rule: '{' }).errors.rule).toContain('not valid JSON');
  });

  it('task_update events update one row per task', () => {
    const base = { name: 'export_prices', args: {}, progress: 0, submitted_at: '2026-01-01T00:00:00Z' };
    let list = mergeTasks([], [{ ...base, id: 'a', status: 'queued' }]);
    list = mergeTasks(list, [{ ...base, id: 'a', status: 'running', progress: 0.5 }]);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ status: 'running', progress: 0.5 });
  });
});

describe('alerts', () => {
  it('dedupes by alert id, newest first', () => {
    const a = { alert_id: 1, rule_id: 1, rule: 'r', severity: 'low' as const, message: 'm', timestamp: '', ts: 1 };
    const list = mergeAlerts(mergeAlerts([], [a]), [a, { ...a, alert_id: 2, ts: 2 }]);
    expect(list.map((x) => x.alert_id)).toEqual([2, 1]);
  });
});

describe('format', () => {
  it('formats prices, percentages, ages and axis labels', () => {
    expect(fmtPrice(65016.754)).toBe('65,016.75');
    expect(fmtPrice(1.08003)).toBe('1.08003');
    expect(fmtPrice(161.99)).toBe('161.9900');
    expect(fmtPrice(null)).toBe('—');
    // A spread takes the decimals of its price, not of its own size.
    expect(fmtPriceLike(65_016.75 - 65_010.23, 65_016.75)).toBe('6.52');
    expect(fmtPriceLike(1.08015 - 1.08003, 1.08003)).toBe('0.00012');
    expect(fmtPriceLike(6.52, null)).toBe('6.52000');
    expect(fmtPct(-0.0001)).toBe('0.000 %');
    expect(fmtPct(-0.5)).toBe('−0.500 %');
    expect(fmtAge(15_000)).toBe('15 s ago');
    expect(axisLabels([1.0801, 1.0802, 1.0803])).toEqual(['1.0801', '1.0802', '1.0803']);
    expect(axisLabels([1.08002, 1.08004])).toEqual(['1.08002', '1.08004']);
    expect(axisLabels([10, 20])).toEqual(['10', '20']);
  });
});

describe('latency with few samples', () => {
  it('counts the buckets where p95 and p99 are the same request', async () => {
    const { coincidingBuckets } = await import('./latency/hooks/useLatencySeries');
    const stats = (count: number, p95: number | null, p99: number | null) => ({ count, p95_ms: p95, p99_ms: p99 }) as never;
    const points = [
      { t: 1, stats: { overall: stats(3, 12, 12) } },
      { t: 2, stats: { overall: stats(0, null, null) } },
      { t: 3, stats: { overall: stats(40, 10, 30) } },
    ];
    expect(coincidingBuckets(points, 'overall')).toBe(1);
    expect(coincidingBuckets(points, 'price_feed')).toBe(0);
  });
});
