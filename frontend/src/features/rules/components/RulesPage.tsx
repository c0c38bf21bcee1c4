import { useState } from 'react';
import { Badge, Empty, ErrorMessage, Loading } from '../../../components/Status';
import { useAsync } from '../../../lib/hooks';
import type { Rule } from '../../../lib/types';
import { AlertList } from '../../alerts/components/AlertList';
import { useAlerts } from '../../alerts/hooks/useAlerts';
import { deleteRule, fetchRules, patchRule } from '../api/rules';
import { useSchemaValidator } from '../hooks/useSchemaValidator';
import { RuleEditor } from './RuleEditor';

function RuleAlerts({ rule }: { rule: Rule }) {
  const state = useAlerts(rule.rule_id, 50);
  return (
    <section className="panel" aria-label={`Alerts of ${rule.name}`}>
      <h2>Alerts of “{rule.name}”</h2>
      <AlertList {...state} emptyText="This rule has not fired yet." />
    </section>
  );
}

function RuleRow({ rule, onChanged, onDeleted, onEdit, onShowAlerts, selected }: { rule: Rule; onChanged: () => void; onDeleted: () => void; onEdit: () => void; onShowAlerts: () => void; selected: boolean }) {
  const [confirming, setConfirming] = useState(false);
  const [failure, setFailure] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const act = async (op: () => Promise<unknown>) => {
    setBusy(true);
    setFailure(undefined);
    try {
      await op();
      onChanged();
    } catch (exc) {
      setFailure(exc);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  return (
    <>
      <tr data-rule-name={rule.name} aria-current={selected || undefined}>
        <td>{rule.rule_id}</td>
        <td>
          <strong>{rule.name}</strong>
          {rule.description ? <div className="muted">{rule.description}</div> : null}
          {rule.error ? <div className="field-error">disabled after an error: {rule.error.message}</div> : null}
        </td>
        <td>{rule.pattern}</td>
        <td>{rule.stream ?? 'prices'}</td>
        <td>
          <Badge kind={rule.severity ?? 'medium'}>{rule.severity ?? 'medium'}</Badge>
        </td>
        <td>
          <label style={{ flexDirection: 'row', alignItems: 'center' }}>
            <input type="checkbox" checked={rule.enabled !== false} disabled={busy} onChange={(e) => act(() => patchRule(rule.rule_id!, { enabled: e.target.checked }))} aria-label={`Enable ${rule.name}`} />
            {rule.enabled !== false ? 'on' : 'off'}
          </label>
        </td>
        <td className="row">
          <button type="button" className="btn btn-small" onClick={onEdit}>
            Edit
          </button>
          <button type="button" className="btn btn-small" onClick={onShowAlerts} aria-pressed={selected}>
            Alerts
          </button>
          {confirming ? (
            <>
              <button type="button" className="btn btn-small btn-danger" disabled={busy} onClick={() => act(() => deleteRule(rule.rule_id!).then(onDeleted))}>
                Confirm delete
              </button>
              <button type="button" className="btn btn-small" onClick={() => setConfirming(false)}>
                Keep
              </button>
            </>
          ) : (
            <button type="button" className="btn btn-small btn-danger" onClick={() => setConfirming(true)} aria-label={`Delete ${rule.name}`}>
              Delete
            </button>
          )}
        </td>
      </tr>
      {failure ? (
        <tr>
          <td colSpan={7}>
            <ErrorMessage error={failure} title="Not changed" />
          </td>
        </tr>
      ) : null}
    </>
  );
}

export default function RulesPage() {
  const rules = useAsync((signal) => fetchRules(signal), [], 10_000);
  const { validate, error: schemaError } = useSchemaValidator();
  const [editing, setEditing] = useState<Rule | 'new' | null>(null);
  const [alertsOf, setAlertsOf] = useState<Rule | null>(null);
  const list = rules.data?.rules ?? [];

  return (
    <section className="stack">
      <div className="row">
        <h1>Rules</h1>
        <button type="button" className="btn btn-primary" onClick={() => setEditing('new')}>
          New rule
        </button>
      </div>
      {schemaError ? <ErrorMessage error={schemaError} title="Rule schema unavailable (the server still validates on save)" /> : null}
      {editing ? (
        <RuleEditor
          key={editing === 'new' ? 'new' : String(editing.rule_id)}
          initial={editing === 'new' ? undefined : editing}
          validate={validate}
          onCancel={() => setEditing(null)}
          onSaved={(rule) => {
            setEditing(null);
            setAlertsOf(rule);
            rules.reload();
          }}
        />
      ) : null}
      <ErrorMessage error={rules.error} title="Rules unavailable" onRetry={rules.reload} />
      <div className="panel table-wrap">
        {rules.loading && !rules.data ? (
          <Loading />
        ) : list.length === 0 && !rules.error ? (
          <Empty>No rule yet. Create one with “New rule”.</Empty>
        ) : list.length ? (
          <table aria-label="Rules" data-testid="rules-table">
            <thead>
              <tr>
                <th>#</th>
                <th>Name</th>
                <th>Pattern</th>
                <th>Stream</th>
                <th>Severity</th>
                <th>Enabled</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((rule) => (
                <RuleRow
                  key={String(rule.rule_id)}
                  rule={rule}
                  selected={alertsOf?.rule_id === rule.rule_id}
                  onChanged={rules.reload}
                  onDeleted={() => {
                    if (alertsOf?.rule_id === rule.rule_id) setAlertsOf(null);
                    if (editing !== 'new' && editing?.rule_id === rule.rule_id) setEditing(null);
                  }}
                  onEdit={() => setEditing(rule)}
                  onShowAlerts={() => setAlertsOf(alertsOf?.rule_id === rule.rule_id ? null : rule)}
                />
              ))}
            </tbody>
          </table>
        ) : null}
      </div>
      {alertsOf ? <RuleAlerts key={String(alertsOf.rule_id)} rule={alertsOf} /> : null}
    </section>
  );
}
