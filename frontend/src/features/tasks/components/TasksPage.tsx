import { useMemo, useState, type FormEvent } from 'react';
import { Badge, Empty, ErrorMessage, Loading } from '../../../components/Status';
import { ApiError } from '../../../lib/api-client';
import { fmtTime } from '../../../lib/format';
import { useAsync } from '../../../lib/hooks';
import type { TaskCatalogEntry, TaskRecord } from '../../../lib/types';
import { cancelTask, downloadCsv, fetchCatalog, fetchTask, submitTask } from '../api/tasks';
import { argsFrom, fieldsOf } from '../hooks/argsForm';
import { argsSummary, progressView } from '../hooks/taskView';
import { useTasks } from '../hooks/useTasks';
import { TaskResultView } from './TaskResultView';

/** What a backtest needs, shown in the empty rule field (the Rules page builds such JSON too). */
const RULE_EXAMPLE = JSON.stringify({ name: 'spike', pattern: 'price_spike', conditions: { percent: 0.5, window: '60s' } });

function SubmitForm({ entry, onSubmitted }: { entry: TaskCatalogEntry; onSubmitted: (t: TaskRecord) => void }) {
  const fields = useMemo(() => fieldsOf(entry.args_schema), [entry]);
  const [values, setValues] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setFailure(undefined);
    const { args, errors: local } = argsFrom(fields, values);
    setErrors(local);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      const res = await submitTask(entry.name, args);
      onSubmitted(res.task ?? { id: res.task_id, name: entry.name, args, status: 'queued', progress: 0 });
      setValues({});
    } catch (exc) {
      const field = exc instanceof ApiError ? exc.field?.replace(/^args\./, '').split('.')[0] : undefined;
      if (field && fields.some((f) => f.name === field) && exc instanceof ApiError) setErrors({ [field]: exc.message });
      else setFailure(exc);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} aria-label={`Submit ${entry.name}`} className="stack" noValidate>
      <p className="muted">{entry.description}</p>
      <div className="form-grid">
        {fields.map((f) => (
          <label key={f.name} title={f.description} style={f.kind === 'json' ? { gridColumn: '1 / -1' } : undefined}>
            {f.name}
            {f.required ? ' *' : ''}
            {f.kind === 'json' ? (
              <textarea
                name={f.name}
                value={values[f.name] ?? ''}
                onChange={(e) => setValues((v) => ({ ...v, [f.name]: e.target.value }))}
                style={{ minHeight: 120 }}
                aria-invalid={errors[f.name] ? true : undefined}
                placeholder={f.name === 'rule' ? RULE_EXAMPLE : 'JSON'}
              />
            ) : f.kind === 'datetime' ? (
              <input type="datetime-local" step={1} name={f.name} value={values[f.name] ?? ''} onChange={(e) => setValues((v) => ({ ...v, [f.name]: e.target.value }))} aria-invalid={errors[f.name] ? true : undefined} title={`${f.description ?? ''} (your local time)`} />
            ) : (
              <input name={f.name} inputMode={f.kind === 'number' ? 'numeric' : undefined} value={values[f.name] ?? ''} onChange={(e) => setValues((v) => ({ ...v, [f.name]: e.target.value }))} aria-invalid={errors[f.name] ? true : undefined} placeholder={f.description} />
            )}
            {errors[f.name] ? (
              <span className="field-error" role="alert">
                {errors[f.name]}
              </span>
            ) : null}
          </label>
        ))}
      </div>
      <ErrorMessage error={failure} title="Not submitted" />
      <button type="submit" className="btn btn-primary" disabled={busy}>
        {busy ? 'Submitting…' : `Run ${entry.name}`}
      </button>
    </form>
  );
}

