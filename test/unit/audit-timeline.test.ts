import { describe, expect, it } from 'vitest';
import { buildRecord, chainHeadOf } from '../../lambdas/audit/audit-chain.ts';
import { buildWorkloadTimeline, formatDuration } from '../../lambdas/audit/audit-timeline.ts';
import type { AuditRecord, AuditRecordInput } from '../../lambdas/shared/schemas/audit-record.ts';

const WORKLOAD = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0';
const OTHER = 'arn:aws:ec2:us-east-1:123456789012:instance/i-0fedcba9876543210';
const ACTOR = { type: 'function', name: 'revoker' } as const;

function chain(inputs: Partial<AuditRecordInput>[]): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (const input of inputs) {
    const last = records.at(-1);
    const full = { actor: ACTOR, outcome: 'success', workloadId: WORKLOAD, ...input } as AuditRecordInput;
    records.push(buildRecord(full, last ? chainHeadOf(last) : null, 'main'));
  }
  return records;
}

describe('buildWorkloadTimeline', () => {
  it('orders records from several shard chains by time, not by their seqs (each writer has its own chain)', () => {
    const at = (chainId: string, seq: number, input: Partial<AuditRecordInput>) =>
      ({
        ...buildRecord(
          { actor: ACTOR, outcome: 'success', workloadId: WORKLOAD, ...input } as AuditRecordInput,
          null,
          chainId,
        ),
        seq,
      }) as AuditRecord;
    // The broker's chain is long (seq 40); the revoker's and WorkloadEnded's are short (seq 2, 7).
    const records = [
      at('main#3', 2, { type: 'revoked', at: '2024-05-01T12:00:01.000Z', credentialId: 'rs-a' }),
      at('main#9', 40, { type: 'issued', at: '2024-05-01T11:00:00.000Z', credentialId: 'rs-a' }),
      at('main#1', 7, { type: 'revocation-requested', at: '2024-05-01T12:00:00.000Z', credentialId: 'rs-a' }),
    ];

    const [credential] = buildWorkloadTimeline(WORKLOAD, records).credentials;

    expect(credential).toMatchObject({ status: 'revoked', seqs: [40, 7, 2] });
  });

  it('follows each credential from issue to revocation with time-to-revoke = revoked.at - endedAt', () => {
    // Prepare
    const endedAt = '2024-05-01T12:00:00.000Z';
    const records = chain([
      {
        type: 'issued',
        at: '2024-05-01T11:00:00.000Z',
        credentialId: 'rs-a',
        credentialKind: 'role-session',
      },
      {
        type: 'issued',
        at: '2024-05-01T11:00:01.000Z',
        credentialId: 'rs-b',
        credentialKind: 'role-session',
      },
      { type: 'issued', at: '2024-05-01T11:00:02.000Z', workloadId: OTHER, credentialId: 'rs-c' },
      {
        type: 'revocation-requested',
        at: '2024-05-01T12:00:00.400Z',
        credentialId: 'rs-a',
        details: { endedAt },
      },
      {
        type: 'revoked',
        at: '2024-05-01T12:00:01.250Z',
        credentialId: 'rs-a',
        reason: 'denied on the role',
        details: { endedAt, timeToRevokeMs: 1240 },
      },
      {
        type: 'skipped',
        at: '2024-05-01T12:00:00.500Z',
        credentialId: 'rs-b',
        reason: 'role is not opted in',
      },
      { type: 'skipped', at: '2024-05-01T12:00:00.600Z', outcome: 'skipped', reason: 'nothing recorded' },
    ]);

    // Act
    const timeline = buildWorkloadTimeline(WORKLOAD, [...records].reverse());

    // Assess
    expect(timeline.workloadId).toBe(WORKLOAD);
    expect(timeline.credentials).toEqual([
      {
        credentialId: 'rs-a',
        credentialKind: 'role-session',
        status: 'revoked',
        issuedAt: '2024-05-01T11:00:00.000Z',
        endedAt,
        revocationRequestedAt: '2024-05-01T12:00:00.400Z',
        revokedAt: '2024-05-01T12:00:01.250Z',
        timeToRevokeMs: 1250,
        reason: 'denied on the role',
        seqs: [1, 4, 5],
      },
      {
        credentialId: 'rs-b',
        credentialKind: 'role-session',
        status: 'skipped',
        issuedAt: '2024-05-01T11:00:01.000Z',
        skippedAt: '2024-05-01T12:00:00.500Z',
        reason: 'role is not opted in',
        seqs: [2, 6],
      },
    ]);
    expect(timeline.events).toEqual([
      {
        seq: 7,
        type: 'skipped',
        at: '2024-05-01T12:00:00.600Z',
        outcome: 'skipped',
        reason: 'nothing recorded',
      },
    ]);
  });

  it('keeps the latest outcome when a failed revocation is retried, and reports in-flight ones as revoking', () => {
    const records = chain([
      { type: 'issued', at: '2024-05-01T11:00:00.000Z', credentialId: 'rs-a' },
      { type: 'revocation-requested', at: '2024-05-01T12:00:00.000Z', credentialId: 'rs-a' },
      {
        type: 'failed',
        at: '2024-05-01T12:00:05.000Z',
        credentialId: 'rs-a',
        outcome: 'error',
        reason: 'boom',
      },
      {
        type: 'revoked',
        at: '2024-05-01T12:10:00.000Z',
        credentialId: 'rs-a',
        details: { timeToRevokeMs: 600000 },
      },
      { type: 'revocation-requested', at: '2024-05-01T12:00:00.000Z', credentialId: 'rs-z' },
    ]);

    const [retried, inFlight] = buildWorkloadTimeline(WORKLOAD, records).credentials;

    expect(retried).toMatchObject({
      status: 'revoked',
      failedAt: '2024-05-01T12:00:05.000Z',
      revokedAt: '2024-05-01T12:10:00.000Z',
      // No end time recorded: the revoker's own measurement is used.
      timeToRevokeMs: 600000,
    });
    expect(retried?.reason).toBeUndefined();
    expect(inFlight).toMatchObject({ credentialId: 'rs-z', status: 'revoking' });
    expect(inFlight?.timeToRevokeMs).toBeUndefined();
  });

  it('is empty for a workload without records', () => {
    expect(buildWorkloadTimeline(OTHER, [])).toEqual({ workloadId: OTHER, credentials: [], events: [] });
  });
});

