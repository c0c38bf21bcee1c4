/**
 * Forms for the common patterns: a few fields produce a complete rule, which the JSON editor then
 * shows (and lets you refine). Also sample events for the tester, shaped like `price_update`.
 */
import type { Rule, Severity } from '../../../lib/types';

export type TemplatePattern = 'threshold' | 'price_spike' | 'volatility' | 'arbitrage_opportunity';

export interface TemplateValues {
  name: string;
  pattern: TemplatePattern;
  symbol: string;
  severity: Severity;
  cooldown: string;
  message: string;
  // threshold
  field: string;
  op: string;
  value: string;
  mode: 'cross' | 'level';
  // price_spike / volatility
  percent: string;
  window: string;
  // arbitrage_opportunity
  minSpread: string;
}

/** The name a new rule gets until someone types one: shown in the Name field and the JSON alike. */
export const autoName = (pattern: TemplatePattern) => `${pattern} rule`;

export const DEFAULT_TEMPLATE: TemplateValues = {
  name: autoName('threshold'),
  pattern: 'threshold',
  symbol: '',
  severity: 'medium',
  cooldown: '1m',
  message: '',
  field: 'price',
  op: '>',
  value: '',
  mode: 'cross',
  percent: '2',
  window: '60s',
  minSpread: '0.2',
};

const num = (text: string): number | string => {
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
};

/** A form change; a name still the automatic one follows the pattern (never a typed name). */
export function changeTemplate(old: TemplateValues, next: TemplateValues): TemplateValues {
  if (next.pattern !== old.pattern && old.name === autoName(old.pattern) && next.name === old.name) return { ...next, name: autoName(next.pattern) };
  return next;
}

/**
 * What is still missing before the form's rule can be saved, in words (not schema errors: a new
 * rule is not *wrong* because nobody has typed its value yet).
 */
export function missingInTemplate(v: TemplateValues): string[] {
  const missing: string[] = [];
  if (!v.name.trim()) missing.push('a name');
  if (v.pattern === 'threshold' && !v.value.trim()) missing.push('the value to compare with');
  return missing;
}

export function ruleFromTemplate(v: TemplateValues): Rule {
  const rule: Rule = { name: v.name.trim() || autoName(v.pattern), enabled: true, pattern: v.pattern, conditions: {}, severity: v.severity };
  if (v.cooldown.trim()) rule.cooldown = v.cooldown.trim();
  switch (v.pattern) {
    case 'threshold':
      rule.conditions = { field: v.field || 'price', op: v.op, value: num(v.value), mode: v.mode };
      break;
    case 'price_spike':
      rule.conditions = { percent: num(v.percent), window: v.window, direction: 'both' };
      break;
    case 'volatility':
      rule.conditions = { threshold: num(v.percent), window: v.window };
      break;
    case 'arbitrage_opportunity':
      rule.stream = 'signals';
      rule.conditions = { min_spread_percentage: num(v.minSpread) };
      break;
  }
  if (v.symbol.trim() && v.pattern !== 'arbitrage_opportunity') rule.where = { field: 'symbol', op: '==', value: v.symbol.trim() };
  if (v.message.trim()) rule.action = [{ type: 'emit_alert', message: v.message.trim() }];
  return rule;
}

/** Server-owned fields are dropped before a rule is edited, tested or sent again. */
export function editable(rule: Rule): Rule {
  const copy: Record<string, unknown> = { ...rule };
  for (const key of ['rule_id', 'version', 'created_at', 'updated_at', 'error']) delete copy[key];
  return copy as unknown as Rule;
}

/** Ten prices of one symbol climbing 0.5 % a second: enough to trip spikes and thresholds. */
export function samplePriceEvents(symbol = 'BTCUSDT', start = 100, steps = 10): Record<string, unknown>[] {
  const t0 = Date.UTC(2026, 0, 1);
  return Array.from({ length: steps }, (_, i) => {
    const price = +(start * (1 + 0.005 * i)).toFixed(6);
    return { symbol, price, bid: price * 0.9999, ask: price * 1.0001, volume: 10 + i, source: 'simulated', ts: t0 + i * 1000, timestamp: new Date(t0 + i * 1000).toISOString() };
  });
}

export function sampleSignalEvents(): Record<string, unknown>[] {
  const t0 = Date.UTC(2026, 0, 1);
  return [0.05, 0.3, 0.8].map((spread, i) => ({
    id: i + 1,
    type: 'triangular',
    symbols: ['EUR/USD', 'USD/JPY', 'EUR/JPY'],
    prices: [1.08, 150, 162],
    spread: spread / 100,
    spread_percentage: spread,
    severity: spread > 0.5 ? 'high' : 'medium',
    ts: t0 + i * 1000,
    timestamp: new Date(t0 + i * 1000).toISOString(),
  }));
}

export function sampleEventsFor(rule: Partial<Rule>): Record<string, unknown>[] {
  if (rule.stream === 'signals' || rule.pattern === 'arbitrage_opportunity') return sampleSignalEvents();
  const where = rule.where as { field?: string; value?: unknown } | undefined;
  const symbol = where?.field === 'symbol' && typeof where.value === 'string' ? where.value : 'BTCUSDT';
  return samplePriceEvents(symbol);
}
