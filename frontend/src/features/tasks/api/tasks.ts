import { api, getBaseUrl } from '../../../lib/api-client';
import type { TaskCatalogEntry, TaskRecord } from '../../../lib/types';

export const fetchCatalog = (signal?: AbortSignal) => api.get<{ tasks: TaskCatalogEntry[] }>('/api/tasks/catalog', undefined, signal);
export const fetchTasks = (signal?: AbortSignal) => api.get<{ tasks: TaskRecord[]; count: number }>('/api/tasks', { limit: 50 }, signal);
export const fetchTask = (id: string) => api.get<{ task: TaskRecord }>(`/api/tasks/${encodeURIComponent(id)}`);
export const submitTask = (name: string, args: Record<string, unknown>) => api.post<{ task_id: string; status: string; task: TaskRecord }>('/api/tasks', { name, args });
export const cancelTask = (id: string) => api.post<{ task: TaskRecord }>(`/api/tasks/${encodeURIComponent(id)}/cancel`);
export const csvUrl = (id: string) => `${getBaseUrl()}/api/tasks/${encodeURIComponent(id)}/result.csv`;
