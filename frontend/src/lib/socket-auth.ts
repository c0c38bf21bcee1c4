/**
 * The access side of the dashboard's Socket.IO connection: what the handshake presents (`auth`,
 * read from the credential store at every connection attempt) and how the server's refusals
 * (the error envelope in a `connect_error` or a subscription's ack) are read.
 */
import { getCredential, socketAuthPayload, type Credential } from './credentials';
import type { ErrorEnvelope, Subscriptions } from './types';

/** Why the server refused the connection or a subscription: its envelope. */
export interface Refusal {
  /** `connect` for the handshake, else the stream whose subscription was refused. */
  what: 'connect' | keyof Subscriptions;
  code: string;
  message: string;
  envelope: ErrorEnvelope;
}

/** The error envelope carried in `data` (a `code` is required; the message defaults to it), or null. */
export function envelopeOf(data: unknown): ErrorEnvelope | null {
  if (typeof data !== 'object' || data === null) return null;
  const error = (data as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return null;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof code === 'string' ? { ...(data as ErrorEnvelope), error: { ...(error as ErrorEnvelope['error']), code, message: typeof message === 'string' ? message : code } } : null;
}

/**
 * A refusal raised with the envelope as its only argument reaches the client as the message
 * (python-socketio puts the first argument in `message`, the second in `data`): still a refusal.
 */
export function refusalWithoutData(err: unknown): ErrorEnvelope | null {
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message !== 'string' || !/\bUNAUTHORIZED\b/.test(message)) return null;
  return { error: { code: 'UNAUTHORIZED', message: 'The gateway refused the live connection.' } };
}

let handshakeCredential: Credential | null = null;

/** The credential the last handshake presented (a refusal is about that one, not a newer one). */
export function lastHandshakeCredential(): Credential | null {
  return handshakeCredential;
}

/**
 * The `auth` option: a function, which socket.io-client calls at every connection attempt, so a
 * reconnection presents the credential of the moment and not the one the socket was created with.
 */
export function handshakeAuth(callback: (payload: Record<string, string | number>) => void): void {
  handshakeCredential = getCredential();
  // Protocol 2: only what this page subscribes to (a client saying nothing gets every price).
  callback({ ...socketAuthPayload(handshakeCredential), protocol: 2 });
}
