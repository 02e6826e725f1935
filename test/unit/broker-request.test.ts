/**
 * The broker's request path: only a caller AWS authenticated (a Function URL event's
 * `requestContext.authorizer.iam`) gets a credential, with a valid reason; everything else is refused
 * with a 4xx, audited as `refused`, and issues nothing. Fake AWS clients, in-memory registry and audit.
 */
import type { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { type BrokerDeps, handleBrokerEvent } from '../../lambdas/broker/index.ts';
import type { AuditRecordInput } from '../../lambdas/shared/schemas/audit-record.ts';
import { AuditRecordInputSchema } from '../../lambdas/shared/schemas/audit-record.ts';
import type { CredentialRecord } from '../../lambdas/shared/schemas/credential.ts';

const ACCOUNT = '123456789012';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/etl`;
const CALLER_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci-run-9`;

function fakes() {
  const records: CredentialRecord[] = [];
  const audit: AuditRecordInput[] = [];
  const assumed: unknown[] = [];
  const sts = {
    send: async (command: AssumeRoleCommand) => {
      assumed.push(command.input);
      return {
        Credentials: {
          AccessKeyId: 'ASIAEXAMPLE000000001',
          SecretAccessKey: 'not-a-real-secret',
          SessionToken: 'not-a-real-token',
          Expiration: new Date('2024-05-01T13:00:00Z'),
        },
        AssumedRoleUser: { AssumedRoleId: 'AROAEXAMPLE000000001:etl-run-1', Arn: 'x' },
      };
    },
  } as unknown as STSClient;
  const deps = {
    registry: {
      record: async (record: CredentialRecord) => {
        records.push(record);
        return { created: true, record };
      },
    },
    audit: {
      append: async (input: AuditRecordInput) => {
        audit.push(AuditRecordInputSchema.parse(input));
        return input;
      },
      appendMany: async (inputs: AuditRecordInput[]) => {
        for (const input of inputs) audit.push(AuditRecordInputSchema.parse(input));
        return inputs;
      },
    },
    optIn: {
      check: async (arn: string) =>
        arn === ROLE_ARN
          ? { optedIn: true, via: 'tag', arn }
          : { optedIn: false, reason: `${arn} is not opted in` },
    },
    config: { SUNDOWN_MAX_SESSION_HOURS: { custom: 12, accessKeySessions: 36 }, SUNDOWN_RETENTION_DAYS: 90 },
    actor: { type: 'function', name: 'broker' },
    account: ACCOUNT,
    region: 'us-east-1',
    now: () => new Date('2024-05-01T12:00:00.000Z'),
    sts,
    acmPca: { send: async () => Promise.reject(new Error('no CA calls expected')) },
    maxDurationSeconds: 3600,
    certificateAuthorityArns: [],
  } as unknown as BrokerDeps;
  return { deps, records, audit, assumed };
}

/** A Function URL (payload 2.0) event as Lambda builds it for AuthType AWS_IAM. */
function urlEvent(body: unknown, iam: Record<string, unknown> | null = defaultIam()): unknown {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    headers: { 'content-type': 'application/json' },
    requestContext: {
      accountId: ACCOUNT,
      ...(iam ? { authorizer: { iam } } : {}),
      http: { method: 'POST', path: '/', sourceIp: '203.0.113.7' },
      requestId: 'r-1',
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
  };
}

function defaultIam() {
  return {
    accessKey: 'ASIAEXAMPLECALLER001',
    accountId: ACCOUNT,
    callerId: 'AROAEXAMPLE000000009:ci-run-9',
    userArn: CALLER_ARN,
    userId: 'AROAEXAMPLE000000009:ci-run-9',
  };
}

const SESSION = { action: 'issue-session', role: 'etl', workloadId: 'etl/run-1', reason: 'nightly load' };

describe('handleBrokerEvent', () => {
  it('issues to an authenticated caller and records caller, source IP and reason on the credential and its audit record', async () => {
    // Prepare
    const f = fakes();

    // Act
    const result = await handleBrokerEvent(f.deps, urlEvent(SESSION));

    // Assess
    expect(result.via).toBe('function-url');
    expect(result.response).toMatchObject({ statusCode: 200 });
    expect(result.outcome.ok).toBe(true);
    expect(f.records).toHaveLength(1);
    expect(f.records[0]).toMatchObject({
      callerArn: CALLER_ARN,
      callerAccount: ACCOUNT,
      callerId: 'AROAEXAMPLE000000009:ci-run-9',
      sourceIp: '203.0.113.7',
      requestReason: 'nightly load',
    });
    expect(f.audit.map((r) => r.type)).toEqual(['issued']);
    expect(f.audit[0]?.details).toMatchObject({
      callerArn: CALLER_ARN,
      sourceIp: '203.0.113.7',
      requestReason: 'nightly load',
    });
    // No secret in what is audited.
    expect(JSON.stringify(f.audit)).not.toMatch(/not-a-real-(secret|token)/);
  });

  it.each([
    ['a missing reason', { ...SESSION, reason: undefined }, /reason: /],
    ['an empty reason', { ...SESSION, reason: '' }, /reason: is required/],
    ['a blank reason', { ...SESSION, reason: '   ' }, /reason: must not be blank/],
    ['an oversize reason', { ...SESSION, reason: 'x'.repeat(257) }, /reason: must be at most 256/],
    ['a reason with a newline', { ...SESSION, reason: 'ok\nFAKE audit line' }, /reason: must be one line/],
    ['a reason with a bidi override', { ...SESSION, reason: 'ok \u202Egnp.exe' }, /reason: must be one line/],
    ['a caller identity claimed in the body', { ...SESSION, callerArn: 'arn:aws:iam::1:root' }, /callerArn/],
  ])('refuses %s with 400, issues nothing and audits the refusal', async (_name, body, message) => {
    // Prepare
    const f = fakes();

    // Act
    const result = await handleBrokerEvent(f.deps, urlEvent(body));

    // Assess
    expect(result.response).toMatchObject({ statusCode: 400 });
    expect(result.outcome).toMatchObject({ ok: false, code: 'invalid-request' });
    expect((result.outcome as { error: string }).error).toMatch(message);
    expect(f.assumed).toEqual([]);
    expect(f.records).toEqual([]);
    expect(f.audit).toHaveLength(1);
    expect(f.audit[0]).toMatchObject({
      type: 'refused',
      outcome: 'invalid-request',
      workloadId: 'etl/run-1',
      details: { via: 'function-url', callerArn: CALLER_ARN, sourceIp: '203.0.113.7' },
    });
  });

  it('refuses a direct Invoke (no verified caller) with a typed error body, audited, nothing issued', async () => {
    // Prepare
    const f = fakes();

    // Act: the payload even claims an identity; a direct Invoke has none AWS verified.
    const result = await handleBrokerEvent(f.deps, { ...SESSION, callerArn: CALLER_ARN });

    // Assess
    expect(result.via).toBe('invoke');
    expect(result.response).toMatchObject({ ok: false, code: 'unauthenticated' });
    expect((result.response as { error: string }).error).toMatch(/function URL/);
    expect(f.assumed).toEqual([]);
    expect(f.records).toEqual([]);
    expect(f.audit).toEqual([
      expect.objectContaining({ type: 'refused', outcome: 'unauthenticated', details: { via: 'invoke' } }),
    ]);
  });

  it('refuses a function URL event without an IAM principal (AuthType NONE) with 401', async () => {
    const f = fakes();

    const result = await handleBrokerEvent(f.deps, urlEvent(SESSION, null));

    expect(result.response).toMatchObject({ statusCode: 401 });
    expect(JSON.parse((result.response as { body: string }).body)).toMatchObject({ code: 'unauthenticated' });
    expect(f.records).toEqual([]);
    expect(f.audit.map((r) => [r.type, r.outcome])).toEqual([['refused', 'unauthenticated']]);
  });

  it('refuses a role that is not opted in with 403 and audits who asked', async () => {
    const f = fakes();

    const result = await handleBrokerEvent(f.deps, urlEvent({ ...SESSION, role: 'private' }));

    expect(result.response).toMatchObject({ statusCode: 403 });
    expect(f.assumed).toEqual([]);
    expect(f.audit[0]).toMatchObject({
      type: 'refused',
      outcome: 'not-opted-in',
      details: { callerArn: CALLER_ARN },
    });
  });

  it('refuses a body that is not JSON with 400, without echoing it', async () => {
    const f = fakes();

    const result = await handleBrokerEvent(f.deps, urlEvent('{"action": <script>'));

    expect(result.response).toMatchObject({ statusCode: 400 });
    expect(JSON.stringify(f.audit)).not.toContain('<script>');
    expect(f.audit[0]?.reason).toBe('invalid broker request: the request body is not JSON');
  });
});
