/** React bindings of the socket and the API client, shared by every feature. */
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { realtime, type ConnectionInfo } from './socket';
import type { ServerEvents, Subscriptions } from './types';

export function useConnection(): ConnectionInfo {
  useEffect(() => realtime.start(), []);
  return useSyncExternalStore(realtime.subscribeState, realtime.getInfo, realtime.getInfo);
}

/** Call `handler` for every `event`; the latest handler is used without resubscribing. */
export function useSocketEvent<E extends keyof ServerEvents>(event: E, handler: (payload: ServerEvents[E]) => void): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    realtime.start();
    return realtime.on(event, (payload) => ref.current(payload));
  }, [event]);
}

// How many live streams the mounted pages hold: with none, the age of the last event says
// nothing about the feed (a Tasks page only gets an event when a task changes).
let streamsHeld = 0;
const streamListeners = new Set<() => void>();
const countStreams = (delta: number) => {
  streamsHeld += delta;
  for (const listener of [...streamListeners]) listener();
};

/** Keep a server subscription (`subscribe_<stream>`) while the component is mounted. */
export function useStream(stream: keyof Subscriptions, enabled = true): void {
  useEffect(() => {
    if (!enabled) return undefined;
    const release = realtime.subscribe(stream);
    countStreams(1);
    return () => {
      release();
      countStreams(-1);
    };
  }, [stream, enabled]);
}

/** Live streams (prices, signals, alerts) the mounted components hold right now. */
export function useStreamsHeld(): number {
  return useSyncExternalStore(
    (listener) => {
      streamListeners.add(listener);
      return () => streamListeners.delete(listener);
    },
    () => streamsHeld,
    () => 0,
  );
}

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (update: (old: T | undefined) => T | undefined) => void;
}

/**
 * Load something once per `deps` change (and on `reload`, and every `intervalMs` when given),
 * keeping the last good data while a reload runs and when it fails.
 */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[], intervalMs?: number): AsyncState<T> {
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    loadRef
      .current(controller.signal)
      .then((value) => {
        if (controller.signal.aborted) return;
        setDataState(value);
        setError(undefined);
      })
      .catch((exc: unknown) => {
        if (controller.signal.aborted || (exc as Error)?.name === 'AbortError') return;
        setError(exc);
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [...deps, tick]);

  useEffect(() => {
    if (!intervalMs) return;
    const id = setInterval(() => setTick((t) => t + 1), intervalMs);
    return () => clearInterval(id);
  }, [intervalMs]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((update: (old: T | undefined) => T | undefined) => setDataState(update), []);
  return { data, error, loading, reload, setData };
}

/** A value that re-renders every `ms` (for ages such as "3 s ago"). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}
