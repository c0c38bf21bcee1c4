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
