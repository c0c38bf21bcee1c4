import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { HealthCard } from './HealthCard';

describe('HealthCard', () => {
  it('shows the service’s own reason, not a bare status', () => {
    render(
      <HealthCard
        name="price_feed"
        health={{ status: 'degraded', reason: 'Binance not delivering (backoff); crypto from simulated', error: null }}
      />,
    );
    expect(screen.getByTestId('health-reason').textContent).toBe('Binance not delivering (backoff); crypto from simulated');
    expect(document.body.textContent).not.toContain('reports degraded');
  });

  it('falls back to the failed check’s error and says nothing when healthy', () => {
    const { rerender } = render(<HealthCard name="arbitrage" health={{ status: 'unhealthy', error: 'unreachable' }} />);
    expect(screen.getByTestId('health-reason').textContent).toBe('unreachable');
    rerender(<HealthCard name="arbitrage" health={{ status: 'healthy', reason: null }} />);
    expect(screen.queryByTestId('health-reason')).toBeNull();
  });

  it('shows restarts and marks a recent one', () => {
    render(
      <HealthCard
        name="cep_engine"
        health={{ status: 'healthy', restarts: { '1h': 2, '24h': 3 }, last_restart: '2026-01-01T10:00:00Z', restarted_recently: true }}
      />,
    );
    expect(screen.getByTestId('health-restarts').textContent).toContain('restarted 2× in 1 h, 3× in 24 h');
    expect(document.querySelector('[data-service="cep_engine"]')?.getAttribute('data-restarted')).toBe('recently');
    expect(screen.getByText('restarted')).toBeTruthy();
  });

  it('shows a starting service as starting, with why', () => {
    render(<HealthCard name="tasks" health={{ status: 'starting', reason: 'not up yet: unreachable' }} />);
    expect(screen.getByText('starting')).toBeTruthy();
    expect(screen.getByTestId('health-reason').textContent).toBe('not up yet: unreachable');
  });
});
