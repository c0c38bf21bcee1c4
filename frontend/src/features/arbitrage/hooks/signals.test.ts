import { describe, expect, it } from 'vitest';
import type { ArbitrageSignal } from '../../../lib/types';
import { filterSignals } from '../components/ArbitragePage';
import { mergeSignals } from './useSignals';

const signal = (id: number, extra: Partial<ArbitrageSignal> = {}): ArbitrageSignal => ({
  id,
  type: 'triangular',
  symbols: ['EUR/USD', 'USD/JPY', 'EUR/JPY'],
  prices: [1, 2, 3],
  spread: 0.003,
  spread_percentage: 0.3,
  severity: 'medium',
  status: 'open',
  timestamp: new Date(1000 * id).toISOString(),
  ts: 1000 * id,
  ...extra,
});

describe('mergeSignals', () => {
  it('updates a signal in place when its update/close arrives (and after a reload)', () => {
    let list = mergeSignals([], [signal(1), signal(2)]);
    list = mergeSignals(list, [signal(1, { status: 'closed', event: 'close', ts: 5000 })]);
    list = mergeSignals(list, [signal(2)]); // replayed by a reload after reconnect
    expect(list.map((s) => [s.id, s.status])).toEqual([
      [1, 'closed'],
      [2, 'open'],
    ]);
  });
});

describe('filterSignals', () => {
  const list = [signal(1), signal(2, { type: 'cycle', severity: 'high', spread_percentage: 0.9 }), signal(3, { status: 'closed', spread_percentage: 0.05 })];
  it('filters by type, severity, status and minimum net spread', () => {
    const none = { type: '', severity: '', status: '', minSpread: '' };
    expect(filterSignals(list, none)).toHaveLength(3);
    expect(filterSignals(list, { ...none, type: 'cycle' }).map((s) => s.id)).toEqual([2]);
    expect(filterSignals(list, { ...none, severity: 'medium', status: 'open' }).map((s) => s.id)).toEqual([1]);
    expect(filterSignals(list, { ...none, minSpread: '0.2' }).map((s) => s.id)).toEqual([1, 2]);
    expect(filterSignals(list, { ...none, minSpread: 'abc' })).toHaveLength(3);
  });
});
