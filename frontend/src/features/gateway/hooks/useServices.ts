import { useState } from 'react';
import { useAsync, useSocketEvent } from '../../../lib/hooks';
import { fetchServices, type GatewayService } from '../api/gateway';
import { applyCircuitState, applyServiceStatus, noteCircuitState, type BreakerNotes } from './liveServices';

/** Poll period of `/api/services`: events bring breaker and health changes in between. */
export const SERVICES_POLL_MS = 5000;

/**
 * Every service with its instances: `/api/services` every {@link SERVICES_POLL_MS}, and between
 * polls the `circuit_state` / `service_status` events applied to the rows at once (a breaker
 * opening shows within the event's delivery, not the next poll).
 */
export function useServices() {
  const state = useAsync((signal) => fetchServices(signal), [], SERVICES_POLL_MS);
  const [notes, setNotes] = useState<BreakerNotes>({});
  const [liveAt, setLiveAt] = useState<number | null>(null);
  useSocketEvent('circuit_state', (event) => {
    state.setData((old) => (old ? { ...old, services: applyCircuitState(old.services, event) } : old));
    setNotes((old) => noteCircuitState(old, event));
    setLiveAt(Date.now());
  });
  useSocketEvent('service_status', (event) => {
    state.setData((old) => (old ? { ...old, services: applyServiceStatus(old.services, event) } : old));
    setLiveAt(Date.now());
  });
  const services: GatewayService[] = state.data?.services ?? [];
  return { ...state, services, notes, liveAt };
}
