#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { parseConfig } from '../lib/config.ts';
import { applySundownNag } from '../lib/nag.ts';
import { SundownStack } from '../lib/stacks/sundown-stack.ts';

const app = new App();
const config = parseConfig(app.node.tryGetContext('sundown'));
new SundownStack(app, config.stackName, {
  config,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  description: 'Sundown: revokes the credentials of ephemeral workloads when they end',
});
// cdk-nag AwsSolutions on every synth: an unacknowledged error finding fails `cdk synth`.
applySundownNag(app);
