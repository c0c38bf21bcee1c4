import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiRequest } from '../../../lib/api-client';
import { clearCredential, getCredential, resetCredentialCache, setCredential, type Credential } from '../../../lib/credentials';
import { resetHolds } from '../../../lib/rate-limit';
import type { Refusal } from '../../../lib/socket';
import { envelope, fakeJwt, installGateway, json, type Route } from '../../../test/gateway';
import { AuthStore } from './authStore';

const CONFIG_REQUIRED: Route = () => json(200, { mode: 'required', token_endpoint: '/api/auth/token', grant_types: ['password', 'client_credentials'] });
const CONFIG_OFF: Route = () => json(200, { mode: 'off', token_endpoint: '/api/auth/token', grant_types: [] });
const ME: Route = (call) =>
  call.headers.authorization === `Bearer ${GOOD}` || call.headers['x-api-key'] === 'key-ok'
    ? json(200, { subject: call.headers['x-api-key'] ? 'key:k1' : 'alice', kind: call.headers['x-api-key'] ? 'api_key' : 'jwt', scopes: ['read', 'write'] })
    : envelope(401, 'UNAUTHORIZED', 'invalid token');
const TOKEN: Route = (call) => {
  const form = Object.fromEntries(new URLSearchParams(call.body));
  if (form.grant_type !== 'password') return envelope(400, 'BAD_REQUEST', 'unsupported_grant_type');
  if (form.username === 'alice' && form.password === 'right') return json(200, { access_token: GOOD, token_type: 'Bearer', expires_in: 900, scope: 'read write' });
  return envelope(401, 'UNAUTHORIZED', 'invalid username or password');
};

const FUTURE = Math.floor(Date.now() / 1000) + 3600;
const GOOD = fakeJwt({ sub: 'alice', exp: FUTURE, scope: 'read write' });

let refusalListener: (r: Refusal) => void = () => undefined;
let handshake: Credential | null = null;
const realtime = { pause: vi.fn(), resume: vi.fn(), onRefused: (l: (r: Refusal) => void) => ((refusalListener = l), () => undefined) };
let store: AuthStore;

function newStore(now?: () => number) {
  store = new AuthStore({ realtime, handshakeCredential: () => handshake, now });
  return store;
}

