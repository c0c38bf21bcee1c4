import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RealtimeClient, type SocketLike } from './socket';

type Handler = (...args: unknown[]) => void;

/** Stands in for socket.io-client's Socket: the test plays the server's part. */
class FakeSocket implements SocketLike {
  connected = false;
  emitted: [string, unknown][] = [];
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
  emit(event: string, payload?: unknown) {
    this.emitted.push([event, payload]);
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
