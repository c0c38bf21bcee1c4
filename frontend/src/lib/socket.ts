/**
 * The one Socket.IO connection of the dashboard (socket.io-client 4.x).
 *
 * Why a module of its own: the gateway restarts, networks drop, and every page must survive that
 * the same way. This client reconnects (capped backoff), re-sends every active `subscribe_*` after
 * each (re)connection — the server forgets rooms with the old connection — and exposes one
 * connection state (`connecting` / `connected` / `reconnecting` / `offline`) with the time of the
 * last event, so the UI is honest about what is live. Consumers key their rows by id/symbol and
 * upsert, so the snapshot a resubscription brings never duplicates a row.
 */
import { io } from 'socket.io-client';
import { getBaseUrl } from './api-client';
import type { ServerEvents, Subscriptions } from './types';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline';

export interface ConnectionInfo {
  state: ConnectionState;
  /** Epoch ms of the last event received, or null before the first. */
  lastEventAt: number | null;
  /** Epoch ms of the last state change. */
  since: number;
  /** Completed reconnections since the page loaded. */
  reconnects: number;
}

type Handler = (...args: unknown[]) => void;

/** The part of socket.io-client's Socket this module uses (a fake one drives the unit tests). */
export interface SocketLike {
  connected: boolean;
  on(event: string, handler: Handler): unknown;
  onAny(handler: (event: string, ...args: unknown[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  connect(): unknown;
  disconnect(): unknown;
  io: { on(event: string, handler: Handler): unknown };
}

export interface RealtimeOptions {
  /** Disconnected this long (ms) without getting back: `offline` instead of `reconnecting`. */
  offlineAfterMs?: number;
  /** Shortest interval (ms) between two notifications caused only by new events. */
  eventNotifyIntervalMs?: number;
  now?: () => number;
}

const DEFAULT_PAYLOADS: { [K in keyof Subscriptions]: Subscriptions[K] } = {
  prices: { batch: true },
  signals: {},
  alerts: {},
};

export class RealtimeClient {
  private socket: SocketLike | null = null;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly subscriptions = new Map<keyof Subscriptions, number>();
  private readonly stateListeners = new Set<() => void>();
  private offlineTimer: ReturnType<typeof setTimeout> | null = null;
  private lastNotify = 0;
  private everConnected = false;
  private info: ConnectionInfo;
  private readonly offlineAfterMs: number;
  private readonly eventNotifyIntervalMs: number;
  private readonly now: () => number;

  constructor(private readonly factory: () => SocketLike, options: RealtimeOptions = {}) {
    this.offlineAfterMs = options.offlineAfterMs ?? 10_000;
    this.eventNotifyIntervalMs = options.eventNotifyIntervalMs ?? 1_000;
    this.now = options.now ?? Date.now;
    this.info = { state: 'connecting', lastEventAt: null, since: this.now(), reconnects: 0 };
  }

  /** Open the connection (idempotent). */
  start(): void {
    if (this.socket) return;
    const socket = this.factory();
    this.socket = socket;
    socket.on('connect', () => this.onConnect());
    socket.on('disconnect', (reason: unknown) => this.onDisconnect(String(reason)));
    socket.on('connect_error', () => {
      if (this.info.state === 'connected' || this.info.state === 'connecting') {
        this.setState(this.everConnected ? 'reconnecting' : 'connecting');
      }
      this.armOfflineTimer();
    });
    socket.io.on('reconnect_failed', () => this.setState('offline'));
    socket.onAny((event: string, ...args: unknown[]) => this.dispatch(event, args));
    if (typeof window !== 'undefined') {
      window.addEventListener('offline', () => this.setState('offline'));
      window.addEventListener('online', () => {
        if (socket.connected) this.setState('connected');
        else socket.connect();
      });
    }
    if (!socket.connected) socket.connect();
  }

  stop(): void {
    this.socket?.disconnect();
    this.socket = null;
    this.clearOfflineTimer();
  }

  getInfo = (): ConnectionInfo => this.info;

  /** Listen to connection state changes (for useSyncExternalStore). */
  subscribeState = (listener: () => void): (() => void) => {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  };

  /** Listen to one server event; returns the function that stops listening. */
  on<E extends keyof ServerEvents>(event: E, handler: (payload: ServerEvents[E]) => void): () => void {
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    const h = handler as Handler;
    set.add(h);
    return () => {
      set.delete(h);
    };
  }

  /**
   * Join a stream (reference counted: pages and widgets share one server subscription). Returns
   * the function that leaves it; the last leaver sends `unsubscribe_<stream>`.
   */
  subscribe(stream: keyof Subscriptions): () => void {
    this.start();
    const refs = this.subscriptions.get(stream) ?? 0;
    this.subscriptions.set(stream, refs + 1);
    if (refs === 0 && this.socket?.connected) this.emitSubscribe(stream);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      const left = (this.subscriptions.get(stream) ?? 1) - 1;
      if (left > 0) {
        this.subscriptions.set(stream, left);
        return;
      }
      this.subscriptions.delete(stream);
      if (this.socket?.connected) this.socket.emit(`unsubscribe_${stream}`);
    };
  }

  /** Streams currently subscribed (for tests and the status line). */
  activeStreams(): (keyof Subscriptions)[] {
    return [...this.subscriptions.keys()];
  }

  private emitSubscribe(stream: keyof Subscriptions): void {
    this.socket?.emit(`subscribe_${stream}`, DEFAULT_PAYLOADS[stream], () => undefined);
  }

  private onConnect(): void {
    this.clearOfflineTimer();
    if (this.everConnected) this.info = { ...this.info, reconnects: this.info.reconnects + 1 };
    this.everConnected = true;
    this.setState('connected');
    for (const stream of this.subscriptions.keys()) this.emitSubscribe(stream);
  }

  private onDisconnect(reason: string): void {
    if (reason === 'io client disconnect') {
      this.setState('offline');
      return;
    }
    this.setState('reconnecting');
    // A server-side disconnect (e.g. the gateway shutting down) does not reconnect by itself.
    if (reason === 'io server disconnect') this.socket?.connect();
    this.armOfflineTimer();
  }

  private armOfflineTimer(): void {
    if (this.offlineTimer !== null) return;
    this.offlineTimer = setTimeout(() => {
      this.offlineTimer = null;
      if (!this.socket?.connected) this.setState('offline');
    }, this.offlineAfterMs);
  }

  private clearOfflineTimer(): void {
    if (this.offlineTimer !== null) clearTimeout(this.offlineTimer);
    this.offlineTimer = null;
  }

  private dispatch(event: string, args: unknown[]): void {
    const now = this.now();
    const first = this.info.lastEventAt === null;
    this.info = { ...this.info, lastEventAt: now };
    if (first || now - this.lastNotify >= this.eventNotifyIntervalMs) this.notify();
    const set = this.handlers.get(event);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(...args);
      } catch (exc) {
        console.warn(`handler of ${event} failed`, exc);
      }
    }
  }

  private setState(state: ConnectionState): void {
    if (this.info.state === state) return;
    this.info = { ...this.info, state, since: this.now() };
    this.notify();
  }

  private notify(): void {
    this.lastNotify = this.now();
    for (const listener of [...this.stateListeners]) listener();
  }
}

function createSocket(): SocketLike {
  const base = getBaseUrl();
  const options = {
    path: '/socket.io',
    // WebSocket first (one round trip less); long-polling if a proxy on the way refuses it.
    transports: ['websocket', 'polling'],
    tryAllTransports: true,
    autoConnect: false,
    reconnection: true,
    reconnectionDelay: 500,
    reconnectionDelayMax: 3_000,
    randomizationFactor: 0.3,
    timeout: 5_000,
    // Protocol 2: only what this page subscribes to (a client saying nothing gets every price).
    auth: { protocol: 2 },
  };
  return (base ? io(base, options) : io(options)) as unknown as SocketLike;
}

/** The dashboard's shared connection. */
export const realtime = new RealtimeClient(createSocket);
