import { useEffect, useState } from 'react';
import { upsertById } from '../../../lib/collections';
import { useConnection, useSocketEvent } from '../../../lib/hooks';
import type { TaskRecord } from '../../../lib/types';
import { fetchTasks } from '../api/tasks';

const submittedAt = (t: TaskRecord) => (t.submitted_at ? Date.parse(t.submitted_at) : 0);

export function mergeTasks(list: readonly TaskRecord[], incoming: readonly TaskRecord[]): TaskRecord[] {
  return upsertById(list, incoming, (t) => t.id, 100, (a, b) => submittedAt(b) - submittedAt(a));
}

/** Recent tasks, kept current by `task_update` events (one row per task id). */
export function useTasks() {
  const [tasks, setTasks] = useState<TaskRecord[]>([]);
  const [error, setError] = useState<unknown>();
  const [loaded, setLoaded] = useState(false);
  const { reconnects } = useConnection();
  useEffect(() => {
    const controller = new AbortController();
    fetchTasks(controller.signal)
      .then((body) => {
        setTasks((old) => mergeTasks(old, body.tasks ?? []));
        setError(undefined);
      })
      .catch((exc: unknown) => {
        if (!controller.signal.aborted) setError(exc);
      })
      .finally(() => setLoaded(true));
    return () => controller.abort();
  }, [reconnects]);
  useSocketEvent('task_update', (task) => setTasks((old) => mergeTasks(old, [task])));
  const add = (task: TaskRecord) => setTasks((old) => mergeTasks(old, [task]));
  return { tasks, error, loaded, add };
}
