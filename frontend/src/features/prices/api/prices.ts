import { api } from '../../../lib/api-client';
import type { PriceHistoryResponse, PricesResponse } from '../../../lib/types';

export const fetchPrices = (signal?: AbortSignal) => api.get<PricesResponse>('/api/prices', undefined, signal);

export const fetchHistory = (symbol: string, limit = 500, signal?: AbortSignal) =>
  api.get<PriceHistoryResponse>(`/api/prices/${encodeURIComponent(symbol)}/history`, { limit }, signal);
