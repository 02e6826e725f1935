#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { defineSundownApp } from '../lib/app.ts';

// The Sundown stack by default; a spoke, or a hub with its spokes' StackSets, by context (lib/app.ts).
defineSundownApp(new App(), {
  account: process.env.CDK_DEFAULT_ACCOUNT,
  region: process.env.CDK_DEFAULT_REGION,
});
