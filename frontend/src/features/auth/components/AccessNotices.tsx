/**
 * Temporary notices of access limits: a rate limit in force (with its countdown; requests to that
 * area wait locally until it ends, see lib/rate-limit.ts) and live streams the server refused.
 */
import { useEffect, useSyncExternalStore } from 'react';
import { useNow } from '../../../lib/hooks';
import { activeHolds, getHoldsSnapshot, subscribeHolds, type HoldOff } from '../../../lib/rate-limit';
import { useAuth } from '../hooks/authStore';

function RateLimitNotice({ holds }: { holds: HoldOff[] }) {
  const now = useNow(1000);
  useEffect(() => {
    activeHolds(); // prune the expired ones: the notice goes away by itself
  }, [now]);
  const live = holds.filter((h) => h.until > now);
  if (!live.length) return null;
  return (
    <div className="notice notice-warn" role="status" data-testid="rate-limit-notice">
      <strong>Rate limited:</strong>
      {live.map((h) => (
        <span key={h.key}>
          {h.message} — <code>{h.key}</code> again in {Math.max(1, Math.ceil((h.until - now) / 1000))} s.
        </span>
      ))}
    </div>
  );
}

export function AccessNotices() {
  const holds = useSyncExternalStore(subscribeHolds, getHoldsSnapshot, getHoldsSnapshot);
  const { refusedStreams } = useAuth();
  const refused = Object.entries(refusedStreams);
  return (
    <>
      {holds.length ? <RateLimitNotice holds={holds} /> : null}
      {refused.map(([stream, message]) => (
        <div key={stream} className="notice notice-error" role="alert" data-testid="stream-refused">
          {message}
        </div>
      ))}
    </>
  );
}
