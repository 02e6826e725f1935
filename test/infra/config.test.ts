/**
 * The `sundown` context value: defaults, and invalid settings failing synth
 * with a message that names the setting.
 */
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { InvalidConfigError, parseConfig } from '../../lib/config.ts';

describe('parseConfig', () => {
  it('applies the documented defaults when the context key is absent', () => {
    const config = parseConfig(undefined);
    expect(config).toMatchObject({
      stackName: 'Sundown',
      stoppedEndsWorkload: false,
      dryRun: false,
      allowlist: [],
      certificateAuthorityArns: [],
      brokerMaxDurationSeconds: 3600,
      cloudTrail: 'create',
      retentionDays: 90,
      maxSessionHours: {
        ec2: 6,
        ecs: 6,
        batch: 6,
        codebuild: 8,
        lambda: 12,
        custom: 12,
        accessKeySessions: 36,
      },
    });
  });

  it('reads the JSON string `cdk -c sundown=...` passes, as bin/app.ts does', () => {
    const app = new App({ context: { sundown: '{"dryRun":true,"allowlist":["/workloads/"]}' } });
    expect(parseConfig(app.node.tryGetContext('sundown'))).toMatchObject({
      dryRun: true,
      allowlist: ['/workloads/'],
    });
  });

  const invalid: [string, unknown, RegExp][] = [
    ['a wrong type', { dryRun: 'yes' }, /dryRun/],
    ['an unknown (misspelled) setting', { stoppedEndsWorkloads: true }, /stoppedEndsWorkloads/],
    [
      'an allowlist entry that is neither an ARN nor a path prefix',
      { allowlist: ['workers'] },
      /allowlist\.0/,
    ],
    ['a session lifetime above 36 hours', { maxSessionHours: { ec2: 48 } }, /maxSessionHours\.ec2/],
    [
      'a CA that is not an ACM Private CA ARN',
      { certificateAuthorityArns: ['arn:aws:s3:::bucket'] },
      /certificateAuthorityArns\.0/,
    ],
    ['a broker duration below the STS minimum', { brokerMaxDurationSeconds: 60 }, /brokerMaxDurationSeconds/],
    [
      'a broker duration above the one-hour cap on role chaining',
      { brokerMaxDurationSeconds: 3601 },
      /brokerMaxDurationSeconds: must be at most 3600 seconds: .*role chaining/,
    ],
    [
      "a broker duration AWS allows only for a role's own sessions (12 h)",
      { brokerMaxDurationSeconds: 43_200 },
      /brokerMaxDurationSeconds/,
    ],
    ['a stack name CloudFormation rejects', { stackName: '1-sundown' }, /stackName/],
    ['zero retention days', { retentionDays: 0 }, /retentionDays/],
    [
      'a CloudTrail choice other than create or existing',
      { cloudTrail: 'none' },
      /cloudTrail: must be "create"/,
    ],
  ];

  it.each(invalid)('fails on %s, naming the setting', (_case, raw, setting) => {
    expect(() => parseConfig(raw)).toThrow(InvalidConfigError);
    expect(() => parseConfig(raw)).toThrow(setting);
    expect(() => parseConfig(raw)).toThrow(/invalid sundown configuration \(context key "sundown"\)/);
  });

  it('accepts broker durations from 900 s up to the one-hour role-chaining cap', () => {
    expect(parseConfig({ brokerMaxDurationSeconds: 900 }).brokerMaxDurationSeconds).toBe(900);
    expect(parseConfig({ brokerMaxDurationSeconds: 3600 }).brokerMaxDurationSeconds).toBe(3600);
  });

  it('fails on a context value that is not JSON', () => {
    expect(() => parseConfig('{dryRun: true')).toThrow(InvalidConfigError);
    expect(() => parseConfig('{dryRun: true')).toThrow(/context key "sundown" is not valid JSON/);
  });
});
