import type { TemplatePattern, TemplateValues } from '../hooks/ruleTemplates';

/** The common patterns as plain fields; every change rebuilds the rule JSON. */
export function RuleForm({ values, onChange }: { values: TemplateValues; onChange: (v: TemplateValues) => void }) {
  const set = <K extends keyof TemplateValues>(key: K) => (e: { target: { value: string } }) => onChange({ ...values, [key]: e.target.value as TemplateValues[K] });
  return (
    <div className="form-grid" role="group" aria-label="Rule form">
      <label>
        Name
        <input name="name" value={values.name} onChange={set('name')} required />
      </label>
      <label>
        Pattern
        <select name="pattern" value={values.pattern} onChange={(e) => onChange({ ...values, pattern: e.target.value as TemplatePattern })}>
          <option value="threshold">threshold (a field crosses a value)</option>
          <option value="price_spike">price_spike (% move in a window)</option>
          <option value="volatility">volatility (stddev of returns)</option>
          <option value="arbitrage_opportunity">arbitrage_opportunity (signal spread)</option>
        </select>
      </label>
      {values.pattern !== 'arbitrage_opportunity' ? (
        <label>
          Symbol (empty: all)
          <input name="symbol" value={values.symbol} onChange={set('symbol')} placeholder="BTCUSDT or EUR/USD" />
        </label>
      ) : null}
      {values.pattern === 'threshold' ? (
        <>
          <label>
            Field
            <input name="field" value={values.field} onChange={set('field')} />
          </label>
          <label>
            Operator
            <select name="op" value={values.op} onChange={set('op')}>
              {['>', '>=', '<', '<=', '==', '!='].map((op) => (
                <option key={op} value={op}>
                  {op}
                </option>
              ))}
            </select>
          </label>
          <label>
            Value
            <input name="value" inputMode="decimal" value={values.value} onChange={set('value')} />
          </label>
          <label>
            Mode
            <select name="mode" value={values.mode} onChange={set('mode')}>
              <option value="cross">cross (when it becomes true)</option>
              <option value="level">level (every event where it holds)</option>
            </select>
          </label>
        </>
      ) : null}
      {values.pattern === 'price_spike' || values.pattern === 'volatility' ? (
        <>
          <label>
            {values.pattern === 'price_spike' ? 'Move %' : 'Stddev of returns %'}
            <input name="percent" inputMode="decimal" value={values.percent} onChange={set('percent')} />
          </label>
          <label>
            Window
            <input name="window" value={values.window} onChange={set('window')} placeholder="60s, 5m" />
          </label>
        </>
      ) : null}
      {values.pattern === 'arbitrage_opportunity' ? (
        <label>
          Min net spread %
          <input name="minSpread" inputMode="decimal" value={values.minSpread} onChange={set('minSpread')} />
        </label>
      ) : null}
      <label>
        Severity
        <select name="severity" value={values.severity} onChange={set('severity')}>
          {['low', 'medium', 'high', 'critical'].map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        Cooldown
        <input name="cooldown" value={values.cooldown} onChange={set('cooldown')} placeholder="30s, 5m" />
      </label>
      <label>
        Alert message (template)
        <input name="message" value={values.message} onChange={set('message')} placeholder="{symbol} at {price}" />
      </label>
    </div>
  );
}
