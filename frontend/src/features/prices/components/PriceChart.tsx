import { useEffect, useMemo, useState } from 'react';
import { Chart } from '../../../components/Chart';
import { ErrorMessage, Loading } from '../../../components/Status';
import type { PriceUpdate } from '../../../lib/types';
import { fetchHistory } from '../api/prices';
import type { PriceRowData } from '../hooks/priceStore';

const MAX_POINTS = 2000;

/** History from the price feed, then every live tick of that symbol appended. */
export function PriceChart({ symbol, live }: { symbol: string; live: PriceRowData | undefined }) {
  const [points, setPoints] = useState<PriceUpdate[]>([]);
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setPoints([]);
    setError(undefined);
    fetchHistory(symbol, 500, controller.signal)
      .then((body) => setPoints(body.history ?? []))
      .catch((exc: unknown) => {
        if (!controller.signal.aborted) setError(exc);
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [symbol]);

  const tick = live?.update;
  useEffect(() => {
    if (!tick || tick.symbol !== symbol) return;
    setPoints((old) => {
      if (old.length && old[old.length - 1].ts >= tick.ts) return old;
      const next = old.length >= MAX_POINTS ? old.slice(old.length - MAX_POINTS + 1) : old.slice();
      next.push(tick);
      return next;
    });
  }, [tick, symbol]);

  const data = useMemo(
    () => [points.map((p) => p.ts / 1000), points.map((p) => p.price), points.map((p) => p.bid ?? null), points.map((p) => p.ask ?? null)],
    [points],
  );

  return (
    <section className="panel" aria-label={`${symbol} chart`}>
      <div className="panel-head">
        <h2>{symbol}</h2>
        <span className="muted">{points.length} points</span>
      </div>
      <ErrorMessage error={error} title="History unavailable" />
      {loading && !points.length ? <Loading label="Loading history…" /> : null}
      <Chart
        testId="price-chart"
        data={data}
        series={[
          { label: 'price', color: '#58a6ff' },
          { label: 'bid', color: '#3fb950' },
          { label: 'ask', color: '#f85149' },
        ]}
        height={280}
      />
    </section>
  );
}
