/**
 * Every way a credential gets into the registry ends here: broker, discovery
 * from workload-start events, `Credential Issued` events, CLI registration.
 * Recording is idempotent (the credential ID is derived from identifiers) and
 * audited once, as `issued`, when the record is new.
 */

import { appendAll } from '../audit/index.ts';
import {
  credentialIdFor,
  normalizeSerial,
  normalizeWorkloadId,
  type Workload,
  workloadAccount,
} from '../shared/domain/workload-id.ts';
import type { AuditRecordInput } from '../shared/schemas/audit-record.ts';
import type { BrokerRequester } from '../shared/schemas/broker.ts';
import type {
  CredentialIssuer,
  CredentialRecord,
  CredentialRegistration,
} from '../shared/schemas/credential.ts';
import { auditTrigger, credentialAudit } from '../shared/services/audit-helpers.ts';
import type { ServiceDeps } from '../shared/services/deps.ts';
import type { Trigger } from '../triggers/index.ts';

/** Discovered sessions last as long as their workload: no expiry until it ends. */
export const OPEN_ENDED = '9999-12-31T00:00:00.000Z';
const HOUR_MS = 3_600_000;
const DAY_S = 86_400;

function ttlFor(expiresAt: string, retentionDays: number): number | undefined {
  if (expiresAt === OPEN_ENDED) return undefined;
  return Math.floor(Date.parse(expiresAt) / 1000) + retentionDays * DAY_S;
}

function roleNameOf(roleArn: string): string {
  return roleArn.split('/').pop() as string;
}

export interface RecordResult {
  created: boolean;
  record: CredentialRecord;
}

/** Records a registration (validated by the shared schema before it gets here). */
export async function recordRegistration(
  deps: ServiceDeps,
  registration: CredentialRegistration,
  issuer: CredentialIssuer,
  trigger: Trigger | undefined,
  workloadHint?: Workload,
  requester?: BrokerRequester,
): Promise<RecordResult> {
  const [result] = await recordRegistrations(deps, [
    { registration, issuer, trigger, workloadHint, ...(requester ? { requester } : {}) },
  ]);
  if (!result?.ok) throw result?.error ?? new Error('registration was not recorded');
  return result.result;
}

export interface RegistrationRequest {
  registration: CredentialRegistration;
  issuer: CredentialIssuer;
  trigger: Trigger | undefined;
  workloadHint?: Workload | undefined;
  /** Broker requests: the authenticated caller, its source IP and its reason, kept on the record and audited. */
  requester?: BrokerRequester;
}

/** The requester's facts as registry attributes and audit details (identifiers and the reason only). */
function requesterFields(requester: BrokerRequester | undefined): Record<string, string> {
  if (!requester) return {};
  const { caller, reason } = requester;
  return {
    callerArn: caller.principalArn,
    callerAccount: caller.accountId,
    callerId: caller.callerId,
    ...(caller.sourceIp ? { sourceIp: caller.sourceIp } : {}),
    requestReason: reason,
  };
}

/**
 * Records several registrations: each credential with its own conditional write (a duplicate
 * leaves the stored record as it is), their `issued` audit records in one batch append. A
 * registration that fails fails alone.
 */
export async function recordRegistrations(
  deps: ServiceDeps,
  requests: readonly RegistrationRequest[],
): Promise<({ ok: true; result: RecordResult } | { ok: false; error: unknown })[]> {
  const audits: AuditRecordInput[] = [];
  const results: ({ ok: true; result: RecordResult } | { ok: false; error: unknown })[] = [];
  for (const { registration, issuer, trigger, workloadHint, requester } of requests) {
    try {
      const record = {
        ...registryRecordFor(deps, registration, issuer, workloadHint),
        ...requesterFields(requester),
      };
      const result = await deps.registry.record(record);
      if (result.created) {
        audits.push(
          credentialAudit(deps, result.record, {
            type: 'issued',
            outcome: 'recorded',
            reason: `${registration.kind} recorded by ${issuer}`,
            trigger: auditTrigger(trigger, issuer),
            details: { issuer, expiresAt: result.record.expiresAt, ...requesterFields(requester) },
          }),
        );
      }
      results.push({ ok: true, result });
    } catch (error) {
      results.push({ ok: false, error });
    }
  }
  await appendAll(deps.audit, audits);
  return results;
}

