/**
 * What the dashboard does with a 429 `RATE_LIMITED`: it waits as long as the gateway asks.
 *
 * Why here and not in each page: several pages poll (health every 15 s, latency every 3 s) and a
 * user clicks on; retrying each on its own would turn one 429 into a storm. After a 429, requests
 * to the same area (`/api/<first segment>`, which is how the gateway's routes and services are
 * split, so a limit on one service does not stop the others) fail at once, locally, until
 * `Retry-After` has passed; a notice in the top bar says so with a countdown.
 */

export interface HoldOff {
  /** `/api/<segment>`: the area of the API that is held. */
  key: string;
  /** Epoch ms when requests may go again. */
  until: number;
  /** The server's message, shown in the notice. */
  message: string;
}

/** Without `Retry-After`, wait this long; never wait longer than the cap (a bogus header). */
export const DEFAULT_RETRY_AFTER_S = 1;
export const MAX_RETRY_AFTER_S = 600;

const holds = new Map<string, HoldOff>();
const listeners = new Set<() => void>();
let snapshot: HoldOff[] = [];
let now: () => number = () => Date.now();

function changed(): void {
  snapshot = [...holds.values()];
  for (const listener of [...listeners]) listener();
}

/** The area a request belongs to: `/api/prices/BTCUSDT/history` → `/api/prices`. */
export function holdKey(path: string): string {
  const segments = path.split('?')[0].split('/').filter(Boolean);
  return '/' + segments.slice(0, segments[0] === 'api' ? 2 : 1).join('/');
}

/**
 * Seconds to wait from a `Retry-After` value: delta-seconds or an HTTP date (RFC 9110 §10.2.3),
 * clamped to [1 s, {@link MAX_RETRY_AFTER_S}]; missing or unreadable means {@link DEFAULT_RETRY_AFTER_S}.
 */
export function parseRetryAfter(value: string | null | undefined, at: number = now()): number {
  if (value === null || value === undefined || !value.trim()) return DEFAULT_RETRY_AFTER_S;
  const text = value.trim();
  let seconds: number;
  if (/^\d+$/.test(text)) seconds = Number(text);
  else {
    const date = Date.parse(text);
    if (Number.isNaN(date)) return DEFAULT_RETRY_AFTER_S;
    seconds = Math.ceil((date - at) / 1000);
  }
  return Math.min(MAX_RETRY_AFTER_S, Math.max(1, seconds));
}

/** Hold every request to `key` for `seconds`. */
export function holdOff(key: string, seconds: number, message: string): void {
  const until = now() + seconds * 1000;
  const existing = holds.get(key);
  if (existing && existing.until >= until) return;
  holds.set(key, { key, until, message });
  changed();
}

/** The active hold of `key`, or null (an expired one is dropped here). */
export function activeHold(key: string): HoldOff | null {
  const hold = holds.get(key);
  if (!hold) return null;
  if (hold.until > now()) return hold;
  holds.delete(key);
  changed();
  return null;
}

/** Every hold not yet expired (the notice's data; expired ones are pruned as a side effect). */
export function activeHolds(): HoldOff[] {
  const t = now();
  let pruned = false;
  for (const [key, hold] of holds) {
    if (hold.until <= t) {
      holds.delete(key);
      pruned = true;
    }
  }
  if (pruned) changed();
  return snapshot;
}

/** For useSyncExternalStore: the snapshot changes only when a hold is added or dropped. */
export function getHoldsSnapshot(): HoldOff[] {
  return snapshot;
}

export function subscribeHolds(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Tests: forget every hold and use another clock. */
export function resetHolds(clock: () => number = () => Date.now()): void {
  holds.clear();
  now = clock;
  changed();
}
