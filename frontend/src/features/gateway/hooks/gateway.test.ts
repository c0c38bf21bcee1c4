import { describe, expect, it } from 'vitest';
import { permissionFor, scopeAllows } from '../../auth/hooks/scopes';
import type { GatewayService, Instance } from '../api/gateway';
import { applyCircuitState, applyServiceStatus, noteCircuitState } from './liveServices';
import { formToUpdate, splitFieldOf, splitToForm, versionsOf } from './splitForm';

const inst = (id: string, extra: Partial<Instance> = {}): Instance => ({
  instance_id: id, url: `http://${id}`, source: 'static', healthy: true, ejected: false, ejected_for_seconds: 0,
  times_ejected: 0, breaker_state: 'closed', in_flight: 0, weight: 1, version: 'v1', routable: true, ...extra,
});
const svc = (name: string, instances: Instance[]): GatewayService => ({
  name, routes: [], health: { status: 'healthy' }, routable_instances: instances.length, instances,
});

describe('scopes', () => {
  it('orders admin > write > read, as the gateway does', () => {
    expect(scopeAllows(['admin'], 'write')).toBe(true);
    expect(scopeAllows(['write'], 'admin')).toBe(false);
    expect(scopeAllows(['read', 'weird'], 'read')).toBe(true);
    expect(scopeAllows([], 'read')).toBe(false);
  });
  it('allows everything with AUTH_MODE=off, and says why not otherwise', () => {
    expect(permissionFor({ status: 'off', me: null }, 'admin')).toEqual({ allowed: true, reason: null });
    const bob = permissionFor({ status: 'signed-in', me: { subject: 'bob', scopes: ['read'] } }, 'admin');
    expect(bob).toEqual({ allowed: false, reason: 'Needs scope admin: bob has read.' });
    expect(permissionFor({ status: 'signed-in', me: null }, 'admin').allowed).toBe(true); // unknown: the server decides
    expect(permissionFor({ status: 'signed-out', me: null }, 'read').allowed).toBe(false);
  });
});

describe('live services', () => {
  it('a circuit_state event opens the named instance only, and it stops being routable', () => {
    const before = [svc('a', [inst('a1'), inst('a2')]), svc('b', [inst('a1')])];
    const after = applyCircuitState(before, { service: 'a', instance: 'a2', state: 'open', previous: 'closed', ts: 1 });
    expect(after[0].instances.map((i) => i.breaker_state)).toEqual(['closed', 'open']);
    expect(after[0].routable_instances).toBe(1);
    expect(after[1]).toBe(before[1]); // untouched rows keep their identity (no re-render)
    expect(applyCircuitState(after, { service: 'a', instance: 'a2', state: 'open', previous: 'closed', ts: 2 })).toBe(after);
    const closed = applyCircuitState(after, { service: 'a', instance: 'a2', state: 'closed', previous: 'half_open', ts: 3 });
    expect(closed[0].routable_instances).toBe(2);
  });
  it('a service_status event sets health and its reason', () => {
    const after = applyServiceStatus([svc('a', [])], { service: 'a', status: 'degraded', reason: 'Binance not delivering', timestamp: 'x' });
    expect(after[0].health).toEqual({ status: 'degraded', reason: 'Binance not delivering' });
  });
  it('keeps the newest breaker event per instance, whatever the arrival order', () => {
    let notes = noteCircuitState({}, { service: 'a', instance: 'a1', state: 'open', previous: 'closed', ts: 10, generation: 10, reason: 'tripped' });
    notes = noteCircuitState(notes, { service: 'a', instance: 'a1', state: 'closed', previous: 'open', ts: 5, generation: 5 });
    expect(notes['a/a1'].reason).toBe('tripped');
  });
});

describe('split form', () => {
  it('speaks percent to people and basis points to the gateway', () => {
    expect(formToUpdate({ stable: 'v1', canary: 'v2', canaryPercent: '12.5' }).update).toEqual({
      arms: [{ version: 'v1', basis_points: 8750 }, { version: 'v2', basis_points: 1250 }],
    });
    expect(formToUpdate({ stable: 'v1', canary: 'v2', canaryPercent: '0,25' }).update?.arms[1].basis_points).toBe(25);
    const split = { service: 's', salt: 's', generation: 1, arms: [{ role: 'stable' as const, version: 'v1', basis_points: 9000 }, { role: 'canary' as const, version: 'v2', basis_points: 1000 }] };
    expect(splitToForm(split)).toEqual({ stable: 'v1', canary: 'v2', canaryPercent: '10' });
    expect(splitToForm(null, ['v1', 'v2']).stable).toBe('v1');
  });
  it.each([
    [{ stable: '', canary: 'v2', canaryPercent: '10' }, 'stable'],
    [{ stable: 'v1', canary: 'v1', canaryPercent: '10' }, 'canary'],
    [{ stable: 'v1', canary: 'v2', canaryPercent: '101' }, 'canaryPercent'],
    [{ stable: 'v1', canary: 'v2', canaryPercent: '1.234' }, 'canaryPercent'],
    [{ stable: 'v1', canary: 'v2', canaryPercent: 'ten' }, 'canaryPercent'],
  ])('refuses %j at %s', (values, field) => {
    const { update, errors } = formToUpdate(values);
    expect(update).toBeUndefined();
    expect(Object.keys(errors)).toEqual([field]);
  });
  it('maps the server field of a 422 to an input', () => {
    expect(splitFieldOf('arms[1].basis_points')).toBe('canaryPercent');
    expect(splitFieldOf('arms[0].version')).toBe('stable');
    expect(splitFieldOf('arms')).toBe('canary');
    expect(splitFieldOf('salt')).toBeNull();
  });
  it('lists the versions instances announce', () => {
    expect(versionsOf([inst('a', { version: 'v2' }), inst('b', { version: null }), inst('c', { version: 'v1' }), inst('d', { version: 'v2' })])).toEqual(['v1', 'v2']);
  });
});

describe('rates', () => {
  it('read in the unit that fits', async () => {
    const { fmtRate } = await import('../components/RateLimitsPanel');
    expect([fmtRate(10), fmtRate(100 / 60), fmtRate(2 / 60), fmtRate(1 / 3600), fmtRate(undefined)]).toEqual(['10/s', '1.67/s', '2.0/min', '1.0/h', '—']);
  });
});