function TaskResult({ task }: { task: TaskRecord }) {
  const detail = useAsync(() => fetchTask(task.id), [task.id, task.status]);
  const [downloadError, setDownloadError] = useState<unknown>();
  const full = detail.data?.task;
  return (
    <section className="panel" aria-label={`Task ${task.id}`}>
      <h2>
        {task.name} <Badge kind={task.status}>{task.status}</Badge>
      </h2>
      <ErrorMessage error={detail.error} title="Task unavailable" />
      {full?.error ? <ErrorMessage error={new Error(typeof full.error === 'string' ? full.error : JSON.stringify(full.error))} title="The task failed" /> : null}
      <p className="muted" data-testid="task-args">{argsSummary(task.args)}</p>
      <ErrorMessage error={downloadError} title="Download failed" />
      {full?.result !== undefined && full.result !== null ? (
        <TaskResultView
          name={task.name}
          result={full.result}
          onDownloadCsv={() => {
            setDownloadError(undefined);
            downloadCsv(task.id).catch(setDownloadError);
          }}
        />
      ) : task.status === 'succeeded' ? (
        <Loading />
      ) : (
        <p className="muted">{task.status === 'cancelled' || task.status === 'failed' ? 'No result: the task did not finish.' : 'No result yet.'}</p>
      )}
    </section>
  );
}

export default function TasksPage() {
  const catalog = useAsync((signal) => fetchCatalog(signal), []);
  const { tasks, error, loaded, add } = useTasks();
  const [chosen, setChosen] = useState<string>('');
  const [openId, setOpenId] = useState<string | null>(null);
  const entries = catalog.data?.tasks ?? [];
  const entry = entries.find((t) => t.name === chosen) ?? entries[0];
  const open = tasks.find((t) => t.id === openId);
  const [cancelError, setCancelError] = useState<unknown>();

  return (
    <section className="stack">
      <h1>Tasks</h1>
      <section className="panel">
        <h2>Run a task</h2>
        <ErrorMessage error={catalog.error} title="Task catalog unavailable" onRetry={catalog.reload} />
        {catalog.loading && !catalog.data ? <Loading /> : null}
        {catalog.data && entries.length === 0 ? <Empty>No task in the catalog.</Empty> : null}
        {entries.length ? (
          <>
            <div className="tabs" role="group" aria-label="Task">
              {entries.map((t) => (
                <button key={t.name} type="button" className="btn btn-small" aria-pressed={t.name === entry?.name} onClick={() => setChosen(t.name)}>
                  {t.name}
                </button>
              ))}
            </div>
            {entry ? <SubmitForm key={entry.name} entry={entry} onSubmitted={(t) => { add(t); setOpenId(t.id); }} /> : null}
          </>
        ) : null}
      </section>
      <ErrorMessage error={error} title="Tasks unavailable" />
      <ErrorMessage error={cancelError} title="Not cancelled" />
      <div className={open ? 'split' : ''} hidden={Boolean(error) && tasks.length === 0}>
        <div className="panel table-wrap">
          {!loaded ? (
            <Loading />
          ) : tasks.length === 0 ? (
            <Empty>No task yet.</Empty>
          ) : (
            <table aria-label="Tasks">
              <thead>
                <tr>
                  <th>Task</th>
                  <th>Arguments</th>
                  <th>Status</th>
                  <th>Progress</th>
                  <th>Message</th>
                  <th>Submitted</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {tasks.map((t) => {
                  const view = progressView(t);
                  return (
                  <tr key={t.id} data-task-id={t.id} data-status={t.status} className="clickable" tabIndex={0} aria-current={t.id === openId || undefined} onClick={() => setOpenId(t.id)} onKeyDown={(e) => e.key === 'Enter' && setOpenId(t.id)}>
                    <td>{t.name}</td>
                    <td className="mono task-args">{argsSummary(t.args)}</td>
                    <td>
                      <Badge kind={t.status}>{t.status}</Badge>
                    </td>
                    <td data-testid="task-progress">
                      {view.percent === null ? (
                        <span className="muted">{view.label}</span>
                      ) : (
                        <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={view.percent} aria-valuetext={view.label}>
                          <div style={{ width: `${view.percent}%` }} />
                        </div>
                      )}
                    </td>
                    <td className="muted" data-testid="task-message">{view.message}</td>
                    <td className="muted">{fmtTime(t.submitted_at)}</td>
                    <td>
                      {t.status === 'queued' || t.status === 'running' ? (
                        <button type="button" className="btn btn-small" onClick={(e) => { e.stopPropagation(); setCancelError(undefined); void cancelTask(t.id).then((r) => r.task && add(r.task)).catch(setCancelError); }}>
                          Cancel
                        </button>
                      ) : null}
                    </td>
                  </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </div>
        {open ? <TaskResult task={open} /> : null}
      </div>
    </section>
  );
}
