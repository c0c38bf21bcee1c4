import { useState } from 'react';
import { useAsync, useSocketEvent } from '../../../lib/hooks';
import type { HealthReport, ServiceHealth, ServiceStatusEvent } from '../../../lib/types';
import { fetchHealth } from '../api/health';

/** Apply a `service_status` event to the last report's cards. */
export function applyStatus(services: Record<string, ServiceHealth>, event: ServiceStatusEvent): Record<string, ServiceHealth> {
  const old = services[event.service] ?? { status: 'unknown' };
  return {
    ...services,
    [event.service]: {
      ...old,
      status: event.status,
      response_time_ms: event.response_time_ms ?? old.response_time_ms,
      error: event.error ?? null,
      reason: event.reason ?? null,
      checked_at: event.timestamp,
    },
  };
}

/** The health grid: `/api/health` every 15 s, `service_status` events in between. */
export function useHealth() {
  const report = useAsync<HealthReport>((signal) => fetchHealth(signal), [], 15_000);
  const [events, setEvents] = useState<ServiceStatusEvent[]>([]);
  useSocketEvent('service_status', (event) => {
    setEvents((old) => [event, ...old].slice(0, 50));
    report.setData((r) => (r ? { ...r, services: applyStatus(r.services, event) } : r));
  });
  return { ...report, events };
}
