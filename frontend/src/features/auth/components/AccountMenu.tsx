/** Who is signed in (`GET /api/users/me`: subject and scopes) and the sign-out button. */
import { auth, useAuth } from '../hooks/authStore';

export function AccountMenu() {
  const { status, me } = useAuth();
  if (status !== 'signed-in') return null;
  const scopes = me?.scopes ?? [];
  return (
    <div className="account" data-testid="account">
      <span className="muted">
        Signed in as <strong data-testid="signed-in-as">{me?.subject ?? 'unknown'}</strong>
      </span>
      <span className="scopes" data-testid="scopes" aria-label="Scopes">
        {scopes.map((scope) => (
          <span key={scope} className="badge badge-scope">
            {scope}
          </span>
        ))}
      </span>
      <button type="button" className="btn btn-small" onClick={() => auth.signOut()}>
        Sign out
      </button>
    </div>
  );
}
