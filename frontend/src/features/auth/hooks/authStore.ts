/**
 * Who the dashboard is signed in as, and when it must ask again. Framework-free (a React hook
 * reads it through useSyncExternalStore), so the whole state machine is unit-tested without a DOM.
 *
 *   checking ──config off──────────────────────────▶ off         (no sign-in, nothing changes)
 *      │ required, no credential                    signed-out ◀─ sign-out / 401 / refused socket / exp
 *      │ required, credential ── /api/users/me ok ─▶ signed-in  ── sign-in / token ok ──┘ ▲
 *      └────────────────────────── 401 ───────────▶ signed-out (session expired) ────────┘
 *
 * A gateway that does not answer `/api/auth/config` (an older one: 404; or unreachable) is
 * treated as `off`, and the first 401 from anywhere turns the form on: the dashboard never locks
 * itself out of a gateway without auth, and never hides the form from one that wants it.
 */
import { useEffect, useSyncExternalStore } from 'react';
import { ApiError, errorMessage, onUnauthorized } from '../../../lib/api-client';
import { clearCredential, getCredential, sameCredential, setCredential, tokenExpiry, type Credential, type CredentialKind } from '../../../lib/credentials';
import { realtime, type Refusal } from '../../../lib/socket';
import { lastHandshakeCredential } from '../../../lib/socket-auth';
import { DEFAULT_TOKEN_ENDPOINT, fetchAuthConfig, fetchMe, requestToken, type Me } from '../api/auth';

export type AuthStatus = 'checking' | 'off' | 'signed-out' | 'signed-in';

export interface AuthNotice {
  kind: 'expired' | 'signed-out' | 'required';
  message: string;
}

export interface AuthState {
  status: AuthStatus;
  /** What the gateway said; `unknown` when it did not say (older gateway, unreachable). */
  mode: 'off' | 'required' | 'unknown';
  /** Who is signed in (null while unknown, e.g. `/api/users/me` failed for another reason than 401). */
  me: Me | null;
  /** Why the sign-in form is shown. */
  notice: AuthNotice | null;
  /** Live streams the server refused (stream → message), e.g. a scope the credential lacks. */
  refusedStreams: Record<string, string>;
  tokenEndpoint: string;
}

/** What the store needs from the socket (a fake one in the tests). */
export interface RealtimeControl {
  pause(): void;
  resume(): void;
  onRefused(listener: (refusal: Refusal) => void): () => void;
}

export interface AuthStoreOptions {
  realtime?: RealtimeControl;
  handshakeCredential?: () => Credential | null;
  now?: () => number;
}

/** setTimeout's largest delay; a later expiry is re-armed when this one fires. */
const MAX_TIMER_MS = 2_147_483_647;

const INITIAL: AuthState = { status: 'checking', mode: 'unknown', me: null, notice: null, refusedStreams: {}, tokenEndpoint: DEFAULT_TOKEN_ENDPOINT };

export class AuthStore {
  private state: AuthState = INITIAL;
  private readonly listeners = new Set<() => void>();
  private readonly realtime: RealtimeControl;
  private readonly handshakeCredential: () => Credential | null;
  private readonly now: () => number;
  private started: Promise<void> | null = null;
  private expiryTimer: ReturnType<typeof setTimeout> | null = null;
  private unsubscribers: (() => void)[] = [];

  constructor(options: AuthStoreOptions = {}) {
    this.realtime = options.realtime ?? realtime;
    this.handshakeCredential = options.handshakeCredential ?? lastHandshakeCredential;
    this.now = options.now ?? (() => Date.now());
  }

  getState = (): AuthState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Ask the gateway how it wants to be accessed and check a stored credential (once). */
  start(): Promise<void> {
    if (!this.started) {
      this.unsubscribers.push(
        onUnauthorized((error, used) => this.onUnauthorized(error.message, used)),
        this.realtime.onRefused((refusal) => this.onRefused(refusal)),
      );
      this.started = this.decide();
    }
    return this.started;
  }

  /** Forget listeners and timers (tests). */
  dispose(): void {
    for (const off of this.unsubscribers) off();
    this.unsubscribers = [];
    this.clearExpiry();
  }

  /** Exchange a username and password for a token (a wrong password throws the server's error). */
  async signIn(username: string, password: string): Promise<void> {
    const tokens = await requestToken(this.state.tokenEndpoint, username, password);
    if (typeof tokens?.access_token !== 'string' || !tokens.access_token || (tokens.token_type && tokens.token_type.toLowerCase() !== 'bearer')) {
      throw new Error('The gateway answered without a bearer access token.');
    }
    const credential: Credential = { kind: 'bearer', value: tokens.access_token };
    const granted = typeof tokens.scope === 'string' ? tokens.scope.split(' ').filter(Boolean) : [];
    await this.adopt(credential, { subject: username, kind: 'jwt', scopes: granted });
  }

  /** Use a pasted access token or API key, once the gateway has accepted it (`/api/users/me`). */
  async useCredential(kind: CredentialKind, value: string): Promise<void> {
    const credential: Credential = { kind, value: value.trim() };
    if (!credential.value) throw new Error(kind === 'bearer' ? 'Paste an access token.' : 'Paste an API key.');
    if (/\s/.test(credential.value)) throw new Error('A token or key has no spaces: paste it alone.');
    let me: Me;
    try {
      me = await fetchMe(credential);
    } catch (exc) {
      if (exc instanceof ApiError && exc.status === 401) throw new Error(`The gateway refused this ${kind === 'bearer' ? 'token' : 'key'}: ${errorMessage(exc)}`);
      throw exc;
    }
    await this.adopt(credential, me, true);
  }

