import { api } from '../../../lib/api-client';
import type { LatencyReport } from '../../../lib/types';

export const fetchLatency = (window: number, signal?: AbortSignal) => api.get<LatencyReport>('/api/latency', { window }, signal);
