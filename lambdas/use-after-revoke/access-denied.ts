/**
 * Use-after-revoke: a CloudTrail access-denied event by a role session Sundown revoked becomes one
 * audited alert per session and window (bus event, SNS message, metric); later attempts in the
 * window are only counted. Sessions Sundown never revoked produce nothing but a debug line. Bad or
 * untrusted input is audited `rejected` and consumed (never retried).
 */

import type { AuditSink } from '../audit/index.ts';
import { untrustedReason } from '../shared/handlers/event-trust.ts';
import type { AuditActor } from '../shared/schemas/audit-record.ts';
import {
  CloudTrailErrorDetailSchema,
  type UseAfterRevokeDetail,
} from '../shared/schemas/use-after-revoke.ts';
import { rejectionRecord } from '../shared/services/reject-event.ts';
import { CLOUDTRAIL_API_CALL, EventEnvelopeSchema } from '../triggers/index.ts';
import type { AlertSink } from './alerts.ts';
import { attemptOf, revokedEntryFor, windowStart } from './attempts.ts';
import type { UseAfterRevokeStore } from './store.ts';

export interface UseAfterRevokeDeps {
  store: Pick<UseAfterRevokeStore, 'revokedEntries' | 'countAttempt' | 'claimAlert' | 'releaseAlert'>;
  audit: AuditSink;
  alerts: AlertSink;
  metric: (name: 'UseAfterRevoke' | 'UseAfterRevokeAttempts' | 'EventsRejected', value: number) => void;
  debug?: (message: string, fields: Record<string, unknown>) => void;
  actor: AuditActor;
  account: string;
  windowSeconds: number;
  now: () => Date;
}

export type UseAfterRevokeOutcome = 'alerted' | 'aggregated' | 'not-revoked' | 'not-a-session' | 'rejected';

export async function handleAccessDenied(
  deps: UseAfterRevokeDeps,
  body: unknown,
): Promise<UseAfterRevokeOutcome> {
  const envelope = EventEnvelopeSchema.safeParse(body);
  const trigger = envelope.success
    ? { eventId: envelope.data.id, source: envelope.data.source, detailType: envelope.data['detail-type'] }
    : undefined;
  const reject = async (reason: string): Promise<UseAfterRevokeOutcome> => {
    deps.metric('EventsRejected', 1);
    await deps.audit.append(rejectionRecord(deps, `use-after-revoke: ${reason}`, trigger));
    return 'rejected';
  };
  if (!envelope.success) return reject('not an EventBridge event');
  const untrusted = untrustedReason(body, { fromSundownBus: false, account: deps.account });
  if (untrusted) return reject(untrusted);
  if (envelope.data['detail-type'] !== CLOUDTRAIL_API_CALL) {
    return reject(
      `detail-type ${JSON.stringify(envelope.data['detail-type'].slice(0, 64))} is not a CloudTrail API call`,
    );
  }
  const detail = CloudTrailErrorDetailSchema.safeParse(envelope.data.detail);
  if (!detail.success) {
    const issue = detail.error.issues[0];
    return reject(
      `invalid CloudTrail detail: ${issue?.path.join('.') || 'detail'} ${issue?.message ?? ''}`.trim(),
    );
  }
  const parsed = attemptOf(detail.data, envelope.data.time);
  if (parsed.kind === 'invalid') return reject(parsed.reason);
  if (parsed.kind === 'not-a-session') {
    deps.debug?.('access denied for a non-session identity', { reason: parsed.reason });
    return 'not-a-session';
  }
  const attempt = parsed.attempt;
  const entry = revokedEntryFor(
    attempt,
    await deps.store.revokedEntries(attempt.roleArn, attempt.sessionName),
  );
  if (!entry) {
    deps.debug?.('access denied for a session Sundown did not revoke', { principalId: attempt.principalId });
    return 'not-revoked';
  }

  deps.metric('UseAfterRevokeAttempts', 1);
  const key = {
    roleArn: attempt.roleArn,
    sessionName: attempt.sessionName,
    windowStart: windowStart(attempt.attemptAt, deps.windowSeconds),
  };
  const counted = await deps.store.countAttempt({
    ...key,
    at: attempt.attemptAt,
    // Kept a window past its end, so late-delivered attempts of the window are still aggregated.
    expiresAtEpochSeconds: Math.floor(Date.parse(key.windowStart) / 1000) + 2 * deps.windowSeconds,
  });
  if (counted.alerted || !(await deps.store.claimAlert(key))) return 'aggregated';

  const alert: UseAfterRevokeDetail = {
    workloadId: entry.workloadId,
    roleArn: attempt.roleArn,
    sessionName: attempt.sessionName,
    principalId: attempt.principalId,
    api: attempt.api,
    errorCode: attempt.errorCode,
    ...(attempt.sourceIPAddress ? { sourceIPAddress: attempt.sourceIPAddress } : {}),
    ...(attempt.userAgent ? { userAgent: attempt.userAgent } : {}),
    attemptAt: attempt.attemptAt,
    revokedFrom: new Date(entry.notAfter).toISOString(),
    windowStart: key.windowStart,
    windowSeconds: deps.windowSeconds,
  };
  try {
    const { workloadId, windowSeconds, ...details } = alert;
    await deps.audit.append({
      type: 'use-after-revoke',
      at: deps.now().toISOString(),
      workloadId,
      credentialKind: 'role-session',
      actor: deps.actor,
      trigger: { kind: 'event', ...trigger },
      outcome: 'alerted',
      reason: `revoked session ${attempt.sessionName} tried ${attempt.api} (${attempt.errorCode})`,
      details: { ...details, windowSeconds },
    });
    await deps.alerts.publish(alert);
  } catch (err) {
    // Give the claim back: the retried message (same window) alerts then.
    await deps.store.releaseAlert(key);
    throw err;
  }
  deps.metric('UseAfterRevoke', 1);
  return 'alerted';
}