  /** Drop the credential and show the form. */
  signOut(): void {
    this.end({ kind: 'signed-out', message: 'You are signed out.' });
  }

  private async decide(): Promise<void> {
    let mode: AuthState['mode'] = 'unknown';
    let tokenEndpoint = DEFAULT_TOKEN_ENDPOINT;
    try {
      const config = await fetchAuthConfig();
      if (config?.mode === 'off' || config?.mode === 'required') mode = config.mode;
      // Passwords go only to a path of this gateway, whatever the config says.
      if (typeof config?.token_endpoint === 'string' && /^\/(?!\/)/.test(config.token_endpoint)) tokenEndpoint = config.token_endpoint;
    } catch {
      mode = 'unknown'; // 404 from an older gateway, network error: a 401 later will say more
    }
    if (this.state.status !== 'checking') return; // a 401 decided meanwhile
    this.set({ mode, tokenEndpoint });
    const credential = getCredential();
    if (mode === 'off' || (mode === 'unknown' && !credential)) {
      if (mode === 'off') clearCredential(); // nothing changes with auth off: no header at all
      this.set({ status: 'off' });
      return;
    }
    if (!credential) {
      this.set({ status: 'signed-out', notice: null });
      return;
    }
    const exp = tokenExpiry(credential);
    if (exp !== null && exp * 1000 <= this.now()) {
      this.end({ kind: 'expired', message: 'Your session has expired: sign in again.' });
      return;
    }
    try {
      const me = await fetchMe(credential);
      if (this.state.status !== 'checking' || !sameCredential(getCredential(), credential)) return;
      this.signedIn(credential, me);
    } catch (exc) {
      if (this.state.status !== 'checking' || !sameCredential(getCredential(), credential)) return;
      if (exc instanceof ApiError && exc.status === 401) {
        this.end({ kind: 'expired', message: `Your session has expired: sign in again. (${exc.message})` });
      } else {
        this.signedIn(credential, null); // the gateway is busy or down: the pages will say so
      }
    }
  }

  private async adopt(credential: Credential, fallback: Me, verified = false): Promise<void> {
    setCredential(credential);
    let me: Me | null = verified ? fallback : null;
    if (!verified) {
      try {
        me = await fetchMe(credential);
      } catch (exc) {
        if (exc instanceof ApiError && exc.status === 401) {
          clearCredential();
          throw exc; // a token refused as soon as issued: show why
        }
        me = fallback; // users/me unavailable: what the token endpoint said is enough to go on
      }
    }
    if (!sameCredential(getCredential(), credential)) return; // signed out or in again meanwhile
    this.signedIn(credential, me);
    this.realtime.resume();
  }

  private signedIn(credential: Credential, me: Me | null): void {
    this.set({ status: 'signed-in', me, notice: null, refusedStreams: {} });
    this.armExpiry(credential);
  }

  private onUnauthorized(message: string, used: Credential | null): void {
    if (this.state.status === 'signed-out') return;
    const current = getCredential();
    // An answer to a request made with an older credential says nothing about the current one.
    if (used && current && !sameCredential(used, current)) return;
    if (used) this.end({ kind: 'expired', message: `Your session has expired: sign in again. (${message})` });
    else this.end({ kind: 'required', message: 'This gateway requires signing in.' });
  }

  private onRefused(refusal: Refusal): void {
    if (refusal.what === 'connect') {
      if (refusal.code === 'UNAUTHORIZED') this.onUnauthorized(refusal.message, this.handshakeCredential());
      return;
    }
    const text = refusal.code === 'FORBIDDEN' ? `Your token lacks the scope for live ${refusal.what}: ${refusal.message}` : `Live ${refusal.what} refused: ${refusal.message}`;
    this.set({ refusedStreams: { ...this.state.refusedStreams, [refusal.what]: text } });
  }

  private end(notice: AuthNotice): void {
    clearCredential();
    this.clearExpiry();
    this.realtime.pause();
    // Whatever the config said, a gateway that refuses a credential (or wants one) requires one.
    this.set({ status: 'signed-out', mode: 'required', me: null, notice, refusedStreams: {} });
  }

  private armExpiry(credential: Credential): void {
    this.clearExpiry();
    const exp = tokenExpiry(credential);
    if (exp === null) return;
    const delay = Math.max(0, exp * 1000 - this.now());
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      if (!sameCredential(getCredential(), credential)) return;
      if (exp * 1000 > this.now()) this.armExpiry(credential); // a delay longer than a timer's
      else this.end({ kind: 'expired', message: 'Your session has expired: sign in again.' });
    }, Math.min(delay, MAX_TIMER_MS));
  }

  private clearExpiry(): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
  }

  private set(patch: Partial<AuthState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of [...this.listeners]) listener();
  }
}

/** The dashboard's one auth store. */
export const auth = new AuthStore();

/** The auth state, started on first use. */
export function useAuth(): AuthState {
  useEffect(() => {
    void auth.start();
  }, []);
  return useSyncExternalStore(auth.subscribe, auth.getState, auth.getState);
}
