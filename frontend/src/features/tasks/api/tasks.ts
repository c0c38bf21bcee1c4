import { api, downloadFile } from '../../../lib/api-client';
import type { TaskCatalogEntry, TaskRecord } from '../../../lib/types';

export const fetchCatalog = (signal?: AbortSignal) => api.get<{ tasks: TaskCatalogEntry[] }>('/api/tasks/catalog', undefined, signal);
export const fetchTasks = (signal?: AbortSignal) => api.get<{ tasks: TaskRecord[]; count: number }>('/api/tasks', { limit: 50 }, signal);
export const fetchTask = (id: string) => api.get<{ task: TaskRecord }>(`/api/tasks/${encodeURIComponent(id)}`);
export const submitTask = (name: string, args: Record<string, unknown>) => api.post<{ task_id: string; status: string; task: TaskRecord }>('/api/tasks', { name, args });
export const cancelTask = (id: string) => api.post<{ task: TaskRecord }>(`/api/tasks/${encodeURIComponent(id)}/cancel`);
/** The export's CSV, fetched with the credential (a plain link would carry none). */
export const downloadCsv = (id: string) => downloadFile(`/api/tasks/${encodeURIComponent(id)}/result.csv`, `export-${id.slice(0, 8)}.csv`);
