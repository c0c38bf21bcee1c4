/**
 * API keys (admin): list, create — the secret is shown once, right here, and never again — and
 * revoke (every gateway refuses the key within a second).
 */
import { useState, type FormEvent } from 'react';
import { Badge, Empty, ErrorMessage, Loading } from '../../../components/Status';
import { ApiError } from '../../../lib/api-client';
import { fmtTime } from '../../../lib/format';
import { useAsync } from '../../../lib/hooks';
import type { Permission } from '../../auth/hooks/scopes';
import { createKey, fetchKeys, revokeKey, type ApiKey } from '../api/gateway';
import { DeniedReason } from './Denied';

const SCOPES = ['read', 'write', 'admin'] as const;

function NewKeyForm({ permission, onCreated }: { permission: Permission; onCreated: (key: ApiKey & { key: string }) => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['read']);
  const [error, setError] = useState('');
  const [failure, setFailure] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    setFailure(undefined);
    if (!name.trim()) {
      setError('name the key (who or what uses it)');
      return;
    }
    setBusy(true);
    try {
      onCreated(await createKey(name.trim(), scopes));
      setName('');
    } catch (exc) {
      if (exc instanceof ApiError && exc.field) setError(exc.message);
      else setFailure(exc);
    } finally {
      setBusy(false);
    }
  };
  const toggle = (scope: string) => setScopes((old) => (old.includes(scope) ? old.filter((s) => s !== scope) : [...old, scope]));
  return (
    <form onSubmit={submit} aria-label="New API key" className="row" noValidate>
      <label>
        Name
        <input name="key-name" value={name} onChange={(e) => setName(e.target.value)} disabled={!permission.allowed} aria-invalid={error ? true : undefined} placeholder="grafana scraper" />
      </label>
      <fieldset disabled={!permission.allowed}>
        <legend className="muted">Scopes</legend>
        {SCOPES.map((s) => (
          <label key={s} style={{ flexDirection: 'row', alignItems: 'center' }}>
            <input type="checkbox" name={`scope-${s}`} checked={scopes.includes(s)} onChange={() => toggle(s)} /> {s}
          </label>
        ))}
      </fieldset>
      <button type="submit" className="btn btn-primary" disabled={busy || !permission.allowed}>
        {busy ? 'Creating…' : 'Create key'}
      </button>
      <DeniedReason permission={permission} />
      {error ? (
        <span className="field-error" role="alert">
          {error}
        </span>
      ) : null}
      <ErrorMessage error={failure} title="Not created" />
    </form>
  );
}

function KeyRow({ apiKey, permission, onRevoked }: { apiKey: ApiKey; permission: Permission; onRevoked: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [failure, setFailure] = useState<unknown>();
  const revoke = async () => {
    setFailure(undefined);
    try {
      await revokeKey(apiKey.id);
      onRevoked();
    } catch (exc) {
      setFailure(exc);
    }
  };
  return (
    <tr data-key-id={apiKey.id} data-key-name={apiKey.name}>
      <td className="mono">{apiKey.id}</td>
      <td>{apiKey.name}</td>
      <td>
        {apiKey.scopes.map((s) => (
          <Badge key={s} kind="scope">
            {s}
          </Badge>
        ))}
      </td>
      <td>
        {fmtTime(apiKey.created_at)} <span className="muted">{apiKey.created_by ? `by ${apiKey.created_by}` : ''}</span>
      </td>
      <td>
        {confirming ? (
          <span className="row">
            <button type="button" className="btn btn-small btn-danger" onClick={() => void revoke()}>
              Revoke now
            </button>
            <button type="button" className="btn btn-small" onClick={() => setConfirming(false)}>
              Keep
            </button>
          </span>
        ) : (
          <button type="button" className="btn btn-small" disabled={!permission.allowed} onClick={() => setConfirming(true)}>
            Revoke…
          </button>
        )}
        <ErrorMessage error={failure} title="Not revoked" />
      </td>
    </tr>
  );
}

export function KeysPanel({ permission }: { permission: Permission }) {
  const state = useAsync((signal) => (permission.allowed ? fetchKeys(signal) : Promise.resolve(undefined)), [permission.allowed]);
  const [created, setCreated] = useState<(ApiKey & { key: string }) | null>(null);
  const keys = [...(state.data?.keys ?? [])].sort((a, b) => b.created_at.localeCompare(a.created_at));
  return (
    <section className="stack" aria-labelledby="keys-h">
      <div className="panel-head">
        <h2 id="keys-h">API keys</h2>
        <span className="muted">sent as X-API-Key; stored as a hash, shown once</span>
      </div>
      {!permission.allowed ? (
        <p className="notice notice-warn">
          API keys are an administrator's: <DeniedReason permission={permission} />
        </p>
      ) : null}
      <div className="panel stack">
        <NewKeyForm
          permission={permission}
          onCreated={(key) => {
            setCreated(key);
            state.reload();
          }}
        />
        {created ? (
          <div className="notice notice-ok" role="status" data-testid="new-key">
            <p>
              Key <strong>{created.name}</strong> created. Copy it now: <strong>it is not shown again</strong>.
            </p>
            <code className="secret" data-testid="new-key-secret">
              {created.key}
            </code>{' '}
            <button type="button" className="btn btn-small" onClick={() => void navigator.clipboard?.writeText(created.key)}>
              Copy
            </button>{' '}
            <button type="button" className="btn btn-small" onClick={() => setCreated(null)}>
              I have stored it
            </button>
          </div>
        ) : null}
        <ErrorMessage error={state.error} title="Keys unavailable" onRetry={state.reload} />
        {permission.allowed && state.loading && !state.data ? <Loading /> : null}
        {state.data && keys.length === 0 ? <Empty>No API key yet.</Empty> : null}
        {keys.length ? (
          <div className="table-wrap">
            <table aria-label="API keys">
              <thead>
                <tr>
                  <th>Id</th>
                  <th>Name</th>
                  <th>Scopes</th>
                  <th>Created</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {keys.map((k) => (
                  <KeyRow
                    key={k.id}
                    apiKey={k}
                    permission={permission}
                    onRevoked={() => {
                      if (created?.id === k.id) setCreated(null);
                      state.reload();
                    }}
                  />
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </div>
    </section>
  );
}
