import { useMemo } from 'react';
import { ConnectionIndicator } from '../../../components/ConnectionIndicator';
import { Badge, Empty, ErrorMessage, Loading } from '../../../components/Status';
import { fmtMs, fmtPct, fmtPrice, fmtTime } from '../../../lib/format';
import { Link } from '../../../lib/router';
import { AlertList } from '../../alerts/components/AlertList';
import { useAlerts } from '../../alerts/hooks/useAlerts';
import { useSignals } from '../../arbitrage/hooks/useSignals';
import { useLivePrices } from '../../prices/hooks/useLivePrices';
import { useHealth } from '../hooks/useHealth';
import { HealthCard } from './HealthCard';

function HealthGrid() {
  const { data, error, loading, reload, events } = useHealth();
  const services = Object.entries(data?.services ?? {});
  return (
    <section className="panel" aria-labelledby="health-h">
      <div className="panel-head">
        <h2 id="health-h">Services</h2>
        {data ? (
          <span>
            Platform <Badge kind={data.status}>{data.status}</Badge>
          </span>
        ) : null}
      </div>
      <ErrorMessage error={error} title="Health unavailable" onRetry={reload} />
      {loading && !data ? <Loading /> : null}
      {data && services.length === 0 ? <Empty>No service registered.</Empty> : null}
      <div className="health-grid" data-testid="health-grid">
        {services.map(([name, s]) => (
          <HealthCard key={name} name={name} health={s} />
        ))}
        {data?.redis ? (
          <div className="health-card" data-service="redis">
            <div className="row">
              <span className="name">redis</span>
              <Badge kind={data.redis.status}>{data.redis.status}</Badge>
            </div>
            <div className="muted">{fmtMs(data.redis.response_time_ms)}</div>
          </div>
        ) : null}
      </div>
      {data?.source ? <p className="muted">Source: {data.source === 'health_service' ? 'the health monitor (with hysteresis)' : 'the gateway’s own checks'} · {fmtTime(data.timestamp)}</p> : null}
      {events.length ? (
        <p className="muted">
          Last change: {events[0].service} {events[0].previous_status ?? '?'} → {events[0].status}
          {events[0].reason ? ` (${events[0].reason})` : ''} at {fmtTime(events[0].timestamp)}
        </p>
      ) : null}
    </section>
  );
}

function Ticker() {
  const { table, error } = useLivePrices();
  const rows = useMemo(() => [...table.values()].sort((a, b) => a.update.symbol.localeCompare(b.update.symbol)), [table]);
  return (
    <section className="panel" aria-labelledby="ticker-h">
      <div className="panel-head">
        <h2 id="ticker-h">Live prices</h2>
        <Link href="/prices">All prices →</Link>
      </div>
      <ErrorMessage error={error} title="Prices unavailable" />
      {rows.length === 0 && !error ? <Empty>Waiting for prices…</Empty> : null}
      {/* Every symbol, wrapped onto as many lines as it takes: none cut off at the right edge. */}
      <div className="ticker" data-testid="ticker" aria-live="off">
        {rows.map((r) => (
          <span key={r.update.symbol} data-symbol={r.update.symbol}>
            <strong>{r.update.symbol}</strong>{' '}
            <span className={r.previous === null ? '' : r.update.price >= r.previous ? 'up' : 'down'}>{fmtPrice(r.update.price)}</span>
          </span>
        ))}
      </div>
    </section>
  );
}

function LatestSignals() {
  const { signals, error, loaded } = useSignals(20);
  return (
    <section className="panel" aria-labelledby="signals-h">
      <div className="panel-head">
        <h2 id="signals-h">Latest arbitrage signals</h2>
        <Link href="/arbitrage">Arbitrage →</Link>
      </div>
      <ErrorMessage error={error} title="Signals unavailable" />
      {!loaded ? <Loading /> : null}
      {loaded && signals.length === 0 && !error ? <Empty>No signal yet.</Empty> : null}
      <ul className="list" data-testid="overview-signals">
        {signals.slice(0, 8).map((s) => (
          <li key={String(s.id)}>
            <div className="row">
              <Badge kind={s.severity}>{s.severity}</Badge>
              <Badge kind={s.status ?? 'open'}>{s.status ?? 'open'}</Badge>
              <span>{s.type}</span>
              <span className="mono">{(s.path ?? s.symbols).join(' → ')}</span>
              <strong>{fmtPct(s.spread_percentage)}</strong>
              <span className="muted">{fmtTime(s.last_seen ?? s.timestamp)}</span>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

function LatestAlerts() {
  const state = useAlerts(undefined, 20);
  return (
    <section className="panel" aria-labelledby="alerts-h">
      <div className="panel-head">
        <h2 id="alerts-h">Latest CEP alerts</h2>
        <Link href="/rules">Rules →</Link>
      </div>
      <AlertList {...state} limit={8} />
    </section>
  );
}

export default function OverviewPage() {
  return (
    <div className="stack">
      <div className="row">
        <h1>Overview</h1>
        <ConnectionIndicator />
      </div>
      <HealthGrid />
      <Ticker />
      <div className="grid">
        <LatestSignals />
        <LatestAlerts />
      </div>
    </div>
  );
}
