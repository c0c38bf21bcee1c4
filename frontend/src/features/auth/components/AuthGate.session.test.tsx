import { act, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiRequest } from '../../../lib/api-client';
import { clearCredential } from '../../../lib/credentials';
import { envelope, fakeJwt, installGateway, json } from '../../../test/gateway';
import { auth } from '../hooks/authStore';
import { AuthGate } from './AuthGate';

const GOOD = fakeJwt({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 3600 });

afterEach(() => {
  vi.unstubAllGlobals();
  clearCredential();
});

function Draft() {
  const [text, setText] = useState('');
  return <input aria-label="Draft" value={text} onChange={(e) => setText(e.target.value)} />;
}

async function signIn() {
  fireEvent.change(screen.getByLabelText('Username'), { target: { value: 'alice' } });
  fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'right' } });
  await act(async () => {
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
  });
}

describe('a session that ends mid-way', () => {
  it('keeps the page (and what was typed) under the form, and gives it back after signing in; a sign-out does not', async () => {
    installGateway({
      'GET /api/auth/config': () => json(200, { mode: 'required', token_endpoint: '/api/auth/token', grant_types: ['password'] }),
      'POST /api/auth/token': () => json(200, { access_token: GOOD, token_type: 'Bearer', expires_in: 900, scope: 'read' }),
      'GET /api/users/me': () => json(200, { subject: 'alice', kind: 'jwt', scopes: ['read'] }),
      'GET /api/rules': () => envelope(401, 'UNAUTHORIZED', 'token expired'),
    });
    render(
      <AuthGate>
        <Draft />
      </AuthGate>,
    );
    await screen.findByRole('heading', { name: 'Sign in' });
    await signIn();
    fireEvent.change(await screen.findByLabelText('Draft'), { target: { value: 'half-written rule' } });

    await act(async () => {
      await apiRequest('/api/rules').catch(() => undefined);
    });
    expect((await screen.findByTestId('auth-notice')).textContent).toMatch(/session has expired/);
    const kept = document.querySelector('.gate-page[data-locked] input') as HTMLInputElement;
    expect(kept.value).toBe('half-written rule'); // still mounted, behind the form
    expect(kept.closest('[inert]')).not.toBeNull();

    await signIn();
    const back = (await screen.findByLabelText('Draft')) as HTMLInputElement;
    expect(back.value).toBe('half-written rule');
    expect(document.querySelector('[inert]')).toBeNull();
    expect(screen.queryByRole('heading', { name: 'Sign in' })).toBeNull();

    act(() => auth.signOut());
    await screen.findByRole('heading', { name: 'Sign in' });
    expect(screen.queryByLabelText('Draft')).toBeNull(); // the next person does not find this page
  });
});
