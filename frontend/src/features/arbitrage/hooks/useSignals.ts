import { useCallback, useEffect, useState } from 'react';
import { timeOf, upsertById } from '../../../lib/collections';
import { useConnection, useSocketEvent, useStream } from '../../../lib/hooks';
import type { ArbitrageSignal } from '../../../lib/types';
import { fetchSignals } from '../api/arbitrage';

const idOf = (s: ArbitrageSignal) => String(s.id);
const newestFirst = (a: ArbitrageSignal, b: ArbitrageSignal) => timeOf(b) - timeOf(a);

export function mergeSignals(list: readonly ArbitrageSignal[], incoming: readonly ArbitrageSignal[], max = 300): ArbitrageSignal[] {
  return upsertById(list, incoming, idOf, max, newestFirst);
}

/**
 * Recent signals from `GET /api/signals`, kept current by `arbitrage_signal` events (open, update
 * and close publications of one signal share its id, so they update one row). Reloaded after a
 * reconnect, to catch what happened while the socket was down.
 */
export function useSignals(limit = 100) {
  const [signals, setSignals] = useState<ArbitrageSignal[]>([]);
  const [error, setError] = useState<unknown>();
  const [loaded, setLoaded] = useState(false);
  const { reconnects } = useConnection();

  const load = useCallback(
    (signal?: AbortSignal) =>
      fetchSignals({ limit }, signal)
        .then((body) => {
          setSignals((old) => mergeSignals(old, body.signals ?? []));
          setError(undefined);
        })
        .catch((exc: unknown) => {
          if (!signal?.aborted) setError(exc);
        })
        .finally(() => setLoaded(true)),
    [limit],
  );

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load, reconnects]);

  useStream('signals');
  useSocketEvent('arbitrage_signal', (signal) => setSignals((old) => mergeSignals(old, [signal])));
  return { signals, error, loaded, reload: () => void load() };
}
