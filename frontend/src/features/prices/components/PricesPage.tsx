import { useCallback, useDeferredValue, useMemo, useState } from 'react';
import { Empty, ErrorMessage, Loading } from '../../../components/Status';
import { useNow } from '../../../lib/hooks';
import { matchesFilter } from '../hooks/priceStore';
import { useLivePrices } from '../hooks/useLivePrices';
import { PriceChart } from './PriceChart';
import { PriceRow } from './PriceRow';

export default function PricesPage() {
  const { table, error, loaded, received } = useLivePrices();
  const [filter, setFilter] = useState('');
  const deferredFilter = useDeferredValue(filter);
  const [selected, setSelected] = useState<string | null>(null);
  const nowSecond = Math.floor(useNow(1000) / 1000);
  const onSelect = useCallback((symbol: string) => setSelected((s) => (s === symbol ? null : symbol)), []);

  const rows = useMemo(
    () => [...table.values()].filter((r) => matchesFilter(r, deferredFilter)).sort((a, b) => a.update.symbol.localeCompare(b.update.symbol)),
    [table, deferredFilter],
  );

  return (
    <section className="stack">
      <div className="row">
        <h1>Prices</h1>
        <span className="muted" data-testid="price-count">
          {table.size} symbols · <span data-testid="ticks-received">{received}</span> live ticks
        </span>
      </div>
      <div className="row">
        <label>
          Filter
          <input
            type="search"
            placeholder="BTC, EUR/USD, forex…"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            aria-label="Filter symbols"
          />
        </label>
      </div>
      <ErrorMessage error={error} title="Prices unavailable" />
      <div className={selected ? 'split' : ''} hidden={Boolean(error) && table.size === 0}>
        <div className="panel table-wrap">
          {!loaded ? (
            <Loading />
          ) : rows.length === 0 ? (
            <Empty>{table.size === 0 ? 'No prices yet — is the price feed running?' : `No symbol matches “${filter}”.`}</Empty>
          ) : (
            <table aria-label="Prices">
              <thead>
                <tr>
                  <th>Symbol</th>
                  <th className="num">Price</th>
                  <th className="num">Bid</th>
                  <th className="num">Ask</th>
                  <th className="num">Spread</th>
                  <th className="num">Change (session)</th>
                  <th>Source</th>
                  <th className="num">Age</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <PriceRow key={row.update.symbol} row={row} nowSecond={nowSecond} selected={row.update.symbol === selected} onSelect={onSelect} />
                ))}
              </tbody>
            </table>
          )}
        </div>
        {selected ? <PriceChart symbol={selected} live={table.get(selected)} /> : null}
      </div>
    </section>
  );
}
