import { act, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiRequest } from '../../../lib/api-client';
import { clearCredential } from '../../../lib/credentials';
import { envelope, fakeJwt, installGateway, json } from '../../../test/gateway';
import { auth } from '../hooks/authStore';
import { AccessNotices } from './AccessNotices';
import { AccountMenu } from './AccountMenu';
import { AuthGate } from './AuthGate';

const GOOD = fakeJwt({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 3600 });

afterEach(() => {
  vi.unstubAllGlobals();
  clearCredential();
});

async function signIn(password: string) {
  fireEvent.change(screen.getByLabelText('Username'), { target: { value: 'alice' } });
  fireEvent.change(screen.getByLabelText('Password'), { target: { value: password } });
  await act(async () => {
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
  });
}

describe('sign-in form (AUTH_MODE=required)', () => {
  it('shows the form, the server’s words for a wrong password, who is signed in, rate limits, sign-out and expiry', async () => {
    installGateway({
      'GET /api/auth/config': () => json(200, { mode: 'required', token_endpoint: '/api/auth/token', grant_types: ['password'] }),
      'POST /api/auth/token': (call) =>
        new URLSearchParams(call.body).get('password') === 'right'
          ? json(200, { access_token: GOOD, token_type: 'Bearer', expires_in: 900, scope: 'read write' })
          : envelope(401, 'UNAUTHORIZED', 'invalid username or password'),
      'GET /api/users/me': (call) => (call.headers.authorization === `Bearer ${GOOD}` ? json(200, { subject: 'alice', kind: 'jwt', scopes: ['read', 'write'] }) : envelope(401, 'UNAUTHORIZED', 'bad token')),
      'GET /api/latency': () => envelope(429, 'RATE_LIMITED', 'rate limit exceeded', {}, { 'Retry-After': '30' }),
      'GET /api/rules': () => envelope(401, 'UNAUTHORIZED', 'token revoked'),
    });
    render(
      <AuthGate>
        <AccountMenu />
        <AccessNotices />
        <p>the dashboard</p>
      </AuthGate>,
    );
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.queryByText('the dashboard')).toBeNull();

    await signIn('wrong');
    expect((await screen.findByTestId('sign-in-error')).textContent).toBe('invalid username or password (UNAUTHORIZED)');
    expect((screen.getByLabelText('Password') as HTMLInputElement).value).toBe(''); // never kept

    await signIn('right');
    await screen.findByText('the dashboard');
    expect(screen.getByTestId('signed-in-as').textContent).toBe('alice');
    expect(within(screen.getByTestId('scopes')).getAllByText(/read|write/).map((e) => e.textContent)).toEqual(['read', 'write']);

    await act(async () => {
      await apiRequest('/api/latency').catch(() => undefined);
    });
    expect((await screen.findByTestId('rate-limit-notice')).textContent).toMatch(/rate limit exceeded — \/api\/latency again in (29|30) s/);

    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect((await screen.findByTestId('auth-notice')).textContent).toBe('You are signed out.');
    expect(sessionStorage.getItem('ascep.credential')).toBeNull();

    await signIn('right');
    await screen.findByText('the dashboard');
    await act(async () => {
      await apiRequest('/api/rules').catch(() => undefined);
    });
    const notice = await screen.findByTestId('auth-notice');
    expect(notice.getAttribute('role')).toBe('alert');
    expect(notice.textContent).toMatch(/session has expired.*token revoked/);
    expect(auth.getState().status).toBe('signed-out');
  });
});
