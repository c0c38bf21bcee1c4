/**
 * The services listing kept live between polls (pure, unit-tested): a `circuit_state` event sets
 * the named instance's breaker at once, a `service_status` event the service's health; the next
 * poll is the truth again. The newest breaker event per instance is kept for its reason (events
 * of several gateways may arrive out of order: the higher generation wins).
 */
import type { CircuitStateEvent, ServiceStatusEvent } from '../../../lib/types';
import type { GatewayService } from '../api/gateway';

export type { CircuitStateEvent, SplitRollbackEvent } from '../../../lib/types';

/** The last breaker event of each instance (`service/instance`): its reason and when. */
export type BreakerNotes = Record<string, CircuitStateEvent>;

export const instanceKey = (service: string, instance: string) => `${service}/${instance}`;

export function applyCircuitState(services: readonly GatewayService[], event: CircuitStateEvent): GatewayService[] {
  let changed = false;
  const next = services.map((svc) => {
    if (svc.name !== event.service) return svc;
    const instances = svc.instances.map((inst) => {
      if (inst.instance_id !== event.instance || inst.breaker_state === event.state) return inst;
      changed = true;
      const routable = event.state === 'open' ? false : inst.healthy && !inst.ejected;
      return { ...inst, breaker_state: event.state, routable };
    });
    if (!changed) return svc;
    return { ...svc, instances, routable_instances: instances.filter((i) => i.routable ?? (i.healthy && !i.ejected && i.breaker_state !== 'open')).length };
  });
  return changed ? next : (services as GatewayService[]);
}

export function applyServiceStatus(services: readonly GatewayService[], event: ServiceStatusEvent): GatewayService[] {
  let changed = false;
  const next = services.map((svc) => {
    if (svc.name !== event.service || svc.health.status === event.status) return svc;
    changed = true;
    return { ...svc, health: { ...svc.health, status: event.status, reason: event.reason ?? null } };
  });
  return changed ? next : (services as GatewayService[]);
}

/** Keep the newest breaker event per instance (events may arrive out of order across gateways). */
export function noteCircuitState(notes: BreakerNotes, event: CircuitStateEvent): BreakerNotes {
  const key = instanceKey(event.service, event.instance);
  const old = notes[key];
  if (old && (old.generation ?? old.ts) > (event.generation ?? event.ts)) return notes;
  return { ...notes, [key]: event };
}