describe('formatDuration', () => {
  it.each([
    [1250, '1.250s'],
    [-120, '-0.120s'],
    [123_500, '2m 03.5s'],
    [3_723_000, '1h 02m 03.0s'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('buildWorkloadTimeline: broker requests', () => {
  it('shows who requested a broker credential, from where and why, and who was refused', () => {
    // Prepare
    const caller = 'arn:aws:sts::123456789012:assumed-role/deployer/ci-run-9';
    const records = chain([
      {
        type: 'refused',
        at: '2024-05-01T10:59:00.000Z',
        outcome: 'invalid-request',
        reason: 'invalid broker request: reason: is required (1-256 characters)',
        details: { via: 'function-url', callerArn: caller, sourceIp: '203.0.113.7' },
      },
      {
        type: 'issued',
        at: '2024-05-01T11:00:00.000Z',
        credentialId: 'rs-a',
        credentialKind: 'role-session',
        details: { issuer: 'broker', callerArn: caller, sourceIp: '203.0.113.7', requestReason: 'deploy v2' },
      },
    ]);

    // Act
    const timeline = buildWorkloadTimeline(WORKLOAD, records);

    // Assess
    expect(timeline.credentials[0]).toMatchObject({
      credentialId: 'rs-a',
      requestedBy: caller,
      sourceIp: '203.0.113.7',
      requestReason: 'deploy v2',
    });
    expect(timeline.events).toEqual([
      expect.objectContaining({ type: 'refused', requestedBy: caller, sourceIp: '203.0.113.7' }),
    ]);
  });
});
