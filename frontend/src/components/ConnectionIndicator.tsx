import { useConnection, useNow } from '../lib/hooks';
import { fmtAge } from '../lib/format';
import type { ConnectionInfo } from '../lib/socket';

const LABELS: Record<ConnectionInfo['state'], string> = {
  connecting: 'Connecting',
  connected: 'Live',
  reconnecting: 'Reconnecting',
  offline: 'Offline',
};

/** Presentational: what the connection is doing and how fresh the data is. */
export function ConnectionBadge({ info, now }: { info: ConnectionInfo; now: number }) {
  const last = info.lastEventAt === null ? 'no event yet' : `last event ${fmtAge(now - info.lastEventAt)}`;
  return (
    <div className={`conn conn-${info.state}`} role="status" aria-live="polite" data-state={info.state} title={last}>
      <span className="conn-dot" aria-hidden="true" />
      <span className="conn-label">{LABELS[info.state]}</span>
      <span className="conn-last muted">{last}</span>
    </div>
  );
}

export function ConnectionIndicator() {
  const info = useConnection();
  const now = useNow(1000);
  return <ConnectionBadge info={info} now={now} />;
}
