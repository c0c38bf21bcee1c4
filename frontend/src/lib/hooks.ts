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

/** Keep a server subscription (`subscribe_<stream>`) while the component is mounted. */
export function useStream(stream: keyof Subscriptions, enabled = true): void {
  useEffect(() => (enabled ? realtime.subscribe(stream) : undefined), [stream, enabled]);
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
