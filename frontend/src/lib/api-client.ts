/**
 * The one HTTP client of the dashboard. Everything goes to the gateway (one base URL, empty =
 * same origin), and every failure becomes an {@link ApiError} carrying the envelope's code,
 * message and details, so components show the server's words instead of a blank page.
 *
 * Access (issue 17): every request carries the current credential (`Authorization: Bearer` or
 * `X-API-Key`, from `credentials.ts`). A 401 ends the session: the credential is dropped and the
 * listeners of {@link onUnauthorized} (the auth store) show the sign-in form. A 429 holds the
 * request's area for `Retry-After` (`rate-limit.ts`): no retry storm. A 403 names the scope the
 * credential lacks ({@link errorMessage}).
 */
import { clearCredential, credentialHeaders, getCredential, sameCredential, type Credential } from './credentials';
import { activeHold, holdKey, holdOff, parseRetryAfter } from './rate-limit';
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
  /** The request that failed (set by {@link apiRequest}): to name the scope a 403 lacks. */
  method?: string;
  path?: string;
  /** Seconds the gateway asked to wait (429 `Retry-After`). */
  retryAfter?: number;
  /** The `scope` attribute of a `WWW-Authenticate: Bearer` challenge (403 insufficient_scope). */
  challengeScope?: string;

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
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as `application/x-www-form-urlencoded` (the OAuth 2 token endpoint's own format). */
  form?: Record<string, string>;
  query?: Record<string, string | number | boolean | undefined | null>;
  signal?: AbortSignal;
  /**
   * The credential to send instead of the stored one (`null`: none). A request that names its
   * credential handles its own 401 (signing in, checking a pasted token): no session ends.
   */
  credential?: Credential | null;
}

type UnauthorizedListener = (error: ApiError, credential: Credential | null) => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/**
 * Be told when a request made with the stored credential got a 401 (the credential is already
 * dropped then). `credential` is the one that request carried: an answer to a request sent before
 * a new sign-in must not end the new session, and the listener can tell.
 */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

function holdError(path: string, method: string, until: number, message: string): ApiError {
  const seconds = Math.max(1, Math.ceil((until - Date.now()) / 1000));
  const error = new ApiError(429, 'RATE_LIMITED', message, { retry_after: seconds, held: true });
  error.method = method;
  error.path = path;
  error.retryAfter = seconds;
  return error;
}

/** Send one request to the gateway; the answer's JSON, or an {@link ApiError}. */
export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options);
  return parseBody(await response.text()) as T;
}

/** JSON when the text is JSON, else the text itself (an HTML error page, a plain message). */
function parseBody(text: string): unknown {
  if (!text) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The file name a `Content-Disposition: attachment; filename="..."` header gives, if any. */
export function dispositionFilename(header: string | null): string | null {
  const match = header?.match(/filename\*?=(?:UTF-8'')?"?([^";]+)"?/i);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]).replace(/[\\/]/g, '');
  } catch {
    return match[1].replace(/[\\/]/g, '');
  }
}

/**
 * Fetch a file with the credential and hand it to the browser as a download. Why not a plain
 * `<a href download>`: a navigation carries no `Authorization` header, and a token must never go
 * in the URL instead.
 */
