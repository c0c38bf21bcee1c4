/**
 * Traffic splits (canary releases): each split's arms with their weights, the error rate each arm
 * served in the last judged window, and why a canary was rolled back; admins edit, create and
 * remove them (`PUT`/`DELETE /api/gateway/splits/<service>`). A `split_rollback` event reloads at
 * once and says so.
 */
import { useState, type FormEvent } from 'react';
import { Empty, ErrorMessage, Loading } from '../../../components/Status';
import { ApiError } from '../../../lib/api-client';
import { fmtNumber, fmtTime } from '../../../lib/format';
import { useAsync, useSocketEvent } from '../../../lib/hooks';
import type { SplitRollbackEvent } from '../../../lib/types';
import type { Permission } from '../../auth/hooks/scopes';
import { deleteSplit, fetchSplits, putSplit, type ArmWindow, type GatewayService, type Split } from '../api/gateway';
import { bpPercent, formToUpdate, splitFieldOf, splitToForm, versionsOf, type SplitFormValues } from '../hooks/splitForm';
import { DeniedReason } from './Denied';

const rate = (w: ArmWindow | undefined) =>
  !w ? 'not judged yet' : !w.requests || w.error_rate === null || w.error_rate === undefined ? 'no request served' : `${fmtNumber(w.error_rate * 100, 1)} % (${w.errors} of ${w.requests})`;

function SplitEditor({ service, split, versions, onSaved, onCancel }: { service: string; split: Split | null; versions: string[]; onSaved: (s: Split) => void; onCancel: () => void }) {
  const [values, setValues] = useState<SplitFormValues>(() => splitToForm(split, versions));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const set = (key: keyof SplitFormValues) => (e: { target: { value: string } }) => {
    setValues((v) => ({ ...v, [key]: e.target.value }));
    setErrors((old) => ({ ...old, [key]: '' }));
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(undefined);
    const { update, errors: local } = formToUpdate(values);
    setErrors(local);
    if (!update) return;
    setBusy(true);
    try {
      onSaved(await putSplit(service, update));
    } catch (exc) {
      const field = exc instanceof ApiError ? splitFieldOf(exc.field) : null;
      if (field && exc instanceof ApiError) setErrors({ [field]: String(exc.details.reason ?? exc.message) });
      else setFailure(exc);
    } finally {
      setBusy(false);
    }
  };
  const listId = `versions-${service}`;
  const field = (key: keyof SplitFormValues, label: string, extra: Record<string, unknown> = {}) => (
    <label>
      {label}
      <input name={key} value={values[key]} onChange={set(key)} aria-invalid={errors[key] ? true : undefined} aria-describedby={errors[key] ? `err-split-${key}` : undefined} {...extra} />
      {errors[key] ? (
        <span className="field-error" id={`err-split-${key}`} role="alert">
          {errors[key]}
        </span>
      ) : null}
    </label>
  );
  return (
    <form onSubmit={submit} aria-label={`Split of ${service}`} className="stack" noValidate>
      <datalist id={listId}>
        {versions.map((v) => (
          <option key={v} value={v} />
        ))}
      </datalist>
      <div className="form-grid">
        {field('stable', 'Stable version', { list: listId })}
        {field('canary', 'Canary version', { list: listId })}
        {field('canaryPercent', 'Canary share %', { inputMode: 'decimal' })}
      </div>
      <ErrorMessage error={failure} title="Not saved" />
      <div className="row">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save split'}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
        <span className="muted">Applies on every gateway within a second; raising the canary only adds users to it.</span>
      </div>
    </form>
  );
}

