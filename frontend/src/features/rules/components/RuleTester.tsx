import { useMemo, useState } from 'react';
import { ErrorMessage } from '../../../components/Status';
import { ApiError } from '../../../lib/api-client';
import type { Rule, RuleTestResponse } from '../../../lib/types';
import { testRule } from '../api/rules';
import { editable, sampleEventsFor } from '../hooks/ruleTemplates';

/** Run a rule over sample events on the engine (`POST /api/rules/test`: no side effects). */
export function RuleTester({ rule }: { rule: Rule }) {
  // Samples follow the rule (its symbol, its stream) until you edit them.
  const [custom, setCustom] = useState<string | null>(null);
  const generated = useMemo(() => JSON.stringify(sampleEventsFor(rule), null, 1), [rule]);
  const text = custom ?? generated;
  const [result, setResult] = useState<RuleTestResponse>();
  const [failure, setFailure] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const run = async () => {
    setFailure(undefined);
    setResult(undefined);
    let events: unknown;
    try {
      events = JSON.parse(text);
    } catch (exc) {
      setFailure(new Error(`sample events are not valid JSON: ${(exc as Error).message}`));
      return;
    }
    if (!Array.isArray(events)) {
      setFailure(new Error('sample events must be a JSON array'));
      return;
    }
    setBusy(true);
    try {
      setResult(await testRule(editable(rule), events));
    } catch (exc) {
      setFailure(exc instanceof ApiError && exc.fieldErrors.length ? new Error(exc.fieldErrors.map((e) => `${e.path}: ${e.message}`).join('; ')) : exc);
    } finally {
      setBusy(false);
    }
  };

  return (
    <details className="stack">
      <summary>Test against sample events</summary>
      <div className="row">
        <button type="button" className="btn btn-small" onClick={() => setCustom(null)}>
          Reset samples for this rule
        </button>
      </div>
      <label>
        Events (JSON array)
        <textarea name="sample-events" spellCheck={false} value={text} onChange={(e) => setCustom(e.target.value)} style={{ minHeight: 140 }} />
      </label>
      <button type="button" className="btn" onClick={run} disabled={busy}>
        {busy ? 'Testing…' : 'Run test'}
      </button>
      <ErrorMessage error={failure} title="Test failed" />
      {result ? (
        <div data-testid="rule-test-result">
          <p>
            <strong>{result.count ?? result.matches.length}</strong> match(es) over {result.events ?? '?'} events
            {result.suppressed_by_cooldown ? `, ${result.suppressed_by_cooldown} suppressed by cooldown` : ''}
            {result.malformed_events ? `, ${result.malformed_events} malformed` : ''}.
          </p>
          <ul className="list">
            {result.matches.slice(0, 20).map((m, i) => (
              <li key={i}>{m.message}</li>
            ))}
          </ul>
        </div>
      ) : null}
    </details>
  );
}
