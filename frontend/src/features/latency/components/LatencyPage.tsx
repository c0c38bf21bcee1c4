import { useMemo, useState } from 'react';
import { Chart } from '../../../components/Chart';
import { Empty, ErrorMessage, Loading } from '../../../components/Status';
import { fmtMs, fmtNumber } from '../../../lib/format';
import { BUCKETS, OVERALL, scopesOf, seriesFor, useLatencySeries } from '../hooks/useLatencySeries';

const PALETTE = ['#58a6ff', '#3fb950', '#d29922', '#f85149', '#bc8cff', '#39c5cf', '#ff7b72', '#e3b341'];

const WINDOWS = [
  { seconds: 60, label: '1 min' },
  { seconds: 300, label: '5 min' },
  { seconds: 900, label: '15 min' },
  { seconds: 3600, label: '1 h' },
];

export default function LatencyPage() {
  const [windowSeconds, setWindowSeconds] = useState(60);
  const [scope, setScope] = useState(OVERALL);
  const { points, latest, error } = useLatencySeries(windowSeconds, scope);
  const scopes = useMemo(() => (latest ? Object.entries(scopesOf(latest)) : []), [latest]);
  const pct = useMemo(() => seriesFor(points, scope, ['p50_ms', 'p95_ms', 'p99_ms']), [points, scope]);
  const errors = useMemo(() => seriesFor(points, scope, ['error_rate']), [points, scope]);
  const counts = useMemo(() => seriesFor(points, scope, ['count']), [points, scope]);
  // Every service's p95 on one chart: which one is slow, at a glance.
  const services = useMemo(() => (latest ? Object.keys(latest.services ?? {}).sort() : []), [latest]);
  const perService = useMemo(
    () => [points.map((p) => p.t / 1000), ...services.map((svc) => points.map((p) => p.stats[svc]?.p95_ms ?? null))],
    [points, services],
  );

  return (
    <section className="stack">
      <h1>Latency</h1>
      <div className="row">
        <div className="tabs" role="group" aria-label="Window">
          {WINDOWS.map((w) => (
            <button key={w.seconds} type="button" className="btn btn-small" aria-pressed={w.seconds === windowSeconds} onClick={() => setWindowSeconds(w.seconds)}>
              {w.label}
            </button>
          ))}
        </div>
        <label>
          Service / endpoint
          <select value={scope} onChange={(e) => setScope(e.target.value)}>
            {(scopes.length ? scopes.map(([k]) => k) : [OVERALL]).map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <span className="muted">
          Each point: one of {BUCKETS} time buckets of the last {WINDOWS.find((w) => w.seconds === windowSeconds)?.label}
          {latest?.bucket_seconds ? ` (${fmtNumber(latest.bucket_seconds, latest.bucket_seconds < 1 ? 1 : 0)} s each)` : ''}, refreshed every 3 s.
        </span>
      </div>
      <ErrorMessage error={error} title="Latency unavailable" />
      {!latest && !error ? <Loading /> : null}
      {latest && latest.overall.count === 0 ? <Empty>No request went through the gateway in this window yet.</Empty> : null}
      <div className="grid">
        <div className="panel">
          <Chart testId="latency-chart" title={`${scope}: p50 / p95 / p99`} yLabel="ms" data={pct} series={[{ label: 'p50', color: '#3fb950', unit: ' ms' }, { label: 'p95', color: '#d29922', unit: ' ms' }, { label: 'p99', color: '#f85149', unit: ' ms' }]} />
        </div>
        <div className="panel">
          <Chart title={`${scope}: error rate`} yLabel="%" data={errors} series={[{ label: 'errors', color: '#f85149', unit: ' %' }]} height={180} />
          <Chart title={`${scope}: requests per bucket`} yLabel="count" data={counts} series={[{ label: 'count', color: '#58a6ff' }]} height={180} />
        </div>
      </div>
      {services.length ? (
        <div className="panel">
          <Chart
            title="p95 by service"
            yLabel="ms"
            data={perService}
            series={services.map((svc, i) => ({ label: svc, color: PALETTE[i % PALETTE.length], unit: ' ms' }))}
            height={220}
          />
        </div>
      ) : null}
      {latest ? (
        <div className="panel table-wrap">
          <table aria-label="Latency by service and endpoint">
            <thead>
              <tr>
                <th>Scope</th>
                <th className="num">Requests</th>
                <th className="num">Errors</th>
                <th className="num">p50</th>
                <th className="num">p95</th>
                <th className="num">p99</th>
                <th className="num">max</th>
              </tr>
            </thead>
            <tbody>
              {scopes.map(([key, s]) => (
                <tr key={key} className="clickable" aria-current={key === scope || undefined} tabIndex={0} onClick={() => setScope(key)} onKeyDown={(e) => e.key === 'Enter' && setScope(key)}>
                  <td className="mono">{key}</td>
                  <td className="num">{s.count}</td>
                  <td className="num">{s.error_rate === null ? '—' : `${fmtNumber(s.error_rate * 100, 1)} %`}</td>
                  <td className="num">{fmtMs(s.p50_ms)}</td>
                  <td className="num">{fmtMs(s.p95_ms)}</td>
                  <td className="num">{fmtMs(s.p99_ms)}</td>
                  <td className="num">{fmtMs(s.max_ms)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
