/**
 * Precision of the rendered deny, checked with a real IAM policy evaluator (@cloud-copilot/iam-simulate)
 * rather than with our own reading of the policy: the ended workload's sessions are denied, and nobody
 * else's are; in the inline policy and in the overflow managed policies alike.
 *
 * Time precision: IAM presents aws:TokenIssueTime in whole seconds, so each bound is the end rounded UP
 * to the whole second. The documented trade-off is that a session issued under the ended name in the
 * same second as the end, after it, is denied too (it cannot be told apart from one issued just before).
 */
import { type EvaluationResult, runSimulation } from '@cloud-copilot/iam-simulate';
import { describe, expect, it } from 'vitest';
import {
  type DenyEntry,
  FRESH_ROLE_OPTIONS,
  type PolicyDocument,
  type RenderedPolicies,
  renderDenyPolicies,
  UNBOUNDED_COARSENING,
} from '../../lambdas/revocation/deny-policy.ts';

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
  return evaluateDocuments(
    [...(rendered.inline ? [rendered.inline] : []), ...rendered.managed],
    sessionName,
    issuedAt,
  );
}

/** As {@link evaluate}, with exactly these Sundown documents attached (to show which one denies). */
async function evaluateDocuments(
  sundown: readonly PolicyDocument[],
  sessionName: string,
  issuedAt: string,
): Promise<EvaluationResult> {
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

describe('never-reused names denied without a time bound, evaluated by an IAM simulator', () => {
  // 400 instances that ended in the same second fill the inline policy (IAM's limit less 5%) only
  // without the date condition.
  const instances = Array.from({ length: 400 }, (_, index) =>
    entry(`i-1${index.toString(16).padStart(16, '0')}`),
  );
  const ended = (instances[123] as DenyEntry).sessionName;
  const unbounded = renderDenyPolicies(instances, {
    inlineBudget: 9_728,
    managedBudget: 5_836,
    maxManagedPolicies: 0,
  });

  it('renders every instance into one statement with no date condition', () => {
    expect(unbounded.unplaced).toEqual([]);
    expect(unbounded.coarsenedSeconds).toBe(UNBOUNDED_COARSENING);
    expect(unbounded.inline?.Statement).toHaveLength(1);
    expect(unbounded.inline?.Statement[0]?.Condition).not.toHaveProperty('DateLessThan');
  });

  it('denies an ended instance session, whenever it was issued', async () => {
    // Act
    const results = await Promise.all(
      ['2024-05-01T11:00:00Z', '2024-05-01T12:00:00Z', '2024-05-01T13:00:00Z'].map((issuedAt) =>
        evaluate(unbounded, ended, issuedAt),
      ),
    );

    // Assess: an instance ID is never given to another instance, so no successor can be denied.
    expect(results).toEqual(['ExplicitlyDenied', 'ExplicitlyDenied', 'ExplicitlyDenied']);
  });

  it('allows a live instance and names that merely contain or extend an ended one', async () => {
    // Act
    const results = await Promise.all(
      [LIVE_INSTANCE, `x${ended}`, `${ended}0`, ended.slice(0, -1)].map((name) =>
        evaluate(unbounded, name, '2024-05-01T11:00:00Z'),
      ),
    );

    // Assess
    expect(results).toEqual(['Allowed', 'Allowed', 'Allowed', 'Allowed']);
  });
});

/**
 * aws:TokenIssueTime as IAM presents it: the session's issue instant in whole seconds (the fraction is
 * dropped), ISO-8601 UTC.
 */
function tokenIssueTime(issuedAt: string): string {
  return new Date(Math.floor(Date.parse(issuedAt) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

describe('a session re-issued under the ended name around the end, evaluated by an IAM simulator', () => {
  // A reusable name (a Lambda function deleted at 12:00:00.250 and re-created with the same name).
  const rendered = renderDenyPolicies([entry(FUNCTION_NAME, { reusableName: true })], FRESH_ROLE_OPTIONS);

  it('denies a session re-issued in the same second as the end, after it: the known trade-off of rounding the bound UP to the whole second', async () => {
    // Prepare: the ended workload's last session and its successor's first are issued 600 ms apart, both
    // in second 12:00:00; IAM sees the same aws:TokenIssueTime for both.
    const endedSession = tokenIssueTime('2024-05-01T12:00:00.100Z');
    const reissued = tokenIssueTime('2024-05-01T12:00:00.700Z');

    // Act
    const [ended, successor] = await Promise.all([
      evaluate(rendered, FUNCTION_NAME, endedSession),
      evaluate(rendered, FUNCTION_NAME, reissued),
    ]);

    // Assess: rounding down instead would let the ended session live; Sundown denies both, and the
    // successor gets working credentials on its next issue (one second later at most).
    expect(reissued).toBe(endedSession);
    expect(rendered.inline?.Statement[0]?.Condition.DateLessThan?.['aws:TokenIssueTime']).toBe(
      '2024-05-01T12:00:01Z',
    );
    expect(ended).toBe('ExplicitlyDenied');
    expect(successor).toBe('ExplicitlyDenied');
  });

  it('allows a session re-issued in the next whole second after the end', async () => {
    // Act
    const result = await evaluate(rendered, FUNCTION_NAME, tokenIssueTime('2024-05-01T12:00:01.000Z'));

    // Assess
    expect(result).toBe('Allowed');
  });

  it('allows a session re-issued in the very second of an end that falls on a whole second (no rounding needed)', async () => {
    // Prepare
    const onTheSecond = renderDenyPolicies(
      [entry(FUNCTION_NAME, { reusableName: true, notAfter: '2024-05-01T12:00:00Z' })],
      FRESH_ROLE_OPTIONS,
    );

    // Act
    const [before, reissued] = await Promise.all([
      evaluate(onTheSecond, FUNCTION_NAME, tokenIssueTime('2024-05-01T11:59:59.900Z')),
      evaluate(onTheSecond, FUNCTION_NAME, tokenIssueTime('2024-05-01T12:00:00.400Z')),
    ]);

    // Assess
    expect(before).toBe('ExplicitlyDenied');
    expect(reissued).toBe('Allowed');
  });
});

describe('overflow managed policies, evaluated by an IAM simulator', () => {
  // 500 instances terminated at distinct times over eight minutes (exact bounds do not all fit inline), and
  // three deleted Lambda functions whose end is the latest: placed last, they sit in a managed policy.
  const instances = Array.from({ length: 500 }, (_, index) =>
    entry(`i-2${index.toString(16).padStart(16, '0')}`, {
      notAfter: new Date(Date.parse('2024-05-01T12:00:00.250Z') + index * 1_000).toISOString(),
    }),
  );
  const functions = ['orders-api', 'orders-worker', 'orders-cron'].map((name) =>
    entry(name, { reusableName: true, notAfter: '2024-05-01T12:10:00.250Z' }),
  );
  const rendered = renderDenyPolicies([...instances, ...functions], FRESH_ROLE_OPTIONS);
  const holders = (sessionName: string) =>
    [rendered.inline, ...rendered.managed].flatMap((doc, index) =>
      doc?.Statement.some((s) => s.Condition.StringLike['aws:userid'].includes(`*:${sessionName}`))
        ? [index === 0 ? 'inline' : `managed-${index - 1}`]
        : [],
    );

  it('renders inline plus managed policies (instance bounds coarsened), every entry placed once', () => {
    // Assess
    expect(rendered.managed.length).toBeGreaterThanOrEqual(1);
    expect(rendered.coarsenedSeconds).toBeGreaterThan(0);
    expect(rendered.unplaced).toEqual([]);
    for (const { sessionName } of [...instances, ...functions]) expect(holders(sessionName)).toHaveLength(1);
    expect(holders('orders-api')).toEqual([`managed-${rendered.managed.length - 1}`]);
  });

  it('denies a session whose deny sits in a managed policy, and only because of that policy', async () => {
    // Prepare
    const issuedBefore = '2024-05-01T12:05:00Z';

    // Act
    const [withEverything, inlineOnly] = await Promise.all([
      evaluate(rendered, 'orders-api', issuedBefore),
      evaluateDocuments(rendered.inline ? [rendered.inline] : [], 'orders-api', issuedBefore),
    ]);

    // Assess
    expect(withEverything).toBe('ExplicitlyDenied');
    expect(inlineOnly).toBe('Allowed');
  });

  it('denies the first and the last session of every managed policy issued before their end', async () => {
    // Prepare
    const names = rendered.managed.flatMap((doc) => {
      const values = doc.Statement.flatMap((s) => s.Condition.StringLike['aws:userid']);
      return [values[0], values.at(-1)].map((v) => (v as string).slice(2));
    });

    // Act
    const results = await Promise.all(names.map((name) => evaluate(rendered, name, '2024-05-01T11:00:00Z')));

    // Assess
    expect(results).toEqual(names.map(() => 'ExplicitlyDenied'));
  });

  it('allows a live session of the role, and a re-created function with an ended name after its end', async () => {
    // Act
    const [live, liveFunction, recreated] = await Promise.all([
      evaluate(rendered, LIVE_INSTANCE, '2024-05-01T11:00:00Z'),
      evaluate(rendered, 'orders-api-v2', '2024-05-01T11:00:00Z'),
      evaluate(rendered, 'orders-api', '2024-05-01T12:10:01Z'),
    ]);

    // Assess: reusable names keep their exact bound even when the instances' bounds are coarsened.
    expect(live).toBe('Allowed');
    expect(liveFunction).toBe('Allowed');
    expect(recreated).toBe('Allowed');
  });

  it('denies a function session re-issued in the same second as its end, after it (bounds round UP to the whole second)', async () => {
    // Act
    const result = await evaluate(rendered, 'orders-api', tokenIssueTime('2024-05-01T12:10:00.900Z'));

    // Assess
    expect(result).toBe('ExplicitlyDenied');
  });
});
