/**
 * The detector's configuration as flat form fields (dotted names, the same names the server puts
 * in `details.field` of a validation error, so each error lands next to its input).
 */
import type { ArbitrageConfig, SignalType } from '../../../lib/types';

export const SIGNAL_TYPES: SignalType[] = ['direct', 'triangular', 'cycle'];

export interface FieldSpec {
  name: string;
  label: string;
  step?: string;
  help?: string;
}

export const NUMBER_FIELDS: FieldSpec[] = [
  { name: 'default_fee_percentage', label: 'Default fee %', step: 'any', help: 'Taker fee per leg on a source without its own fee.' },
  { name: 'min_profit_percentage.direct', label: 'Min net % (direct)', step: 'any' },
  { name: 'min_profit_percentage.triangular', label: 'Min net % (triangular)', step: 'any' },
  { name: 'min_profit_percentage.cycle', label: 'Min net % (cycle)', step: 'any' },
  { name: 'max_cycle_length', label: 'Max cycle length (legs)', step: '1' },
  { name: 'max_quote_age_ms', label: 'Max quote age (ms)', step: '1' },
  { name: 'epsilon', label: 'Epsilon', step: 'any' },
  { name: 'severity_thresholds.high', label: 'High severity from net %', step: 'any' },
  { name: 'severity_thresholds.medium', label: 'Medium severity from net %', step: 'any' },
  { name: 'update_threshold_percentage', label: 'Republish on move of (pp)', step: 'any' },
  {
    name: 'close_margin_percentage',
    label: 'Close margin (pp)',
    step: 'any',
    help: 'Hysteresis: an open signal stays open until its net falls below the minimum minus this, so a spread hovering at the threshold does not flap.',
  },
];

/** Yes/no options (checkboxes); the form value is "true" / "false". */
export const BOOLEAN_FIELDS: FieldSpec[] = [
  {
    name: 'suppress_dominated',
    label: 'Suppress dominated cycles',
    help: 'No signal for a cycle that trades a leg of an open signal with fewer legs and at least the same net profit: one mispricing gives its triangle, not every 4-cycle around it.',
  },
];

export type FormValues = Record<string, string>;

export function toForm(config: ArbitrageConfig): FormValues {
  const values: FormValues = {};
  for (const f of NUMBER_FIELDS) {
    const [a, b] = f.name.split('.');
    const raw = b ? (config as unknown as Record<string, Record<string, unknown>>)[a]?.[b] : (config as unknown as Record<string, unknown>)[a];
    if (raw === undefined && !b) continue; // a detector without this option: no input, nothing sent
    values[f.name] = raw === undefined || raw === null ? '' : String(raw);
  }
  for (const f of BOOLEAN_FIELDS) {
    const raw = (config as unknown as Record<string, unknown>)[f.name];
    if (typeof raw === 'boolean') values[f.name] = String(raw);
  }
  values.fee_percentage_by_source = JSON.stringify(config.fee_percentage_by_source ?? {});
  values.enabled_types = (config.enabled_types ?? []).join(',');
  return values;
}

/**
 * Build the PUT body. Numbers that do not parse are sent as typed (strings) on purpose: the server
 * is the one validator, and its message is shown next to the field. Returns local errors only for
 * what cannot be sent at all (malformed JSON).
 */
export function toUpdate(values: FormValues): { update: Record<string, unknown>; errors: Record<string, string> } {
  const update: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of NUMBER_FIELDS) {
    if (values[f.name] === undefined) continue;
    const text = values[f.name].trim();
    const n = Number(text);
    const value = text !== '' && Number.isFinite(n) ? n : text;
    const [a, b] = f.name.split('.');
    if (b) update[a] = { ...((update[a] as Record<string, unknown>) ?? {}), [b]: value };
    else update[a] = value;
  }
  for (const f of BOOLEAN_FIELDS) {
    if (values[f.name] !== undefined) update[f.name] = values[f.name] === 'true';
  }
  try {
    update.fee_percentage_by_source = JSON.parse(values.fee_percentage_by_source || '{}');
  } catch {
    errors.fee_percentage_by_source = 'must be a JSON object, e.g. {"binance": 0.1}';
  }
  update.enabled_types = (values.enabled_types ?? '').split(',').filter(Boolean);
  return { update, errors };
}
