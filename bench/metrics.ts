/**
 * Turning the proxy's call log into the numbers the benchmark reports.
 */
import type { InvocationSpan } from '../local/runtime.ts';
import type { CallRecord } from './proxy.ts';

/** IAM operations that change IAM state (what "IAM writes" counts). */
export const IAM_WRITE_OPS = new Set([
  'PutRolePolicy',
  'DeleteRolePolicy',
  'CreatePolicy',
  'CreatePolicyVersion',
  'DeletePolicyVersion',
  'DeletePolicy',
  'AttachRolePolicy',
  'DetachRolePolicy',
  'TagRole',
  'UntagRole',
  'UpdateAccessKey',
]);

/**
 * SQS operations of a queue consumer's polling loop: on AWS, Lambda's event
 * source mapping makes these for Sundown (the local runtime's pollers here);
 * the baseline's workers make them itself. Neither system's handler code calls them.
 */
export const POLLING_OPS = new Set([
  'ReceiveMessage',
  'DeleteMessage',
  'DeleteMessageBatch',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
]);

export interface CallCounts {
  /** Every call in the window (handler code + polling). */
  total: number;
  /** Calls made by the system's own code (excludes queue polling). */
  handlerCalls: number;
  polling: number;
  iamWrites: number;
  iamReads: number;
  dynamodb: number;
  sqsSends: number;
  eventBridge: number;
  other: number;
  /** Handler calls by `service:Operation`. */
  byOperation: Record<string, number>;
  /** Calls answered with HTTP >= 400 (e.g. conditional-check failures, NoSuchEntity). */
  errors: number;
  /** IAM writes the proxy refused as `Throttling` (rationed scenarios only): calls made, not writes done. */
  iamThrottled: number;
  errorsByOperation: Record<string, number>;
}

export function countCalls(calls: readonly CallRecord[]): CallCounts {
  const counts: CallCounts = {
    total: 0,
    handlerCalls: 0,
    polling: 0,
    iamWrites: 0,
    iamReads: 0,
    dynamodb: 0,
    sqsSends: 0,
    eventBridge: 0,
    other: 0,
    byOperation: {},
    errors: 0,
    iamThrottled: 0,
    errorsByOperation: {},
  };
  for (const c of calls) {
    counts.total++;
    if (c.status >= 400) {
      counts.errors++;
      const key = `${c.service}:${c.op}`;
      counts.errorsByOperation[key] = (counts.errorsByOperation[key] ?? 0) + 1;
    }
    if (c.service === 'sqs' && POLLING_OPS.has(c.op)) {
      counts.polling++;
      continue;
    }
    counts.handlerCalls++;
    const key = `${c.service}:${c.op}`;
    counts.byOperation[key] = (counts.byOperation[key] ?? 0) + 1;
    if (c.throttled) counts.iamThrottled++;
    else if (c.service === 'iam') {
      if (IAM_WRITE_OPS.has(c.op)) counts.iamWrites++;
      else counts.iamReads++;
    } else if (c.service === 'dynamodb') counts.dynamodb++;
    else if (c.service === 'sqs') counts.sqsSends++;
    else if (c.service === 'events') counts.eventBridge++;
    else counts.other++;
  }
  counts.byOperation = Object.fromEntries(Object.entries(counts.byOperation).sort((a, b) => b[1] - a[1]));
  return counts;
}

export interface BatchWriteProfile {
  /** Revoker invocations in the window. */
  batches: number;
  /** Most IAM write calls made for one role within one revoker batch. */
  maxWritesPerRolePerBatch: number;
  /** Most renders (PutRolePolicy/DeleteRolePolicy of the inline policy) for one role in one batch. */
  maxRendersPerRolePerBatch: number;
  /** Renders in total (one inline write per render). */
  renders: number;
  /** (batch, role) pairs that got more than one IAM write. */
  pairsOverOneWrite: number;
}

