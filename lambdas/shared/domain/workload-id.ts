/**
 * Workload identity: one canonical ID per workload, the RoleSessionName the platform gives its
 * credentials, and stable credential IDs. Pure and synchronous so the CLI, the handlers and the
 * tests agree on the same strings (aws-facts §2).
 */
import { createHash } from 'node:crypto';

export const WORKLOAD_KINDS = ['ec2', 'ecs', 'lambda', 'batch', 'codebuild', 'custom'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export const PARTITIONS = ['aws', 'aws-cn', 'aws-us-gov'] as const;
export type Partition = (typeof PARTITIONS)[number];

export interface Workload {
  /** Normalized ARN, or the custom ID as given. */
  id: string;
  kind: WorkloadKind;
  /**
   * The RoleSessionName the platform uses for this workload's role credentials. Empty string
   * (`UNKNOWN_SESSION_NAME`) only for a Batch job whose ECS task is not known yet: the caller
   * must resolve it (registry records or DescribeJobs → container.taskArn) before denying.
   */
  sessionName: string;
  /** True when a later, unrelated workload can get the same session name (Lambda, custom). */
  reusableSessionName: boolean;
}

export interface WorkloadIdContext {
  account: string;
  region: string;
  partition?: string;
}

/** Custom workload IDs: the IAM-safe charset plus `:` and `/` so ARN-like names fit. */
export const CUSTOM_WORKLOAD_ID_PATTERN = /^[A-Za-z0-9+=,.@:/_-]{1,256}$/;
/** RoleSessionName as IAM accepts it (2–64 chars). */
export const SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/;
export const UNKNOWN_SESSION_NAME = '';
export const ACCOUNT_PATTERN = /^\d{12}$/;
export const REGION_PATTERN = /^[a-z]{2}(?:-[a-z]+){1,2}-\d{1,2}$/;
export const INSTANCE_ID_PATTERN = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

const CUSTOM_CHARSET = '[A-Za-z0-9+=,.@:/_-]';
/** Upper bound before any regex runs; known ARNs (ECS cluster names, CodeBuild projects) exceed 256. */
const MAX_RAW_LENGTH = 2048;
const DERIVED_SESSION_PREFIX = 'sd-';

export class InvalidWorkloadIdError extends Error {
  override readonly name = 'InvalidWorkloadIdError';
  /** The offending value, truncated so logs and audit records stay small. */
  readonly value: string;
  constructor(raw: string, detail?: string) {
    const value = truncate(raw, 80);
    super(
      `workload id ${JSON.stringify(value)} is invalid${detail ? ` (${detail})` : ''}: expected an EC2 instance, ` +
        'ECS task, Lambda function, Batch job or CodeBuild build ARN, a bare instance id (i-...), ' +
        `or a custom id of 1-256 characters from ${CUSTOM_CHARSET}`,
    );
    this.value = value;
  }
}

export function partitionForRegion(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export function ec2InstanceArn(instanceId: string, ctx: WorkloadIdContext): string {
  const partition = ctx.partition ?? partitionForRegion(ctx.region);
  return `arn:${partition}:ec2:${ctx.region}:${ctx.account}:instance/${instanceId}`;
}

/** Known services and the resource prefix that makes an ARN one of our workload kinds. */
const KNOWN_RESOURCES: Record<string, { prefix: string; kind: WorkloadKind }> = {
  ec2: { prefix: 'instance/', kind: 'ec2' },
  ecs: { prefix: 'task/', kind: 'ecs' },
  lambda: { prefix: 'function:', kind: 'lambda' },
  batch: { prefix: 'job/', kind: 'batch' },
  codebuild: { prefix: 'build/', kind: 'codebuild' },
};

const RESOURCE_PATTERNS: Record<Exclude<WorkloadKind, 'custom'>, RegExp> = {
  ec2: /^instance\/(i-(?:[0-9a-f]{8}|[0-9a-f]{17}))$/,
  // New format task/<cluster>/<taskId>; old format task/<taskId>.
  ecs: /^task\/(?:[A-Za-z0-9_-]{1,255}\/)?([A-Za-z0-9-]{1,64})$/,
  // Qualifier ($LATEST, version or alias) is stripped: credentials belong to the function.
  lambda: /^function:([A-Za-z0-9_-]{1,64})(?::(?:\$LATEST|[A-Za-z0-9_-]{1,128}))?$/,
  // Array child jobs carry `:<index>`.
  batch: /^job\/([A-Za-z0-9-]{1,64}(?::\d{1,5})?)$/,
  codebuild:
    /^build\/[A-Za-z0-9][A-Za-z0-9_-]{1,254}:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/,
};

/**
 * Turns a raw workload ID into a `Workload`. Accepts the five ARN kinds (any supported partition),
 * a bare instance ID when account and region are known, or a custom ID. Throws
 * `InvalidWorkloadIdError` otherwise. The context is only consulted for the bare-instance shorthand,
 * so callers without one (events lacking `account`) may pass a partial context.
 */
export function normalizeWorkloadId(raw: string, ctx: Partial<WorkloadIdContext> = {}): Workload {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_RAW_LENGTH) {
    throw new InvalidWorkloadIdError(String(raw), 'empty or too long');
  }
  if (INSTANCE_ID_PATTERN.test(raw)) {
    if (
      !ctx.account ||
      !ctx.region ||
      !ACCOUNT_PATTERN.test(ctx.account) ||
      !REGION_PATTERN.test(ctx.region)
    ) {
      throw new InvalidWorkloadIdError(raw, 'a bare instance id needs a 12-digit account and a region');
    }
    const id = ec2InstanceArn(raw, { account: ctx.account, region: ctx.region, partition: ctx.partition });
    return build(id, 'ec2', raw);
  }
  const arn = /^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.*)$/s.exec(raw);
  const known = arn ? KNOWN_RESOURCES[arn[2] ?? ''] : undefined;
  if (arn && known && (arn[5] ?? '').startsWith(known.prefix)) {
    const [, partition = '', service = '', region = '', account = '', resource = ''] = arn;
    if (!(PARTITIONS as readonly string[]).includes(partition)) {
      throw new InvalidWorkloadIdError(
        raw,
        `unsupported partition; expected one of ${PARTITIONS.join(', ')}`,
      );
    }
    if (!REGION_PATTERN.test(region) || !ACCOUNT_PATTERN.test(account)) {
      throw new InvalidWorkloadIdError(raw, 'malformed region or account');
    }
    const kind = known.kind as Exclude<WorkloadKind, 'custom'>;
    const match = RESOURCE_PATTERNS[kind].exec(resource);
    if (!match?.[1]) throw new InvalidWorkloadIdError(raw, `malformed ${kind} resource`);
    const canonicalResource = kind === 'lambda' ? `function:${match[1]}` : resource;
    return build(`arn:${partition}:${service}:${region}:${account}:${canonicalResource}`, kind, match[1]);
  }
  if (!CUSTOM_WORKLOAD_ID_PATTERN.test(raw)) throw new InvalidWorkloadIdError(raw);
  return build(raw, 'custom', raw);
}

