import { useConnection, useNow, useStreamsHeld } from '../lib/hooks';
import type { ConnectionInfo } from '../lib/socket';
import { freshness } from './freshness';

const LABELS: Record<ConnectionInfo['state'], string> = {
  connecting: 'Connecting',
  connected: 'Live',
  reconnecting: 'Reconnecting',
  offline: 'Offline',
};

/** Presentational: what the connection is doing and how fresh the data is. */
export function ConnectionBadge({ info, now, streamsHeld = 1 }: { info: ConnectionInfo; now: number; streamsHeld?: number }) {
  const { text: last, title } = freshness(info, now, streamsHeld);
  return (
    <div className={`conn conn-${info.state}`} role="status" aria-live="polite" data-state={info.state} title={title}>
      <span className="conn-dot" aria-hidden="true" />
      <span className="conn-label">{LABELS[info.state]}</span>
      <span className="conn-last muted">{last}</span>
    </div>
  );
}

export function ConnectionIndicator() {
  const info = useConnection();
  const now = useNow(1000);
  const streamsHeld = useStreamsHeld();
  return <ConnectionBadge info={info} now={now} streamsHeld={streamsHeld} />;
}
