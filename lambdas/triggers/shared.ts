/**
 * What classifying an event returns (classify.ts), and the helpers every trigger's normalization
 * shares: parsing the detail, building workloads from events (EC2 instances, Sundown's custom IDs),
 * the classification shapes, the account checks, reason and quote sanitizing.
 */
import type { z } from 'zod';
import {
  INSTANCE_ID_PATTERN,
  InvalidWorkloadIdError,
  normalizeWorkloadId,
  type Workload,
  type WorkloadKind,
} from '../shared/domain/workload-id.ts';
import { type CredentialRegistration, RoleArnSchema } from '../shared/schemas/credential.ts';
import type { EventEnvelope, Trigger } from './envelope.ts';

export interface RoleHint {
  roleArn?: string;
  taskDefinitionArn?: string;
}

export type Classification =
  | {
      kind: 'workload-ended';
      workload: Workload;
      endedAt: string;
      reason: string;
      compromised: boolean;
      dryRun: boolean;
      /** Only these credentials of the workload (a manual `sundown revoke --credential`). */
      credentialIds?: string[];
      /**
       * What the end event itself says about the workload's role (ECS: the task role override and the
       * task definition; Batch: the job role), for resolving a workload whose start was never seen
       * without describing it: an ephemeral cluster may be gone by the time its tasks' ends are handled.
       */
      roleHint?: RoleHint;
      trigger: Trigger;
    }
  | { kind: 'workload-started'; workload: Workload; startedAt: string; roleHint?: RoleHint; trigger: Trigger }
  | { kind: 'credential-issued'; registration: CredentialRegistration; trigger: Trigger }
  | { kind: 'ignored'; reason: string; trigger: Trigger }
  | { kind: 'rejected'; reason: string; trigger: Trigger };

export interface ClassifyContext {
  /** Treat EC2 `stopped` as the end of the workload (session name then counts as reusable). */
  stoppedEndsWorkload?: boolean;
  /** Fallbacks when the envelope lacks them (the local emulator drops `account`). */
  account?: string;
  region?: string;
  partition?: string;
  /** Copied into the trigger; EventBridge does not put the bus name in the event. */
  busName?: string;
  /**
   * The accounts Sundown acts in (its own; a hub's spokes too). Unset: none is refused as unserved,
   * but an event still names only its own account's workloads and roles (`checkAccounts`).
   */
  serves?: (account: string) => boolean;
}

/** Rejection signal inside the triggers; always caught in `classifyEvent`. */
export class Reject extends Error {}

export interface Env {
  envelope: EventEnvelope;
  ctx: ClassifyContext;
  trigger: Trigger;
  time: string;
}

/**
 * Custom-event workload IDs: normalize with the event's account. Which accounts' ARNs an event may
 * name is `checkAccounts`' rule, the same for every trigger.
 */
export function sundownWorkload(env: Env, raw: string): Workload {
  const account = env.envelope.account ?? env.ctx.account;
  const workload = normalizeWorkloadId(raw, {
    account,
    region: env.envelope.region,
    partition: env.ctx.partition,
  });
  // A hub's spokes name custom workloads in their own namespace: `<account>/<id>`, so two accounts'
  // `job-42` are two workloads. The hub's own account keeps the bare IDs it always had.
  const from = env.envelope.account;
  if (workload.kind === 'custom' && from && env.ctx.account && from !== env.ctx.account) {
    return normalizeWorkloadId(`${from}/${raw}`);
  }
  return workload;
}

/** EC2 instance workload: the ARN in `resources` when present, else built from account and region. */
export function ec2Workload(env: Env, instanceId: string): Workload {
  if (!INSTANCE_ID_PATTERN.test(instanceId)) {
    throw new InvalidWorkloadIdError(instanceId, 'not an EC2 instance id');
  }
  for (const resource of env.envelope.resources) {
    if (!resource.endsWith(`:instance/${instanceId}`)) continue;
    try {
      return expectKind(normalizeWorkloadId(resource), 'ec2', resource);
    } catch {
      // Fall through to building the ARN.
    }
  }
  return normalizeWorkloadId(instanceId, {
    account: env.envelope.account ?? env.ctx.account,
    region: env.envelope.region,
    partition: env.ctx.partition,
  });
}

export function detail<T extends z.ZodType>(env: Env, schema: T): z.infer<T> {
  const parsed = schema.safeParse(env.envelope.detail);
  if (!parsed.success) {
    throw new Reject(`invalid ${env.envelope['detail-type']} detail: ${describe(parsed.error)}`);
  }
  return parsed.data;
}