export async function downloadFile(path: string, fallbackName: string): Promise<void> {
  const response = await send(path, { headers: { Accept: '*/*' } });
  const filename = dispositionFilename(response.headers.get('Content-Disposition')) ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  try {
    const link = document.createElement('a');
    link.href = url;
    link.download = filename;
    document.body.appendChild(link);
    link.click();
    link.remove();
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

/** The request itself: credential, rate-limit hold, 401/429 bookkeeping; an ok Response or a throw. */
async function send(path: string, options: RequestOptions & { headers?: Record<string, string> }): Promise<Response> {
  const method = options.method ?? 'GET';
  const key = holdKey(path);
  const hold = activeHold(key);
  if (hold) throw holdError(path, method, hold.until, hold.message);

  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(options.query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const qs = params.toString();
  const url = `${baseUrl}${path}${qs ? `?${qs}` : ''}`;
  const ownCredential = options.credential !== undefined;
  const credential = ownCredential ? (options.credential ?? null) : getCredential();
  let body: string | undefined;
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers, ...credentialHeaders(credential) };
  if (options.form !== undefined) {
    body = new URLSearchParams(options.form).toString();
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['Content-Type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await fetch(url, { method, headers, body, signal: options.signal });
  } catch (exc) {
    if ((exc as Error).name === 'AbortError') throw exc;
    throw new ApiError(0, 'NETWORK_ERROR', 'The gateway cannot be reached (network error).');
  }
  if (response.ok) return response;

  const error = errorFromResponse(response.status, parseBody(await response.text()), response.statusText);
  error.method = method;
  error.path = path;
  const challenge = response.headers.get('WWW-Authenticate')?.match(/\bscope="([^"]*)"/i);
  if (challenge?.[1]) error.challengeScope = challenge[1];
  if (response.status === 429) {
    const seconds = parseRetryAfter(response.headers.get('Retry-After'));
    error.retryAfter = seconds;
    holdOff(key, seconds, error.message);
  } else if (response.status === 401 && !ownCredential) {
    // Only the credential this request carried is dropped: a newer sign-in stays.
    if (sameCredential(getCredential(), credential)) clearCredential();
    for (const listener of [...unauthorizedListeners]) listener(error, credential);
  }
  throw error;
}

export const api = {
  get: <T>(path: string, query?: RequestOptions['query'], signal?: AbortSignal) => apiRequest<T>(path, { query, signal }),
  post: <T>(path: string, body?: unknown) => apiRequest<T>(path, { method: 'POST', body: body ?? {} }),
  put: <T>(path: string, body: unknown) => apiRequest<T>(path, { method: 'PUT', body }),
  patch: <T>(path: string, body: unknown) => apiRequest<T>(path, { method: 'PATCH', body }),
  delete: <T>(path: string) => apiRequest<T>(path, { method: 'DELETE' }),
};

/** Details keys that name the scope a request needed (not `scopes`: that may be what was granted). */
const SCOPE_DETAIL_KEYS = ['required_scope', 'required_scopes', 'missing_scope', 'missing_scopes', 'scope'];

/**
 * The scope a 403 says is missing: the envelope's details when they name it, else the
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."` attribute (RFC 6750 §3), else
 * the gateway's rule (issue 17: `admin` under `/api/gateway/`, `read` for GET/HEAD, `write` else).
 */
export function requiredScope(error: ApiError): string | null {
  for (const key of SCOPE_DETAIL_KEYS) {
    const value = error.details[key];
    if (typeof value === 'string' && value) return value;
    if (Array.isArray(value) && value.length) return value.map(String).join(' ');
  }
  if (error.challengeScope) return error.challengeScope;
  if (!error.path) return null;
  if (error.path.startsWith('/api/gateway/')) return 'admin';
  const method = (error.method ?? 'GET').toUpperCase();
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

/** A message fit for the UI from anything thrown. */
export function errorMessage(exc: unknown): string {
  if (exc instanceof ApiError) {
    if (exc.code === 'FORBIDDEN' || (exc.status === 403 && exc.code.startsWith('HTTP_'))) {
      const scope = requiredScope(exc);
      const lacks = scope ? `Your token lacks scope ${scope}` : 'Your token lacks the scope this needs';
      return `${lacks}: ${exc.message} (FORBIDDEN)`;
    }
    if (exc.status === 429) {
      const wait = exc.retryAfter ? ` Try again in ${exc.retryAfter} s.` : '';
      return `Too many requests: ${exc.message}${wait} (RATE_LIMITED)`;
    }
    return exc.code.startsWith('HTTP_') || exc.code === 'NETWORK_ERROR' ? exc.message : `${exc.message} (${exc.code})`;
  }
  if (exc instanceof Error) return exc.message;
  return String(exc);
}
