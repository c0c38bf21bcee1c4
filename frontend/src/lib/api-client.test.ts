import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { envelope, installGateway, json } from '../test/gateway';
import { ApiError, apiRequest, dispositionFilename, downloadFile, errorFromResponse, errorMessage, onUnauthorized, requiredScope, setBaseUrl } from './api-client';
import { clearCredential, getCredential, setCredential, type Credential } from './credentials';
import { resetHolds } from './rate-limit';

afterEach(() => {
  vi.unstubAllGlobals();
  setBaseUrl('');
});

describe('errorFromResponse', () => {
  it('reads the envelope: code, message, details, request id', () => {
    const error = errorFromResponse(422, {
      error: { code: 'VALIDATION_ERROR', message: 'max_cycle_length: must be between 2 and 6', details: { field: 'max_cycle_length', reason: 'must be between 2 and 6' } },
      request_id: 'abc',
    });
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.field).toBe('max_cycle_length');
    expect(error.requestId).toBe('abc');
    expect(error.fieldErrors).toEqual([{ path: 'max_cycle_length', message: 'must be between 2 and 6' }]);
    expect(errorMessage(error)).toBe('max_cycle_length: must be between 2 and 6 (VALIDATION_ERROR)');
  });

  it('lists every path of a CEP validation error', () => {
    const error = errorFromResponse(422, {
      error: { code: 'VALIDATION_ERROR', message: 'invalid rule', details: { path: '$.conditions.window', errors: [{ path: '$.conditions.window', message: 'bad duration' }, { path: '$.name', message: 'required' }] } },
    });
    expect(error.field).toBe('$.conditions.window');
    expect(error.fieldErrors.map((e) => e.path)).toEqual(['$.conditions.window', '$.name']);
  });

  it('falls back to the status when the body is not an envelope', () => {
    const error = errorFromResponse(502, '<html>bad gateway</html>', 'Bad Gateway');
    expect(error.code).toBe('HTTP_502');
    expect(error.message).toContain('502');
  });
});

describe('apiRequest', () => {
  it('prefixes the base URL, encodes the query and sends JSON', async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ ok: 1 }), { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    setBaseUrl('http://gw:5000/');
    await expect(apiRequest('/api/signals', { query: { limit: 5, type: undefined, status: 'open' } })).resolves.toEqual({ ok: 1 });
    expect(fetchMock).toHaveBeenCalledWith('http://gw:5000/api/signals?limit=5&status=open', expect.objectContaining({ method: 'GET' }));
    await apiRequest('/api/rules', { method: 'POST', body: { name: 'x' } });
    const [, init] = fetchMock.mock.calls[1] as unknown as [string, RequestInit];
    expect(init.body).toBe('{"name":"x"}');
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
  });

  it('throws ApiError with the server message, and a network error as NETWORK_ERROR', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no signal 9' } }), { status: 404 })));
    await expect(apiRequest('/api/signals/9')).rejects.toMatchObject({ status: 404, code: 'NOT_FOUND', message: 'no signal 9' });
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    await expect(apiRequest('/api/health')).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
  });
});

