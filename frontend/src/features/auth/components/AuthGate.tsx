/**
 * The dashboard when access allows it: nothing changes with auth off; with auth required, the
 * sign-in form until a credential is accepted (and again when it stops being accepted).
 *
 * A session that *ends by itself* (a 401 mid-session, a refused socket, the token's `exp`) keeps
 * the page mounted underneath the form — inert and hidden from assistive technology — so signing
 * in again returns to exactly that page: its URL, its half-filled forms, its open rows. A
 * deliberate sign-out unmounts it: the next person to sign in must not find the last one's page.
 */
import { lazy, Suspense, useRef, type ReactNode } from 'react';
import { Loading } from '../../../components/Status';
import { useAuth } from '../hooks/authStore';

// Its own chunk: a gateway with auth off never downloads the form.
const SignInPage = lazy(() => import('./SignInPage'));

export function AuthGate({ children }: { children: ReactNode }) {
  const state = useAuth();
  const shown = useRef(false); // the pages have been shown in this session
  if (state.status === 'checking') return <Loading label="Checking access…" />;
  const signedOut = state.status === 'signed-out';
  if (!signedOut) shown.current = true;
  else if (state.notice?.kind === 'signed-out' || !state.notice) shown.current = false;
  const form = signedOut ? (
    <Suspense fallback={<Loading label="Loading the sign-in form…" />}>
      <SignInPage state={state} />
    </Suspense>
  ) : null;
  if (signedOut && !shown.current) return form;
  return (
    <>
      {/* One wrapper whether locked or not: the page keeps its React state across the lock. */}
      <div className="gate-page" inert={signedOut || undefined} aria-hidden={signedOut || undefined} data-locked={signedOut ? 'yes' : undefined}>
        {children}
      </div>
      {signedOut ? (
        <div className="gate-overlay" role="dialog" aria-modal="true" aria-label="Sign in again">
          {form}
        </div>
      ) : null}
    </>
  );
}
