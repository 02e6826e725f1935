import type { SundownConfig } from './config.ts';

/** Upper bound of a session's lifetime per workload kind, in hours (at most 36). */
export interface MaxSessionHours {
  /** @default 6 (an EC2 instance profile's session lives up to 6 hours) */
  readonly ec2?: number;
  /** @default 6 */
  readonly ecs?: number;
  /** @default 6 */
  readonly batch?: number;
  /** @default 8 */
  readonly codebuild?: number;
  /** @default 12 */
  readonly lambda?: number;
  /** @default 12 */
  readonly custom?: number;
  /** Sessions obtained with an access key recorded for a workload. @default 36 */
  readonly accessKeySessions?: number;
}

/** The scheduled revocation canary: a drill every `schedule`, with metrics and an alarm. */
export interface CanaryProps {
  /**
   * Deploy it: a function that runs the revocation drill on a schedule against a canary role the
   * stack creates (opted in, trusted only by the broker), publishing `TimeToRevoke` and `DrillFailed`.
   * @default false
   */
  readonly enabled?: boolean;
  /**
   * How often: `rate(N minutes)` or `rate(N hours)`, 5 minutes to 6 hours, and at least
   * `timeoutSeconds` + 60 s. The `DrillFailed` alarm's period is twice this interval.
   * @default 'rate(15 minutes)'
   */
  readonly schedule?: string;
  /**
   * A drill fails when the ended session is not denied this many seconds after its end (10 to 600).
   * @default 120
   */
  readonly timeoutSeconds?: number;
}

/**
 * Hub mode (several accounts): the stack also takes workload events forwarded from spoke accounts (a
 * `SundownSpoke` in each) on a bus of its own, and revokes in those accounts through the spoke's roles.
 * At least one of `organizationId` and `accounts`; with both, only the listed accounts that are in the
 * organization. A hub's WorkloadEnded, WorkloadStarted, Revoker and Sweeper roles get fixed names
 * (`/sundown/SundownHub-<Function>`) that spoke trust policies name: one hub per account.
 */
export interface HubProps {
  /**
   * Admit the accounts of this AWS Organization (`o-...`): the hub bus accepts their events
   * (`aws:PrincipalOrgID`) and the hub may assume Sundown's spoke roles in them (`aws:ResourceOrgID`).
   * @default none (only `accounts`)
   */
  readonly organizationId?: string;
  /**
   * Admit these spoke account IDs (at most 40; use `organizationId` for more).
   * @default none (every account of `organizationId`)
   */
  readonly accounts?: readonly string[];
  /**
   * The `sts:ExternalId` the hub passes when it assumes a spoke role; set the same value on the spokes.
   * Needed when the hub is outside the spokes' organization.
   * @default none
   */
  readonly externalId?: string;
}

/**
 * Settings of a `Sundown` construct. They are the settings of the CDK context key `sundown` (the
 * README's configuration table) without `stackName`: the app in bin/ passes that context here.
 * Invalid values throw at construction with a message naming the setting.
 */
