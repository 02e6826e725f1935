import { type App, type Environment, Stack } from 'aws-cdk-lib';
import { InvalidConfigError, parseConfig, type SundownConfig } from './config.ts';
import { applySundownNag } from './nag.ts';
import { parseSpokeConfig, type SpokeConfig } from './spoke/config.ts';
import { SundownSpokeStack } from './spoke/spoke.ts';
import { SundownSpokeStackSet } from './spoke/stack-set.ts';
import { SundownStack } from './stacks/sundown-stack.ts';

/**
 * The stacks of the CDK app (bin/app.ts), from its context:
 * - `sundown` (default): the Sundown stack, single-account or, with `hub`, a hub;
 * - `sundownSpoke` alone: only the spoke stack (`SundownSpoke`), deployed in each workload account;
 * - `sundownSpoke` with `stackSet`: the hub stack and `<spoke stack name>StackSet`, the service-managed
 *   StackSets of spokes (deploy it from the management account or a StackSets delegated administrator).
 * cdk-nag runs on every stack.
 */
export function defineSundownApp(app: App, env: Environment): void {
  const spokeContext = app.node.tryGetContext('sundownSpoke') as unknown;
  const spoke = spokeContext === undefined ? undefined : parseSpokeConfig(spokeContext);
  if (spoke && !spoke.stackSet) {
    const { stackName, stackSet: _, ...settings } = spoke;
    // Environment-agnostic: it deploys into the account and region of the credentials.
    new SundownSpokeStack(app, stackName, settings);
  } else {
    const config = parseConfig(app.node.tryGetContext('sundown'));
    new SundownStack(app, config.stackName, {
      config,
      env,
      description: 'Sundown: revokes the credentials of ephemeral workloads when they end',
    });
    if (spoke?.stackSet) addSpokeStackSets(app, spoke, config);
  }
  // cdk-nag AwsSolutions on every synth: an unacknowledged error finding fails `cdk synth`.
  applySundownNag(app);
}

function addSpokeStackSets(app: App, spoke: SpokeConfig, config: SundownConfig): void {
  const { stackName, stackSet, part: _, ...settings } = spoke;
  if (!stackSet) return;
  const hub = config.hub;
  const mismatch = (what: string) => {
    throw new InvalidConfigError(`invalid spoke configuration (context key "sundownSpoke"): ${what}`);
  };
  if (!hub) mismatch('stackSet deploys spokes of a hub: set sundown.hub as well');
  if (settings.organizationId !== hub?.organizationId)
    mismatch("organizationId must be the hub's (sundown.hub.organizationId)");
  if (settings.externalId !== hub?.externalId)
    mismatch("externalId must be the hub's (sundown.hub.externalId)");
  if (settings.hubEventBusName !== `${config.stackName}-hub`) {
    mismatch(`hubEventBusName must be the hub's bus, ${config.stackName}-hub`);
  }
  const stack = new Stack(app, `${stackName}StackSet`, {
    description: 'Sundown: the StackSets that deploy a Sundown spoke into every account of the OUs',
  });
  new SundownSpokeStackSet(stack, 'Spokes', { spoke: settings, ...stackSet });
}
