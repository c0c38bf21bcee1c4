/** The gateway's access endpoints (issue 17): its mode, the OAuth 2 token endpoint, who am I. */
import { apiRequest } from '../../../lib/api-client';
import type { Credential } from '../../../lib/credentials';

export type AuthMode = 'off' | 'required';

/** `GET /api/auth/config` (always public). */
export interface AuthConfig {
  mode: AuthMode;
  token_endpoint?: string;
  grant_types?: string[];
}

/** `POST /api/auth/token` → RFC 6749 §5.1. */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
}

/** `GET /api/users/me`. */
export interface Me {
  subject: string;
  kind?: string;
  scopes: string[];
  [field: string]: unknown;
}

export const DEFAULT_TOKEN_ENDPOINT = '/api/auth/token';

/** The gateway's answer, or an ApiError (a gateway from before issue 17 answers 404). */
export const fetchAuthConfig = (signal?: AbortSignal) => apiRequest<AuthConfig>('/api/auth/config', { credential: null, signal });

/**
 * The password grant, form-encoded as RFC 6749 §4.3.2 specifies. No credential is sent and a
 * 401 (wrong password) is the caller's to show: it must not look like an expired session.
 */
export const requestToken = (endpoint: string, username: string, password: string) =>
  apiRequest<TokenResponse>(endpoint, { method: 'POST', form: { grant_type: 'password', username, password }, credential: null });

/** Who `credential` is; with an explicit credential a 401 is the caller's, not a session end. */
export const fetchMe = (credential: Credential) => apiRequest<Me>('/api/users/me', { credential });
