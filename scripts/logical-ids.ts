/**
 * The logical IDs (and resource types) and output names of Sundown's synthesized template: a
 * deployed stack's resources are replaced when their logical ID changes, so this list is a contract
 * (test/infra/logical-ids.test.ts compares it with test/fixtures/logical-ids.json).
 *
 * After deliberately adding, removing or renaming a resource, regenerate the fixture and review the diff:
 *   npx tsx scripts/logical-ids.ts > test/fixtures/logical-ids.json
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseConfig } from '../lib/config.ts';
import { SundownStack } from '../lib/stacks/sundown-stack.ts';

/** Configurations whose templates differ in which resources exist: the defaults, and every optional resource. */
export const LOGICAL_ID_CONFIGS: Record<string, Record<string, unknown>> = {
  default: {},
  everything: {
    alarmEmails: ['ops@example.com'],
    brokerCallers: ['arn:aws:iam::123456789012:role/ci-runner'],
    eventPublishers: ['arn:aws:iam::123456789012:role/scheduler'],
    certificateAuthorityArns: [
      'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555',
    ],
    allowlist: ['/workloads/'],
  },
  existingTrail: { cloudTrail: 'existing' },
};

export interface LogicalIds {
  resources: Record<string, string>;
  outputs: string[];
}

/** The stack as bin/app.ts builds it (bundling skipped: asset contents never change a logical ID). */
export function logicalIds(config: Record<string, unknown>): LogicalIds {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new SundownStack(app, 'Sundown', {
    config: parseConfig(config),
    env: { account: '123456789012', region: 'us-east-1' },
  });
  const template = Template.fromStack(stack).toJSON() as {
    Resources: Record<string, { Type: string }>;
    Outputs?: Record<string, unknown>;
  };
  const resources = Object.fromEntries(
    Object.entries(template.Resources)
      .map(([id, r]) => [id, r.Type] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
  return { resources, outputs: Object.keys(template.Outputs ?? {}).sort() };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const all = Object.fromEntries(
    Object.entries(LOGICAL_ID_CONFIGS).map(([name, c]) => [name, logicalIds(c)]),
  );
  process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
}
