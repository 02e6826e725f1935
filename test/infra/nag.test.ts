/**
 * cdk-nag (AwsSolutions) as bin/app.ts applies it: no finding is left
 * unacknowledged, every acknowledgement has its reason, and a non-compliant
 * change is reported (so these tests can fail).
 */
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it, vi } from 'vitest';
import { parseConfig, parseSundownProps } from '../../lib/config.ts';
import type { SundownFunction } from '../../lib/constructs/sundown-function.ts';
import { applySundownNag } from '../../lib/nag.ts';
import { SundownStack } from '../../lib/stacks/sundown-stack.ts';
import { ACCOUNT, buildSundown, REGION, synthNagFindings, TEST_APP_PROPS } from './support.ts';

// The Sundown construct validates its props itself; one test below lets an invalid value through.
vi.mock('../../lib/config.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../lib/config.ts')>();
  return { ...actual, parseSundownProps: vi.fn(actual.parseSundownProps) };
});

const CONFIGURED = {
  stoppedEndsWorkload: true,
  allowlist: [
    '/workloads/',
    '/ci/builds/',
    `arn:aws:iam::${ACCOUNT}:role/fixed-worker`,
    `arn:aws:iam::${ACCOUNT}:user/ci-bot`,
  ],
  certificateAuthorityArns: [
    `arn:aws:acm-pca:${REGION}:${ACCOUNT}:certificate-authority/11111111-2222-3333-4444-555555555555`,
  ],
  brokerCallers: [`arn:aws:iam::${ACCOUNT}:role/caller`],
  auditSealArchive: true,
};

interface Acknowledgement {
  id: string;
  reason: string;
}

describe('cdk-nag AwsSolutions', () => {
  it('leaves no unacknowledged finding (error or warning) on the default app, nor a CloudFormation validation finding', () => {
    const { app } = buildSundown({}, { nag: true, cfnValidation: true });
    const { findings, error } = synthNagFindings(app);
    expect(findings).toEqual([]);
    expect(error).toBeUndefined();
  }, 60_000);

  it('leaves no unacknowledged finding with allowlist, CAs, broker callers, stoppedEndsWorkload and the seal archive set', () => {
    const { app } = buildSundown(CONFIGURED, { nag: true, cfnValidation: true });
    expect(synthNagFindings(app).findings).toEqual([]);
  }, 60_000);

  it('writes every acknowledgement, with a specific reason, into the template metadata', () => {
    const { app } = buildSundown({}, { nag: true });
    const template = app.synth().getStackByName('Sundown').template as {
      Resources: Record<
        string,
        { Type: string; Metadata?: { cdk_nag?: { rules_to_suppress: Acknowledgement[] } } }
      >;
    };
    const acknowledged = Object.values(template.Resources).flatMap((r) =>
      (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((ack) => ({ type: r.Type, ...ack })),
    );
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const ack of acknowledged) expect(ack.reason.length, ack.id).toBeGreaterThanOrEqual(60);
    const ids = (type: string) => new Set(acknowledged.filter((a) => a.type === type).map((a) => a.id));
    // Each acknowledgement sits on the resource it is about, and nowhere else.
    expect([...ids('AWS::Lambda::Function')]).toEqual(['AwsSolutions-L1']);
    expect([...ids('AWS::IAM::Role')]).toEqual([
      expect.stringMatching(/^AwsSolutions-IAM4\[.*AWSLambdaBasicExecutionRole\]$/),
    ]);
    expect([...ids('AWS::SQS::Queue')]).toEqual(['AwsSolutions-SQS3']);
    const policyAcks = [...ids('AWS::IAM::Policy')];
    expect(policyAcks.length).toBeGreaterThan(0);
    expect(policyAcks.filter((id) => !id.startsWith('AwsSolutions-IAM5['))).toEqual([]);
    expect(acknowledged.filter((a) => a.type === 'AWS::SQS::Queue')).toHaveLength(1); // only the delivery DLQ
  }, 60_000);

  it('fails synthesis on a non-compliant construct added to the stack', () => {
    const { app, stack } = buildSundown({}, { nag: true });
    new sqs.Queue(stack, 'Unprotected', { encryption: sqs.QueueEncryption.UNENCRYPTED });

    const { findings, error } = synthNagFindings(app);

    expect(error).toBeDefined();
    const rules = findings.filter((f) => f.paths.includes('Sundown/Unprotected/Resource')).map((f) => f.rule);
    expect(rules).toEqual(
      expect.arrayContaining(['AwsSolutions-SQS2', 'AwsSolutions-SQS3', 'AwsSolutions-SQS4']),
    );
    expect(findings.every((f) => f.paths.every((p) => p.startsWith('Sundown/Unprotected/')))).toBe(true);
  }, 60_000);

  it('fails synthesis on an IAM write on role/* without the opt-in condition, next to acknowledged ones', () => {
    const { app, stack } = buildSundown({}, { nag: true });
    const revoker = stack.sundown.node.findChild('Revoker') as SundownFunction;
    revoker.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PutRolePolicy'],
        resources: [`arn:aws:iam::${ACCOUNT}:role/*`],
      }),
    );

    const { findings, error } = synthNagFindings(app);

    expect(error).toBeDefined();
    expect(findings).toEqual([
      {
        rule: `AwsSolutions-IAM5[Resource::arn:aws:iam::${ACCOUNT}:role/*]`,
        severity: 'error',
        paths: ['Sundown/Default/Revoker/Function/ServiceRole/DefaultPolicy/Resource'],
      },
    ]);
  }, 60_000);

  it("reports CDK's CloudFormation validation findings where it is on (so the tests above can fail on one)", () => {
    const app = new App({ ...TEST_APP_PROPS, builtinCloudFormationValidation: true });
    const queue = new sqs.CfnQueue(new Stack(app, 'Other'), 'Invalid', { messageRetentionPeriod: 10 });
    queue.addPropertyOverride('NoSuchProperty', 1);

    const { findings } = synthNagFindings(app);

    expect(findings.filter((f) => f.paths.includes('Other/Invalid')).length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('fails synthesis on an allowlist of "/" (every role and user, without the tag)', () => {
    // The configuration schema refuses "/" outright ...
    expect(() => buildSundown({ allowlist: ['/'] })).toThrow(/"\/" alone would opt in every principal/);
    // ... and were it to slip through, cdk-nag still catches the unconditioned wildcard.
    vi.mocked(parseSundownProps).mockImplementationOnce(() => {
      const { stackName: _, ...settings } = parseConfig({});
      return { ...settings, allowlist: ['/'] };
    });
    const app = new App(TEST_APP_PROPS);
    new SundownStack(app, 'Sundown', {
      config: { ...parseConfig({}), allowlist: ['/'] },
      env: { account: ACCOUNT, region: REGION },
    });
    applySundownNag(app);

    const { findings, error } = synthNagFindings(app);

    expect(error).toBeDefined();
    expect(findings.map((f) => f.rule)).toEqual(
      expect.arrayContaining([
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::${ACCOUNT}:role/*]`,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::${ACCOUNT}:user/*]`,
      ]),
    );
  }, 60_000);
});
