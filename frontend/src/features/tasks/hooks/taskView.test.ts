import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../../../lib/types';
import { argsFrom, fieldsOf } from './argsForm';
import { argsSummary, csvPreview, fmtDateTime, localInputToMs, msToLocalInput, progressView } from './taskView';

const task = (extra: Partial<TaskRecord>): TaskRecord => ({ id: 't', name: 'export_prices', args: {}, status: 'running', progress: 0.5, ...extra });

describe('task rows', () => {
  it('show their arguments, times as dates, rules by name', () => {
    const since = new Date(2026, 11, 1, 10, 2, 0).getTime();
    expect(argsSummary({ symbol: 'EUR/USD', since })).toBe('symbol EUR/USD · since 2026-12-01 10:02:00');
    expect(argsSummary({ rule: { name: 'spike', pattern: 'price_spike' }, symbol: 'BTCUSDT' })).toBe('rule “spike” · symbol BTCUSDT');
    expect(argsSummary({})).toBe('no arguments');
  });

  it('a cancelled task is stopped, not full: no bar, and its last progress said as such', () => {
    expect(progressView(task({ status: 'cancelled', progress: 1, message: '105 rows' }))).toEqual({ percent: null, label: 'stopped', message: 'Cancelled (had reached: 105 rows)' });
    expect(progressView(task({ status: 'cancelled', progress: 0, message: 'cancelled before it started' })).message).toBe('Cancelled before it started');
    expect(progressView(task({ status: 'cancelled', progress: 1, message: 'cancelled' }))).toEqual({ percent: null, label: 'stopped', message: 'Cancelled' });
    expect(progressView(task({ status: 'running', progress: 0.42, message: '42 rows' }))).toEqual({ percent: 42, label: '42 %', message: '42 rows' });
    expect(progressView(task({ status: 'succeeded', progress: 1, message: '105 rows' })).percent).toBe(100);
  });
});

describe('since / until', () => {
  it('are typed as a date and time and sent as epoch ms', () => {
    const fields = fieldsOf({
      type: 'object',
      required: ['symbol'],
      properties: { symbol: { type: 'string' }, since: { type: 'integer', description: 'epoch ms, inclusive' }, limit: { type: 'integer' } },
    });
    expect(fields.map((f) => f.kind)).toEqual(['string', 'datetime', 'number']);
    const ms = new Date(2026, 11, 1, 10, 2, 3).getTime();
    expect(argsFrom(fields, { symbol: 'X', since: msToLocalInput(ms), limit: '5' }).args).toEqual({ symbol: 'X', since: ms, limit: 5 });
    expect(argsFrom(fields, { since: 'yesterday-ish' }).errors).toEqual({ since: 'not a date and time' });
    expect(localInputToMs('')).toBeNull();
    expect(fmtDateTime(ms)).toBe('2026-12-01 10:02:03');
  });
});

describe('CSV preview', () => {
  it('reads quoted fields and stops at the limit', () => {
    const csv = 'ts,symbol,price\n1,"EUR/USD",1.08\n2,"A,B",2\n3,"say ""hi""",3\n';
    expect(csvPreview(csv, 2)).toEqual([
      ['ts', 'symbol', 'price'],
      ['1', 'EUR/USD', '1.08'],
      ['2', 'A,B', '2'],
    ]);
    expect(csvPreview(csv)[3]).toEqual(['3', 'say "hi"', '3']);
  });
});
