/**
 * Rate limits (`/api/gateway/rate-limits`): every target's limit in force, where it comes from,
 * and an override an admin can set or drop; and who is being refused right now (the listing's
 * `limited`, refusals of the last minute across every gateway).
 */
import { useState, type FormEvent } from 'react';
import { Empty, ErrorMessage, Loading } from '../../../components/Status';
import { ApiError } from '../../../lib/api-client';
import { fmtNumber, fmtTime } from '../../../lib/format';
import { useAsync } from '../../../lib/hooks';
import type { Permission } from '../../auth/hooks/scopes';
import { deleteRateLimit, fetchRateLimits, putRateLimit, type RateLimitPolicy } from '../api/gateway';
import { DeniedReason } from './Denied';

export const RATE_LIMITS_POLL_MS = 3000;

/** A long-run rate in the unit that reads best: 10/s, 1.67/s, 1.0/h. */
export function fmtRate(perSecond: number | undefined): string {
  if (perSecond === undefined || !Number.isFinite(perSecond)) return '—';
  if (perSecond >= 10) return `${fmtNumber(perSecond, 0)}/s`;
  if (perSecond >= 0.1) return `${fmtNumber(perSecond, 2)}/s`;
  if (perSecond * 60 >= 1) return `${fmtNumber(perSecond * 60, 1)}/min`;
  return `${fmtNumber(perSecond * 3600, 1)}/h`;
}

function LimitRow({ policy, permission, onChanged }: { policy: RateLimitPolicy; permission: Permission; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const [value, setValue] = useState(policy.limit);
  const [error, setError] = useState<string>('');
  const [failure, setFailure] = useState<unknown>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    setFailure(undefined);
    try {
      await putRateLimit(policy.target, value.trim());
      setEditing(false);
      onChanged();
    } catch (exc) {
      if (exc instanceof ApiError && exc.field === 'limit') setError(exc.message);
      else setFailure(exc);
    }
  };
  const reset = async () => {
    setFailure(undefined);
    try {
      await deleteRateLimit(policy.target);
      onChanged();
    } catch (exc) {
      setFailure(exc);
    }
  };
  return (
    <tr data-target={policy.target}>
      <td className="mono">{policy.target}</td>
      <td className="mono" data-testid="limit-in-force">
        {policy.limit}
      </td>
      <td>{policy.source}</td>
      <td className="num">{fmtRate(policy.rate_per_second)}</td>
      <td className="mono muted">{policy.override ? `configured ${policy.configured?.limit ?? '?'}` : ''}</td>
      <td>
        {editing ? (
          <form onSubmit={submit} className="row" aria-label={`Limit of ${policy.target}`} noValidate>
            <input name="limit" value={value} onChange={(e) => setValue(e.target.value)} aria-invalid={error ? true : undefined} placeholder="100/60s, 10/s burst 20, off" />
            <button type="submit" className="btn btn-small btn-primary">
              Apply
            </button>
            <button type="button" className="btn btn-small" onClick={() => setEditing(false)}>
              Cancel
            </button>
            {error ? (
              <span className="field-error" role="alert">
                {error}
              </span>
            ) : null}
          </form>
        ) : (
          <span className="row">
            <button type="button" className="btn btn-small" disabled={!permission.allowed} onClick={() => setEditing(true)}>
              Override
            </button>
            {policy.override ? (
              <button type="button" className="btn btn-small" disabled={!permission.allowed} onClick={() => void reset()}>
                Back to {policy.configured?.limit ?? 'configured'}
              </button>
            ) : null}
          </span>
        )}
        <ErrorMessage error={failure} title="Not changed" />
      </td>
    </tr>
  );
}

export function RateLimitsPanel({ permission }: { permission: Permission }) {
  const state = useAsync((signal) => (permission.allowed ? fetchRateLimits(signal) : Promise.resolve(undefined)), [permission.allowed], RATE_LIMITS_POLL_MS);
  const targets = Object.values(state.data?.targets ?? {});
  const limited = state.data?.limited;
  const notFound = state.error instanceof ApiError && state.error.status === 404;
  return (
    <section className="stack" aria-labelledby="limits-h">
      <div className="panel-head">
        <h2 id="limits-h">Rate limits</h2>
        {state.data ? (
          <span className="muted">
            {state.data.algorithm ?? ''} · per client and target · Redis away: {state.data.fail_mode === 'closed' ? 'refuse (closed)' : 'let through (open)'}
          </span>
        ) : null}
      </div>
      {!permission.allowed ? (
        <p className="notice notice-warn">
          Rate limits are an administrator's: <DeniedReason permission={permission} />
        </p>
      ) : null}
      {notFound ? <p className="notice notice-warn">This gateway has no rate limiter (no <code>/api/gateway/rate-limits</code>).</p> : <ErrorMessage error={state.error} title="Rate limits unavailable" onRetry={state.reload} />}
      {permission.allowed && state.loading && !state.data ? <Loading /> : null}
      {targets.length ? (
        <div className="panel table-wrap">
          <table aria-label="Rate-limit policies">
            <thead>
              <tr>
                <th>Target</th>
                <th>Limit</th>
                <th>From</th>
                <th className="num">Rate</th>
                <th />
                <th />
              </tr>
            </thead>
            <tbody>
              {targets.map((p) => (
                <LimitRow key={p.target} policy={p} permission={permission} onChanged={state.reload} />
              ))}
            </tbody>
          </table>
          <DeniedReason permission={permission} />
        </div>
      ) : null}
      {state.data ? (
        <div className="panel" aria-label="Limited right now">
          <h3>Limited right now</h3>
          {limited === undefined ? (
            <p className="muted">This gateway does not report who is being limited (no <code>limited</code> in its listing).</p>
          ) : limited.length === 0 ? (
            <Empty>Nobody was refused in the last {state.data.limited_window_seconds ?? 60} s.</Empty>
          ) : (
            <table aria-label="Clients being limited">
              <thead>
                <tr>
                  <th>Client</th>
                  <th>Target</th>
                  <th className="num">Refused</th>
                  <th>Last refusal</th>
                </tr>
              </thead>
              <tbody>
                {limited.map((c) => (
                  <tr key={`${c.client}|${c.target}`} data-client={c.client}>
                    <td className="mono">{c.client}</td>
                    <td className="mono">{c.target}</td>
                    <td className="num">{c.refused}</td>
                    <td>{fmtTime(c.last_refused_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      ) : null}
    </section>
  );
}
