/**
 * The one HTTP client of the dashboard. Everything goes to the gateway (one base URL, empty =
 * same origin), and every failure becomes an {@link ApiError} carrying the envelope's code,
 * message and details, so components show the server's words instead of a blank page.
 */
import type { ErrorEnvelope } from './types';

let baseUrl: string = (import.meta.env.VITE_API_BASE_URL as string | undefined) ?? '';

/** Point the client (and the socket) at another gateway, e.g. `http://127.0.0.1:5000`. */
export function setBaseUrl(url: string): void {
  baseUrl = url.replace(/\/+$/, '');
}

export function getBaseUrl(): string {
  return baseUrl;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly requestId?: string;
  /** The parsed body (a 503 health report still carries the report next to the envelope). */
  body: unknown;

  constructor(status: number, code: string, message: string, details?: Record<string, unknown> | null, requestId?: string) {
    super(message);
    this.body = undefined;
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details ?? {};
    this.requestId = requestId;
  }

  /** The field an error is about (`details.field`, or a CEP JSON path in `details.path`). */
  get field(): string | undefined {
    const field = this.details.field ?? this.details.path;
    return typeof field === 'string' ? field : undefined;
  }

  /** Every `{path, message}` pair a validation error lists (CEP rules), else the single message. */
  get fieldErrors(): { path: string; message: string }[] {
    const errors = this.details.errors;
    if (Array.isArray(errors)) {
      return errors
        .filter((e): e is { path: string; message: string } => typeof e === 'object' && e !== null && 'message' in e)
        .map((e) => ({ path: String(e.path ?? ''), message: String(e.message) }));
    }
    return this.field ? [{ path: this.field, message: String(this.details.reason ?? this.message) }] : [];
  }
}

function isEnvelope(body: unknown): body is ErrorEnvelope {
  return typeof body === 'object' && body !== null && 'error' in body &&
    typeof (body as ErrorEnvelope).error === 'object' && (body as ErrorEnvelope).error !== null &&
    typeof (body as ErrorEnvelope).error.message === 'string';
}

/** Turn any failed response body into an ApiError (envelope when there is one, else the status). */
export function errorFromResponse(status: number, body: unknown, statusText = ''): ApiError {
  if (isEnvelope(body)) {
    const { code, message, details } = body.error;
    const error = new ApiError(status, code ?? 'ERROR', message, details ?? {}, body.request_id);
    error.body = body;
    return error;
  }
  const text = typeof body === 'string' && body.trim() ? body.trim().slice(0, 200) : statusText || 'request failed';
  const error = new ApiError(status, `HTTP_${status}`, `HTTP ${status}: ${text}`);
  error.body = body;
  return error;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  signal?: AbortSignal;
}

export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  const url = `${baseUrl}${path}${qs ? `?${qs}` : ''}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: options.method ?? 'GET',
      headers: {
        Accept: 'application/json',
        ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      signal: options.signal,
    });
  } catch (exc) {
    if ((exc as Error).name === 'AbortError') throw exc;
    throw new ApiError(0, 'NETWORK_ERROR', 'The gateway cannot be reached (network error).');
  }
  const text = await response.text();
  let body: unknown = text;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!response.ok) throw errorFromResponse(response.status, body, response.statusText);
  return body as T;
}

export const api = {
  get: <T>(path: string, query?: RequestOptions['query'], signal?: AbortSignal) => apiRequest<T>(path, { query, signal }),
  post: <T>(path: string, body?: unknown) => apiRequest<T>(path, { method: 'POST', body: body ?? {} }),
  put: <T>(path: string, body: unknown) => apiRequest<T>(path, { method: 'PUT', body }),
  patch: <T>(path: string, body: unknown) => apiRequest<T>(path, { method: 'PATCH', body }),
  delete: <T>(path: string) => apiRequest<T>(path, { method: 'DELETE' }),
};

/** A message fit for the UI from anything thrown. */
export function errorMessage(exc: unknown): string {
  if (exc instanceof ApiError) return exc.code.startsWith('HTTP_') || exc.code === 'NETWORK_ERROR' ? exc.message : `${exc.message} (${exc.code})`;
  if (exc instanceof Error) return exc.message;
  return String(exc);
}