/** A revoker invocation: when it ran and the roles its batch named. */
export interface RevokerBatch {
  startedAt: number;
  endedAt: number;
  roles: ReadonlySet<string>;
}

/** The revoker's invocations among the runtime's, with the role names their messages named. */
export function revokerBatches(invocations: readonly InvocationSpan[], since: number): RevokerBatch[] {
  return invocations
    .filter((i) => i.functionLogicalId.startsWith('Revoker') && i.endedAt >= since)
    .map((i) => ({
      startedAt: i.startedAt,
      endedAt: i.endedAt,
      roles: new Set(
        i.bodies.flatMap((body) => {
          try {
            const arn = (JSON.parse(body) as { roleArn?: unknown }).roleArn;
            return typeof arn === 'string' ? [arn.split('/').pop() as string] : [];
          } catch {
            return [];
          }
        }),
      ),
    }));
}

/**
 * Attributes IAM writes to revoker batches: a write on a role belongs to the revoker invocation
 * that was running when it was made and whose messages named that role. (Batches run side by
 * side, but a role's revocations are one FIFO message group, so at most one running batch names
 * it.) A write no batch accounts for is counted on its own, as a batch of its own.
 */
export function batchWriteProfile(
  calls: readonly CallRecord[],
  batches: readonly RevokerBatch[],
): BatchWriteProfile {
  const writes = new Map<string, number>();
  const renders = new Map<string, number>();
  let totalRenders = 0;
  for (const c of calls) {
    if (c.service !== 'iam' || !IAM_WRITE_OPS.has(c.op) || c.throttled) continue;
    const role = c.role ?? '?';
    const batch = batches.findIndex((b) => b.roles.has(role) && b.startedAt <= c.t0 && c.t1 <= b.endedAt);
    const key = batch >= 0 ? `${batch}|${role}` : `unattributed-${c.seq}|${role}`;
    writes.set(key, (writes.get(key) ?? 0) + 1);
    if (c.op === 'PutRolePolicy' || c.op === 'DeleteRolePolicy') {
      renders.set(key, (renders.get(key) ?? 0) + 1);
      totalRenders++;
    }
  }
  return {
    batches: batches.length,
    maxWritesPerRolePerBatch: Math.max(0, ...writes.values()),
    maxRendersPerRolePerBatch: Math.max(0, ...renders.values()),
    renders: totalRenders,
    pairsOverOneWrite: [...writes.values()].filter((n) => n > 1).length,
  };
}

export interface Percentiles {
  count: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles (no interpolation), in the input's unit. */
export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  if (sorted.length === 0) return { count: 0, min: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  return {
    count: sorted.length,
    min: sorted[0] as number,
    p50: rank(0.5) as number,
    p95: rank(0.95) as number,
    p99: rank(0.99) as number,
    max: sorted[sorted.length - 1] as number,
    mean: Math.round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return 0;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The bound of a statement without a date condition: it denies sessions issued at any time. */
export const UNBOUNDED_DENY = '9999-12-31T23:59:59Z';

/** Parses a policy document (IAM returns it URL-encoded) into session name -> latest deny bound. */
export function deniedSessions(documentText: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!documentText) return out;
  const text = documentText.trim().startsWith('{') ? documentText : decodeURIComponent(documentText);
  const doc = JSON.parse(text) as {
    Statement?: {
      Condition?: {
        StringLike?: { 'aws:userid'?: string | string[] };
        DateLessThan?: { 'aws:TokenIssueTime'?: string };
      };
    }[];
  };
  for (const s of doc.Statement ?? []) {
    const date = s.Condition?.DateLessThan;
    const bound = date ? (date['aws:TokenIssueTime'] ?? '') : UNBOUNDED_DENY;
    const raw = s.Condition?.StringLike?.['aws:userid'] ?? [];
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      const name = value.replace(/^\*:/, '');
      const prev = out.get(name);
      if (!prev || prev < bound) out.set(name, bound);
    }
  }
  return out;
}