beforeEach(() => {
  realtime.pause.mockClear();
  realtime.resume.mockClear();
  handshake = null;
  sessionStorage.clear();
  resetCredentialCache();
  resetHolds();
});
afterEach(() => {
  store?.dispose();
  clearCredential();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('AuthStore', () => {
  it('AUTH_MODE=off: no form, and no credential sent at all (a stale one is dropped)', async () => {
    setCredential({ kind: 'bearer', value: 'left-over' });
    const gw = installGateway({ 'GET /api/auth/config': CONFIG_OFF, 'GET /api/prices': () => json(200, {}) });
    await newStore().start();
    expect(store.getState()).toMatchObject({ status: 'off', mode: 'off', notice: null });
    expect(getCredential()).toBeNull();
    await apiRequest('/api/prices');
    expect(gw.calls.every((c) => !c.headers.authorization)).toBe(true);
    expect(gw.callsTo('/api/users/me')).toHaveLength(0);
  });

  it('an older gateway (no /api/auth/config) is treated as off, and a 401 later turns the form on', async () => {
    installGateway({ 'GET /api/rules': () => envelope(401, 'UNAUTHORIZED', 'authentication required') });
    await newStore().start();
    expect(store.getState().status).toBe('off');
    await apiRequest('/api/rules').catch(() => undefined);
    expect(store.getState()).toMatchObject({ status: 'signed-out', mode: 'required', notice: { kind: 'required' } });
  });

  it('required without a credential: the form, without a notice', async () => {
    installGateway({ 'GET /api/auth/config': CONFIG_REQUIRED });
    await newStore().start();
    expect(store.getState()).toMatchObject({ status: 'signed-out', mode: 'required', notice: null });
  });

  it('required with a stored valid token (a reload): signed in as who /api/users/me says', async () => {
    setCredential({ kind: 'bearer', value: GOOD });
    resetCredentialCache();
    const gw = installGateway({ 'GET /api/auth/config': CONFIG_REQUIRED, 'GET /api/users/me': ME });
    await newStore().start();
    expect(store.getState()).toMatchObject({ status: 'signed-in', me: { subject: 'alice', scopes: ['read', 'write'] } });
    expect(gw.callsTo('/api/users/me')[0].headers.authorization).toBe(`Bearer ${GOOD}`);
  });

  it('required with a stored token the gateway refuses: the form, "session expired", storage emptied', async () => {
    setCredential({ kind: 'bearer', value: fakeJwt({ sub: 'alice', exp: FUTURE, v: 'revoked' }) });
    installGateway({ 'GET /api/auth/config': CONFIG_REQUIRED, 'GET /api/users/me': ME });
    await newStore().start();
    expect(store.getState()).toMatchObject({ status: 'signed-out', notice: { kind: 'expired' } });
    expect(store.getState().notice!.message).toMatch(/session has expired.*invalid token/);
    expect(sessionStorage.getItem('ascep.credential')).toBeNull();
  });

  it('a stored JWT already past its exp is not even sent', async () => {
    setCredential({ kind: 'bearer', value: fakeJwt({ sub: 'alice', exp: 1000 }) });
    const gw = installGateway({ 'GET /api/auth/config': CONFIG_REQUIRED, 'GET /api/users/me': ME });
    await newStore().start();
    expect(store.getState()).toMatchObject({ status: 'signed-out', notice: { kind: 'expired' } });
    expect(gw.callsTo('/api/users/me')).toHaveLength(0);
  });

  it('a wrong password throws the server’s message and changes nothing; the right one signs in', async () => {
    const gw = installGateway({ 'GET /api/auth/config': CONFIG_REQUIRED, 'POST /api/auth/token': TOKEN, 'GET /api/users/me': ME });
    await newStore().start();
    await expect(store.signIn('alice', 'wrong')).rejects.toMatchObject({ status: 401, message: 'invalid username or password' });
    expect(store.getState()).toMatchObject({ status: 'signed-out', notice: null });
    expect(getCredential()).toBeNull();
    expect(realtime.pause).not.toHaveBeenCalled(); // a wrong password is not a session ending
    await store.signIn('alice', 'right');
    expect(store.getState()).toMatchObject({ status: 'signed-in', me: { subject: 'alice' } });
    expect(JSON.parse(sessionStorage.getItem('ascep.credential')!)).toEqual({ kind: 'bearer', value: GOOD });
    expect(realtime.resume).toHaveBeenCalledTimes(1); // the socket reconnects with the new token
    const token = gw.callsTo('/api/auth/token');
    expect(token.every((c) => c.headers['content-type'] === 'application/x-www-form-urlencoded' && !c.headers.authorization)).toBe(true);
    expect(gw.calls.every((c) => !c.url.includes('right') && !c.url.includes(GOOD))).toBe(true);
  });

  it('a 401 from any call ends the session with "session expired" and closes the socket', async () => {
    setCredential({ kind: 'bearer', value: GOOD });
    installGateway({ 'GET /api/auth/config': CONFIG_REQUIRED, 'GET /api/users/me': ME, 'GET /api/rules': () => envelope(401, 'UNAUTHORIZED', 'token revoked') });
    await newStore().start();
    await Promise.all([apiRequest('/api/rules'), apiRequest('/api/rules')].map((p) => p.catch(() => undefined)));
    expect(store.getState()).toMatchObject({ status: 'signed-out', me: null, notice: { kind: 'expired' } });
    expect(store.getState().notice!.message).toContain('token revoked');
    expect(getCredential()).toBeNull();
    expect(realtime.pause).toHaveBeenCalledTimes(1); // two 401s, one ending
  });

  it('a socket handshake refused as UNAUTHORIZED ends the session the same way', async () => {
    installGateway({ 'GET /api/auth/config': CONFIG_REQUIRED, 'POST /api/auth/token': TOKEN, 'GET /api/users/me': ME });
    await newStore().start();
    await store.signIn('alice', 'right');
    handshake = { kind: 'bearer', value: GOOD };
    refusalListener({ what: 'connect', code: 'UNAUTHORIZED', message: 'token expired', envelope: { error: { code: 'UNAUTHORIZED', message: 'token expired' } } });
    expect(store.getState()).toMatchObject({ status: 'signed-out', notice: { kind: 'expired' } });
    expect(getCredential()).toBeNull();
  });

  it('a 401 or socket refusal about an older credential does not sign out the new session', async () => {
    const gw = installGateway({ 'GET /api/auth/config': CONFIG_REQUIRED, 'POST /api/auth/token': TOKEN, 'GET /api/users/me': ME });
    await newStore().start();
    await store.signIn('alice', 'right');
    handshake = { kind: 'bearer', value: 'the-old-token' };
    refusalListener({ what: 'connect', code: 'UNAUTHORIZED', message: 'expired', envelope: { error: { code: 'UNAUTHORIZED', message: 'expired' } } });
    gw.routes['GET /api/rules'] = () => envelope(401, 'UNAUTHORIZED', 'expired');
    await apiRequest('/api/rules', { credential: { kind: 'bearer', value: 'the-old-token' } }).catch(() => undefined);
    expect(store.getState().status).toBe('signed-in');
    expect(getCredential()).toEqual({ kind: 'bearer', value: GOOD });
  });

  it('signs out by itself when the JWT expires, without waiting for a 401', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const short = fakeJwt({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 });
    installGateway({ 'GET /api/auth/config': CONFIG_REQUIRED, 'GET /api/users/me': () => json(200, { subject: 'alice', scopes: ['read'] }) });
    setCredential({ kind: 'bearer', value: short });
    await newStore().start();
    expect(store.getState().status).toBe('signed-in');
    vi.advanceTimersByTime(59_000);
    expect(store.getState().status).toBe('signed-in');
    vi.advanceTimersByTime(2_000);
    expect(store.getState()).toMatchObject({ status: 'signed-out', notice: { kind: 'expired' } });
  });

  it('sign-out drops the credential, closes the socket and says so', async () => {
    installGateway({ 'GET /api/auth/config': CONFIG_REQUIRED, 'POST /api/auth/token': TOKEN, 'GET /api/users/me': ME });
    await newStore().start();
    await store.signIn('alice', 'right');
    store.signOut();
    expect(store.getState()).toMatchObject({ status: 'signed-out', me: null, notice: { kind: 'signed-out' } });
    expect(sessionStorage.getItem('ascep.credential')).toBeNull();
    expect(realtime.pause).toHaveBeenCalledTimes(1);
  });

  it('a pasted API key is checked with /api/users/me before it is kept; a refused one is not kept', async () => {
    const gw = installGateway({ 'GET /api/auth/config': CONFIG_REQUIRED, 'GET /api/users/me': ME });
    await newStore().start();
    await expect(store.useCredential('api_key', 'key-bad')).rejects.toThrow(/refused this key: invalid token/);
    expect(getCredential()).toBeNull();
    await expect(store.useCredential('bearer', 'two words')).rejects.toThrow(/no spaces/);
    await store.useCredential('api_key', '  key-ok \n');
    expect(store.getState()).toMatchObject({ status: 'signed-in', me: { subject: 'key:k1', kind: 'api_key' } });
    expect(getCredential()).toEqual({ kind: 'api_key', value: 'key-ok' });
    expect(gw.callsTo('/api/users/me').map((c) => c.headers['x-api-key'])).toEqual(['key-bad', 'key-ok']);
  });

  it('a stream refused for lack of scope becomes a notice, not a sign-out', async () => {
    setCredential({ kind: 'bearer', value: GOOD });
    installGateway({ 'GET /api/auth/config': CONFIG_REQUIRED, 'GET /api/users/me': ME });
    await newStore().start();
    refusalListener({ what: 'alerts', code: 'FORBIDDEN', message: 'scope read required', envelope: { error: { code: 'FORBIDDEN', message: 'scope read required' } } });
    expect(store.getState().status).toBe('signed-in');
    expect(store.getState().refusedStreams.alerts).toBe('Your token lacks the scope for live alerts: scope read required');
  });

  it('the token endpoint comes from the config only when it is a path of this gateway', async () => {
    installGateway({ 'GET /api/auth/config': () => json(200, { mode: 'required', token_endpoint: '//evil.example/steal' }) });
    await newStore().start();
    expect(store.getState().tokenEndpoint).toBe('/api/auth/token');
  });
});
