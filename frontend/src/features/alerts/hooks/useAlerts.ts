import { useEffect, useState } from 'react';
import { timeOf, upsertById } from '../../../lib/collections';
import { useConnection, useSocketEvent, useStream } from '../../../lib/hooks';
import type { CepAlert } from '../../../lib/types';
import { fetchAlerts } from '../api/alerts';

const idOf = (a: CepAlert) => String(a.alert_id ?? `${a.rule_id}:${a.ts}:${JSON.stringify(a.partition ?? {})}`);
const newestFirst = (a: CepAlert, b: CepAlert) => timeOf(b) - timeOf(a);

export function mergeAlerts(list: readonly CepAlert[], incoming: readonly CepAlert[], max = 200): CepAlert[] {
  return upsertById(list, incoming, idOf, max, newestFirst);
}

/** Recent CEP alerts (all, or one rule's), then live `cep_alert` events. */
export function useAlerts(ruleId?: string | number, limit = 50) {
  const [alerts, setAlerts] = useState<CepAlert[]>([]);
  const [error, setError] = useState<unknown>();
  const [loaded, setLoaded] = useState(false);
  const { reconnects } = useConnection();

  useEffect(() => {
    const controller = new AbortController();
    fetchAlerts({ limit, rule_id: ruleId }, controller.signal)
      .then((body) => {
        setAlerts((old) => mergeAlerts(ruleId === undefined ? old : old.filter((a) => String(a.rule_id) === String(ruleId)), body.alerts ?? []));
        setError(undefined);
      })
      .catch((exc: unknown) => {
        if (!controller.signal.aborted) setError(exc);
      })
      .finally(() => setLoaded(true));
    return () => controller.abort();
  }, [ruleId, limit, reconnects]);

  useStream('alerts');
  useSocketEvent('cep_alert', (alert) => {
    if (ruleId !== undefined && String(alert.rule_id) !== String(ruleId)) return;
    setAlerts((old) => mergeAlerts(old, [alert]));
  });
  return { alerts, error, loaded };
}
