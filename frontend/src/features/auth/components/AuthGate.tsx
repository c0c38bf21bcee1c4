/**
 * The dashboard when access allows it: nothing changes with auth off; with auth required, the
 * sign-in form until a credential is accepted (and again when it stops being accepted).
 */
import type { ReactNode } from 'react';
import { Loading } from '../../../components/Status';
import { useAuth } from '../hooks/authStore';
import { SignInPage } from './SignInPage';

export function AuthGate({ children }: { children: ReactNode }) {
  const state = useAuth();
  if (state.status === 'checking') return <Loading label="Checking access…" />;
  if (state.status === 'signed-out') return <SignInPage state={state} />;
  return <>{children}</>;
}
