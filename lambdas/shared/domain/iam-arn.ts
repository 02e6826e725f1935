/**
 * IAM role and user ARNs with their partition and path: `arn:<partition>:iam::<account>:role<path><name>`.
 *
 * The path is part of the ARN (`arn:aws:iam::123456789012:user/ci/bot` is user `bot` under path `/ci/`),
 * and so is the partition (`aws-cn` in China, `aws-us-gov` in GovCloud). Building an ARN from an account
 * and a name alone gives a different string for any principal with a path or outside `aws`, which IAM
 * policies, AssumeRole and Sundown's allowlist then do not match. Pure; no AWS calls.
 */
import { PARTITIONS, type Partition, partitionForRegion } from './workload-id.ts';

export type { Partition } from './workload-id.ts';

export type IamPrincipalKind = 'role' | 'user';

export interface IamArn {
  partition: Partition;
  account: string;
  kind: IamPrincipalKind;
  /** `/` or `/segment/.../`: starts and ends with `/`. */
  path: string;
  name: string;
}

/** Role and user names: 1-64 of IAM's name characters. */
export const IAM_NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;
/** IAM paths: `/` alone, or `/` + printable ASCII (0x21-0x7E) + `/`, at most 512 characters. */
export const IAM_PATH_PATTERN = /^(?:\/|\/[\x21-\x7e]+\/)$/;
const MAX_PATH_LENGTH = 512;
const ACCOUNT_PATTERN = /^\d{12}$/;
const IAM_ARN = /^arn:([a-z-]+):iam::(\d{12}):(role|user)(\/.*)$/s;

/** The partition of a region: `aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`, `aws` otherwise. */
export function partitionOf(region: string): Partition {
  return partitionForRegion(region);
}

export function isIamPath(path: string): boolean {
  return typeof path === 'string' && path.length <= MAX_PATH_LENGTH && IAM_PATH_PATTERN.test(path);
}

/** Parses a role or user ARN; undefined for anything else (other services, other partitions, bad names). */
export function parseIamArn(arn: string): IamArn | undefined {
  if (typeof arn !== 'string' || arn.length > 2048) return undefined;
  const match = IAM_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition = '', account = '', kind = '', rest = ''] = match;
  if (!(PARTITIONS as readonly string[]).includes(partition)) return undefined;
  const cut = rest.lastIndexOf('/') + 1;
  const path = rest.slice(0, cut);
  const name = rest.slice(cut);
  if (!isIamPath(path) || !IAM_NAME_PATTERN.test(name)) return undefined;
  return { partition: partition as Partition, account, kind: kind as IamPrincipalKind, path, name };
}

/** Builds a role ARN; throws RangeError naming the bad part. */
export function roleArn(partition: string, account: string, path: string, name: string): string {
  return formatIamArn({ partition: partition as Partition, account, kind: 'role', path, name });
}

/** Builds a user ARN; throws RangeError naming the bad part. */
export function userArn(partition: string, account: string, path: string, name: string): string {
  return formatIamArn({ partition: partition as Partition, account, kind: 'user', path, name });
}

export function formatIamArn(arn: IamArn): string {
  const { partition, account, kind, path, name } = arn;
  if (!(PARTITIONS as readonly string[]).includes(partition)) {
    throw new RangeError(
      `partition ${quote(partition)} is invalid: expected one of ${PARTITIONS.join(', ')}`,
    );
  }
  if (!ACCOUNT_PATTERN.test(account)) {
    throw new RangeError(`account ${quote(account)} is invalid: expected 12 digits`);
  }
  if (!isIamPath(path)) {
    throw new RangeError(
      `IAM path ${quote(path)} is invalid: expected "/" or "/segment/.../" of printable ASCII, at most 512 characters`,
    );
  }
  if (!IAM_NAME_PATTERN.test(name)) {
    throw new RangeError(
      `${kind} name ${quote(name)} is invalid: expected 1-64 characters of [A-Za-z0-9+=,.@_-]`,
    );
  }
  return `arn:${partition}:iam::${account}:${kind}${path}${name}`;
}

/**
 * True when both ARNs name the same principal: same partition, account, kind, path and name. ARNs are
 * compared case-sensitively, as IAM compares them in policies.
 */
export function sameIamPrincipal(a: string, b: string): boolean {
  const x = parseIamArn(a);
  const y = parseIamArn(b);
  return (
    x !== undefined &&
    y !== undefined &&
    x.partition === y.partition &&
    x.account === y.account &&
    x.kind === y.kind &&
    x.path === y.path &&
    x.name === y.name
  );
}

/** Service-linked roles live under `/aws-service-role/`; Sundown never modifies them. */
export function isServiceLinkedRole(arn: IamArn): boolean {
  return arn.kind === 'role' && arn.path.startsWith('/aws-service-role/');
}

function quote(value: unknown): string {
  const text = String(value);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