export function expectKind(workload: Workload, kind: WorkloadKind, raw: string): Workload {
  if (workload.kind !== kind) throw new InvalidWorkloadIdError(raw, `expected a ${kind} ARN`);
  return workload;
}

export function ended(
  env: Env,
  workload: Workload,
  reason: string,
  flags: { compromised?: boolean; dryRun?: boolean; credentialIds?: string[]; roleHint?: RoleHint } = {},
): Classification {
  const roleHint = compactHint(flags.roleHint ?? {});
  return {
    kind: 'workload-ended',
    workload,
    endedAt: env.time,
    reason,
    compromised: flags.compromised ?? false,
    dryRun: flags.dryRun ?? false,
    ...(flags.credentialIds ? { credentialIds: flags.credentialIds } : {}),
    ...(roleHint ? { roleHint } : {}),
    trigger: env.trigger,
  };
}

export function started(env: Env, workload: Workload, hint: RoleHint = {}): Classification {
  const roleHint = compactHint(hint);
  const base = { kind: 'workload-started' as const, workload, startedAt: env.time, trigger: env.trigger };
  return roleHint ? { ...base, roleHint } : base;
}

/** The hint without empty members; undefined when nothing is left. */
export function compactHint(hint: RoleHint): RoleHint | undefined {
  const roleHint: RoleHint = {};
  if (hint.roleArn) roleHint.roleArn = hint.roleArn;
  if (hint.taskDefinitionArn) roleHint.taskDefinitionArn = hint.taskDefinitionArn;
  return Object.keys(roleHint).length > 0 ? roleHint : undefined;
}

export function ignored(env: Env, reason: string): Classification {
  return { kind: 'ignored', reason, trigger: env.trigger };
}

/** A hint is advisory: a role ARN outside the safe pattern is dropped rather than failing the event. */
export function validRoleArn(value: string | undefined): string | undefined {
  return value !== undefined && RoleArnSchema.safeParse(value).success ? value : undefined;
}

/** Trigger fields are copied from the raw event, best effort, so rejected events are traceable too. */
export function triggerOf(event: unknown, ctx: ClassifyContext): Trigger {
  const trigger: Trigger = {};
  const raw = typeof event === 'object' && event !== null ? (event as Record<string, unknown>) : {};
  const pick = (key: string) =>
    typeof raw[key] === 'string' ? (raw[key] as string).slice(0, 256) : undefined;
  const fields: [keyof Trigger, string | undefined][] = [
    ['eventId', pick('id')],
    ['source', pick('source')],
    ['detailType', pick('detail-type')],
    ['account', pick('account')],
    ['region', pick('region')],
    ['busName', ctx.busName?.slice(0, 256)],
  ];
  for (const [key, value] of fields) if (value !== undefined) trigger[key] = value;
  return trigger;
}

/** Zod issues as `path: message`; zod never echoes input values, so no secret leaks here. */
export function describe(error: z.ZodError): string {
  const text = error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
  return text.length > 512 ? `${text.slice(0, 512)}…` : text;
}

export function sanitizeReason(reason: string | undefined): string {
  return (reason ?? '')
    .replace(/\p{Cc}/gu, ' ')
    .trim()
    .slice(0, 256);
}

export function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

/**
 * The accounts a classification would make Sundown act in: each must be one it serves, and an event
 * may only name its own account's workloads and roles (nothing widens a revocation into another
 * account). Events from Sundown's own account (its operators, a GuardDuty administrator) may name any
 * account it serves. One rule for every trigger, Sundown's custom events included.
 */
export function checkAccounts(env: Env, c: Classification): Classification {
  const arns: (string | undefined)[] = [];
  if (c.kind === 'workload-ended' || c.kind === 'workload-started') {
    arns.push(c.workload.id, c.roleHint?.roleArn);
  } else if (c.kind === 'credential-issued') {
    arns.push(c.registration.workloadId, 'roleArn' in c.registration ? c.registration.roleArn : undefined);
  }
  const from = env.envelope.account;
  for (const arn of arns) {
    const owner = arn?.startsWith('arn:') ? arn.split(':')[4] : undefined;
    if (!arn || !owner) continue;
    if (env.ctx.serves && !env.ctx.serves(owner)) {
      throw new Reject(`${quote(arn)} is in account ${owner}, which this Sundown deployment does not serve`);
    }
    const fromHome = from === env.ctx.account && env.ctx.serves?.(owner) === true;
    if (from && owner !== from && !fromHome) {
      throw new Reject(
        `${quote(arn)} belongs to account ${owner}, but the event came from account ${from}: an account may only name its own workloads and roles`,
      );
    }
  }
  return c;
}
