import { afterEach, describe, expect, it } from 'vitest';
import { activeHold, activeHolds, holdKey, holdOff, MAX_RETRY_AFTER_S, parseRetryAfter, resetHolds } from './rate-limit';

afterEach(() => resetHolds());

describe('rate-limit holds', () => {
  it('groups requests by API area', () => {
    expect(holdKey('/api/prices/BTCUSDT/history')).toBe('/api/prices');
    expect(holdKey('/api/prices?limit=5')).toBe('/api/prices');
    expect(holdKey('/api/gateway/keys/abc')).toBe('/api/gateway');
    expect(holdKey('/health')).toBe('/health');
  });

  it('reads Retry-After as seconds or an HTTP date, clamped, with a default', () => {
    const at = Date.parse('2026-12-01T10:00:00Z');
    expect(parseRetryAfter('7', at)).toBe(7);
    expect(parseRetryAfter('0', at)).toBe(1); // never a zero wait: that is a busy loop
    expect(parseRetryAfter('Tue, 01 Dec 2026 10:00:30 GMT', at)).toBe(30);
    expect(parseRetryAfter('Tue, 01 Dec 2026 09:00:00 GMT', at)).toBe(1);
    expect(parseRetryAfter('99999999', at)).toBe(MAX_RETRY_AFTER_S);
    expect(parseRetryAfter(null, at)).toBe(1);
    expect(parseRetryAfter('soon', at)).toBe(1);
    expect(parseRetryAfter('-5', at)).toBe(1);
  });

  it('holds an area until the time passes, then forgets it', () => {
    let now = 1_000_000;
    resetHolds(() => now);
    holdOff('/api/latency', 3, 'slow down');
    expect(activeHold('/api/latency')?.message).toBe('slow down');
    expect(activeHold('/api/prices')).toBeNull();
    holdOff('/api/latency', 1, 'shorter'); // a shorter hold never shortens a longer one
    expect(activeHold('/api/latency')?.until).toBe(1_003_000);
    now += 3000;
    expect(activeHold('/api/latency')).toBeNull();
    expect(activeHolds()).toEqual([]);
  });
});
