import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { editable, ruleFromTemplate, DEFAULT_TEMPLATE, sampleEventsFor } from '../hooks/ruleTemplates';
import { toJsonPath, type Validate } from '../hooks/useSchemaValidator';
import { parseRuleText, RuleEditor } from './RuleEditor';

const requireName: Validate = (value) =>
  typeof (value as { name?: unknown }).name === 'string' && (value as { name: string }).name ? [] : [{ path: '$.name', message: 'must be a non-empty string' }];

describe('rule templates', () => {
  it('builds a threshold rule with a symbol filter and an alert message', () => {
    const rule = ruleFromTemplate({ ...DEFAULT_TEMPLATE, name: 'eur', symbol: 'EUR/USD', value: '1.1', mode: 'level', message: '{symbol} at {price}' });
    expect(rule).toEqual({
      name: 'eur',
      enabled: true,
      pattern: 'threshold',
      severity: 'medium',
      cooldown: '1m',
      conditions: { field: 'price', op: '>', value: 1.1, mode: 'level' },
      where: { field: 'symbol', op: '==', value: 'EUR/USD' },
      action: [{ type: 'emit_alert', message: '{symbol} at {price}' }],
    });
  });

  it('arbitrage rules listen to signals; samples follow the rule', () => {
    const rule = ruleFromTemplate({ ...DEFAULT_TEMPLATE, pattern: 'arbitrage_opportunity', minSpread: '0.5' });
    expect(rule.stream).toBe('signals');
    expect(sampleEventsFor(rule)[0]).toHaveProperty('spread_percentage');
    expect(sampleEventsFor({ where: { field: 'symbol', op: '==', value: 'ETHUSDT' } } as never)[0]).toHaveProperty('symbol', 'ETHUSDT');
  });

  it('drops server-owned fields before editing', () => {
    expect(editable({ rule_id: 3, version: 2, name: 'a', pattern: 'threshold', conditions: {}, error: null })).toEqual({ name: 'a', pattern: 'threshold', conditions: {} });
  });
});

describe('JSON checks', () => {
  it('reports JSON syntax errors and non-objects at $', () => {
    expect(parseRuleText('{').issues[0].path).toBe('$');
    expect(parseRuleText('[]').issues[0].message).toContain('JSON object');
    expect(parseRuleText('{"name": "x"}').rule).toEqual({ name: 'x' });
  });

  it('turns Ajv instance paths into the server’s JSON paths', () => {
    expect(toJsonPath('')).toBe('$');
    expect(toJsonPath('/conditions/window')).toBe('$.conditions.window');
    expect(toJsonPath('/action/0/url')).toBe('$.action[0].url');
  });
});

describe('RuleEditor', () => {
  it('shows schema problems as you type, with their paths, and blocks nothing valid', () => {
    render(<RuleEditor validate={requireName} onSaved={() => undefined} onCancel={() => undefined} />);
    fireEvent.click(screen.getByRole('button', { name: 'JSON' }));
    const textarea = screen.getByRole('textbox', { name: /Rule JSON/ });
    fireEvent.change(textarea, { target: { value: '{"name": "", "pattern": "threshold", "conditions": {}}' } });
    expect(screen.getByTestId('rule-issues').textContent).toContain('$.name: must be a non-empty string');
    expect(textarea.getAttribute('aria-invalid')).toBe('true');
    fireEvent.change(textarea, { target: { value: '{"name": "ok", "pattern": "threshold", "conditions": {}}' } });
    expect(screen.queryByTestId('rule-issues')).toBeNull();
    fireEvent.change(textarea, { target: { value: '{"name": ' } });
    expect(screen.getByTestId('rule-issues').textContent).toContain('not valid JSON');
    expect((screen.getByRole('button', { name: 'Create rule' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('the form writes the JSON', () => {
    render(<RuleEditor validate={null} onSaved={() => undefined} onCancel={() => undefined} />);
    fireEvent.change(screen.getByRole('textbox', { name: 'Name' }), { target: { value: 'spike' } });
    fireEvent.change(screen.getByRole('combobox', { name: 'Pattern' }), { target: { value: 'price_spike' } });
    const json = JSON.parse((screen.getByRole('textbox', { name: /Rule JSON/ }) as HTMLTextAreaElement).value);
    expect(json).toMatchObject({ name: 'spike', pattern: 'price_spike', conditions: { percent: 2, window: '60s' } });
  });
});

describe('a new rule', () => {
  const needsValue: Validate = (value) =>
    typeof (value as { conditions?: { value?: unknown } }).conditions?.value === 'number' ? [] : [{ path: '$.conditions.value', message: 'must be number' }];

  it('opens calm: the Name field and the JSON agree, and what is missing is a hint, not an error', () => {
    render(<RuleEditor validate={needsValue} onSaved={() => undefined} onCancel={() => undefined} />);
    const name = screen.getByRole('textbox', { name: 'Name' }) as HTMLInputElement;
    const json = JSON.parse((screen.getByRole('textbox', { name: /Rule JSON/ }) as HTMLTextAreaElement).value);
    expect(name.value).toBe('threshold rule');
    expect(json.name).toBe(name.value);
    expect(screen.queryByTestId('rule-issues')).toBeNull();
    expect(screen.getByTestId('rule-todo').textContent).toBe('To fill in: the value to compare with.');

    fireEvent.change(screen.getByRole('combobox', { name: 'Pattern' }), { target: { value: 'price_spike' } });
    expect(name.value).toBe('price_spike rule'); // the automatic name follows the pattern
    fireEvent.change(screen.getByRole('combobox', { name: 'Pattern' }), { target: { value: 'threshold' } });
    fireEvent.change(name, { target: { value: 'mine' } });
    fireEvent.change(screen.getByRole('combobox', { name: 'Pattern' }), { target: { value: 'volatility' } });
    expect(name.value).toBe('mine'); // a typed name is never replaced
  });

  it('shows issues in red once edited', () => {
    render(<RuleEditor validate={needsValue} onSaved={() => undefined} onCancel={() => undefined} />);
    fireEvent.change(screen.getByRole('textbox', { name: 'Symbol (empty: all)' }), { target: { value: 'EUR/USD' } });
    expect(screen.getByTestId('rule-issues').textContent).toContain('$.conditions.value');
  });
});
