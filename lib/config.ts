import { z } from 'zod';
import { DEFAULT_AUDIT_SHARDS, MAX_AUDIT_SHARDS } from '../lambdas/audit/audit-shards.ts';

const arnOrPathPrefix = z
  .string()
  .regex(/^(arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+|\/([\w+=,.@-]+\/)+)$/, {
    message:
      'must be an IAM role/user ARN or a path prefix like /workloads/ ("/" alone would opt in every principal)',
  });

const scheduleExpression = z
  .string()
  .regex(/^(rate\((1 (minute|hour|day)|([2-9]|[1-9]\d{1,4}) (minutes|hours|days))\)|cron\([^()]{9,200}\))$/, {
    message: 'must be an EventBridge schedule expression like rate(5 minutes) or cron(0/10 * * * ? *)',
  });

const CANARY_RATE = /^rate\((\d{1,4}) (minute|minutes|hour|hours)\)$/;
const MIN_CANARY_INTERVAL_SECONDS = 5 * 60;
const MAX_CANARY_INTERVAL_SECONDS = 6 * 3600;
/** What the canary function may take beyond its drill timeout (issuing, audit wait, cold start). */
export const CANARY_FUNCTION_MARGIN_SECONDS = 60;

/** Seconds between canary runs of a `rate(N minutes|hours)` expression, or undefined for anything else. */
export function canaryIntervalSeconds(schedule: string): number | undefined {
  const m = CANARY_RATE.exec(schedule);
  if (!m) return undefined;
  return Number(m[1]) * (m[2]?.startsWith('hour') ? 3600 : 60);
}

const CanarySchema = z
  .strictObject({
    /** Deploy the scheduled revocation canary (its function, schedule, role, alarm and widgets). */
    enabled: z.boolean().default(false),
    /** How often it runs a drill: `rate(N minutes)` or `rate(N hours)`, 5 minutes to 6 hours. */
    schedule: z.string().default('rate(15 minutes)'),
    /** A drill fails when the deny has not arrived this many seconds after the end. */
    timeoutSeconds: z.number().int().min(10).max(600).default(120),
  })
  .superRefine((canary, ctx) => {
    const seconds = canaryIntervalSeconds(canary.schedule);
    if (
      seconds === undefined ||
      seconds < MIN_CANARY_INTERVAL_SECONDS ||
      seconds > MAX_CANARY_INTERVAL_SECONDS
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedule'],
        message:
          'must be rate(N minutes) or rate(N hours), from 5 minutes to 6 hours (the DrillFailed alarm period is twice the interval)',
      });
    } else if (seconds < canary.timeoutSeconds + CANARY_FUNCTION_MARGIN_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['schedule'],
        message: `must leave each drill time to finish: at least timeoutSeconds + ${CANARY_FUNCTION_MARGIN_SECONDS} s between runs`,
      });
    }
  });

/** An AWS Organizations ID (`o-` and 10 to 32 lowercase letters or digits). */
export const organizationId = z.string().regex(/^o-[a-z0-9]{10,32}$/, {
  message: 'must be an AWS Organizations ID like o-a1b2c3d4e5',
});
/** A 12-digit AWS account ID. */
export const accountId = z.string().regex(/^\d{12}$/, { message: 'must be a 12-digit AWS account ID' });
/** An sts:ExternalId (2 to 1,224 characters of [\w+=,.@:/-]). */
export const externalId = z.string().regex(/^[\w+=,.@:/-]{2,1224}$/, {
  message: 'must be 2 to 1224 characters of letters, digits and +=,.@:/-_ (an sts:ExternalId)',
});
/**
 * Spoke accounts a hub lists by ID: each adds two role ARNs to the Revoker's inline policy (10,240
 * characters for all of a role's inline policies) and one principal to the hub bus policy (10 KB).
 * Past this, use organizationId.
 */
export const MAX_HUB_ACCOUNTS = 40;

/**
 * Hub mode (issue 19): the stack also takes events from spoke accounts and revokes in them through
 * their SundownSpoke roles. organizationId admits the organization's accounts, accounts admits the
 * listed ones; with both, only listed accounts that are in the organization.
 */
const HubSchema = z
  .strictObject({
    organizationId: organizationId.optional(),
    accounts: z
      .array(accountId)
      .min(1)
      .max(MAX_HUB_ACCOUNTS, {
        message: `lists at most ${MAX_HUB_ACCOUNTS} accounts (IAM and bus policy size): use organizationId for more`,
      })
      .refine((a) => new Set(a).size === a.length, { message: 'lists an account twice' })
      .optional(),
    externalId: externalId.optional(),
  })
  .refine((hub) => hub.organizationId !== undefined || hub.accounts !== undefined, {
    message:
      'needs organizationId (admit the accounts of your organization) or accounts (admit these account IDs), or both',
  });

/** STS caps a role-chained session (a role session assuming another role) at one hour. */
export const BROKER_MAX_DURATION_SECONDS = 3600;

/**
 * Every deployment setting, read from the CDK context key `sundown`
 * (cdk.json or `-c sundown='{"dryRun":true}'`). Invalid values fail synth.
 * The README's configuration table documents each one.
 */
