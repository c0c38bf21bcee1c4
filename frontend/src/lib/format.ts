/** Number and time formatting shared by every page (one place, so tables agree). */

/** Decimals a price of this size is quoted with. */
function priceDigits(price: number): number {
  const abs = Math.abs(price);
  // Forex majors need a fifth decimal (pips and pipettes); large prices need fewer.
  return abs >= 1000 ? 2 : abs >= 10 ? 4 : abs >= 1 ? 5 : 6;
}

export function fmtPrice(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const digits = priceDigits(value);
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * A difference of two prices (a bid/ask spread) with the decimals of the price it belongs to:
 * BTC's 6.52 spread on 65 000 reads "6.52", not "6.52000" (the decimals of a price of 6.52), and
 * EUR/USD's reads "0.00012" like the quote itself.
 */
export function fmtPriceLike(value: number | null | undefined, reference: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (reference === null || reference === undefined || !Number.isFinite(reference)) return fmtPrice(value);
  const digits = priceDigits(reference);
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtNumber(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function fmtPct(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const text = Math.abs(value).toFixed(digits);
  const zero = Number(text) === 0;
  return `${value < 0 && !zero ? '−' : ''}${text} %`;
}

export function fmtMs(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(0)} ms`;
}

/** "3 s ago", "2 min ago" — for ages that must be read at a glance. */
export function fmtAge(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return 'now';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  return `${Math.floor(m / 60)} h ago`;
}

export function fmtTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleTimeString('en-GB', { hour12: false });
}

/** Tick labels with just enough decimals to tell neighbours apart (1.08012 vs 1.08014). */
export function axisLabels(splits: number[]): string[] {
  const step = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : 0;
  const digits = step > 0 ? Math.min(8, Math.max(0, Math.ceil(-Math.log10(step) - 1e-6))) : 2;
  return splits.map((v) => v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
}