function SplitCard({ split, versions, permission, onChanged }: { split: Split; versions: string[]; permission: Permission; onChanged: () => void }) {
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [failure, setFailure] = useState<unknown>();
  const remove = async () => {
    setFailure(undefined);
    try {
      await deleteSplit(split.service);
      onChanged();
    } catch (exc) {
      setFailure(exc);
    }
  };
  return (
    <section className="panel" aria-label={`Split ${split.service}`} data-split={split.service}>
      <div className="panel-head">
        <h3>{split.service}</h3>
        <span className="muted">
          generation {split.generation}
          {split.updated_at ? ` · changed ${fmtTime(split.updated_at)}` : ''}
        </span>
      </div>
      <table aria-label={`Arms of ${split.service}`}>
        <thead>
          <tr>
            <th>Arm</th>
            <th>Version</th>
            <th className="num">Share</th>
            <th className="num">Routable instances</th>
            <th>Errors in the last judged window</th>
          </tr>
        </thead>
        <tbody>
          {split.arms.map((arm) => (
            <tr key={arm.role} data-arm={arm.role}>
              <td>{arm.role}</td>
              <td className="mono">{arm.version}</td>
              <td className="num" data-testid="arm-share">
                {bpPercent(arm.basis_points)}
              </td>
              <td className="num">{split.routable_instances?.[arm.version] ?? 0}</td>
              <td>{rate(split.window?.[arm.role])}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {split.rolled_back ? (
        <div className="notice notice-warn" data-testid="rollback-reason">
          <strong>Rolled back {fmtTime(split.rolled_back.at)}</strong> from {bpPercent(split.rolled_back.basis_points_before)}: {split.rolled_back.reason}
        </div>
      ) : null}
      {editing ? (
        <SplitEditor
          service={split.service}
          split={split}
          versions={versions}
          onSaved={() => {
            setEditing(false);
            onChanged();
          }}
          onCancel={() => setEditing(false)}
        />
      ) : (
        <div className="row">
          <button type="button" className="btn btn-small" disabled={!permission.allowed} onClick={() => setEditing(true)}>
            Edit split
          </button>
          {confirming ? (
            <>
              <span>Send all traffic back to any version?</span>
              <button type="button" className="btn btn-small btn-danger" onClick={() => void remove()}>
                Remove split
              </button>
              <button type="button" className="btn btn-small" onClick={() => setConfirming(false)}>
                Keep
              </button>
            </>
          ) : (
            <button type="button" className="btn btn-small" disabled={!permission.allowed} onClick={() => setConfirming(true)}>
              Remove…
            </button>
          )}
          <DeniedReason permission={permission} />
        </div>
      )}
      <ErrorMessage error={failure} title="Not removed" />
    </section>
  );
}

export function SplitsPanel({ services, permission }: { services: GatewayService[]; permission: Permission }) {
  const state = useAsync((signal) => (permission.allowed ? fetchSplits(signal) : Promise.resolve(undefined)), [permission.allowed], 5000);
  const [rollback, setRollback] = useState<SplitRollbackEvent | null>(null);
  const [creating, setCreating] = useState<string>('');
  useSocketEvent('split_rollback', (event) => {
    setRollback(event);
    state.reload();
  });
  const splits = Object.values(state.data?.splits ?? {}).sort((a, b) => a.service.localeCompare(b.service));
  const versionsFor = (name: string) => versionsOf(services.find((s) => s.name === name)?.instances ?? []);
  const candidates = services.filter((s) => !state.data?.splits?.[s.name]).map((s) => s.name);
  return (
    <section className="stack" aria-labelledby="splits-h">
      <div className="panel-head">
        <h2 id="splits-h">Traffic splits</h2>
        {state.data ? (
          <span className="muted">
            sticky by the caller, else {state.data.key_header ?? 'X-User-ID'}, else the address · {state.data.force_header ?? 'X-Canary'}: always / never forces an arm
          </span>
        ) : null}
      </div>
      {!permission.allowed ? (
        <p className="notice notice-warn">
          Splits are an administrator's: <DeniedReason permission={permission} />
        </p>
      ) : null}
      {rollback ? (
        <div className="notice notice-warn" role="status" data-testid="rollback-event">
          {fmtTime(rollback.at)}: the {rollback.service} canary {rollback.canary} was rolled back — {rollback.reason}
        </div>
      ) : null}
      <ErrorMessage error={state.error} title="Splits unavailable" onRetry={state.reload} />
      {permission.allowed && state.loading && !state.data ? <Loading /> : null}
      {state.data && splits.length === 0 ? <Empty>No traffic split: every service sends its calls to all its instances.</Empty> : null}
      {splits.map((split) => (
        <SplitCard key={split.service} split={split} versions={versionsFor(split.service)} permission={permission} onChanged={state.reload} />
      ))}
      <section className="panel" aria-label="New split">
        <div className="row">
          <label>
            New split for
            <select name="new-split-service" value={creating} onChange={(e) => setCreating(e.target.value)} disabled={!permission.allowed}>
              <option value="">choose a service…</option>
              {candidates.map((name) => (
                <option key={name} value={name}>
                  {name} ({versionsFor(name).join(', ') || 'no version announced'})
                </option>
              ))}
            </select>
          </label>
          <DeniedReason permission={permission} />
        </div>
        {creating && permission.allowed ? (
          <SplitEditor
            key={creating}
            service={creating}
            split={null}
            versions={versionsFor(creating)}
            onSaved={() => {
              setCreating('');
              state.reload();
            }}
            onCancel={() => setCreating('')}
          />
        ) : null}
      </section>
    </section>
  );
}
