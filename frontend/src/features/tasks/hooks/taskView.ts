/**
 * How a task reads in the table (pure, unit-tested): its arguments in one line (eight exports of
 * different symbols must not look identical), and progress that tells a finished task from one
 * that was stopped (a cancelled export is not "100 %, 105 rows").
 */
import type { TaskRecord } from '../../../lib/types';

/** Argument names that carry epoch milliseconds (the jobs' `since` / `until`). */
export const TIME_ARGS = new Set(['since', 'until']);

export function fmtDateTime(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return String(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `symbol EUR/USD · since 2026-12-01 10:02:00 · rule "spike"`: every argument, short. */
export function argsSummary(args: Record<string, unknown> | undefined | null): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(args ?? {})) {
    if (value === undefined || value === null) continue;
    if (TIME_ARGS.has(name) && typeof value === 'number') parts.push(`${name} ${fmtDateTime(value)}`);
    else if (typeof value === 'object') {
      const named = (value as { name?: unknown }).name;
      parts.push(typeof named === 'string' ? `${name} “${named}”` : `${name} {…}`);
    } else parts.push(`${name} ${String(value)}`);
  }
  return parts.join(' · ') || 'no arguments';
}

export interface ProgressView {
  /** Percent for the bar, or null: no bar (a stopped task has no meaningful fill). */
  percent: number | null;
  label: string;
  message: string;
}

export function progressView(task: TaskRecord): ProgressView {
  const percent = Math.round(Math.min(1, Math.max(0, task.progress ?? 0)) * 100);
  const said = task.message ?? '';
  switch (task.status) {
    case 'cancelled': {
      if (/before it started/.test(said)) return { percent: null, label: 'stopped', message: 'Cancelled before it started' };
      // The record's own word ("cancelled") adds nothing; a progress message says where it stopped.
      const reached = said && !/cancel/i.test(said) ? ` (had reached: ${said})` : '';
      return { percent: null, label: 'stopped', message: `Cancelled${reached}` };
    }
    case 'failed':
      return { percent: null, label: 'failed', message: said ? `Failed (at: ${said})` : 'Failed' };
    case 'succeeded':
      return { percent: 100, label: 'done', message: said };
    case 'queued':
      return { percent: 0, label: 'queued', message: said || 'waiting for a worker' };
    default:
      return { percent, label: `${percent} %`, message: said };
  }
}

/** A `datetime-local` value (local time, what the input shows) as epoch ms, or null. */
export function localInputToMs(value: string): number | null {
  if (!value.trim()) return null;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : null;
}

/** Epoch ms as a `datetime-local` value (seconds precision). */
export function msToLocalInput(ms: number): string {
  return fmtDateTime(ms).replace(' ', 'T');
}

/** The first `limit` data rows of a CSV (header first); quoted fields with commas handled. */
export function csvPreview(csv: string, limit = 20): string[][] {
  const rows: string[][] = [];
  for (const line of csv.split('\n')) {
    if (!line) continue;
    const cells: string[] = [];
    let cell = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (quoted) {
        if (ch === '"' && line[i + 1] === '"') {
          cell += '"';
          i++;
        } else if (ch === '"') quoted = false;
        else cell += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ',') {
        cells.push(cell);
        cell = '';
      } else cell += ch;
    }
    cells.push(cell);
    rows.push(cells);
    if (rows.length > limit) break;
  }
  return rows;
}
