import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clearCredential, setCredential } from './credentials';
import { RealtimeClient, socketOptions, type Refusal, type SocketLike } from './socket';
import { handshakeAuth, lastHandshakeCredential } from './socket-auth';

type Handler = (...args: unknown[]) => void;

/** Stands in for socket.io-client's Socket: the test plays the server's part. */
class FakeSocket implements SocketLike {
  connected = false;
  emitted: [string, unknown][] = [];
  acks = new Map<string, (ack: unknown) => void>();
  connectCalls = 0;
  private handlers = new Map<string, Handler[]>();
  private any: ((event: string, ...args: unknown[]) => void)[] = [];
  private managerHandlers = new Map<string, Handler[]>();
  io = { on: (event: string, h: Handler) => this.managerHandlers.set(event, [...(this.managerHandlers.get(event) ?? []), h]) };
  on(event: string, h: Handler) {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), h]);
  }
  onAny(h: (event: string, ...args: unknown[]) => void) {
    this.any.push(h);
  }
  emit(event: string, payload?: unknown, ack?: (ack: unknown) => void) {
    this.emitted.push([event, payload]);
    if (ack) this.acks.set(event, ack);
  }
  connect() {
    this.connectCalls++;
  }
  disconnect() {
    this.connected = false;
  }
  // server side
  serverConnect() {
    this.connected = true;
    this.handlers.get('connect')?.forEach((h) => h());
  }
  serverDrop(reason = 'transport close') {
    this.connected = false;
    this.handlers.get('disconnect')?.forEach((h) => h(reason));
  }
  /** The server refuses the handshake (python-socketio: ConnectionRefusedError(message, data)). */
  serverRefuse(message: string, data?: unknown) {
    this.connected = false;
    const err = Object.assign(new Error(message), { data });
    this.handlers.get('connect_error')?.forEach((h) => h(err));
  }
  serverEmit(event: string, payload: unknown) {
    this.any.forEach((h) => h(event, payload));
  }
}

let socket: FakeSocket;
let client: RealtimeClient;

beforeEach(() => {
  vi.useFakeTimers();
  socket = new FakeSocket();
  client = new RealtimeClient(() => socket, { offlineAfterMs: 5000 });
});
afterEach(() => vi.useRealTimers());

const subscribes = () => socket.emitted.filter(([e]) => e.startsWith('subscribe_')).map(([e, p]) => [e, p]);

describe('RealtimeClient', () => {
  it('subscribes once connected and resubscribes every stream after a reconnect', () => {
    client.subscribe('prices');
    client.subscribe('signals');
    expect(subscribes()).toEqual([]);
    socket.serverConnect();
    expect(subscribes()).toEqual([
      ['subscribe_prices', { batch: true }],
      ['subscribe_signals', {}],
    ]);
    socket.serverDrop();
    expect(client.getInfo().state).toBe('reconnecting');
    socket.emitted = [];
    socket.serverConnect();
    expect(subscribes()).toEqual([
      ['subscribe_prices', { batch: true }],
      ['subscribe_signals', {}],
    ]);
    expect(client.getInfo()).toMatchObject({ state: 'connected', reconnects: 1 });
  });

  it('shares a stream between subscribers and unsubscribes with the last one', () => {
    socket.serverConnect();
    const a = client.subscribe('alerts');
    const b = client.subscribe('alerts');
    expect(subscribes()).toHaveLength(1);
    a();
    a(); // idempotent
    expect(socket.emitted.some(([e]) => e === 'unsubscribe_alerts')).toBe(false);
    b();
    expect(socket.emitted.filter(([e]) => e === 'unsubscribe_alerts')).toHaveLength(1);
    expect(client.activeStreams()).toEqual([]);
  });

  it('goes offline after a while without a connection and back when it returns', () => {
    client.start();
    socket.serverConnect();
    socket.serverDrop();
    vi.advanceTimersByTime(4999);
    expect(client.getInfo().state).toBe('reconnecting');
    vi.advanceTimersByTime(2);
    expect(client.getInfo().state).toBe('offline');
    socket.serverConnect();
    expect(client.getInfo().state).toBe('connected');
  });

  it('follows the browser going offline and online', () => {
    client.start();
    socket.serverConnect();
    window.dispatchEvent(new Event('offline'));
    expect(client.getInfo().state).toBe('offline');
    window.dispatchEvent(new Event('online'));
    expect(client.getInfo().state).toBe('connected');
  });

  it('reconnects by itself after a server-side disconnect (gateway shutting down)', () => {
    client.start();
    socket.serverConnect();
    const before = socket.connectCalls;
    socket.serverDrop('io server disconnect');
    expect(socket.connectCalls).toBe(before + 1);
  });

  it('dispatches events, records the time of the last one, and notifies state listeners', () => {
    client.start();
    socket.serverConnect();
    const seen: unknown[] = [];
    const listener = vi.fn();
    client.subscribeState(listener);
    const off = client.on('price_batch', (batch) => seen.push(batch));
    socket.serverEmit('price_batch', [{ symbol: 'BTCUSDT' }]);
    expect(seen).toEqual([[{ symbol: 'BTCUSDT' }]]);
    expect(client.getInfo().lastEventAt).not.toBeNull();
    expect(listener).toHaveBeenCalledTimes(1); // the first event always notifies
    socket.serverEmit('price_batch', []);
    expect(listener).toHaveBeenCalledTimes(1); // then at most once a second
    off();
    socket.serverEmit('price_batch', [{ symbol: 'X' }]);
    expect(seen).toHaveLength(2);
  });
});

