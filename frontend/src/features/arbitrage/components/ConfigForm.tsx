import { useEffect, useState, type FormEvent } from 'react';
import { ErrorMessage, Loading } from '../../../components/Status';
import { ApiError } from '../../../lib/api-client';
import { useAsync } from '../../../lib/hooks';
import type { ArbitrageConfig } from '../../../lib/types';
import { fetchConfig, saveConfig } from '../api/arbitrage';
import { BOOLEAN_FIELDS, NUMBER_FIELDS, SIGNAL_TYPES, toForm, toUpdate, type FormValues } from '../hooks/configForm';

/** Find the form field a server error names (`min_profit_percentage.direct`, or its parent). */
export function fieldForError(field: string | undefined, names: string[]): string | undefined {
  if (!field) return undefined;
  if (names.includes(field)) return field;
  return names.find((n) => n.startsWith(`${field}.`)) ?? names.find((n) => field.startsWith(`${n}.`) || field.startsWith(`${n}[`));
}

export function ConfigForm({ load = fetchConfig, save = saveConfig }: { load?: typeof fetchConfig; save?: typeof saveConfig }) {
  const config = useAsync<ArbitrageConfig>((signal) => load(signal), []);
  const [values, setValues] = useState<FormValues>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<unknown>();
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (config.data) setValues(toForm(config.data));
  }, [config.data]);

  const names = [...NUMBER_FIELDS.map((f) => f.name), ...BOOLEAN_FIELDS.map((f) => f.name), 'fee_percentage_by_source', 'enabled_types'];
  const set = (name: string, value: string) => {
    setValues((v) => ({ ...v, [name]: value }));
    setErrors((e) => {
      if (!(name in e)) return e;
      const rest = { ...e };
      delete rest[name];
      return rest;
    });
    setSaved(false);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaved(false);
    setFailure(undefined);
    const { update, errors: local } = toUpdate(values);
    setErrors(local);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      const next = await save(update as Partial<ArbitrageConfig>);
      config.setData(() => next);
      setSaved(true);
    } catch (exc) {
      const field = exc instanceof ApiError ? fieldForError(exc.field, names) : undefined;
      if (field && exc instanceof ApiError) setErrors({ [field]: String(exc.details.reason ?? exc.message) });
      else setFailure(exc);
    } finally {
      setBusy(false);
    }
  };

  if (config.loading && !config.data) return <Loading label="Loading configuration…" />;
  if (config.error && !config.data) return <ErrorMessage error={config.error} title="Configuration unavailable" onRetry={config.reload} />;

  const types = new Set((values.enabled_types ?? '').split(',').filter(Boolean));
  const toggleType = (t: string) => {
    const next = new Set(types);
    if (next.has(t)) next.delete(t);
    else next.add(t);
    set('enabled_types', SIGNAL_TYPES.filter((x) => next.has(x)).join(','));
  };

  return (
    <form onSubmit={submit} aria-label="Detector configuration" noValidate>
      <div className="form-grid">
        {NUMBER_FIELDS.filter((f) => f.name in values).map((f) => (
          <label key={f.name} title={f.help}>
            {f.label}
            <input
              name={f.name}
              inputMode="decimal"
              value={values[f.name] ?? ''}
              onChange={(e) => set(f.name, e.target.value)}
              aria-invalid={errors[f.name] ? true : undefined}
              aria-describedby={errors[f.name] ? `err-${f.name}` : undefined}
            />
            {errors[f.name] ? (
              <span className="field-error" id={`err-${f.name}`} role="alert">
                {errors[f.name]}
              </span>
            ) : null}
          </label>
        ))}
        <label>
          Fee % by source (JSON)
          <input
            name="fee_percentage_by_source"
            value={values.fee_percentage_by_source ?? ''}
            onChange={(e) => set('fee_percentage_by_source', e.target.value)}
            aria-invalid={errors.fee_percentage_by_source ? true : undefined}
          />
          {errors.fee_percentage_by_source ? (
            <span className="field-error" role="alert">
              {errors.fee_percentage_by_source}
            </span>
          ) : null}
        </label>
        {BOOLEAN_FIELDS.filter((f) => f.name in values).map((f) => (
          <label key={f.name} title={f.help} style={{ flexDirection: 'row', alignItems: 'center' }}>
            <input type="checkbox" name={f.name} checked={values[f.name] === 'true'} onChange={(e) => set(f.name, String(e.target.checked))} aria-describedby={`help-${f.name}`} /> {f.label}
            <span className="muted" id={`help-${f.name}`} hidden>
              {f.help}
            </span>
            {errors[f.name] ? (
              <span className="field-error" role="alert">
                {errors[f.name]}
              </span>
            ) : null}
          </label>
        ))}
        <fieldset>
          <legend className="muted">Enabled types</legend>
          {SIGNAL_TYPES.map((t) => (
            <label key={t} style={{ flexDirection: 'row', alignItems: 'center' }}>
              <input type="checkbox" checked={types.has(t)} onChange={() => toggleType(t)} /> {t}
            </label>
          ))}
          {errors.enabled_types ? (
            <span className="field-error" role="alert">
              {errors.enabled_types}
            </span>
          ) : null}
        </fieldset>
      </div>
      <ErrorMessage error={failure} title="Not saved" />
      <div className="row" style={{ marginTop: 8 }}>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save configuration'}
        </button>
        {saved ? (
          <span className="notice notice-ok" role="status">
            Saved and applied live.
          </span>
        ) : null}
      </div>
    </form>
  );
}