/** True when `normalizeWorkloadId` would accept `raw` given some account and region. */
export function isWorkloadIdSyntax(raw: string): boolean {
  try {
    normalizeWorkloadId(raw, { account: '000000000000', region: 'us-east-1' });
    return true;
  } catch {
    return false;
  }
}

function build(id: string, kind: WorkloadKind, resourceId: string): Workload {
  switch (kind) {
    case 'ec2':
      return { id, kind, sessionName: resourceId, reusableSessionName: false };
    case 'ecs':
      return { id, kind, sessionName: resourceId, reusableSessionName: false };
    case 'lambda':
      return { id, kind, sessionName: resourceId, reusableSessionName: true };
    case 'batch':
      return { id, kind, sessionName: UNKNOWN_SESSION_NAME, reusableSessionName: false };
    case 'codebuild':
      return { id, kind, sessionName: `AWSCodeBuild-${resourceId}`, reusableSessionName: false };
    case 'custom':
      return { id, kind, sessionName: customSessionName(id), reusableSessionName: true };
  }
}

/**
 * The session name for a normalized workload. Batch jobs run as an ECS task, so their session name
 * is the task ID from `container.taskArn`; without it the result is `UNKNOWN_SESSION_NAME`.
 */
export function sessionNameForWorkload(
  workload: { id: string; kind: WorkloadKind },
  hints: { batchTaskArn?: string } = {},
): string {
  if (workload.kind === 'batch') {
    if (!hints.batchTaskArn) return UNKNOWN_SESSION_NAME;
    const task = normalizeWorkloadId(hints.batchTaskArn);
    if (task.kind !== 'ecs') throw new InvalidWorkloadIdError(hints.batchTaskArn, 'not an ECS task ARN');
    return task.sessionName;
  }
  return normalizeWorkloadId(workload.id).sessionName;
}

