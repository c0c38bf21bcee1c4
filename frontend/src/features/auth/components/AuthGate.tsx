/**
 * The dashboard when access allows it: nothing changes with auth off; with auth required, the
 * sign-in form until a credential is accepted (and again when it stops being accepted).
 */
import { lazy, Suspense, type ReactNode } from 'react';
import { Loading } from '../../../components/Status';
import { useAuth } from '../hooks/authStore';

// Its own chunk: a gateway with auth off never downloads the form.
const SignInPage = lazy(() => import('./SignInPage'));

export function AuthGate({ children }: { children: ReactNode }) {
  const state = useAuth();
  if (state.status === 'checking') return <Loading label="Checking access…" />;
  if (state.status === 'signed-out') {
    return (
      <Suspense fallback={<Loading label="Loading the sign-in form…" />}>
        <SignInPage state={state} />
      </Suspense>
    );
  }
  return <>{children}</>;
}
