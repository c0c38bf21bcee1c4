import { api } from '../../../lib/api-client';
import type { LatencyReport } from '../../../lib/types';

/** Statistics over the window and, with `buckets`, the same per time bucket (the chart's series). */
export const fetchLatency = (
  window: number,
  options: { buckets?: number; service?: string; endpoint?: string } = {},
  signal?: AbortSignal,
) => api.get<LatencyReport>('/api/latency', { window, ...options }, signal);
