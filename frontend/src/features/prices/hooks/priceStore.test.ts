import { describe, expect, it } from 'vitest';
import type { PriceUpdate } from '../../../lib/types';
import { applyUpdates, matchesFilter, spreadOf, type PriceTable } from './priceStore';

const tick = (symbol: string, price: number, ts: number, extra: Partial<PriceUpdate> = {}): PriceUpdate => ({
  symbol,
  price,
  bid: price - 1,
  ask: price + 1,
  source: 'simulated',
  timestamp: new Date(ts).toISOString(),
  ts,
  ...extra,
});

describe('applyUpdates', () => {
  it('keeps one row per symbol, newest tick wins, previous and first price tracked', () => {
    let table: PriceTable = new Map();
    table = applyUpdates(table, [tick('BTCUSDT', 100, 1), tick('BTCUSDT', 101, 2), tick('ETHUSDT', 10, 1)]);
    expect(table.size).toBe(2);
    expect(table.get('BTCUSDT')).toMatchObject({ previous: 100, first: 100, update: { price: 101 } });
    table = applyUpdates(table, [tick('BTCUSDT', 99, 3)]);
    expect(table.get('BTCUSDT')).toMatchObject({ previous: 101, first: 100, update: { price: 99 } });
  });

  it('ignores older and repeated ticks (a reconnect snapshot never duplicates or rewinds rows)', () => {
    const table = applyUpdates(new Map(), [tick('EUR/USD', 1.08, 10)]);
    const same = applyUpdates(table, [tick('EUR/USD', 1.07, 5), tick('EUR/USD', 1.08, 10)]);
    expect(same).toBe(table);
    const snapshot = applyUpdates(table, [tick('EUR/USD', 1.081, 11), tick('GBP/USD', 1.27, 11)]);
    expect([...snapshot.keys()]).toEqual(['EUR/USD', 'GBP/USD']);
  });

  it('handles a thousand updates in one batch', () => {
    const updates = Array.from({ length: 1000 }, (_, i) => tick(`S${i % 50}`, 100 + i, i));
    const table = applyUpdates(new Map(), updates);
    expect(table.size).toBe(50);
    expect(table.get('S0')?.update.price).toBe(1050);
  });
});

describe('helpers', () => {
  it('spread and filter', () => {
    expect(spreadOf(tick('X', 10, 1))).toBe(2);
    expect(spreadOf(tick('X', 10, 1, { bid: null }))).toBeNull();
    const row = applyUpdates(new Map(), [tick('EUR/USD', 1, 1, { source: 'forex' })]).get('EUR/USD')!;
    expect(matchesFilter(row, 'eurusd')).toBe(true);
    expect(matchesFilter(row, 'EUR/')).toBe(true);
    expect(matchesFilter(row, 'forex')).toBe(true);
    expect(matchesFilter(row, 'BTC')).toBe(false);
  });
});
