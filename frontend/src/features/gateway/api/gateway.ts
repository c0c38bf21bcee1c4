/**
 * The gateway's own admin surface: services and their instances (`/api/services`), traffic
 * splits, rate limits and API keys (`/api/gateway/...`, scope `admin`). Shapes follow the README's
 * contract; fields a gateway of an older version lacks are optional.
 */
import { api } from '../../../lib/api-client';
import type { CircuitStateEvent } from '../../../lib/types';

export type BreakerState = CircuitStateEvent['state'];

export interface HealthCheck {
  ok: boolean;
  at: string;
  response_time_ms?: number | null;
  detail?: string | null;
}

export interface HealthTransition {
  to: 'healthy' | 'unhealthy';
  at: string;
  decided: 'here' | 'shared';
}

export interface InstanceHealth {
  status: 'healthy' | 'unhealthy' | 'unknown';
  consecutive_successes: number;
  consecutive_failures: number;
  changed_at?: string | null;
  checks?: HealthCheck[];
  transitions?: HealthTransition[];
  checked_here?: boolean;
}

export interface Instance {
  instance_id: string;
  url: string;
  source: 'static' | 'discovered';
  healthy: boolean;
  ejected: boolean;
  ejected_for_seconds: number;
  times_ejected: number;
  breaker_state: BreakerState;
  in_flight: number;
  weight: number;
  version: string | null;
  last_heartbeat?: string | null;
  routable?: boolean;
  health?: InstanceHealth;
  outlier?: { ejected: boolean; ejected_for_seconds: number; times_ejected: number; consecutive_failures: number };
}

export interface ServicePolicy {
  load_balancing?: string;
  health_check?: { interval_s?: number; timeout_s?: number; rise?: number; fall?: number };
  breaker?: Record<string, number>;
  [key: string]: unknown;
}

export interface GatewayService {
  name: string;
  description?: string;
  routes: string[];
  load_balancing?: string;
  max_concurrency?: number;
  policy?: ServicePolicy;
  health: { status: string; reason?: string | null };
  routable_instances: number;
  instances: Instance[];
}

export interface ServicesResponse {
  services: GatewayService[];
  count: number;
}

export interface SplitArm {
  role: 'stable' | 'canary';
  version: string;
  basis_points: number;
}

export interface ArmWindow {
  requests: number;
  errors: number;
  error_rate: number | null;
}

export interface Rollback {
  at: string;
  reason: string;
  basis_points_before: number;
  canary_error_rate?: number;
  stable_error_rate?: number;
}

export interface Split {
  service: string;
  arms: SplitArm[];
  salt: string;
  generation: number;
  updated_at?: string | null;
  rolled_back?: Rollback | null;
  routable_instances?: Record<string, number>;
  window?: { stable: ArmWindow; canary: ArmWindow } | null;
}

export interface SplitsResponse {
  splits: Record<string, Split>;
  count: number;
  key_header?: string;
  force_header?: string;
  rollback?: Record<string, number>;
}

export interface SplitUpdate {
  arms: { version: string; basis_points: number }[];
  salt?: string;
}

/** One rate-limit target (`GET /api/gateway/rate-limits`, issue 17's rate limiter). */
export interface RateLimitPolicy {
  target: string;
  limit: string;
  source: string;
  quota?: number;
  window_seconds?: number;
  rate_per_second?: number;
  configured?: { limit: string; source: string };
  override?: { limit: string; updated_at?: string; generation?: number } | null;
}

/** A client being refused right now (`limited` of the listing, when the gateway reports it). */
export interface LimitedClient {
  target: string;
  client: string;
  refused: number;
  last_refused_at: string;
  retry_after_s?: number;
}

export interface RateLimitsResponse {
  algorithm?: string;
  fail_mode?: string;
  targets: Record<string, RateLimitPolicy>;
  limited?: LimitedClient[];
  limited_window_seconds?: number;
}

export interface ApiKey {
  id: string;
  name: string;
  scopes: string[];
  created_at: string;
  created_by?: string;
}

export const fetchServices = (signal?: AbortSignal) => api.get<ServicesResponse>('/api/services', undefined, signal);
export const fetchSplits = (signal?: AbortSignal) => api.get<SplitsResponse>('/api/gateway/splits', undefined, signal);
export const putSplit = (service: string, body: SplitUpdate) => api.put<Split>(`/api/gateway/splits/${encodeURIComponent(service)}`, body);
export const deleteSplit = (service: string) => api.delete<unknown>(`/api/gateway/splits/${encodeURIComponent(service)}`);
export const fetchRateLimits = (signal?: AbortSignal) => api.get<RateLimitsResponse>('/api/gateway/rate-limits', undefined, signal);
export const putRateLimit = (target: string, limit: string) => api.put<RateLimitPolicy>(`/api/gateway/rate-limits/${encodeURIComponent(target)}`, { limit });
export const deleteRateLimit = (target: string) => api.delete<unknown>(`/api/gateway/rate-limits/${encodeURIComponent(target)}`);
export const fetchKeys = (signal?: AbortSignal) => api.get<{ keys: ApiKey[]; count: number }>('/api/gateway/keys', undefined, signal);
export const createKey = (name: string, scopes: string[]) => api.post<ApiKey & { key: string }>('/api/gateway/keys', { name, scopes });
export const revokeKey = (id: string) => api.delete<unknown>(`/api/gateway/keys/${encodeURIComponent(id)}`);
