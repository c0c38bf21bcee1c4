import { Badge } from '../../../components/Status';
import { fmtNumber, fmtPct, fmtPrice, fmtTime } from '../../../lib/format';
import type { ArbitrageSignal } from '../../../lib/types';

export function SignalDetail({ signal, onClose }: { signal: ArbitrageSignal; onClose: () => void }) {
  return (
    <section className="panel" aria-label={`Signal ${signal.id}`} data-testid="signal-detail">
      <div className="panel-head">
        <h2>
          Signal #{signal.id} <Badge kind={signal.severity}>{signal.severity}</Badge> <Badge kind={signal.status ?? 'open'}>{signal.status ?? 'open'}</Badge>
        </h2>
        <button type="button" className="btn btn-small" onClick={onClose} aria-label="Close detail">
          ✕
        </button>
      </div>
      <p>
        <strong>{signal.type}</strong> · <span className="mono">{(signal.path ?? []).join(' → ') || signal.symbols.join(', ')}</span>
      </p>
      <table aria-label="Profit">
        <tbody>
          <tr><th>Gross</th><td className="num">{fmtPct(signal.gross_percentage, 4)}</td></tr>
          <tr><th>Fees</th><td className="num">{fmtPct(signal.fees_percentage, 4)}</td></tr>
          <tr><th>Net</th><td className="num"><strong>{fmtPct(signal.spread_percentage, 4)}</strong></td></tr>
          <tr><th>Peak net</th><td className="num">{fmtPct(signal.peak_spread_percentage, 4)}</td></tr>
          <tr><th>Executable size</th><td className="num">{signal.executable_size == null ? '—' : `${fmtNumber(signal.executable_size, 4)} ${signal.size_currency ?? ''}`}</td></tr>
          <tr><th>First / last seen</th><td className="num">{fmtTime(signal.first_seen)} / {fmtTime(signal.last_seen)}</td></tr>
          {signal.close_reason ? <tr><th>Closed because</th><td className="num">{signal.close_reason}</td></tr> : null}
        </tbody>
      </table>
      <h2>Legs</h2>
      {signal.legs?.length ? (
        <table aria-label="Legs">
          <thead>
            <tr><th>#</th><th>Symbol</th><th>Side</th><th className="num">Price</th><th>Source</th><th>From → to</th><th className="num">Fee</th></tr>
          </thead>
          <tbody>
            {signal.legs.map((leg, i) => (
              <tr key={i}>
                <td>{i + 1}</td>
                <td className="mono">{leg.symbol}</td>
                <td className={leg.side === 'buy' ? 'up' : 'down'}>{leg.side}</td>
                <td className="num">{fmtPrice(leg.price)}</td>
                <td>{leg.source}</td>
                <td className="mono">{leg.from && leg.to ? `${leg.from} → ${leg.to}` : '—'}</td>
                <td className="num">{leg.fee_percentage === undefined ? '—' : `${leg.fee_percentage} %`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">Symbols {signal.symbols.join(', ')} at {signal.prices.map((p) => fmtPrice(p)).join(', ')}.</p>
      )}
    </section>
  );
}
