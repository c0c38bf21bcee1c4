/**
 * Upsert by id, newest first, bounded: how live lists (signals, alerts, tasks) take both the REST
 * snapshot and socket events — including the replays a reconnect brings — without duplicates.
 */
export function upsertById<T>(list: readonly T[], items: readonly T[], idOf: (item: T) => string, max = 200, newerFirst?: (a: T, b: T) => number): T[] {
  const byId = new Map<string, T>();
  for (const item of list) byId.set(idOf(item), item);
  for (const item of items) byId.set(idOf(item), { ...(byId.get(idOf(item)) ?? {}), ...item } as T);
  const merged = [...byId.values()];
  if (newerFirst) merged.sort(newerFirst);
  return merged.slice(0, max);
}

/** Sort key: epoch ms from `ts`, else an ISO time field. */
export function timeOf(item: { ts?: number | null; timestamp?: string | null; last_seen?: string | null }): number {
  if (typeof item.ts === 'number') return item.ts;
  const iso = item.last_seen ?? item.timestamp;
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? 0 : t;
}
