import { api } from '../../../lib/api-client';
import type { ArbitrageConfig, ArbitrageSignal, SignalsResponse } from '../../../lib/types';

export interface SignalQuery {
  limit?: number;
  type?: string;
  status?: string;
  min_spread?: number | string;
}

export const fetchSignals = (query: SignalQuery = {}, signal?: AbortSignal) =>
  api.get<SignalsResponse>('/api/signals', { limit: 100, ...query }, signal);
export const fetchSignal = (id: string | number) => api.get<ArbitrageSignal>(`/api/signals/${encodeURIComponent(String(id))}`);
export const fetchConfig = (signal?: AbortSignal) => api.get<ArbitrageConfig>('/api/arbitrage/config', undefined, signal);
export const saveConfig = (update: Partial<ArbitrageConfig>) => api.put<ArbitrageConfig>('/api/arbitrage/config', update);