/** The registry record for a registration, as Sundown stores it. */
function registryRecordFor(
  deps: ServiceDeps,
  registration: CredentialRegistration,
  issuer: CredentialIssuer,
  workloadHint?: Workload,
): CredentialRecord {
  const workload =
    workloadHint ??
    normalizeWorkloadId(registration.workloadId, { account: deps.account, region: deps.region });
  const now = deps.now().toISOString();
  const issuedAt = registration.issuedAt ? new Date(registration.issuedAt).toISOString() : now;
  const maxHours = deps.config.SUNDOWN_MAX_SESSION_HOURS;
  const defaultHours =
    registration.kind === 'access-key' ? maxHours.accessKeySessions : maxHours[workload.kind];
  const expiresAt = registration.expiresAt
    ? new Date(registration.expiresAt).toISOString()
    : registration.kind === 'role-session' && issuer === 'discovery'
      ? OPEN_ENDED
      : new Date(Date.parse(issuedAt) + defaultHours * HOUR_MS).toISOString();

  const base = {
    workloadId: workload.id,
    workloadKind: workload.kind,
    status: 'active' as const,
    issuedAt,
    expiresAt,
    issuer,
    // The workload's own account: a hub records its spokes' credentials under theirs.
    account: workloadAccount(workload.id) ?? deps.account,
    region: deps.region,
    ...(registration.purpose ? { purpose: registration.purpose } : {}),
    ...(ttlFor(expiresAt, deps.config.SUNDOWN_RETENTION_DAYS)
      ? { ttl: ttlFor(expiresAt, deps.config.SUNDOWN_RETENTION_DAYS) }
      : {}),
  };
  let record: CredentialRecord;
  switch (registration.kind) {
    case 'role-session':
      record = {
        ...base,
        kind: 'role-session',
        credentialId: credentialIdFor({
          kind: 'role-session',
          roleArn: registration.roleArn,
          sessionName: registration.sessionName,
          workloadId: workload.id,
        }),
        roleArn: registration.roleArn,
        roleName: roleNameOf(registration.roleArn),
        sessionName: registration.sessionName,
        reusableSessionName: workload.reusableSessionName,
        ...(registration.accessKeyId ? { accessKeyId: registration.accessKeyId } : {}),
      };
      break;
    case 'access-key':
      record = {
        ...base,
        kind: 'access-key',
        credentialId: credentialIdFor({
          kind: 'access-key',
          userName: registration.userName,
          accessKeyId: registration.accessKeyId,
        }),
        userName: registration.userName,
        ...(registration.userPath ? { userPath: registration.userPath } : {}),
        accessKeyId: registration.accessKeyId,
      };
      break;
    case 'certificate':
      record = {
        ...base,
        kind: 'certificate',
        credentialId: credentialIdFor({
          kind: 'certificate',
          caArn: registration.caArn,
          serial: registration.serial,
        }),
        caArn: registration.caArn,
        serial: normalizeSerial(registration.serial),
      };
      break;
  }
  return record;
}

/**
 * Discovery: the role a workload runs as, resolved through the platform's
 * APIs, recorded as a session named the way the platform names it.
 */
export async function recordDiscoveredSession(
  deps: ServiceDeps,
  workload: Workload,
  roleHint: { roleArn?: string; taskDefinitionArn?: string } | undefined,
  trigger: Trigger | undefined,
  issuedAt?: string,
): Promise<CredentialRecord | undefined> {
  if (!workload.sessionName) return undefined;
  const roleArn = await deps.resolver.resolveRole(workload, roleHint);
  if (!roleArn) return undefined;
  const { record } = await recordRegistration(
    deps,
    {
      kind: 'role-session',
      roleArn,
      sessionName: workload.sessionName,
      workloadId: workload.id,
      ...(issuedAt ? { issuedAt } : {}),
    },
    'discovery',
    trigger,
    workload,
  );
  return record;
}
