import { act, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../../lib/api-client';
import type { ArbitrageConfig } from '../../../lib/types';
import { ConfigForm, fieldForError } from './ConfigForm';

const CONFIG: ArbitrageConfig = {
  default_fee_percentage: 0.1,
  fee_percentage_by_source: {},
  min_profit_percentage: { direct: 0.01, triangular: 0.01, cycle: 0.02 },
  max_cycle_length: 4,
  max_quote_age_ms: 10000,
  epsilon: 1e-9,
  severity_thresholds: { high: 0.5, medium: 0.1 },
  update_threshold_percentage: 0.02,
  enabled_types: ['direct', 'triangular', 'cycle'],
};

const rejection = (field: string, reason: string) =>
  new ApiError(422, 'VALIDATION_ERROR', `${field}: ${reason}`, { field, reason });

describe('ConfigForm', () => {
  it('shows the server validation error next to the field it names, and clears it on edit', async () => {
    const save = vi.fn(async () => {
      throw rejection('min_profit_percentage.direct', 'must be at least 0');
    });
    render(<ConfigForm load={async () => CONFIG} save={save} />);
    const input = await screen.findByLabelText('Min net % (direct)');
    await waitFor(() => expect((input as HTMLInputElement).value).toBe('0.01'));
    fireEvent.change(input, { target: { value: '-1' } });
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Save configuration' }));
    });
    expect(save).toHaveBeenCalledWith(expect.objectContaining({ min_profit_percentage: { direct: -1, triangular: 0.01, cycle: 0.02 } }));
    const error = await screen.findByText('must be at least 0');
    expect(error.id).toBe('err-min_profit_percentage.direct');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    fireEvent.change(input, { target: { value: '0.05' } });
    expect(screen.queryByText('must be at least 0')).toBeNull();
  });

  it('reports a saved configuration, and a load failure as a message', async () => {
    const save = vi.fn(async (update: Partial<ArbitrageConfig>) => ({ ...CONFIG, ...update }) as ArbitrageConfig);
    const { unmount } = render(<ConfigForm load={async () => CONFIG} save={save} />);
    await screen.findByLabelText('Max cycle length (legs)');
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Save configuration' }));
    });
    expect(await screen.findByText('Saved and applied live.')).toBeTruthy();
    unmount();
    render(<ConfigForm load={async () => Promise.reject(new ApiError(503, 'SERVICE_UNAVAILABLE', "service 'arbitrage' is unavailable"))} />);
    expect((await screen.findByRole('alert')).textContent).toContain("service 'arbitrage' is unavailable");
  });
});

describe('fieldForError', () => {
  const names = ['min_profit_percentage.direct', 'max_cycle_length', 'fee_percentage_by_source'];
  it('maps dotted and parent names to a form field', () => {
    expect(fieldForError('max_cycle_length', names)).toBe('max_cycle_length');
    expect(fieldForError('min_profit_percentage', names)).toBe('min_profit_percentage.direct');
    expect(fieldForError('fee_percentage_by_source.binance', names)).toBe('fee_percentage_by_source');
    expect(fieldForError('nope', names)).toBeUndefined();
  });
});

describe('ConfigForm options added later', () => {
  it('edits close_margin_percentage and suppress_dominated, and sends them typed', async () => {
    const save = vi.fn(async (update: Partial<ArbitrageConfig>) => ({ ...CONFIG, close_margin_percentage: 0.005, suppress_dominated: true, ...update }) as ArbitrageConfig);
    render(<ConfigForm load={async () => ({ ...CONFIG, close_margin_percentage: 0.005, suppress_dominated: true })} save={save} />);
    const margin = await screen.findByLabelText('Close margin (pp)');
    await waitFor(() => expect((margin as HTMLInputElement).value).toBe('0.005'));
    const suppress = screen.getByRole('checkbox', { name: /Suppress dominated cycles/ }) as HTMLInputElement;
    expect(suppress.checked).toBe(true);
    fireEvent.change(margin, { target: { value: '0.01' } });
    fireEvent.click(suppress);
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Save configuration' }));
    });
    expect(save).toHaveBeenCalledWith(expect.objectContaining({ close_margin_percentage: 0.01, suppress_dominated: false }));
  });

  it('a detector without them gets no input and no such field', async () => {
    const save = vi.fn(async () => CONFIG);
    render(<ConfigForm load={async () => CONFIG} save={save} />);
    await screen.findByLabelText('Min net % (direct)');
    expect(screen.queryByLabelText('Close margin (pp)')).toBeNull();
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Save configuration' }));
    });
    expect(Object.keys((save.mock.calls[0] as unknown[])[0] as object)).not.toContain('close_margin_percentage');
  });
});
