/**
 * What the signed-in account may do, so a control it cannot use is shown disabled with the reason
 * instead of failing with a 403 after a click. The gateway stays the judge (a 403 is still shown
 * where the action was); this only saves the round trip and says why up front.
 *
 * Scopes are ordered as the gateway orders them: `admin` implies `write` implies `read`. With
 * `AUTH_MODE=off` every caller has every scope; when `/api/users/me` could not be read the scopes
 * are unknown and nothing is disabled (the server's answer will say).
 */
import type { AuthState } from './authStore';
import { useAuth } from './authStore';

export type Scope = 'read' | 'write' | 'admin';

const RANK: Record<Scope, number> = { read: 1, write: 2, admin: 3 };

/** Whether `granted` (as `/api/users/me` lists them) includes `needed`, directly or implied. */
export function scopeAllows(granted: readonly string[], needed: Scope): boolean {
  return granted.some((scope) => scope in RANK && RANK[scope as Scope] >= RANK[needed]);
}

export interface Permission {
  allowed: boolean;
  /** Why not, in words (`null` when allowed). */
  reason: string | null;
}

export function permissionFor(state: Pick<AuthState, 'status' | 'me'>, needed: Scope): Permission {
  if (state.status === 'off') return { allowed: true, reason: null };
  if (state.status !== 'signed-in') return { allowed: false, reason: 'Sign in first.' };
  if (!state.me) return { allowed: true, reason: null }; // unknown: let the gateway decide
  if (scopeAllows(state.me.scopes ?? [], needed)) return { allowed: true, reason: null };
  const has = state.me.scopes?.length ? state.me.scopes.join(', ') : 'no scope';
  return { allowed: false, reason: `Needs scope ${needed}: ${state.me.subject} has ${has}.` };
}

/** The permission for `needed`, kept current with the session. */
export function useCan(needed: Scope): Permission {
  return permissionFor(useAuth(), needed);
}
