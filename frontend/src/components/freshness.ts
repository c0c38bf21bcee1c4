/**
 * What the connection indicator says about freshness. With a live stream on the page (prices,
 * signals, alerts) the age of the last event is the feed's pulse. Without one (Latency, Tasks,
 * Gateway) events come only when something changes, so "last event 12 s ago" would read like a
 * stalled feed while everything is fine: the indicator says how long it has been connected.
 */
import { fmtAge } from '../lib/format';
import type { ConnectionInfo } from '../lib/socket';

export function freshness(info: ConnectionInfo, now: number, streamsHeld: number): { text: string; title: string } {
  const last = info.lastEventAt === null ? 'no event yet' : `last event ${fmtAge(now - info.lastEventAt)}`;
  if (streamsHeld > 0 || info.state !== 'connected') return { text: last, title: last };
  const age = fmtAge(now - info.since); // "now", "12 s ago", "5 min ago"
  return {
    text: age === 'now' ? 'just connected' : `connected for ${age.replace(/ ago$/, '')}`,
    title: `No live stream on this page (its data is polled); ${last}.`,
  };
}
