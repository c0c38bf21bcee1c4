import { useMemo, useState } from 'react';
import { Chart } from '../../../components/Chart';
import { ErrorMessage, Loading } from '../../../components/Status';
import { fmtAge, fmtMs, fmtNumber, fmtTime } from '../../../lib/format';
import type { LatencyReport } from '../../../lib/types';
import { BUCKETS, coincidingBuckets, OVERALL, QUIET_REQUESTS, scopesOf, seriesFor, useLatencySeries } from '../hooks/useLatencySeries';

const PALETTE = ['#58a6ff', '#3fb950', '#d29922', '#f85149', '#bc8cff', '#39c5cf', '#ff7b72', '#e3b341'];

const WINDOWS = [
  { seconds: 60, label: '1 min' },
  { seconds: 300, label: '5 min' },
  { seconds: 900, label: '15 min' },
  { seconds: 3600, label: '1 h' },
];

/**
 * A quiet system draws almost nothing: say what the charts would show, and since when the gateway
 * has data at all (the oldest sample it keeps), instead of leaving an empty-looking page.
 */
function QuietExplainer({ report, windowLabel }: { report: LatencyReport; windowLabel: string }) {
  const since = report.data_since_ts ?? null;
  const retention = Math.round(report.retention_seconds / 60);
  return (
    <div className="notice notice-warn" data-testid="latency-explainer">
      <p>
        <strong>
          {report.overall.count === 0 ? 'No request' : `Only ${report.overall.count} request${report.overall.count === 1 ? '' : 's'}`} went through the gateway in the last {windowLabel}.
        </strong>{' '}
        Each call proxied to a service (<code>/api/prices</code>, <code>/api/rules</code>…) is timed from arrival to its last byte; these charts show
        its p50 / p95 / p99, error rate and request count per time bucket, overall, per service and per endpoint, from the samples every gateway writes
        to Redis. The gateway’s own routes (<code>/api/health</code>, <code>/api/latency</code>) and live Socket.IO events are not proxied calls and do
        not count.
      </p>
      <p data-testid="latency-since">
        {since !== null
          ? `Data exists since ${fmtTime(since)} (${fmtAge(Date.now() - since)}; samples are kept ${retention} min).`
          : `The gateway keeps no sample at all yet (samples are kept ${retention} min): the first proxied call appears here within seconds.`}
      </p>
    </div>
  );
}

export default function LatencyPage() {
  const [windowSeconds, setWindowSeconds] = useState(60);
  const [scope, setScope] = useState(OVERALL);
  const { points, latest, error } = useLatencySeries(windowSeconds, scope);
  const scopes = useMemo(() => (latest ? Object.entries(scopesOf(latest)) : []), [latest]);
  const pct = useMemo(() => seriesFor(points, scope, ['p50_ms', 'p95_ms', 'p99_ms']), [points, scope]);
  const errors = useMemo(() => seriesFor(points, scope, ['error_rate']), [points, scope]);
  const counts = useMemo(() => seriesFor(points, scope, ['count']), [points, scope]);
  const coinciding = useMemo(() => coincidingBuckets(points, scope), [points, scope]);
  const windowLabel = WINDOWS.find((w) => w.seconds === windowSeconds)?.label ?? `${windowSeconds} s`;
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
      {latest && latest.overall.count < QUIET_REQUESTS ? <QuietExplainer report={latest} windowLabel={windowLabel} /> : null}
      <div className="grid">
        <div className="panel">
          {/* p95 wide and solid, p99 dashed on top: where they coincide, both stay visible. */}
          <Chart
            testId="latency-chart"
            title={`${scope}: p50 / p95 / p99`}
            yLabel="ms"
            data={pct}
            series={[
              { label: 'p50', color: '#3fb950', unit: ' ms' },
              { label: 'p95', color: '#d29922', unit: ' ms', width: 4 },
              { label: 'p99', color: '#f85149', unit: ' ms', dash: [6, 5] },
            ]}
          />
          {coinciding ? (
            <p className="muted" data-testid="p95-note" data-coinciding={coinciding}>
              In {coinciding} of the buckets p95 and p99 are the same request: with fewer than 20 samples in a bucket both are its slowest one (nearest rank),
              so the dashed p99 runs along the p95 line.
            </p>
          ) : null}
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
