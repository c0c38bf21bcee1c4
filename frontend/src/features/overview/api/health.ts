import { ApiError, api } from '../../../lib/api-client';
import type { HealthReport } from '../../../lib/types';

/** `/api/health`; a 503 (platform unhealthy) still carries the report, which is what we show. */
export async function fetchHealth(signal?: AbortSignal): Promise<HealthReport> {
  try {
    return await api.get<HealthReport>('/api/health', undefined, signal);
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 503 && typeof exc.body === 'object' && exc.body && 'services' in exc.body) {
      return exc.body as HealthReport;
    }
    throw exc;
  }
}
