/**
 * The sign-in form (`AUTH_MODE=required`): a username and password for the token endpoint, or a
 * pasted access token / API key. Errors are the server's words (a wrong password says what the
 * gateway said, a rate limit says how long to wait); the password is never kept.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { errorMessage } from '../../../lib/api-client';
import type { CredentialKind } from '../../../lib/credentials';
import { auth, type AuthState } from '../hooks/authStore';

function useSubmit(action: () => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (exc) {
      setError(errorMessage(exc));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, submit };
}

function PasswordForm() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, submit } = useSubmit(async () => {
    try {
      await auth.signIn(username.trim(), password);
    } finally {
      setPassword('');
    }
  });
  return (
    <form className="stack" aria-label="Sign in" onSubmit={submit}>
      <label>
        Username
        <input name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
      </label>
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      {error ? (
        <div className="notice notice-error" role="alert" data-testid="sign-in-error">
          {error}
        </div>
      ) : null}
      <button type="submit" className="btn btn-primary" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

function TokenForm() {
  const [kind, setKind] = useState<CredentialKind>('bearer');
  const [value, setValue] = useState('');
  const { busy, error, submit } = useSubmit(() => auth.useCredential(kind, value));
  return (
    <form className="stack" aria-label="Use a token" onSubmit={submit}>
      <label>
        Kind
        <select name="kind" value={kind} onChange={(e) => setKind(e.target.value as CredentialKind)}>
          <option value="bearer">Access token (JWT, sent as Authorization: Bearer)</option>
          <option value="api_key">API key (sent as X-API-Key)</option>
        </select>
      </label>
      <label>
        {kind === 'bearer' ? 'Access token' : 'API key'}
        <input name="credential" type="password" autoComplete="off" spellCheck={false} required value={value} onChange={(e) => setValue(e.target.value)} />
      </label>
      {error ? (
        <div className="notice notice-error" role="alert" data-testid="token-error">
          {error}
        </div>
      ) : null}
      <button type="submit" className="btn" disabled={busy}>
        {busy ? 'Checking…' : 'Use it'}
      </button>
    </form>
  );
}

export default function SignInPage({ state }: { state: AuthState }) {
  useEffect(() => {
    document.title = 'Sign in · ASCEP';
  }, []);
  const notice = state.notice;
  return (
    <main id="main" className="signin" tabIndex={-1}>
      <section className="panel stack" aria-labelledby="signin-title">
        <div className="brand">ASCEP</div>
        <h1 id="signin-title">Sign in</h1>
        {notice ? (
          <div className={`notice ${notice.kind === 'signed-out' ? 'notice-ok' : 'notice-error'}`} role={notice.kind === 'signed-out' ? 'status' : 'alert'} data-testid="auth-notice" data-kind={notice.kind}>
            {notice.message}
          </div>
        ) : (
          <p className="muted">This gateway requires signing in.</p>
        )}
        <PasswordForm />
        <details>
          <summary>Use an access token or API key instead</summary>
          <TokenForm />
        </details>
        <p className="muted">Your token is kept for this tab only (closed with it).</p>
      </section>
    </main>
  );
}
