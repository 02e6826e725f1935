/**
 * What every kind of credential revocation shares: its dependencies, its outcome, where it records
 * metrics. The kinds (role sessions, access keys, certificates) and the engine import this, never
 * each other.
 */
import type { ServiceDeps } from '../shared/services/deps.ts';
import type { RolePolicyWriter } from './role-sessions/policy-writer.ts';

/**
 * Where services record metrics. `dimensions` adds a breakdown (e.g. kind and outcome); the metric
 * is always recorded without it as well, so alarms can watch the total.
 */
export type MetricsSink = (
  name: string,
  value: number,
  unit: 'Count' | 'Milliseconds' | 'Percent',
  dimensions?: Record<string, string>,
) => void;

export interface RevokerDeps extends ServiceDeps {
  rolePolicies: RolePolicyWriter;
  metricsSink?: MetricsSink;
}

/** The earliest expiry among deny entries (ISO strings sort in time order); undefined for none. */
export function earliestExpiry(entries: readonly { expiresAt: string }[]): string | undefined {
  let earliest: string | undefined;
  for (const e of entries) if (earliest === undefined || e.expiresAt < earliest) earliest = e.expiresAt;
  return earliest;
}

export interface ApplyOutcome {
  iamWrites: number;
  revoked: string[];
  failed: string[];
}