describe('access (issue 17)', () => {
  afterEach(() => clearCredential());

  it('the handshake auth is a function reading the credential of the moment, so a reconnect sends the new token', () => {
    const options = socketOptions();
    expect(options.auth).toBe(handshakeAuth);
    const sent: unknown[] = [];
    options.auth((payload) => sent.push(payload));
    setCredential({ kind: 'bearer', value: 'jwt-1' });
    options.auth((payload) => sent.push(payload));
    setCredential({ kind: 'bearer', value: 'jwt-2' });
    options.auth((payload) => sent.push(payload));
    expect(lastHandshakeCredential()).toEqual({ kind: 'bearer', value: 'jwt-2' });
    setCredential({ kind: 'api_key', value: 'key-1' });
    options.auth((payload) => sent.push(payload));
    // Every handshake also declares protocol 2 (only what this page subscribes to; issue 19).
    expect(sent).toEqual([{ protocol: 2 }, { token: 'jwt-1', protocol: 2 }, { token: 'jwt-2', protocol: 2 }, { api_key: 'key-1', protocol: 2 }]);
    // Never in the URL: no query option carries it.
    expect(JSON.stringify(options)).not.toContain('jwt-2');
    expect('query' in options).toBe(false);
  });

  it('an UNAUTHORIZED refusal is reported once, pauses the client, and nothing reconnects until resume()', () => {
    const refusals: Refusal[] = [];
    client.onRefused((r) => refusals.push(r));
    client.start();
    socket.serverConnect();
    socket.serverDrop('transport close');
    const envelope = { error: { code: 'UNAUTHORIZED', message: 'token expired', details: {} }, request_id: 'r1' };
    socket.serverRefuse('token expired', envelope);
    expect(refusals).toEqual([{ what: 'connect', code: 'UNAUTHORIZED', message: 'token expired', envelope }]);
    expect(client.isPaused()).toBe(true);
    expect(client.getInfo().state).toBe('offline');
    const calls = socket.connectCalls;
    window.dispatchEvent(new Event('online'));
    socket.serverDrop('io server disconnect');
    vi.advanceTimersByTime(60_000);
    expect(socket.connectCalls).toBe(calls); // no retry storm with a refused token
    client.resume();
    expect(socket.connectCalls).toBe(calls + 1);
    expect(client.getInfo().state).toBe('reconnecting');
    socket.serverConnect();
    expect(client.getInfo().state).toBe('connected');
  });

  it('a refusal whose envelope came as the message only is still an UNAUTHORIZED refusal', () => {
    const refusals: Refusal[] = [];
    client.onRefused((r) => refusals.push(r));
    client.start();
    socket.serverRefuse("{'error': {'code': 'UNAUTHORIZED', 'message': 'no token'}}");
    expect(refusals.map((r) => r.code)).toEqual(['UNAUTHORIZED']);
  });

  it('other connection errors keep the ordinary reconnection behaviour', () => {
    const refusals: Refusal[] = [];
    client.onRefused((r) => refusals.push(r));
    client.start();
    socket.serverRefuse('xhr poll error');
    socket.serverRefuse('rejected', { error: { code: 'RATE_LIMITED', message: 'slow down' } });
    expect(refusals).toEqual([]);
    expect(client.isPaused()).toBe(false);
    expect(client.getInfo().state).toBe('connecting');
  });

  it('resume() after a sign-in closes a connection made with the old credential and opens a new one', () => {
    client.start();
    socket.serverConnect();
    client.subscribe('prices');
    const calls = socket.connectCalls;
    client.resume();
    expect(socket.connected).toBe(false);
    expect(socket.connectCalls).toBe(calls + 1);
    socket.emitted = [];
    socket.serverConnect();
    expect(subscribes()).toEqual([['subscribe_prices', { batch: true }]]);
  });

  it('pause() (sign-out) closes the connection and keeps it closed', () => {
    client.start();
    socket.serverConnect();
    client.pause();
    expect(socket.connected).toBe(false);
    expect(client.getInfo().state).toBe('offline');
    const calls = socket.connectCalls;
    window.dispatchEvent(new Event('online'));
    expect(socket.connectCalls).toBe(calls);
  });

  it('a subscription refused for lack of scope is reported with its stream', () => {
    const refusals: Refusal[] = [];
    client.onRefused((r) => refusals.push(r));
    client.start();
    socket.serverConnect();
    client.subscribe('alerts');
    socket.acks.get('subscribe_alerts')!({ ok: false, error: { code: 'FORBIDDEN', message: 'scope read required' }, request_id: 'r2' });
    socket.acks.get('subscribe_alerts')!({ ok: true, stream: 'alerts' });
    expect(refusals.map((r) => [r.what, r.code, r.message])).toEqual([['alerts', 'FORBIDDEN', 'scope read required']]);
  });
});
