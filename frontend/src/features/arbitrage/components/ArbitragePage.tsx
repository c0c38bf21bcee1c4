import { useMemo, useState } from 'react';
import { Badge, Empty, ErrorMessage, Loading } from '../../../components/Status';
import { fmtPct, fmtTime } from '../../../lib/format';
import type { ArbitrageSignal } from '../../../lib/types';
import { useSignals } from '../hooks/useSignals';
import { ConfigForm } from './ConfigForm';
import { SignalDetail } from './SignalDetail';

export interface SignalFilters {
  type: string;
  severity: string;
  status: string;
  minSpread: string;
}

/** The choice filters, in display order (an empty choice means "all"). */
const SELECT_FILTERS: { key: 'type' | 'severity' | 'status'; label: string; options: string[] }[] = [
  { key: 'type', label: 'Type', options: ['direct', 'triangular', 'cycle'] },
  { key: 'severity', label: 'Severity', options: ['high', 'medium', 'low'] },
  { key: 'status', label: 'Status', options: ['open', 'closed'] },
];

export function filterSignals(signals: readonly ArbitrageSignal[], f: SignalFilters): ArbitrageSignal[] {
  const min = f.minSpread.trim() === '' ? null : Number(f.minSpread);
  return signals.filter(
    (s) =>
      (!f.type || s.type === f.type) &&
      (!f.severity || s.severity === f.severity) &&
      (!f.status || (s.status ?? 'open') === f.status) &&
      (min === null || !Number.isFinite(min) || s.spread_percentage >= min),
  );
}

export default function ArbitragePage() {
  const { signals, error, loaded, reload } = useSignals(200);
  const [filters, setFilters] = useState<SignalFilters>({ type: '', severity: '', status: '', minSpread: '' });
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [showConfig, setShowConfig] = useState(false);
  const visible = useMemo(() => filterSignals(signals, filters), [signals, filters]);
  const selected = selectedId === null ? undefined : signals.find((s) => String(s.id) === selectedId);
  const set = (key: keyof SignalFilters) => (e: { target: { value: string } }) => setFilters((f) => ({ ...f, [key]: e.target.value }));

  return (
    <section className="stack">
      <div className="row">
        <h1>Arbitrage</h1>
        <span className="muted">{signals.filter((s) => (s.status ?? 'open') === 'open').length} open</span>
        <button type="button" className="btn btn-small" aria-expanded={showConfig} onClick={() => setShowConfig((v) => !v)}>
          {showConfig ? 'Hide' : 'Show'} detector configuration
        </button>
      </div>
      {showConfig ? (
        <section className="panel" aria-label="Detector configuration">
          <h2>Detector configuration</h2>
          <ConfigForm />
        </section>
      ) : null}
      <div className="row" role="group" aria-label="Filters">
        {SELECT_FILTERS.map(({ key, label, options }) => (
          <label key={key}>
            {label}
            <select value={filters[key]} onChange={set(key)}>
              <option value="">all</option>
              {options.map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          </label>
        ))}
        <label>
          Min net spread %
          <input type="number" step="any" value={filters.minSpread} onChange={set('minSpread')} style={{ width: 110 }} />
        </label>
      </div>
      <ErrorMessage error={error} title="Signals unavailable" onRetry={reload} />
      <div className={selected ? 'split' : ''} hidden={Boolean(error) && signals.length === 0}>
        <div className="panel table-wrap">
          {!loaded ? (
            <Loading />
          ) : visible.length === 0 ? (
            <Empty>{signals.length === 0 ? 'No arbitrage signal yet. They appear here the moment the detector opens one.' : 'No signal matches these filters.'}</Empty>
          ) : (
            <table aria-label="Signals" data-testid="signal-table">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Type</th>
                  <th>Path</th>
                  <th className="num">Net</th>
                  <th className="num">Gross</th>
                  <th>Severity</th>
                  <th>Status</th>
                  <th>Last seen</th>
                </tr>
              </thead>
              <tbody>
                {visible.map((s) => (
                  <tr
                    key={String(s.id)}
                    className="clickable"
                    tabIndex={0}
                    aria-current={String(s.id) === selectedId || undefined}
                    data-signal-id={String(s.id)}
                    onClick={() => setSelectedId(String(s.id))}
                    onKeyDown={(e) => e.key === 'Enter' && setSelectedId(String(s.id))}
                  >
                    <td>{s.id}</td>
                    <td>{s.type}</td>
                    <td className="mono">{(s.path ?? s.symbols).join(' → ')}</td>
                    <td className="num">{fmtPct(s.spread_percentage)}</td>
                    <td className="num">{fmtPct(s.gross_percentage)}</td>
                    <td>
                      <Badge kind={s.severity}>{s.severity}</Badge>
                    </td>
                    <td>
                      <Badge kind={s.status ?? 'open'}>{s.status ?? 'open'}</Badge>
                    </td>
                    <td className="muted">{fmtTime(s.last_seen ?? s.timestamp)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        {selected ? <SignalDetail signal={selected} onClose={() => setSelectedId(null)} /> : null}
      </div>
    </section>
  );
}
