/** Builders for EventBridge PutEvents entries from the documented event fixtures in test/events. */
import { readFileSync } from 'node:fs';
import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { GetRolePolicyCommand, type IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import { type EvaluationResult, runSimulation } from '@cloud-copilot/iam-simulate';

export function fixture(name: string): {
  source: string;
  'detail-type': string;
  detail: Record<string, unknown>;
  resources?: string[];
} {
  return JSON.parse(readFileSync(new URL(`../events/${name}.json`, import.meta.url), 'utf8'));
}

/** An entry shaped like the fixture, with its detail patched. */
export function entryFrom(
  name: string,
  patch: (detail: Record<string, unknown>) => void,
  opts: { resources?: string[]; time?: Date; bus?: string } = {},
): PutEventsRequestEntry {
  const f = fixture(name);
  const detail = structuredClone(f.detail);
  patch(detail);
  return {
    Source: f.source,
    DetailType: f['detail-type'],
    Detail: JSON.stringify(detail),
    Resources: opts.resources ?? [],
    Time: opts.time ?? new Date(),
    ...(opts.bus ? { EventBusName: opts.bus } : {}),
  };
}

export function sundownEvent(
  bus: string,
  detailType: string,
  detail: Record<string, unknown>,
): PutEventsRequestEntry {
  return {
    Source: 'sundown',
    DetailType: detailType,
    Detail: JSON.stringify(detail),
    EventBusName: bus,
    Time: new Date(),
  };
}

export interface DenyStatement {
  /** DateLessThan is absent for never-reused names when the policy is full (render.ts rule 3). */
  Condition: { StringLike: { 'aws:userid': string[] }; DateLessThan?: { 'aws:TokenIssueTime': string } };
}

/** The session names Sundown's inline policy on a role denies ([] when there is none). */
export async function deniedOn(iam: IAMClient, roleName: string): Promise<string[]> {
  try {
    const res = await iam.send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: 'SundownRevokedSessions' }),
    );
    const doc = JSON.parse(decodeURIComponent(res.PolicyDocument ?? '')) as { Statement: DenyStatement[] };
    return doc.Statement.flatMap((s) => s.Condition.StringLike['aws:userid'])
      .map((v) => v.replace(/^\*:/, ''))
      .sort();
  } catch (err) {
    if (err instanceof NoSuchEntityException || /not attached/.test(String(err))) return [];
    throw err;
  }
}

/**
 * Evaluates s3:GetObject by session `sessionName` of role `roleName` with an independent IAM policy
 * evaluator (@cloud-copilot/iam-simulate): the role allows it, and `policies` (the deny documents as
 * read back from IAM) are attached too. `issuedAt` is aws:TokenIssueTime, in whole seconds.
 */
export async function evaluateSession(opts: {
  policies: readonly unknown[];
  roleName: string;
  sessionName: string;
  issuedAt: string;
  roleId?: string;
  account?: string;
}): Promise<EvaluationResult> {
  const account = opts.account ?? '123456789012';
  const res = await runSimulation(
    {
      identityPolicies: [
        {
          name: 'role-permissions',
          policy: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
          },
        },
        ...opts.policies.map((policy, i) => ({
          name: `sundown-${i}`,
          policy: policy as Record<string, unknown>,
        })),
      ],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        principal: `arn:aws:sts::${account}:assumed-role/${opts.roleName}/${opts.sessionName}`,
        action: 's3:GetObject',
        resource: { resource: 'arn:aws:s3:::bucket/key', accountId: account },
        contextVariables: {
          'aws:userid': `${opts.roleId ?? 'AROAEXAMPLEROLEID0001'}:${opts.sessionName}`,
          'aws:TokenIssueTime': opts.issuedAt,
        },
      },
    },
    {},
  );
  if (res.resultType === 'error') throw new Error(`simulation rejected its input: ${res.errors.message}`);
  return res.overallResult;
}
