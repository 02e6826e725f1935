/**
 * The functions' configuration, read once from the environment the stack
 * sets (lib/stacks/sundown-stack.ts), validated so a broken deployment fails
 * loudly at cold start rather than half-working.
 */
import { z } from 'zod';

const jsonOf = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, ctx) => {
    try {
      return schema.parse(JSON.parse(text)) as z.infer<T>;
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `invalid JSON setting: ${(err as Error).message}` });
      return z.NEVER;
    }
  });

const MaxSessionHours = z.object({
  ec2: z.number(),
  ecs: z.number(),
  batch: z.number(),
  codebuild: z.number(),
  lambda: z.number(),
  custom: z.number(),
  accessKeySessions: z.number(),
});

const EnvSchema = z.object({
  SUNDOWN_CREDENTIALS_TABLE: z.string().min(1),
  SUNDOWN_REVOCATIONS_TABLE: z.string().min(1),
  SUNDOWN_AUDIT_TABLE: z.string().min(1),
  SUNDOWN_AUDIT_CHAIN: z.string().min(1).default('main'),
  /** Audit chains sharded by workload (`<chain>#<k>`); unset: the one legacy chain. */
  SUNDOWN_AUDIT_SHARDS: z.coerce.number().int().min(1).max(256).optional(),
  SUNDOWN_EVENT_BUS: z.string().min(1),
  SUNDOWN_ACCOUNT: z.string().regex(/^\d{12}$/),
  SUNDOWN_REVOCATION_QUEUE_URL: z.string().optional(),
  SUNDOWN_BUS_QUEUE_ARN: z.string().optional(),
  SUNDOWN_DRY_RUN: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  SUNDOWN_STOPPED_ENDS_WORKLOAD: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  SUNDOWN_ALLOWLIST: jsonOf(z.array(z.string())).default([]),
  SUNDOWN_MAX_SESSION_HOURS: jsonOf(MaxSessionHours).default({
    ec2: 6,
    ecs: 6,
    batch: 6,
    codebuild: 8,
    lambda: 12,
    custom: 12,
    accessKeySessions: 36,
  }),
  SUNDOWN_RETENTION_DAYS: z.coerce.number().int().positive().default(90),
  SUNDOWN_REVOCATION_MAX_RECEIVE: z.coerce.number().int().positive().default(5),
  /** Reconciliation sweep: work per run, and days after which an unused access key counts as idle. */
  SUNDOWN_SWEEP_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  SUNDOWN_IDLE_KEY_DAYS: z.coerce.number().int().min(1).default(30),
  /**
   * A hub (issue 19): the spoke accounts it serves besides its own, or "organization" for any account
   * its bus admits (the bus policy checks aws:PrincipalOrgID). Unset: this account only.
   */
  SUNDOWN_SPOKE_ACCOUNTS: jsonOf(
    z.union([z.array(z.string().regex(/^\d{12}$/)), z.literal('organization')]),
  ).optional(),
  /** The sts:ExternalId the spoke roles require, when the hub sits outside the organization. */
  SUNDOWN_SPOKE_EXTERNAL_ID: z.string().min(2).max(1224).optional(),
});

export type RuntimeConfig = z.infer<typeof EnvSchema>;

/** The broker: the common settings plus how long a session may last and the CAs it may sign with. */
const BrokerEnvSchema = EnvSchema.extend({
  SUNDOWN_BROKER_MAX_DURATION_SECONDS: z.coerce.number().int().min(900).max(3600).default(3600),
  SUNDOWN_CA_ARNS: jsonOf(z.array(z.string().startsWith('arn:'))).default([]),
});
export type BrokerConfig = z.infer<typeof BrokerEnvSchema>;

/** Use-after-revoke: the common settings plus its alert topic and aggregation window. */
const UseAfterRevokeEnvSchema = EnvSchema.extend({
  SUNDOWN_UAR_TOPIC_ARN: z.string().startsWith('arn:'),
  SUNDOWN_UAR_WINDOW_SECONDS: z.coerce.number().int().positive().default(3600),
});
export type UseAfterRevokeConfig = z.infer<typeof UseAfterRevokeEnvSchema>;
export type MaxSessionHoursConfig = z.infer<typeof MaxSessionHours>;

export function readRuntimeConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  return readEnv(EnvSchema, env, 'Sundown function');
}

export function readBrokerConfig(env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  return readEnv(BrokerEnvSchema, env, 'broker');
}

export function readUseAfterRevokeConfig(env: NodeJS.ProcessEnv = process.env): UseAfterRevokeConfig {
  return readEnv(UseAfterRevokeEnvSchema, env, 'use-after-revoke');
}

function readEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv, what: string): z.infer<T> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid ${what} configuration: ${issues}`);
  }
  return result.data;
}

/** The audit sealer's configuration: it touches only the audit table, its key and the archive. */
const SealerEnvSchema = z.object({
  SUNDOWN_AUDIT_TABLE: z.string().min(1),
  SUNDOWN_AUDIT_CHAIN: z.string().min(1).default('main'),
  SUNDOWN_AUDIT_SHARDS: z.coerce.number().int().min(1).max(256),
  SUNDOWN_SEAL_KEY_ID: z.string().min(1),
  SUNDOWN_SEAL_SCHEDULE: z.string().min(1),
  SUNDOWN_SEAL_BUCKET: z.string().min(1).optional(),
});
export type SealerConfig = z.infer<typeof SealerEnvSchema>;

export function readSealerConfig(env: NodeJS.ProcessEnv = process.env): SealerConfig {
  return readEnv(SealerEnvSchema, env, 'audit sealer');
}

/**
 * The canary's configuration: it reads the registry and the audit trail, puts `Workload Ended` on
 * Sundown's bus and calls the broker's URL for sessions of its canary role.
 */
const CanaryEnvSchema = z.object({
  SUNDOWN_CREDENTIALS_TABLE: z.string().min(1),
  SUNDOWN_AUDIT_TABLE: z.string().min(1),
  SUNDOWN_EVENT_BUS: z.string().min(1),
  SUNDOWN_CANARY_BROKER_FUNCTION: z.string().min(1),
  SUNDOWN_CANARY_ROLE_ARN: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/),
  SUNDOWN_CANARY_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600),
  AWS_REGION: z.string().min(1),
});
export type CanaryConfig = z.infer<typeof CanaryEnvSchema>;

export function readCanaryConfig(env: NodeJS.ProcessEnv = process.env): CanaryConfig {
  return readEnv(CanaryEnvSchema, env, 'canary');
}

/**
 * The environment each function (by its `lambdas/<dir>`) reads: the stack must set every variable
 * its schema requires and no SUNDOWN_ variable it does not read (test/infra/function-environments.test.ts).
 */
export const FUNCTION_ENVIRONMENTS: Record<string, z.ZodObject> = {
  'workload-ended': EnvSchema,
  'workload-started': EnvSchema,
  revoker: EnvSchema,
  sweeper: EnvSchema,
  broker: BrokerEnvSchema,
  'use-after-revoke': UseAfterRevokeEnvSchema,
  'audit-sealer': SealerEnvSchema,
  canary: CanaryEnvSchema,
};
