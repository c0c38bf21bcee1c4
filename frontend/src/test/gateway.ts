/**
 * A scripted gateway for unit tests: `fetch` answered by a route table, every call recorded with
 * its headers and body, so tests assert on what the dashboard really sent.
 */
import { vi } from 'vitest';

export interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

export type Route = (call: Call) => Response | Promise<Response>;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

export function envelope(status: number, code: string, message: string, details: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  return json(status, { error: { code, message, details }, request_id: 'req-1' }, headers);
}

/** A JWT-shaped token (unsigned: the dashboard never verifies, it only reads `exp`). */
export function fakeJwt(claims: Record<string, unknown>): string {
  const b64 = (value: unknown) => btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}.c2lnbmF0dXJl`;
}

/**
 * Install a fake `fetch`. `routes` maps `"METHOD /path"` (path without the query) to an answer;
 * an unknown route is a 404 envelope.
 */
export function installGateway(routes: Record<string, Route>) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries((init.headers as Record<string, string> | undefined) ?? {})) headers[name.toLowerCase()] = value;
    const call: Call = { url, method: init.method ?? 'GET', headers, body: typeof init.body === 'string' ? init.body : undefined };
    calls.push(call);
    const path = new URL(url, 'http://dashboard.test').pathname;
    const route = routes[`${call.method} ${path}`];
    return route ? route(call) : envelope(404, 'NOT_FOUND', `no route ${path}`);
  });
  vi.stubGlobal('fetch', fetchMock);
  return { calls, fetchMock, routes, callsTo: (path: string) => calls.filter((c) => new URL(c.url, 'http://dashboard.test').pathname === path) };
}
