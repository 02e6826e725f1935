/**
 * A GuardDuty credential-exfiltration finding on an instance that keeps running: the deny must cover
 * exactly the sessions issued before the finding, also when the role's deny set is so full that other
 * bounds are coarsened to whole hours. EC2 keeps refreshing the instance's credentials under the same
 * session name (the instance ID); a refresh issued after the finding must keep working.
 *
 * The chain is the real one up to the IAM write: classifyEvent -> the credential record as discovery
 * stores it -> roleDenyEntryFor (what end-workload stores) -> renderDenyPolicies. The rendered documents
 * are then evaluated by an independent IAM policy evaluator (@cloud-copilot/iam-simulate), not by our own
 * reading of the policy: moto ignores policy conditions, so it cannot show this.
 */
import { type EvaluationResult, runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import {
  type DenyEntry,
  FRESH_ROLE_OPTIONS,
  type PolicyDocument,
  type RenderedPolicies,
  renderDenyPolicies,
} from '../../lambdas/revocation/deny-policy.ts';
import { roleDenyEntryFor } from '../../lambdas/revocation/intake.ts';
import type { CredentialRecord } from '../../lambdas/shared/schemas/credential.ts';
import { classifyEvent } from '../../lambdas/triggers/classify.ts';

const ACCOUNT = '123456789012';
const ROLE_ID = 'AROAEXAMPLEROLEID5678';
const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/web-instance-role`;
const INSTANCE = 'i-0abcd1234ef567890';
/** The finding's event time, deliberately inside a second. */
const FINDING_AT = '2024-05-14T17:00:00.250Z';
const MAX_HOURS = { ec2: 6, ecs: 6, batch: 6, codebuild: 8, lambda: 12, custom: 12, accessKeySessions: 36 };

const ALLOW_GET_OBJECT = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
};

function findingEvent(): Record<string, unknown> {
  return {
    version: '0',
    id: 'c8c4daa7-a20c-2f03-0070-b7393dd542ad',
    'detail-type': 'GuardDuty Finding',
    source: 'aws.guardduty',
    account: ACCOUNT,
    time: FINDING_AT,
    region: 'us-east-1',
    resources: [],
    detail: {
      accountId: ACCOUNT,
      region: 'us-east-1',
      type: 'UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS',
      resource: {
        resourceType: 'AccessKey',
        accessKeyDetails: { principalId: `${ROLE_ID}:${INSTANCE}`, userName: 'web-instance-role' },
        instanceDetails: { instanceId: INSTANCE },
      },
    },
  };
}

/** The deny entry end-workload stores for the finding, for a session discovered at the end. */
function findingEntry(): DenyEntry {
  const classification = classifyEvent(findingEvent());
  if (classification.kind !== 'workload-ended') throw new Error(JSON.stringify(classification));
  const { workload, endedAt } = classification;
  // What recordDiscoveredSession stores: the workload's own reusability.
  const credential: CredentialRecord = {
    credentialId: 'rs-000000000000000000000001',
    kind: 'role-session',
    workloadId: workload.id,
    workloadKind: workload.kind,
    status: 'active',
    issuedAt: endedAt,
    expiresAt: '9999-12-31T00:00:00.000Z',
    issuer: 'discovery',
    account: ACCOUNT,
    region: 'us-east-1',
    roleArn: ROLE_ARN,
    roleName: 'web-instance-role',
    sessionName: workload.sessionName,
    reusableSessionName: workload.reusableSessionName,
  };
  const entry = roleDenyEntryFor(credential, endedAt, MAX_HOURS, workload.reusableSessionName);
  if (!entry) throw new Error('no deny entry for the finding');
  const { workloadId: _omit, ...denyEntry } = entry;
  return denyEntry;
}

/**
 * 250 terminated instances ending at distinct times over the 24 hours before the finding, never-reused
 * names: with only the inline policy available they fit only when coarsened to whole hours.
 */
function pressure(): DenyEntry[] {
  const start = Date.parse('2024-05-13T17:00:00Z');
  return Array.from({ length: 250 }, (_, index) => ({
    sessionName: `i-1${index.toString(16).padStart(16, '0')}`,
    notAfter: new Date(start + index * 345_000 + 1_500).toISOString(),
    expiresAt: '2024-05-15T17:00:00.000Z',
    reusableName: false,
  }));
}

async function evaluate(rendered: RenderedPolicies, issuedAt: string): Promise<EvaluationResult> {
  const sundown: PolicyDocument[] = [...(rendered.inline ? [rendered.inline] : []), ...rendered.managed];
  const response = await runSimulation(
    {
      identityPolicies: [
        { name: 'role-permissions', policy: ALLOW_GET_OBJECT },
        ...sundown.map((policy, index) => ({ name: `sundown-${index}`, policy })),
      ],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/web-instance-role/${INSTANCE}`,
        action: 's3:GetObject',
        resource: { resource: 'arn:aws:s3:::workload-bucket/data.csv', accountId: ACCOUNT },
        contextVariables: { 'aws:userid': `${ROLE_ID}:${INSTANCE}`, 'aws:TokenIssueTime': issuedAt },
      },
    },
    {},
  );
  if (response.resultType === 'error')
    throw new Error(`simulation rejected its input: ${response.errors.message}`);
  return response.overallResult;
}

describe('a compromise finding on a live instance, evaluated by an IAM simulator', () => {
  const rendered = renderDenyPolicies([...pressure(), findingEntry()], {
    ...FRESH_ROLE_OPTIONS,
    maxManagedPolicies: 0,
  });

  it('renders under enough pressure that other bounds are coarsened to whole hours', () => {
    // Assess: the precondition of every case below.
    expect(rendered.coarsenedSeconds).toBe(3600);
    expect(rendered.unplaced).toEqual([]);
  });

  it('keeps the exact bound for the instance: the finding time rounded up to the second', () => {
    // Act
    const bounds = (rendered.inline?.Statement ?? [])
      .filter((s) => s.Condition.StringLike['aws:userid'].includes(`*:${INSTANCE}`))
      .map((s) => s.Condition.DateLessThan?.['aws:TokenIssueTime']);

    // Assess
    expect(bounds).toEqual(['2024-05-14T17:00:01Z']);
  });

  it.each([
    ['an hour before the finding (the stolen session)', '2024-05-14T16:00:00Z'],
    ['a second before the finding', '2024-05-14T16:59:59Z'],
  ])('denies a session issued %s', async (_label, issuedAt) => {
    // Act
    const result = await evaluate(rendered, issuedAt);

    // Assess
    expect(result).toBe('ExplicitlyDenied');
  });

  it('denies a session issued in the same second as the finding (documented trade-off)', async () => {
    // Act: IAM sees 17:00:00 for any session issued in 17:00:00.000-17:00:00.999. A stolen session issued
    // at 17:00:00.100 must be denied, so a refresh at 17:00:00.700 is denied as well.
    const result = await evaluate(rendered, '2024-05-14T17:00:00Z');

    // Assess
    expect(result).toBe('ExplicitlyDenied');
  });

  it.each([
    ['one second after the finding', '2024-05-14T17:00:01Z'],
    ['ten minutes after the finding', '2024-05-14T17:10:00Z'],
    ['59 minutes after the finding', '2024-05-14T17:59:00Z'],
  ])('allows the refreshed session issued %s', async (_label, issuedAt) => {
    // Act
    const result = await evaluate(rendered, issuedAt);

    // Assess
    expect(result).toBe('Allowed');
  });
});
