/**
 * Every service with its instances, live: source, version, weight, health with its rise/fall
 * history, breaker, calls in flight, ejections. Breaker and health changes arrive as events
 * (`circuit_state`, `service_status`) between the polls of `/api/services`.
 */
import { Badge, Empty, ErrorMessage, Loading } from '../../../components/Status';
import { fmtMs, fmtTime } from '../../../lib/format';
import type { GatewayService, Instance } from '../api/gateway';
import { instanceKey, type BreakerNotes } from '../hooks/liveServices';
import { SERVICES_POLL_MS, type useServices } from '../hooks/useServices';

const BREAKER_KIND: Record<string, string> = { closed: 'healthy', half_open: 'degraded', open: 'unhealthy' };

/** The last checks as dots, oldest left: a rise or a fall is visible at a glance. */
function CheckDots({ instance }: { instance: Instance }) {
  const checks = [...(instance.health?.checks ?? [])].reverse();
  if (!checks.length) {
    const elsewhere = instance.health?.checked_here === false;
    return <span className="muted">{elsewhere ? 'checked by another gateway process' : 'not checked yet'}</span>;
  }
  return (
    <span className="checks" aria-label={`Last ${checks.length} checks, oldest first`}>
      {checks.map((c, i) => (
        <span key={i} className={`check ${c.ok ? 'check-ok' : 'check-fail'}`} title={`${fmtTime(c.at)} ${c.ok ? 'passed' : `failed: ${c.detail ?? ''}`} ${fmtMs(c.response_time_ms)}`} />
      ))}
    </span>
  );
}

function HealthCell({ instance, rise, fall }: { instance: Instance; rise?: number; fall?: number }) {
  const health = instance.health;
  const status = health?.status ?? (instance.healthy ? 'healthy' : 'unhealthy');
  const streak = health
    ? health.consecutive_failures
      ? `${health.consecutive_failures} failed in a row${instance.healthy && fall ? ` (falls at ${fall})` : ''}`
      : health.consecutive_successes
        ? `${health.consecutive_successes} passed in a row${!instance.healthy && rise ? ` (rises at ${rise})` : ''}`
        : ''
    : '';
  const transitions = health?.transitions ?? [];
  return (
    <div className="stack-tight">
      <span>
        <Badge kind={status}>{status}</Badge> <CheckDots instance={instance} />
      </span>
      {streak ? <span className="muted">{streak}</span> : null}
      {transitions.length ? (
        <details>
          <summary className="muted">
            {transitions.length} rise/fall{transitions.length > 1 ? 's' : ''}, last {transitions[0].to === 'healthy' ? 'rose' : 'fell'} {fmtTime(transitions[0].at)}
          </summary>
          <ul className="list" data-testid="transitions">
            {transitions.map((t, i) => (
              <li key={i}>
                {fmtTime(t.at)} → <Badge kind={t.to}>{t.to}</Badge> <span className="muted">{t.decided === 'here' ? 'decided by this gateway' : 'shared by another gateway'}</span>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}

function InstanceRow({ service, instance, notes }: { service: GatewayService; instance: Instance; notes: BreakerNotes }) {
  const note = notes[instanceKey(service.name, instance.instance_id)];
  const hc = service.policy?.health_check;
  const routable = instance.routable ?? (instance.healthy && !instance.ejected && instance.breaker_state !== 'open');
  return (
    <tr data-instance={instance.instance_id} data-breaker={instance.breaker_state} data-routable={routable ? 'yes' : 'no'}>
      <td className="mono">
        {instance.instance_id}
        <div className="muted">{instance.url}</div>
      </td>
      <td>{instance.source}</td>
      <td className="mono">{instance.version ?? '—'}</td>
      <td className="num">{instance.weight}</td>
      <td>
        <HealthCell instance={instance} rise={hc?.rise} fall={hc?.fall} />
      </td>
      <td>
        <Badge kind={BREAKER_KIND[instance.breaker_state] ?? 'unknown'}>{instance.breaker_state.replace('_', '-')}</Badge>
        {note && note.state === instance.breaker_state && note.reason ? (
          <div className="muted" data-testid="breaker-reason">
            {note.reason} ({fmtTime(note.at ?? note.ts)})
          </div>
        ) : null}
      </td>
      <td className="num">{instance.in_flight}</td>
      <td className="num">
        {instance.ejected ? <Badge kind="unhealthy">ejected {Math.ceil(instance.ejected_for_seconds)} s</Badge> : null} {instance.times_ejected}×
      </td>
      <td>{routable ? <Badge kind="healthy">yes</Badge> : <Badge kind="unhealthy">no</Badge>}</td>
    </tr>
  );
}

function ServiceCard({ service, notes }: { service: GatewayService; notes: BreakerNotes }) {
  const hc = service.policy?.health_check;
  return (
    <section className="panel" aria-label={`Service ${service.name}`} data-service={service.name}>
      <div className="panel-head">
        <h3>
          {service.name} <Badge kind={service.health.status}>{service.health.status}</Badge>
        </h3>
        <span className="muted">
          {service.routable_instances} of {service.instances.length} routable · {service.load_balancing ?? service.policy?.load_balancing ?? ''}
          {hc ? ` · checks every ${hc.interval_s} s, rise ${hc.rise} / fall ${hc.fall}` : ''}
        </span>
      </div>
      {service.health.reason ? <p className="field-error">{service.health.reason}</p> : null}
      <p className="muted mono">{service.routes.join(' ')}</p>
      {service.instances.length === 0 ? (
        <Empty>No instance: none registered and none announced itself.</Empty>
      ) : (
        <div className="table-wrap">
          <table aria-label={`Instances of ${service.name}`}>
            <thead>
              <tr>
                <th>Instance</th>
                <th>Source</th>
                <th>Version</th>
                <th className="num">Weight</th>
                <th>Health (rise/fall)</th>
                <th>Breaker</th>
                <th className="num">In flight</th>
                <th className="num">Ejections</th>
                <th>Routable</th>
              </tr>
            </thead>
            <tbody>
              {service.instances.map((inst) => (
                <InstanceRow key={inst.instance_id} service={service} instance={inst} notes={notes} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function ServicesPanel({ live }: { live: ReturnType<typeof useServices> }) {
  const { services, error, loading, reload, notes, data } = live;
  return (
    <section className="stack" aria-labelledby="services-h">
      <div className="panel-head">
        <h2 id="services-h">Services and instances</h2>
        <span className="muted">/api/services every {SERVICES_POLL_MS / 1000} s; breakers and health live from events</span>
      </div>
      <ErrorMessage error={error} title="Services unavailable" onRetry={reload} />
      {loading && !data ? <Loading /> : null}
      {services.map((svc) => (
        <ServiceCard key={svc.name} service={svc} notes={notes} />
      ))}
    </section>
  );
}
