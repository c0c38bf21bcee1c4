/**
 * A traffic split as an editable form: two versions and the canary's share in percent (the API
 * speaks basis points, people speak percent). Pure, unit-tested; the gateway validates again and
 * its 422 names the field.
 */
import type { Split, SplitUpdate } from '../api/gateway';

export interface SplitFormValues {
  stable: string;
  canary: string;
  /** The canary's share, percent, as typed ("10", "2.5"). */
  canaryPercent: string;
}

export const MAX_VERSION_CHARS = 64;

export function splitToForm(split: Split | null | undefined, versions: readonly string[] = []): SplitFormValues {
  if (!split) return { stable: versions[0] ?? '', canary: versions[1] ?? '', canaryPercent: '10' };
  const stable = split.arms.find((a) => a.role === 'stable') ?? split.arms[0];
  const canary = split.arms.find((a) => a.role === 'canary') ?? split.arms[1];
  return { stable: stable?.version ?? '', canary: canary?.version ?? '', canaryPercent: String((canary?.basis_points ?? 0) / 100) };
}

/** The PUT body, or errors by field (`stable`, `canary`, `canaryPercent`). */
export function formToUpdate(values: SplitFormValues): { update?: SplitUpdate; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const stable = values.stable.trim();
  const canary = values.canary.trim();
  if (!stable) errors.stable = 'name the stable version';
  else if (stable.length > MAX_VERSION_CHARS) errors.stable = `at most ${MAX_VERSION_CHARS} characters`;
  if (!canary) errors.canary = 'name the canary version';
  else if (canary.length > MAX_VERSION_CHARS) errors.canary = `at most ${MAX_VERSION_CHARS} characters`;
  else if (canary === stable) errors.canary = 'the canary must be another version than the stable one';
  const text = values.canaryPercent.trim().replace(',', '.');
  const percent = Number(text);
  if (text === '' || !Number.isFinite(percent) || percent < 0 || percent > 100) errors.canaryPercent = 'a share from 0 to 100 %';
  else if (Math.abs(percent * 100 - Math.round(percent * 100)) > 1e-6) errors.canaryPercent = 'at most two decimals (basis points)';
  if (Object.keys(errors).length) return { errors };
  const canaryBp = Math.round(percent * 100);
  return {
    errors,
    update: { arms: [{ version: stable, basis_points: 10_000 - canaryBp }, { version: canary, basis_points: canaryBp }] },
  };
}

/** The server's `details.field` of a 422 (`arms[1].basis_points`, `arms`...) as a form field. */
export function splitFieldOf(field: string | undefined): keyof SplitFormValues | null {
  if (!field) return null;
  if (/basis_points/.test(field)) return 'canaryPercent';
  if (/^arms\[0\]/.test(field)) return 'stable';
  if (/^arms\[1\]/.test(field) || field === 'arms') return 'canary';
  return null;
}

/** Versions the service's instances announce (what a split's arms can name). */
export function versionsOf(instances: readonly { version: string | null }[]): string[] {
  return [...new Set(instances.map((i) => i.version).filter((v): v is string => Boolean(v)))].sort();
}

/** "12.5 %" of basis points. */
export const bpPercent = (bp: number) => `${(bp / 100).toLocaleString('en-US', { maximumFractionDigits: 2 })} %`;
