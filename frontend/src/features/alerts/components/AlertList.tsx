import { Badge, Empty, ErrorMessage, Loading } from '../../../components/Status';
import { fmtTime } from '../../../lib/format';
import type { CepAlert } from '../../../lib/types';

export function AlertList({ alerts, error, loaded, limit = 20, emptyText = 'No alert yet.' }: { alerts: CepAlert[]; error: unknown; loaded: boolean; limit?: number; emptyText?: string }) {
  return (
    <div>
      <ErrorMessage error={error} title="Alerts unavailable" />
      {!loaded ? <Loading /> : null}
      {loaded && alerts.length === 0 && !error ? <Empty>{emptyText}</Empty> : null}
      <ul className="list" aria-label="Alerts" data-testid="alert-list">
        {alerts.slice(0, limit).map((a) => (
          <li key={String(a.alert_id)} data-rule={a.rule}>
            <div className="row">
              <Badge kind={a.severity}>{a.severity}</Badge>
              <strong>{a.rule}</strong>
              <span className="muted">{fmtTime(a.timestamp ?? a.detected_at)}</span>
            </div>
            <div>{a.message}</div>
          </li>
        ))}
      </ul>
    </div>
  );
}
