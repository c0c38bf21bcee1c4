import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeJwt } from '../test/gateway';
import {
  clearCredential,
  credentialHeaders,
  getCredential,
  resetCredentialCache,
  sameCredential,
  setCredential,
  socketAuthPayload,
  subscribeCredential,
  tokenExpiry,
} from './credentials';

afterEach(() => {
  clearCredential();
  sessionStorage.clear();
  localStorage.clear();
  resetCredentialCache();
  vi.restoreAllMocks();
});

describe('credentials', () => {
  it('keeps the credential in sessionStorage (per tab), never in localStorage', () => {
    setCredential({ kind: 'bearer', value: 'tok-1' });
    expect(JSON.parse(sessionStorage.getItem('ascep.credential')!)).toEqual({ kind: 'bearer', value: 'tok-1' });
    expect(Object.values({ ...localStorage }).join()).not.toContain('tok-1');
    resetCredentialCache(); // a reload: read back from the tab's storage
    expect(getCredential()).toEqual({ kind: 'bearer', value: 'tok-1' });
    clearCredential();
    expect(sessionStorage.getItem('ascep.credential')).toBeNull();
    expect(getCredential()).toBeNull();
  });

  it('treats a corrupt or hostile stored entry as no credential', () => {
    for (const raw of ['not json', '"a string"', 'null', '{"kind":"cookie","value":"x"}', '{"kind":"bearer","value":""}', '{"kind":"bearer","value":42}']) {
      sessionStorage.setItem('ascep.credential', raw);
      resetCredentialCache();
      expect(getCredential()).toBeNull();
    }
  });

  it('still works in memory when storage refuses', () => {
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('quota', 'QuotaExceededError');
    });
    setCredential({ kind: 'api_key', value: 'k-1' });
    expect(getCredential()).toEqual({ kind: 'api_key', value: 'k-1' });
  });

  it('builds the headers and the socket auth payload for each kind', () => {
    expect(credentialHeaders(null)).toEqual({});
    expect(credentialHeaders({ kind: 'bearer', value: 't' })).toEqual({ Authorization: 'Bearer t' });
    expect(credentialHeaders({ kind: 'api_key', value: 'k' })).toEqual({ 'X-API-Key': 'k' });
    expect(socketAuthPayload(null)).toEqual({});
    expect(socketAuthPayload({ kind: 'bearer', value: 't' })).toEqual({ token: 't' });
    expect(socketAuthPayload({ kind: 'api_key', value: 'k' })).toEqual({ api_key: 'k' });
  });

  it('notifies listeners and compares credentials by value', () => {
    const listener = vi.fn();
    const off = subscribeCredential(listener);
    setCredential({ kind: 'bearer', value: 'a' });
    clearCredential();
    off();
    setCredential({ kind: 'bearer', value: 'b' });
    expect(listener).toHaveBeenCalledTimes(2);
    expect(sameCredential({ kind: 'bearer', value: 'a' }, { kind: 'bearer', value: 'a' })).toBe(true);
    expect(sameCredential({ kind: 'bearer', value: 'a' }, { kind: 'api_key', value: 'a' })).toBe(false);
    expect(sameCredential(null, { kind: 'bearer', value: 'a' })).toBe(false);
  });

  it('reads exp from a JWT without trusting anything else, null for keys and garbage', () => {
    expect(tokenExpiry({ kind: 'bearer', value: fakeJwt({ sub: 'alice', exp: 1_900_000_000 }) })).toBe(1_900_000_000);
    expect(tokenExpiry({ kind: 'bearer', value: fakeJwt({ sub: 'alice' }) })).toBeNull();
    expect(tokenExpiry({ kind: 'bearer', value: fakeJwt({ exp: 'soon' }) })).toBeNull();
    expect(tokenExpiry({ kind: 'bearer', value: 'a.%%%.c' })).toBeNull();
    expect(tokenExpiry({ kind: 'bearer', value: 'opaque' })).toBeNull();
    expect(tokenExpiry({ kind: 'api_key', value: fakeJwt({ exp: 1 }) })).toBeNull();
  });
});
