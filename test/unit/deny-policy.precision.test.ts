/**
 * Precision of the rendered deny, checked with a real IAM policy evaluator (@cloud-copilot/iam-simulate)
 * rather than with our own reading of the policy: the ended workload's sessions are denied, and nobody
 * else's are.
 */
import { type EvaluationResult, runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import {
  type DenyEntry,
  FRESH_ROLE_OPTIONS,
  type PolicyDocument,
  type RenderedPolicies,
  renderDenyPolicies,
} from '../../lambdas/shared/domain/deny-policy.ts';

const ACCOUNT = '123456789012';
const ROLE_ID = 'AROAEXAMPLEROLEID1234';
const ENDED_INSTANCE = 'i-0aaaaaaaaaaaaaaaa';
const LIVE_INSTANCE = 'i-0bbbbbbbbbbbbbbbb';
const FUNCTION_NAME = 'orders-processor';
const END = '2024-05-01T12:00:00.250Z';

/** The role's own permissions, which Sundown's deny must override only for the dead workload. */
const ALLOW_GET_OBJECT = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
};

function entry(sessionName: string, overrides: Partial<DenyEntry> = {}): DenyEntry {
  return { sessionName, notAfter: END, expiresAt: '2024-05-01T18:00:00Z', reusableName: false, ...overrides };
}

/**
 * Evaluates s3:GetObject by a session of the role, with the role's allow policy plus every document
 * Sundown rendered attached as identity policies, and returns the library's `overallResult`.
 */
async function evaluate(
  rendered: RenderedPolicies,
  sessionName: string,
  issuedAt: string,
): Promise<EvaluationResult> {
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
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/WorkloadRole/${sessionName}`,
        action: 's3:GetObject',
        resource: { resource: 'arn:aws:s3:::workload-bucket/data.csv', accountId: ACCOUNT },
        contextVariables: { 'aws:userid': `${ROLE_ID}:${sessionName}`, 'aws:TokenIssueTime': issuedAt },
      },
    },
    {},
  );
  if (response.resultType === 'error')
    throw new Error(`simulation rejected its input: ${response.errors.message}`);
  return response.overallResult;
}

describe('rendered deny, evaluated by an IAM simulator', () => {
  const exact = renderDenyPolicies([entry(ENDED_INSTANCE)], FRESH_ROLE_OPTIONS);

  it('denies the ended workload session issued before the end', async () => {
    // Act
    const result = await evaluate(exact, ENDED_INSTANCE, '2024-05-01T11:00:00Z');

    // Assess
    expect(exact.coarsenedSeconds).toBe(0);
    expect(result).toBe('ExplicitlyDenied');
  });

  it('denies the ended workload session issued in the same second as the end', async () => {
    // Act: the end was 12:00:00.250; IAM sees second precision, so the bound is rounded up to 12:00:01.
    const result = await evaluate(exact, ENDED_INSTANCE, '2024-05-01T12:00:00Z');

    // Assess
    expect(result).toBe('ExplicitlyDenied');
  });

  it('allows a live session of another instance on the same role', async () => {
    // Act
    const result = await evaluate(exact, LIVE_INSTANCE, '2024-05-01T11:00:00Z');

    // Assess
    expect(result).toBe('Allowed');
  });

  it('allows sessions whose names merely contain or extend the ended name', async () => {
    // Act
    const results = await Promise.all(
      [`x${ENDED_INSTANCE}`, `${ENDED_INSTANCE}0`, ENDED_INSTANCE.slice(0, -1)].map((name) =>
        evaluate(exact, name, '2024-05-01T11:00:00Z'),
      ),
    );

    // Assess
    expect(results).toEqual(['Allowed', 'Allowed', 'Allowed']);
  });

  it('allows a new session with the same name issued after the end when bounds are exact', async () => {
    // Act
    const result = await evaluate(exact, ENDED_INSTANCE, '2024-05-01T12:00:01Z');

    // Assess
    expect(result).toBe('Allowed');
  });

  it('denies sessions placed in an overflow managed policy', async () => {
    // Prepare: 600 instances sharing the end overflow the inline policy; the ended one sorts last.
    const instances = Array.from({ length: 600 }, (_, index) => `i-0${index.toString(16).padStart(16, '0')}`);
    const overflowing = renderDenyPolicies(
      [...instances.map((name) => entry(name)), entry('i-0ffffffffffffffff')],
      FRESH_ROLE_OPTIONS,
    );

    // Act
    const result = await evaluate(overflowing, 'i-0ffffffffffffffff', '2024-05-01T11:00:00Z');

    // Assess
    expect(overflowing.managed.length).toBeGreaterThan(0);
    expect(overflowing.unplaced).toEqual([]);
    expect(result).toBe('ExplicitlyDenied');
  });

  describe('when other entries are coarsened', () => {
    // 400 terminated instances ending at distinct times over an hour, plus one deleted Lambda function.
    const instances = Array.from({ length: 400 }, (_, index) =>
      entry(`i-1${index.toString(16).padStart(16, '0')}`, {
        notAfter: new Date(Date.parse('2024-05-01T11:30:00Z') + index * 9_000).toISOString(),
      }),
    );
    const coarsened = renderDenyPolicies([...instances, entry(FUNCTION_NAME, { reusableName: true })], {
      ...FRESH_ROLE_OPTIONS,
      maxManagedPolicies: 0,
    });

    it('still denies the deleted function session issued before the end', async () => {
      // Act
      const result = await evaluate(coarsened, FUNCTION_NAME, '2024-05-01T11:59:59Z');

      // Assess
      expect(coarsened.coarsenedSeconds).toBeGreaterThan(0);
      expect(coarsened.unplaced).toEqual([]);
      expect(result).toBe('ExplicitlyDenied');
    });

    it('allows a re-created function with the same reusable name after the end', async () => {
      // Act
      const result = await evaluate(coarsened, FUNCTION_NAME, '2024-05-01T12:00:01Z');

      // Assess
      expect(result).toBe('Allowed');
    });

    it('denies a never-reused instance name up to its coarsened bound, which is harmless', async () => {
      // Prepare
      const first = instances[0] as DenyEntry;
      const afterExactEnd = new Date(Date.parse(first.notAfter) + 1_000)
        .toISOString()
        .replace(/\.\d+Z$/, 'Z');

      // Act
      const result = await evaluate(coarsened, first.sessionName, afterExactEnd);

      // Assess
      expect(result).toBe('ExplicitlyDenied');
    });

    it('allows a live instance not in the deny list', async () => {
      // Act
      const result = await evaluate(coarsened, LIVE_INSTANCE, '2024-05-01T11:00:00Z');

      // Assess
      expect(result).toBe('Allowed');
    });
  });
});
