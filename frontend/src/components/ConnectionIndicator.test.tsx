import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { ConnectionBadge } from './ConnectionIndicator';

describe('ConnectionBadge', () => {
  it.each([
    ['connected', 'Live'],
    ['reconnecting', 'Reconnecting'],
    ['offline', 'Offline'],
  ] as const)('says %s and how old the last event is', (state, label) => {
    render(<ConnectionBadge info={{ state, lastEventAt: 10_000, since: 0, reconnects: 0 }} now={25_000} />);
    const status = screen.getByRole('status');
    expect(status.getAttribute('data-state')).toBe(state);
    expect(status.textContent).toContain(label);
    expect(status.textContent).toContain('last event 15 s ago');
  });

  it('is honest before the first event', () => {
    render(<ConnectionBadge info={{ state: 'connecting', lastEventAt: null, since: 0, reconnects: 0 }} now={1} />);
    expect(screen.getByRole('status').textContent).toContain('no event yet');
  });
});

describe('freshness on a page without a live stream', () => {
  it('says how long it has been connected, not how old the last event is', () => {
    render(<ConnectionBadge info={{ state: 'connected', lastEventAt: 10_000, since: 5_000, reconnects: 0 }} now={25_000} streamsHeld={0} />);
    const status = screen.getByRole('status');
    expect(status.textContent).toContain('connected for 20 s');
    expect(status.textContent).not.toContain('last event');
    expect(status.getAttribute('title')).toContain('last event 15 s ago');
  });

  it('keeps the age of the last event while disconnected', () => {
    render(<ConnectionBadge info={{ state: 'reconnecting', lastEventAt: 10_000, since: 20_000, reconnects: 0 }} now={25_000} streamsHeld={0} />);
    expect(screen.getByRole('status').textContent).toContain('last event 15 s ago');
  });
});
