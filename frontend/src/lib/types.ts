/**
 * Payloads exchanged with the gateway, in one place. They mirror the README's contract
 * ("Real-time events", "API", the price feed, arbitrage, CEP, health and tasks sections); fields a
 * producer may add later are tolerated because every consumer reads only what it names here.
 */

export type HealthStatus = 'healthy' | 'starting' | 'degraded' | 'unhealthy' | 'unknown';
export type Severity = 'low' | 'medium' | 'high' | 'critical';

/** `price_update` (and each element of `price_batch`). */
export interface PriceUpdate {
  symbol: string;
  price: number;
  bid: number | null;
  ask: number | null;
  volume?: number | null;
  source: string;
  timestamp: string;
  ts: number;
}

export interface PricesResponse {
  prices: Record<string, PriceUpdate>;
  timestamp: string;
  total_pairs: number;
}

export interface PriceHistoryResponse {
  symbol: string;
  history: PriceUpdate[];
  count: number;
}

export type SignalType = 'direct' | 'triangular' | 'cycle';

export interface SignalLeg {
  symbol: string;
  side: 'buy' | 'sell';
  price: number;
  source: string;
  from?: string;
  to?: string;
  fee_percentage?: number;
  ts?: number;
}

/** `arbitrage_signal` and the records of `GET /api/signals`. */
export interface ArbitrageSignal {
  id: number | string;
  event?: 'open' | 'update' | 'close';
  type: SignalType;
  status?: 'open' | 'closed';
  key?: string;
  symbols: string[];
  prices: number[];
  path?: string[];
  legs?: SignalLeg[];
  spread: number;
  spread_percentage: number;
  gross_percentage?: number;
  fees_percentage?: number;
  severity: 'high' | 'medium' | 'low';
  executable_size?: number | null;
  size_currency?: string | null;
  first_seen?: string;
  last_seen?: string;
  peak_spread_percentage?: number;
  close_reason?: string | null;
  timestamp: string;
  ts?: number;
}

export interface SignalsResponse {
  signals: ArbitrageSignal[];
  count: number;
  total_count: number;
  timestamp: string;
}

export interface ArbitrageConfig {
  default_fee_percentage: number;
  fee_percentage_by_source: Record<string, number>;
  min_profit_percentage: Record<SignalType, number>;
  max_cycle_length: number;
  max_quote_age_ms: number;
  epsilon: number;
  severity_thresholds: { high: number; medium: number };
  update_threshold_percentage: number;
  enabled_types: SignalType[];
  close_margin_percentage?: number;
  suppress_dominated?: boolean;
}

/** `cep_alert` and the records of `GET /api/alerts`. */
export interface CepAlert {
  alert_id: string | number;
  rule_id: string | number;
  rule: string;
  pattern?: string;
  stream?: string;
  partition?: Record<string, unknown>;
  severity: Severity;
  message: string;
  matched_events?: Record<string, unknown>[];
  values?: Record<string, unknown>;
  ts?: number;
  timestamp: string;
  detected_at?: string;
}

export interface Rule {
  rule_id?: string | number;
  version?: number;
  name: string;
  description?: string;
  enabled?: boolean;
  stream?: 'prices' | 'signals' | 'alerts';
  partition_by?: string[];
  where?: unknown;
  pattern: string;
  conditions: Record<string, unknown>;
  action?: unknown;
  cooldown?: number | string;
  severity?: Severity;
  error?: { message: string; at?: string } | null;
  created_at?: string;
  updated_at?: string;
}

export interface RuleTestResponse {
  matches: CepAlert[];
  count: number;
  events?: number;
  malformed_events?: number;
  late_events?: number;
  suppressed_by_cooldown?: number;
  error?: unknown;
}

export interface ServiceHealth {
  status: HealthStatus;
  /** Why it is not healthy, in words (the service's own reason when it gave one). */
  reason?: string | null;
  response_time_ms?: number | null;
  http_status?: number | null;
  error?: string | null;
  checked_at?: string | null;
  availability?: { '1h'?: number | null; '24h'?: number | null } | null;
  error_rate?: number | null;
  /** Supervised restarts counted by the health monitor. */
  restarts?: { '1h'?: number; '24h'?: number } | null;
  last_restart?: string | null;
  restarted_recently?: boolean;
}