/**
 * Session name for a custom workload. An ID that already is a valid session name is used as is,
 * unless it starts with the reserved `sd-` prefix; everything else becomes `sd-` + the first 61 hex
 * characters of SHA-256(ID) (244 bits, 64 chars in total). Reserving the prefix keeps verbatim and
 * derived names disjoint, so one custom ID cannot claim another's derived session name.
 */
export function customSessionName(id: string): string {
  const reserved = id.slice(0, DERIVED_SESSION_PREFIX.length).toLowerCase() === DERIVED_SESSION_PREFIX;
  if (SESSION_NAME_PATTERN.test(id) && !reserved) return id;
  return DERIVED_SESSION_PREFIX + sha256Hex(id).slice(0, 61);
}

export type CredentialIdInput =
  | { kind: 'role-session'; roleArn: string; sessionName: string; workloadId: string }
  | { kind: 'access-key'; userName: string; accessKeyId: string }
  | { kind: 'certificate'; caArn: string; serial: string };

export const CREDENTIAL_ID_PATTERN = /^(?:rs|ak|ct)-[0-9a-f]{24}$/;

/**
 * Stable registry key derived only from identifiers, so recording the same credential twice
 * leaves one record. Pass the normalized workload ID. The tuple is JSON-encoded to keep field
 * boundaries unambiguous before hashing.
 */
export function credentialIdFor(input: CredentialIdInput): string {
  switch (input.kind) {
    case 'role-session':
      return `rs-${digest24(['role-session', input.roleArn, input.sessionName, input.workloadId])}`;
    case 'access-key':
      return `ak-${digest24(['access-key', input.userName, input.accessKeyId])}`;
    case 'certificate':
      return `ct-${digest24(['certificate', input.caArn, normalizeSerial(input.serial)])}`;
  }
}

/** Certificate serials compare as lowercase hex without colons (`AB:0c` → `ab0c`). */
export function normalizeSerial(serial: string): string {
  return serial.replaceAll(':', '').toLowerCase();
}

function digest24(parts: string[]): string {
  return sha256Hex(JSON.stringify(parts)).slice(0, 24);
}

function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

function truncate(value: string, max: number): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

/**
 * The account a workload belongs to: the account of its ARN, the `<account>/` prefix of a custom ID a
 * hub's spoke sent (lambdas/triggers/shared.ts, `sundownWorkload`), else undefined (the deployment's own).
 */
export function workloadAccount(workloadId: string): string | undefined {
  if (workloadId.startsWith('arn:')) {
    const account = workloadId.split(':')[4] ?? '';
    return ACCOUNT_PATTERN.test(account) ? account : undefined;
  }
  const prefix = /^(\d{12})\//.exec(workloadId);
  return prefix?.[1];
}
