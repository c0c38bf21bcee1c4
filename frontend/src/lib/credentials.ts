/**
 * The credential the dashboard presents to the gateway: a bearer access token (a JWT from
 * `POST /api/auth/token`, or one pasted) or an API key. The API client and the socket read it
 * from here at every request and every handshake, so a new sign-in takes effect at once.
 *
 * Why `sessionStorage` and not `localStorage`: a reload must keep the session (the issue asks for
 * it), but a bearer token should live no longer and no wider than the tab it was typed into.
 * `sessionStorage` is per tab and is emptied when the tab closes, so the token does not survive a
 * browser restart on a shared machine nor leak to every other tab of the origin; `localStorage`
 * would keep it on disk indefinitely. (Both are readable by a script running in the page, so this
 * narrows the exposure in time, not against XSS; an HttpOnly cookie would need CSRF protection
 * and a cookie-issuing backend, which the gateway's Bearer/`X-API-Key` contract does not have.)
 * When storage is unavailable (privacy mode, quota), the credential lives in memory only.
 *
 * The value is never put in a URL nor logged: it travels in the `Authorization` / `X-API-Key`
 * headers and in the Socket.IO CONNECT packet (`auth`), never in a query string.
 */

export type CredentialKind = 'bearer' | 'api_key';

export interface Credential {
  kind: CredentialKind;
  value: string;
}

const STORAGE_KEY = 'ascep.credential';

let current: Credential | null | undefined; // undefined: not read from storage yet
const listeners = new Set<() => void>();

function storage(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null; // a sandboxed frame throws on access
  }
}

function parse(raw: string | null): Credential | null {
  if (!raw) return null;
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) return null;
    const { kind, value: secret } = value as Record<string, unknown>;
    if ((kind === 'bearer' || kind === 'api_key') && typeof secret === 'string' && secret) return { kind, value: secret };
  } catch {
    /* a corrupt entry is no credential */
  }
  return null;
}

/** The credential in use, or null (read from `sessionStorage` on first use). */
export function getCredential(): Credential | null {
  if (current === undefined) {
    let raw: string | null = null;
    try {
      raw = storage()?.getItem(STORAGE_KEY) ?? null;
    } catch {
      raw = null;
    }
    current = parse(raw);
  }
  return current;
}

export function setCredential(credential: Credential | null): void {
  current = credential && credential.value ? { kind: credential.kind, value: credential.value } : null;
  try {
    if (current) storage()?.setItem(STORAGE_KEY, JSON.stringify(current));
    else storage()?.removeItem(STORAGE_KEY);
  } catch {
    /* storage full or refused: the credential stays in memory for this page */
  }
  for (const listener of [...listeners]) listener();
}

export function clearCredential(): void {
  setCredential(null);
}

export function subscribeCredential(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The HTTP headers that carry a credential (none without one). */
export function credentialHeaders(credential: Credential | null = getCredential()): Record<string, string> {
  if (!credential) return {};
  return credential.kind === 'bearer' ? { Authorization: `Bearer ${credential.value}` } : { 'X-API-Key': credential.value };
}

/** The Socket.IO handshake `auth` payload (`{token}` or `{api_key}`, `{}` without a credential). */
export function socketAuthPayload(credential: Credential | null = getCredential()): Record<string, string> {
  if (!credential) return {};
  return credential.kind === 'bearer' ? { token: credential.value } : { api_key: credential.value };
}

/** Same credential? (Answers to requests made with an older one must not sign out a newer one.) */
export function sameCredential(a: Credential | null, b: Credential | null): boolean {
  return a === b || (a !== null && b !== null && a.kind === b.kind && a.value === b.value);
}

/**
 * The `exp` claim (epoch seconds) of a JWT, read without verifying it: only to sign out on time
 * instead of waiting for a 401. Null for API keys, opaque tokens and anything malformed.
 */
export function tokenExpiry(credential: Credential | null): number | null {
  if (!credential || credential.kind !== 'bearer') return null;
  const parts = credential.value.split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json: unknown = JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
    const exp = (json as Record<string, unknown> | null)?.exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : null;
  } catch {
    return null;
  }
}

/** Forget the in-memory copy (tests: the next read comes from storage again). */
export function resetCredentialCache(): void {
  current = undefined;
}
