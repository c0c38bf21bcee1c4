import { useMemo, useState } from 'react';
import { ErrorMessage } from '../../../components/Status';
import { ApiError } from '../../../lib/api-client';
import type { Rule } from '../../../lib/types';
import { createRule, replaceRule } from '../api/rules';
import { changeTemplate, DEFAULT_TEMPLATE, editable, missingInTemplate, ruleFromTemplate, type TemplateValues } from '../hooks/ruleTemplates';
import type { SchemaIssue, Validate } from '../hooks/useSchemaValidator';
import { RuleForm } from './RuleForm';
import { RuleTester } from './RuleTester';

export function parseRuleText(text: string): { rule?: Rule; issues: SchemaIssue[] } {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { issues: [{ path: '$', message: 'a rule is a JSON object' }] };
    return { rule: value as Rule, issues: [] };
  } catch (exc) {
    return { issues: [{ path: '$', message: `not valid JSON: ${(exc as Error).message}` }] };
  }
}

interface Props {
  initial?: Rule;
  validate: Validate | null;
  onSaved: (rule: Rule) => void;
  onCancel: () => void;
}

/** Create or edit a rule: a form for the common patterns, or the JSON itself, checked as you type. */
export function RuleEditor({ initial, validate, onSaved, onCancel }: Props) {
  const editing = initial?.rule_id !== undefined;
  const [mode, setMode] = useState<'form' | 'json'>(editing ? 'json' : 'form');
  const [template, setTemplate] = useState<TemplateValues>(DEFAULT_TEMPLATE);
  const [text, setText] = useState(() => JSON.stringify(initial ? editable(initial) : ruleFromTemplate(DEFAULT_TEMPLATE), null, 2));
  const [serverIssues, setServerIssues] = useState<SchemaIssue[]>([]);
  const [failure, setFailure] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  // A new rule opens untouched: what is missing is a hint, not a red error, until someone edits
  // the rule or tries to save it.
  const [touched, setTouched] = useState(editing);

  const parsed = useMemo(() => parseRuleText(text), [text]);
  const localIssues = useMemo(() => (parsed.rule && validate ? validate(parsed.rule) : parsed.issues), [parsed, validate]);
  const issues = serverIssues.length ? serverIssues : localIssues;
  const missing = mode === 'form' ? missingInTemplate(template) : [];
  const quiet = !touched && serverIssues.length === 0;

  const onTemplate = (values: TemplateValues) => {
    const next = changeTemplate(template, values);
    setTemplate(next);
    setText(JSON.stringify(ruleFromTemplate(next), null, 2));
    setServerIssues([]);
    setTouched(true);
  };

  const save = async () => {
    setTouched(true);
    if (!parsed.rule) return;
    setBusy(true);
    setFailure(undefined);
    setServerIssues([]);
    try {
      const body = editable(parsed.rule);
      const result = editing ? await replaceRule(initial!.rule_id!, body) : await createRule(body);
      onSaved(result.rule);
    } catch (exc) {
      if (exc instanceof ApiError && exc.fieldErrors.length) setServerIssues(exc.fieldErrors);
      else setFailure(exc);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel stack" aria-label={editing ? `Edit rule ${initial?.name}` : 'New rule'} data-testid="rule-editor">
      <div className="panel-head">
        <h2>{editing ? `Edit “${initial?.name}”` : 'New rule'}</h2>
        <div className="tabs" role="group" aria-label="Editor mode">
          <button type="button" className="btn btn-small" aria-pressed={mode === 'form'} onClick={() => setMode('form')}>
            Form
          </button>
          <button type="button" className="btn btn-small" aria-pressed={mode === 'json'} onClick={() => setMode('json')}>
            JSON
          </button>
        </div>
      </div>
      {mode === 'form' ? <RuleForm values={template} onChange={onTemplate} /> : null}
      <label>
        Rule JSON {validate ? '(checked against the engine’s schema)' : ''}
        <textarea
          name="rule-json"
          spellCheck={false}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setServerIssues([]);
            setTouched(true);
          }}
          aria-invalid={issues.length && !quiet ? true : undefined}
          aria-describedby="rule-issues"
          readOnly={mode === 'form'}
        />
      </label>
      <div id="rule-issues" aria-live="polite">
        {issues.length && quiet ? (
          <span className="muted" data-testid="rule-todo">
            To fill in: {missing.length ? missing.join(', ') : issues.map((i) => i.path).join(', ')}.
          </span>
        ) : issues.length ? (
          <ul className="field-error" data-testid="rule-issues">
            {issues.slice(0, 12).map((i, n) => (
              <li key={n}>
                <code>{i.path}</code>: {i.message}
              </li>
            ))}
          </ul>
        ) : (
          <span className="muted">Valid.</span>
        )}
      </div>
      <ErrorMessage error={failure} title="Not saved" />
      <div className="row">
        <button type="button" className="btn btn-primary" onClick={save} disabled={busy || !parsed.rule}>
          {busy ? 'Saving…' : editing ? 'Save changes' : 'Create rule'}
        </button>
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
      {parsed.rule ? <RuleTester rule={parsed.rule} /> : null}
    </section>
  );
}
