/** One card of the health grid: status, why (the service's own reason), numbers, restarts. */
import { Badge } from '../../../components/Status';
import { fmtMs, fmtTime } from '../../../lib/format';
import type { ServiceHealth } from '../../../lib/types';

/** What to say under a card that is not healthy: the reason, else the failed check's error. */
export function whyOf(s: ServiceHealth): string | null {
  if (s.status === 'healthy') return null;
  return s.reason || s.error || null;
}

function restartsOf(s: ServiceHealth): string | null {
  const hour = s.restarts?.['1h'] ?? 0;
  const day = s.restarts?.['24h'] ?? 0;
  if (!day) return null;
  const last = s.last_restart ? `, last ${fmtTime(s.last_restart)}` : '';
  return `restarted ${hour}× in 1 h, ${day}× in 24 h${last}`;
}

export function HealthCard({ name, health }: { name: string; health: ServiceHealth }) {
  const availability = health.availability?.['1h'];
  const why = whyOf(health);
  const restarts = restartsOf(health);
  return (
    <div className="health-card" data-service={name} data-restarted={health.restarted_recently ? 'recently' : undefined}>
      <div className="row">
        <span className="name">{name}</span>
        <Badge kind={health.status}>{health.status}</Badge>
        {health.restarted_recently ? <Badge kind="degraded">restarted</Badge> : null}
      </div>
      <div className="muted">
        {fmtMs(health.response_time_ms)}
        {availability !== undefined && availability !== null ? ` · ${availability.toFixed(1)} % (1 h)` : ''}
      </div>
      {why ? (
        <div className={health.status === 'starting' ? 'muted' : 'field-error'} data-testid="health-reason">
          {why}
        </div>
      ) : null}
      {restarts ? (
        <div className="muted" data-testid="health-restarts">
          {restarts}
        </div>
      ) : null}
    </div>
  );
}
