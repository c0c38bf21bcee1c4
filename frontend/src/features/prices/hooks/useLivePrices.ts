import { useCallback, useEffect, useState } from 'react';
import { useSocketEvent, useStream } from '../../../lib/hooks';
import type { PriceUpdate } from '../../../lib/types';
import { fetchPrices } from '../api/prices';
import { applyUpdates, type PriceTable } from './priceStore';
import { useRafBatch } from './useRafBatch';

export interface LivePrices {
  table: PriceTable;
  error: unknown;
  loaded: boolean;
  /** Live ticks received since mount (for the status line and tests). */
  received: number;
}

/** Every symbol's latest price: the REST snapshot, then `price_batch` updates once per frame. */
export function useLivePrices(): LivePrices {
  const [state, setState] = useState<LivePrices>({ table: new Map(), error: undefined, loaded: false, received: 0 });

  const flush = useCallback((updates: PriceUpdate[]) => {
    setState((s) => {
      const table = applyUpdates(s.table, updates);
      return { ...s, table, loaded: true, received: s.received + updates.length };
    });
  }, []);
  const push = useRafBatch<PriceUpdate>(flush);

  useStream('prices');
  useSocketEvent('price_batch', (batch) => push(batch));
  useSocketEvent('price_update', (update) => push(update));

  useEffect(() => {
    const controller = new AbortController();
    fetchPrices(controller.signal)
      .then((body) => {
        const snapshot = Object.values(body.prices ?? {});
        setState((s) => ({ ...s, table: applyUpdates(s.table, snapshot), loaded: true, error: undefined }));
      })
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setState((s) => ({ ...s, error, loaded: true }));
      });
    return () => controller.abort();
  }, []);

  return state;
}
