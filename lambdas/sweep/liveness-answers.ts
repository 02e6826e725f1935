/**
 * The pieces of a liveness answer that need no AWS client: what a platform's answer (or error) means
 * for a workload's credentials. lambdas/sweep/workload-liveness.ts asks the platforms.
 */
import type { Instance } from '@aws-sdk/client-ec2';

export type Liveness =
  | { state: 'live'; detail: string }
  | { state: 'ended'; endedAt?: string; detail: string }
  | { state: 'gone'; detail: string }
  | { state: 'unknown'; detail: string };

export const CHUNK = 100;

export function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function errorName(err: unknown): string {
  return String(
    (err as { name?: string; Code?: string })?.name ?? (err as { Code?: string })?.Code ?? 'Error',
  );
}

export function unknownFrom(err: unknown, what: string): Liveness {
  const message = String((err as Error)?.message ?? err).slice(0, 160);
  return { state: 'unknown', detail: `${what} failed (${errorName(err)}: ${message})` };
}

export function isoFromEpoch(value: Date | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : Number(value);
  return Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : undefined;
}

/** `User initiated (2024-05-01 12:34:56 GMT)` -> `2024-05-01T12:34:56.000Z`. */
export function transitionTime(reason: string | undefined): string | undefined {
  const m = /\((\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) GMT\)/.exec(reason ?? '');
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}Z`);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** What an EC2 instance's state means for its credentials. */
export function instanceLiveness(instance: Instance, stoppedEndsWorkload: boolean): Liveness {
  const state = instance.State?.Name ?? 'unknown';
  const endedAt = transitionTime(instance.StateTransitionReason);
  if (state === 'terminated' || state === 'shutting-down') {
    return { state: 'ended', ...(endedAt ? { endedAt } : {}), detail: `instance is ${state}` };
  }
  if (stoppedEndsWorkload && (state === 'stopped' || state === 'stopping')) {
    return { state: 'ended', ...(endedAt ? { endedAt } : {}), detail: `instance is ${state}` };
  }
  if (state === 'unknown') return { state: 'unknown', detail: 'instance state not reported' };
  return { state: 'live', detail: `instance is ${state}` };
}

export interface ArnParts {
  account: string;
  region: string;
  resource: string;
}

export function arnParts(id: string): ArnParts | undefined {
  const m = /^arn:[^:]+:[^:]+:([^:]*):([^:]*):(.*)$/s.exec(id);
  return m ? { region: m[1] ?? '', account: m[2] ?? '', resource: m[3] ?? '' } : undefined;
}