export const SundownConfigSchema = z
  .object({
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
      .default('Sundown'),
    /** Revoke on EC2 `stopped` too (the instance may be started again under the same ID). */
    stoppedEndsWorkload: z.boolean().default(false),
    /** Compute and audit what would be revoked, change nothing in IAM or Private CA. */
    dryRun: z.boolean().default(false),
    /** Principals Sundown may change without the `sundown:revoke=enabled` tag. */
    allowlist: z.array(arnOrPathPrefix).default([]),
    /** Upper bound of a session's lifetime, per workload kind, in hours: deny entries are pruned after it. */
    maxSessionHours: z
      .object({
        ec2: z.number().positive().max(36).default(6),
        ecs: z.number().positive().max(36).default(6),
        batch: z.number().positive().max(36).default(6),
        codebuild: z.number().positive().max(36).default(8),
        lambda: z.number().positive().max(36).default(12),
        custom: z.number().positive().max(36).default(12),
        accessKeySessions: z.number().positive().max(36).default(36),
      })
      .prefault({}),
    /**
     * Longest session the broker issues; requests above it are clamped. The broker calls AssumeRole
     * with its own Lambda role's session: that is role chaining, which STS caps at one hour.
     */
    brokerMaxDurationSeconds: z
      .number()
      .int()
      .min(900, { message: 'must be at least 900 seconds (the shortest session STS issues)' })
      .max(BROKER_MAX_DURATION_SECONDS, {
        message:
          'must be at most 3600 seconds: the broker assumes roles from its Lambda role session (role chaining), ' +
          'and STS rejects chained sessions longer than one hour',
      })
      .default(3600),
    /**
     * The Lambda triggers (DeleteFunction, CreateFunction) are CloudTrail events, which EventBridge
     * receives only while a trail logs management events in the region. `create`: the stack creates
     * a single-region trail of write management events (and its bucket); `existing`: the account
     * already has one (e.g. an organization trail), `sundown status` checks that it logs.
     */
    cloudTrail: z
      .enum(['create', 'existing'], {
        message: 'must be "create" (the stack creates a management-events trail) or "existing"',
      })
      .default('create'),
    /** Principals (ARNs) allowed to put `sundown` events on Sundown's bus; empty: IAM decides. */
    eventPublishers: z
      .array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user|root)(\/[\w+=,.@/-]+)?$/))
      .default([]),
    /** Principals (ARNs) allowed to invoke the broker directly. */
    brokerCallers: z
      .array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/))
      .default([]),
    /** Private CAs Sundown may issue from and revoke on. */
    certificateAuthorityArns: z
      .array(z.string().regex(/^arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:\d{12}:certificate-authority\/[0-9a-f-]+$/))
      .default([]),
    /** Days a registry item is kept after its credential expired. */
    retentionDays: z.number().int().min(1).max(3650).default(90),
    /** How often the reconciliation sweep runs: an EventBridge `rate(...)` or `cron(...)` expression. */
    sweepSchedule: scheduleExpression.default('rate(5 minutes)'),
    /** Work per sweep run: active credentials checked, revoked credentials checked, principals pruned. */
    sweepBatchSize: z.number().int().min(1).max(1000).default(100),
    /** An access key recorded for a workload and unused for this many days is deactivated (reason `idle`). */
    idleKeyDays: z.number().int().min(1).max(3650).default(30),
    /** Email addresses subscribed to the alarm topic. */
    alarmEmails: z
      .array(z.email({ message: 'must be an email address' }))
      .max(50)
      .default([]),
    /** Alarm when the p99 time from workload end to revocation exceeds this many seconds. */
    timeToRevokeP99AlarmSeconds: z.number().positive().max(86_400).default(300),
    /** Use-after-revoke alerts: one per revoked session per window of this many minutes (later attempts are counted). */
    useAfterRevokeWindowMinutes: z.number().int().min(1).max(1440).default(60),
    /**
     * Also match read-only calls (Get/List/Describe): the rule then runs in state
     * ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS (more events, more cost).
     */
    useAfterRevokeReadOnlyEvents: z.boolean().default(false),
    /**
     * Audit chains, sharded by workload: each has its own head (~1,000 appends/s per head in
     * DynamoDB). Only ever raise it: readers and the sealer cover shards 0..N-1.
     */
    auditShards: z.number().int().min(1).max(MAX_AUDIT_SHARDS).default(DEFAULT_AUDIT_SHARDS),
    /** How often the audit sealer signs every chain's head (EventBridge `rate(...)` or `cron(...)`). */
    auditSealSchedule: scheduleExpression.default('rate(5 minutes)'),
    /** Also write every seal to an S3 bucket with Object Lock (COMPLIANCE) created by the stack. */
    auditSealArchive: z.boolean().default(false),
    /** Days each archived seal is locked (COMPLIANCE: nobody, root included, can shorten or delete). */
    auditSealArchiveRetentionDays: z.number().int().min(1).max(36_500).default(400),
    /** The scheduled revocation canary (issue 18): off by default. */
    canary: CanarySchema.prefault({}),
    /** Hub mode (issue 19): serve spoke accounts too. Unset: this account only. */
    hub: HubSchema.optional(),
  })
  .strict();

export type SundownConfig = z.infer<typeof SundownConfigSchema>;

export class InvalidConfigError extends Error {}

export function parseConfig(raw: unknown): SundownConfig {
  const value = typeof raw === 'string' ? safeJson(raw) : (raw ?? {});
  return parseWith(SundownConfigSchema, value, 'invalid sundown configuration (context key "sundown")');
}

/** The settings of a `Sundown` construct: the context settings without `stackName`. */
export type SundownSettings = Omit<SundownConfig, 'stackName'>;

/** Validates a `Sundown` construct's props (SundownProps) and fills in the defaults. */
export function parseSundownProps(props: unknown): SundownSettings {
  return parseWith(SundownConfigSchema.omit({ stackName: true }), props ?? {}, 'invalid Sundown props');
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new InvalidConfigError(`${what}: ${issues}`);
  }
  return result.data;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidConfigError(`invalid sundown configuration: context key "sundown" is not valid JSON`);
  }
}
