import { api } from '../../../lib/api-client';
import type { CepAlert } from '../../../lib/types';

export const fetchAlerts = (query: { limit?: number; rule_id?: string | number } = {}, signal?: AbortSignal) =>
  api.get<{ alerts: CepAlert[]; count: number }>('/api/alerts', { limit: 50, ...query }, signal);