export interface SundownProps {
  /**
   * Also revoke on EC2 `stopped` (the instance may start again under the same ID; its session name
   * then keeps an exact bound, so a session issued after the restart is not denied).
   * @default false
   */
  readonly stoppedEndsWorkload?: boolean;
  /**
   * Compute and audit what would be revoked (`dry-run` records); change nothing in IAM or Private CA.
   * @default false
   */
  readonly dryRun?: boolean;
  /**
   * Role/user ARNs or IAM path prefixes (`/workloads/`, never `/` alone) Sundown may change without
   * the opt-in tag `sundown:revoke=enabled`.
   * @default [] (only tagged principals)
   */
  readonly allowlist?: readonly string[];
  /**
   * Longest lifetime of a session per workload kind: a deny entry is pruned this long after the end.
   * @default { ec2: 6, ecs: 6, batch: 6, codebuild: 8, lambda: 12, custom: 12, accessKeySessions: 36 }
   */
  readonly maxSessionHours?: MaxSessionHours;
  /**
   * Longest session the broker issues, 900 to 3600 seconds; longer requests are clamped. The broker
   * assumes roles from its own Lambda role session (role chaining), which STS caps at one hour.
   * @default 3600
   */
  readonly brokerMaxDurationSeconds?: number;
  /**
   * Role/user ARNs granted `lambda:InvokeFunction` on the broker (others need it in their own policies).
   * @default []
   */
  readonly brokerCallers?: readonly string[];
  /**
   * The Lambda triggers are CloudTrail events, which EventBridge receives only while a trail logs
   * management events in the region. `create`: a single-region trail of write management events,
   * logging to an encrypted, private bucket that is kept when the stack is deleted. `existing`: rely
   * on a trail the account already has (e.g. an organization trail).
   * @default 'create'
   */
  readonly cloudTrail?: 'create' | 'existing';
  /**
   * Principals (ARNs) allowed to put `sundown` events on Sundown's bus.
   * @default [] (any principal of the account that IAM allows)
   */
  readonly eventPublishers?: readonly string[];
  /**
   * ACM Private CAs Sundown may issue from and revoke on.
   * @default []
   */
  readonly certificateAuthorityArns?: readonly string[];
  /**
   * Days a registry item is kept after its credential expired (1 to 3650).
   * @default 90
   */
  readonly retentionDays?: number;
  /**
   * How often the reconciliation sweep runs: an EventBridge `rate(...)` or `cron(...)` expression.
   * @default 'rate(5 minutes)'
   */
  readonly sweepSchedule?: string;
  /**
   * Work per sweep run: active and revoked credentials checked, principals pruned (1 to 1000).
   * @default 100
   */
  readonly sweepBatchSize?: number;
  /**
   * An access key recorded for a workload and unused this many days is deactivated (reason `idle`).
   * @default 30
   */
  readonly idleKeyDays?: number;
  /**
   * Email addresses subscribed to the alarm topic (each must confirm the subscription).
   * @default []
   */
  readonly alarmEmails?: readonly string[];
  /**
   * Alarm when the p99 time from workload end to revocation exceeds this many seconds.
   * @default 300
   */
  readonly timeToRevokeP99AlarmSeconds?: number;
  /**
   * Use-after-revoke alerts: repeated attempts by one revoked session within this many minutes
   * are counted into one alert, not paged one by one.
   * @default 60
   */
  readonly useAfterRevokeWindowMinutes?: number;
  /**
   * Let the use-after-revoke rule receive read-only management events too (rule state
   * ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS); without it, only denied write calls are seen.
   * @default false
   */
  readonly useAfterRevokeReadOnlyEvents?: boolean;
  /**
   * Audit chains `main#0`..`main#N-1`, a record's chain chosen by a hash of its workload ID; each
   * has its own head. Only ever raise it: readers and the sealer cover shards 0..N-1.
   * @default 16
   */
  readonly auditShards?: number;
  /**
   * How often the audit sealer signs every chain's head (EventBridge `rate(...)` or `cron(...)`).
   * @default 'rate(5 minutes)'
   */
  readonly auditSealSchedule?: string;
  /**
   * Also write every seal to an S3 bucket with Object Lock in COMPLIANCE mode, created by the stack.
   * @default false
   */
  readonly auditSealArchive?: boolean;
  /**
   * Days each archived seal is locked (COMPLIANCE: nobody, root included, can shorten or delete).
   * @default 400
   */
  readonly auditSealArchiveRetentionDays?: number;
  /**
   * The scheduled revocation canary (off by default): `{ enabled: true }` deploys it.
   * @default { enabled: false, schedule: 'rate(15 minutes)', timeoutSeconds: 120 }
   */
  readonly canary?: CanaryProps;
  /**
   * Hub mode: also serve the spoke accounts of an organization or a list (see HubProps).
   * @default none (this account only)
   */
  readonly hub?: HubProps;
}

/** Compile-time check: the props are exactly the context settings without `stackName`. */
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never]
  ? true
  : never;
export const PROPS_MATCH_CONFIG: SameKeys<Required<SundownProps>, Omit<SundownConfig, 'stackName'>> = true;
