/**
 * A form from a task's JSON Schema: strings and numbers get inputs, anything else (a CEP rule)
 * a JSON text area. Values are converted back by type; the server's 422 names the field if not.
 */
import type { JsonSchema } from '../../../lib/types';
import { localInputToMs, TIME_ARGS } from './taskView';

export interface ArgField {
  name: string;
  /** `datetime`: an epoch-ms argument (`since`, `until`), typed as a date and time. */
  kind: 'string' | 'number' | 'json' | 'datetime';
  required: boolean;
  description?: string;
}

export function fieldsOf(schema: JsonSchema | undefined): ArgField[] {
  const props = schema?.properties ?? {};
  const required = new Set(schema?.required ?? []);
  return Object.entries(props).map(([name, s]) => {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    const numeric = types.includes('number') || types.includes('integer');
    const epochMs = numeric && (TIME_ARGS.has(name) || /epoch ms/i.test(String(s.description ?? '')));
    const kind: ArgField['kind'] = epochMs ? 'datetime' : numeric ? 'number' : types.includes('string') ? 'string' : 'json';
    return { name, kind, required: required.has(name), description: typeof s.description === 'string' ? s.description : undefined };
  });
}

export function argsFrom(fields: ArgField[], values: Record<string, string>): { args: Record<string, unknown>; errors: Record<string, string> } {
  const args: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const text = (values[f.name] ?? '').trim();
    if (!text) continue;
    if (f.kind === 'datetime') {
      const ms = localInputToMs(text);
      if (ms === null) errors[f.name] = 'not a date and time';
      else args[f.name] = ms;
    } else if (f.kind === 'number') {
      const n = Number(text);
      args[f.name] = Number.isFinite(n) ? n : text;
    } else if (f.kind === 'json') {
      try {
        args[f.name] = JSON.parse(text);
      } catch (exc) {
        errors[f.name] = `not valid JSON: ${(exc as Error).message}`;
      }
    } else args[f.name] = text;
  }
  return { args, errors };
}
