import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, apiRequest, errorFromResponse, errorMessage, setBaseUrl } from './api-client';

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