describe('apiRequest with a credential (issue 17)', () => {
  const used: (Credential | null)[] = [];
  let off: () => void = () => undefined;
  beforeEach(() => {
    used.length = 0;
    off = onUnauthorized((_, credential) => used.push(credential));
    resetHolds();
  });
  afterEach(() => {
    off();
    clearCredential();
    resetHolds();
  });

  it('sends the stored bearer token (or API key) on every call, nothing without one, never in the URL', async () => {
    const gw = installGateway({ 'GET /api/prices': () => json(200, {}), 'POST /api/rules': () => json(201, {}) });
    await apiRequest('/api/prices');
    expect(gw.calls[0].headers.authorization).toBeUndefined();
    setCredential({ kind: 'bearer', value: 'secret-token' });
    await apiRequest('/api/prices', { query: { limit: 3 } });
    await apiRequest('/api/rules', { method: 'POST', body: { name: 'x' } });
    expect(gw.calls[1].headers.authorization).toBe('Bearer secret-token');
    expect(gw.calls[2].headers.authorization).toBe('Bearer secret-token');
    setCredential({ kind: 'api_key', value: 'key-1' });
    await apiRequest('/api/prices');
    expect(gw.calls[3].headers['x-api-key']).toBe('key-1');
    expect(gw.calls[3].headers.authorization).toBeUndefined();
    expect(gw.calls.every((c) => !c.url.includes('secret-token') && !c.url.includes('key-1'))).toBe(true);
  });

  it('posts a form when asked (the OAuth 2 token endpoint), with no credential when told none', async () => {
    setCredential({ kind: 'bearer', value: 'old' });
    const gw = installGateway({ 'POST /api/auth/token': () => json(200, { access_token: 't', token_type: 'Bearer' }) });
    await apiRequest('/api/auth/token', { method: 'POST', form: { grant_type: 'password', username: 'a b', password: 'p&q=' }, credential: null });
    expect(gw.calls[0].headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(gw.calls[0].body))).toEqual({ grant_type: 'password', username: 'a b', password: 'p&q=' });
    expect(gw.calls[0].headers.authorization).toBeUndefined();
  });

  it('a 401 drops the credential and tells the listeners which credential failed', async () => {
    setCredential({ kind: 'bearer', value: 'expired' });
    installGateway({ 'GET /api/rules': () => envelope(401, 'UNAUTHORIZED', 'token expired', {}, { 'WWW-Authenticate': 'Bearer error="invalid_token"' }) });
    await expect(apiRequest('/api/rules')).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED', message: 'token expired' });
    expect(getCredential()).toBeNull();
    expect(used).toEqual([{ kind: 'bearer', value: 'expired' }]);
  });

  it('a late 401 to a request sent with an older credential does not drop the new one', async () => {
    setCredential({ kind: 'bearer', value: 'old' });
    let answer: (r: Response) => void = () => undefined;
    installGateway({ 'GET /api/rules': () => new Promise<Response>((resolve) => (answer = resolve)) });
    const pending = apiRequest('/api/rules');
    await Promise.resolve();
    setCredential({ kind: 'bearer', value: 'new' }); // the user signed in again meanwhile
    answer(envelope(401, 'UNAUTHORIZED', 'token expired'));
    await expect(pending).rejects.toMatchObject({ status: 401 });
    expect(getCredential()).toEqual({ kind: 'bearer', value: 'new' });
    expect(used).toEqual([{ kind: 'bearer', value: 'old' }]); // the store can tell it is stale
  });

  it('a 401 to a request with its own credential (sign-in, checking a pasted token) is the caller’s only', async () => {
    setCredential({ kind: 'bearer', value: 'kept' });
    installGateway({ 'POST /api/auth/token': () => envelope(401, 'UNAUTHORIZED', 'invalid username or password') });
    await expect(apiRequest('/api/auth/token', { method: 'POST', form: {}, credential: null })).rejects.toMatchObject({ message: 'invalid username or password' });
    expect(getCredential()).toEqual({ kind: 'bearer', value: 'kept' });
    expect(used).toEqual([]);
  });

  it('a 403 names the scope the token lacks: from the details, else from the gateway’s rule', async () => {
    installGateway({
      'PUT /api/arbitrage/config': () => envelope(403, 'FORBIDDEN', 'insufficient scope', { required_scope: 'write' }),
      'POST /api/rules': () => envelope(403, 'FORBIDDEN', 'insufficient scope'),
      'GET /api/gateway/keys': () => envelope(403, 'FORBIDDEN', 'insufficient scope'),
      'GET /api/prices': () => envelope(403, 'FORBIDDEN', 'insufficient scope', { scopes: ['write'] }),
      'DELETE /api/rules/1': () => envelope(403, 'FORBIDDEN', 'insufficient scope', {}, { 'WWW-Authenticate': 'Bearer error="insufficient_scope", scope="admin"' }),
    });
    const messages: string[] = [];
    for (const [path, method] of [['/api/arbitrage/config', 'PUT'], ['/api/rules', 'POST'], ['/api/gateway/keys', 'GET'], ['/api/prices', 'GET'], ['/api/rules/1', 'DELETE']]) {
      const error = await apiRequest(path, { method, body: method === 'GET' ? undefined : {} }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      messages.push(errorMessage(error));
    }
    expect(messages).toEqual([
      'Your token lacks scope write: insufficient scope (FORBIDDEN)',
      'Your token lacks scope write: insufficient scope (FORBIDDEN)',
      'Your token lacks scope admin: insufficient scope (FORBIDDEN)',
      'Your token lacks scope read: insufficient scope (FORBIDDEN)', // `scopes` (granted?) is not taken for the missing one
      'Your token lacks scope admin: insufficient scope (FORBIDDEN)', // from the RFC 6750 challenge
    ]);
    expect(requiredScope(errorFromResponse(403, { error: { code: 'FORBIDDEN', message: 'x', details: { required_scopes: ['admin'] } } }))).toBe('admin');
  });

  it('a 429 holds its area for Retry-After: no request reaches the gateway until then (no retry storm)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      let limited = true;
      const gw = installGateway({
        'GET /api/latency': () => (limited ? envelope(429, 'RATE_LIMITED', 'rate limit exceeded', {}, { 'Retry-After': '5', RateLimit: 'limit=100, remaining=0, reset=5' }) : json(200, { ok: true })),
        'GET /api/prices': () => json(200, { ok: true }),
      });
      const first = await apiRequest('/api/latency').catch((e: unknown) => e);
      expect(first).toMatchObject({ status: 429, code: 'RATE_LIMITED', retryAfter: 5 });
      expect(errorMessage(first)).toBe('Too many requests: rate limit exceeded Try again in 5 s. (RATE_LIMITED)');
      // A page polling every 100 ms for 4.9 s: all held locally.
      for (let i = 0; i < 49; i++) {
        vi.advanceTimersByTime(100);
        await expect(apiRequest('/api/latency', { query: { window: 60 } })).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      }
      expect(gw.callsTo('/api/latency')).toHaveLength(1);
      await expect(apiRequest('/api/prices')).resolves.toEqual({ ok: true }); // another area is not held
      limited = false;
      vi.advanceTimersByTime(200);
      await expect(apiRequest('/api/latency')).resolves.toEqual({ ok: true });
      expect(gw.callsTo('/api/latency')).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a download carries the credential in a header and takes the server’s file name', async () => {
    setCredential({ kind: 'bearer', value: 'tok' });
    const gw = installGateway({
      'GET /api/tasks/abc/result.csv': () => new Response('a,b\n1,2\n', { status: 200, headers: { 'Content-Disposition': 'attachment; filename="EURUSD-abc.csv"' } }),
    });
    const created = vi.fn(() => 'blob:x');
    vi.stubGlobal('URL', Object.assign(URL, { createObjectURL: created, revokeObjectURL: vi.fn() }));
    const clicked: string[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.download);
    });
    await downloadFile('/api/tasks/abc/result.csv', 'fallback.csv');
    expect(gw.calls[0].headers.authorization).toBe('Bearer tok');
    expect(clicked).toEqual(['EURUSD-abc.csv']);
    expect(dispositionFilename("attachment; filename*=UTF-8''..%2F..%2Fevil.csv")).toBe('....evil.csv');
    click.mockRestore();
  });
});
