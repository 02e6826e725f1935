/**
 * Reading a role's trust policy (AssumeRolePolicyDocument) as CloudFormation holds it: which
 * principals each Allow statement lets assume the role, and whether a statement is the one
 * `trustSundownBroker` adds for Sundown's broker.
 */
import { BROKER_TRUST_ACTIONS, BROKER_TRUST_SID } from '../constructs/broker-trust.ts';
import type { CfnResource, ResolvedOptions } from './types.ts';

export interface TrustStatement {
  index: number;
  sid?: string;
  /** `*` as principal, `AWS: "*"`, or an Allow with NotPrincipal. */
  wildcard: boolean;
  services: string[];
  /** AWS principals: literal ARNs/account IDs, or intrinsics (as JSON). */
  aws: unknown[];
  federated: unknown[];
  actions: string[];
  hasCondition: boolean;
}

const asList = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

/** The Allow statements of a role's trust policy. */
export function trustStatements(role: CfnResource): TrustStatement[] {
  const doc = role.Properties?.AssumeRolePolicyDocument as { Statement?: unknown } | undefined;
  return asList(doc?.Statement).flatMap((raw, index) => {
    const s = (raw ?? {}) as Record<string, unknown>;
    if (s.Effect !== 'Allow') return [];
    const principal = s.Principal as Record<string, unknown> | string | undefined;
    const byKey = (key: string) =>
      principal && typeof principal === 'object' ? asList((principal as Record<string, unknown>)[key]) : [];
    const aws = byKey('AWS');
    return [
      {
        index,
        sid: typeof s.Sid === 'string' ? s.Sid : undefined,
        wildcard: principal === '*' || aws.includes('*') || s.NotPrincipal !== undefined,
        services: byKey('Service').filter((v): v is string => typeof v === 'string'),
        aws: aws.filter((v) => v !== '*'),
        federated: byKey('Federated'),
        actions: asList(s.Action).filter((v): v is string => typeof v === 'string'),
        hasCondition: s.Condition !== undefined,
      },
    ];
  });
}

const BROKER_ACTIONS: ReadonlySet<string> = new Set(BROKER_TRUST_ACTIONS);

/**
 * The broker's statement: only the broker's actions, for one AWS principal. With `brokerRoleArn`
 * configured, that principal must be exactly it (Sid or not); without, the statement must carry the
 * Sid `trustSundownBroker` writes (its principal may be an intrinsic, e.g. the imported BrokerRoleArn).
 */
export function isBrokerStatement(s: TrustStatement, options: ResolvedOptions): boolean {
  if (s.wildcard || s.services.length > 0 || s.federated.length > 0 || s.aws.length !== 1) return false;
  if (s.actions.length === 0 || !s.actions.every((a) => BROKER_ACTIONS.has(a))) return false;
  const principal = s.aws[0];
  if (options.brokerRoleArn !== undefined) {
    return (
      principal === options.brokerRoleArn || (typeof principal !== 'string' && s.sid === BROKER_TRUST_SID)
    );
  }
  return s.sid === BROKER_TRUST_SID;
}

/** A principal for a message: the literal, or the intrinsic's first key and argument. */
export function describePrincipal(value: unknown): string {
  if (typeof value === 'string') return value;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