export interface HealthReport {
  status: HealthStatus;
  source?: string;
  timestamp: string;
  services: Record<string, ServiceHealth>;
  redis?: { status: HealthStatus; response_time_ms?: number | null; error?: string | null };
  active_connections?: number;
  realtime?: { state: string; last_message_age_seconds?: number | null };
  /** Deprecated alias of `services.celery_worker`. */
  workers?: ServiceHealth;
  summary?: Record<string, number>;
}

/** `service_status` (health monitor). */
export interface ServiceStatusEvent {
  service: string;
  status: HealthStatus;
  previous_status?: HealthStatus;
  response_time_ms?: number | null;
  error?: string | null;
  reason?: string | null;
  timestamp: string;
  ts?: number;
}

export interface LatencyStats {
  count: number;
  error_count: number;
  error_rate: number | null;
  avg_ms: number | null;
  min_ms: number | null;
  max_ms: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

/** One time bucket of `GET /api/latency?buckets=n`. */
export interface LatencyBucket {
  start_ts: number;
  end_ts: number;
  start: string;
  overall: LatencyStats;
  services: Record<string, LatencyStats>;
}

export interface LatencyReport {
  window_seconds: number;
  bucket_seconds?: number;
  series?: LatencyBucket[];
  generated_at: string;
  overall: LatencyStats;
  services: Record<string, { summary: LatencyStats; endpoints: Record<string, LatencyStats> }>;
  retention_seconds: number;
  /** The oldest sample kept for this selection (any age within retention), or null: none. */
  data_since?: string | null;
  data_since_ts?: number | null;
}

export type TaskStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** `task_update` and the records of `GET /api/tasks`. */
export interface TaskRecord {
  id: string;
  name: string;
  args: Record<string, unknown>;
  status: TaskStatus;
  progress: number;
  message?: string | null;
  attempts?: number;
  submitted_at?: string | null;
  started_at?: string | null;
  finished_at?: string | null;
  runtime_ms?: number | null;
  error?: unknown;
  has_result?: boolean;
  result?: unknown;
}

export interface TaskCatalogEntry {
  name: string;
  description: string;
  args_schema: JsonSchema;
}

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  description?: string;
  enum?: unknown[];
  default?: unknown;
  [key: string]: unknown;
}

/** The error envelope every HTTP error uses. */
export interface ErrorEnvelope {
  error: { code: string; message: string; details?: Record<string, unknown> | null };
  request_id?: string;
}

/** `circuit_state`: a gateway changed an instance's circuit breaker (`instance` is its id). */
export interface CircuitStateEvent {
  service: string;
  instance: string;
  state: 'closed' | 'open' | 'half_open';
  previous: 'closed' | 'open' | 'half_open' | null;
  at?: string;
  ts: number;
  reason?: string | null;
  failure_rate?: number | null;
  volume?: number | null;
  generation?: number;
  open_until?: number | null;
}

/** `split_rollback`: a gateway rolled a canary back to 0 automatically. */
export interface SplitRollbackEvent {
  service: string;
  stable: string;
  canary: string;
  generation: number;
  at: string;
  reason: string;
  canary_error_rate?: number;
  stable_error_rate?: number;
  basis_points_before?: number;
}

/** Socket.IO: server → client events and their payloads. */
export interface ServerEvents {
  connected: { server: string; version: string; time: string; sid: string };
  price_update: PriceUpdate;
  price_batch: PriceUpdate[];
  arbitrage_signal: ArbitrageSignal;
  cep_alert: CepAlert;
  service_status: ServiceStatusEvent;
  task_update: TaskRecord;
  circuit_state: CircuitStateEvent;
  split_rollback: SplitRollbackEvent;
  subscription_confirmed: Record<string, unknown>;
  error: ErrorEnvelope;
}

/** Socket.IO: client → server subscriptions and their payloads. */
export interface Subscriptions {
  prices: { symbols?: string[]; batch?: boolean };
  signals: { types?: SignalType[]; min_spread_percentage?: number };
  alerts: Record<string, never>;
}
