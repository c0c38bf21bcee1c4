/**
 * Pure bookkeeping of the live price table: one row per symbol, newest tick wins. Keyed by symbol,
 * so the snapshot a resubscription brings after a reconnect updates rows instead of adding them,
 * and an older tick arriving late (snapshot vs live race) never overwrites a newer one.
 */
import type { PriceUpdate } from '../../../lib/types';

export interface PriceRowData {
  update: PriceUpdate;
  /** Price of the previous tick (direction of the flash). */
  previous: number | null;
  /** First price seen in this session (the "change" column). */
  first: number;
  /** Local time the row last changed (epoch ms). */
  receivedAt: number;
}

export type PriceTable = ReadonlyMap<string, PriceRowData>;

/** Apply updates in order; returns the same map when nothing changed (so React skips a render). */
export function applyUpdates(table: PriceTable, updates: readonly PriceUpdate[], now = Date.now()): PriceTable {
  let next: Map<string, PriceRowData> | null = null;
  for (const update of updates) {
    if (!update || typeof update.symbol !== 'string' || typeof update.price !== 'number') continue;
    const current = (next ?? table).get(update.symbol);
    if (current && update.ts < current.update.ts) continue; // older than what we show
    if (current && update.ts === current.update.ts && update.price === current.update.price) continue; // repeat
    next ??= new Map(table);
    next.set(update.symbol, {
      update,
      previous: current ? current.update.price : null,
      first: current ? current.first : update.price,
      receivedAt: now,
    });
  }
  return next ?? table;
}

export function spreadOf(update: PriceUpdate): number | null {
  return update.bid !== null && update.ask !== null && update.bid !== undefined && update.ask !== undefined
    ? update.ask - update.bid
    : null;
}

export function matchesFilter(row: PriceRowData, filter: string): boolean {
  if (!filter) return true;
  const needle = filter.trim().toUpperCase().replace(/[^A-Z0-9]/g, '');
  const hay = `${row.update.symbol.toUpperCase().replace(/[^A-Z0-9]/g, '')} ${row.update.source.toUpperCase()}`;
  return hay.includes(needle);
}
