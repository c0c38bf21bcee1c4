import { api } from '../../../lib/api-client';
import type { JsonSchema, Rule, RuleTestResponse } from '../../../lib/types';

export const fetchRules = (signal?: AbortSignal) => api.get<{ rules: Rule[]; count: number }>('/api/rules', undefined, signal);
export const fetchRuleSchema = (signal?: AbortSignal) => api.get<JsonSchema>('/api/rules/schema', undefined, signal);
export const createRule = (rule: Rule) => api.post<{ rule: Rule }>('/api/rules', rule);
export const replaceRule = (id: string | number, rule: Rule) => api.put<{ rule: Rule }>(`/api/rules/${id}`, rule);
export const patchRule = (id: string | number, patch: Partial<Rule>) => api.patch<{ rule: Rule }>(`/api/rules/${id}`, patch);
export const deleteRule = (id: string | number) => api.delete<{ rule: Rule; deleted: boolean }>(`/api/rules/${id}`);
export const testRule = (rule: Rule, events: unknown[]) => api.post<RuleTestResponse>('/api/rules/test', { rule, events });
