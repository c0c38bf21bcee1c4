/**
 * A task's result as people read it: a summary table (scalars, small maps as "a: 1 · b: 2",
 * lists of records as tables), a preview of an export's CSV instead of the blob, and a download
 * of the whole result (the CSV itself for an export, fetched with the credential; JSON else).
 */
import { useEffect, useMemo } from 'react';
import { csvPreview } from '../hooks/taskView';

const isScalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

function fmtScalar(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 6 });
  return String(v);
}

function RecordsTable({ label, rows }: { label: string; rows: Record<string, unknown>[] }) {
  const columns = [...new Set(rows.slice(0, 50).flatMap((r) => Object.keys(r)))].filter((c) => rows.some((r) => isScalar(r[c])));
  return (
    <div className="table-wrap">
      <table aria-label={label}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, 20).map((r, i) => (
            <tr key={i}>
              {columns.map((c) => (
                <td key={c} className={typeof r[c] === 'number' ? 'num' : undefined}>
                  {isScalar(r[c]) ? fmtScalar(r[c]) : '…'}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length > 20 ? <p className="muted">First 20 of {rows.length}; the download has them all.</p> : null}
    </div>
  );
}

function Value({ name, value }: { name: string; value: unknown }) {
  if (isScalar(value)) return <>{fmtScalar(value)}</>;
  if (Array.isArray(value)) {
    if (value.length === 0) return <span className="muted">none</span>;
    if (value.every(isScalar)) return <>{value.map(fmtScalar).join(', ')}</>;
    if (value.every((v) => typeof v === 'object' && v !== null)) return <RecordsTable label={name} rows={value as Record<string, unknown>[]} />;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return <span className="muted">none</span>;
    if (entries.every(([, v]) => isScalar(v))) return <>{entries.map(([k, v]) => `${k}: ${fmtScalar(v)}`).join(' · ')}</>;
  }
  return (
    <details>
      <summary className="muted">details</summary>
      <pre>{JSON.stringify(value, null, 2).slice(0, 5000)}</pre>
    </details>
  );
}

export function TaskResultView({ name, result, onDownloadCsv }: { name: string; result: unknown; onDownloadCsv: () => void }) {
  const record = (typeof result === 'object' && result !== null && !Array.isArray(result) ? result : { result }) as Record<string, unknown>;
  const csv = typeof record.csv === 'string' ? record.csv : null;
  const preview = useMemo(() => (csv ? csvPreview(csv, 10) : []), [csv]);
  const jsonUrl = useMemo(() => (csv ? null : URL.createObjectURL(new Blob([JSON.stringify(result, null, 2)], { type: 'application/json' }))), [csv, result]);
  useEffect(() => () => {
    if (jsonUrl) URL.revokeObjectURL(jsonUrl);
  }, [jsonUrl]);
  const shown = Object.entries(record).filter(([k]) => k !== 'csv');
  return (
    <div className="stack" data-testid="task-result" data-task={name}>
      <table aria-label="Result summary">
        <tbody>
          {shown.map(([k, v]) => (
            <tr key={k}>
              <th>{k.replace(/_/g, ' ')}</th>
              <td>
                <Value name={k} value={v} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {csv ? (
        <>
          <h3>First rows of the CSV</h3>
          <div className="table-wrap">
            <table aria-label="CSV preview">
              <thead>
                <tr>
                  {(preview[0] ?? []).map((h) => (
                    <th key={h}>{h}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {preview.slice(1).map((row, i) => (
                  <tr key={i}>
                    {row.map((cell, j) => (
                      <td key={j} className="mono">
                        {cell}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p>
            <button type="button" className="btn btn-small" onClick={onDownloadCsv}>
              Download CSV
            </button>
          </p>
        </>
      ) : jsonUrl ? (
        <p>
          <a className="btn btn-small" href={jsonUrl} download={`${name}-result.json`}>
            Download result (JSON)
          </a>
        </p>
      ) : null}
    </div>
  );
}
