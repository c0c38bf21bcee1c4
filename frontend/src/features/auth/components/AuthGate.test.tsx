import { render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { installGateway, json } from '../../../test/gateway';
import { AccountMenu } from './AccountMenu';
import { AuthGate } from './AuthGate';

afterEach(() => vi.unstubAllGlobals());

describe('AuthGate with AUTH_MODE=off', () => {
  it('shows the dashboard as before: no form, no account menu, no users/me call', async () => {
    const gw = installGateway({ 'GET /api/auth/config': () => json(200, { mode: 'off', token_endpoint: '/api/auth/token', grant_types: [] }) });
    render(
      <AuthGate>
        <AccountMenu />
        <p>the dashboard</p>
      </AuthGate>,
    );
    await screen.findByText('the dashboard');
    expect(screen.queryByRole('heading', { name: 'Sign in' })).toBeNull();
    expect(screen.queryByTestId('account')).toBeNull();
    expect(gw.calls.map((c) => new URL(c.url, 'http://x').pathname)).toEqual(['/api/auth/config']);
  });
});
