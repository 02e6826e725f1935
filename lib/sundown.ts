/**
 * The `sundown` package's public face: the `Sundown` construct and what a CDK app needs around it.
 *
 * ```ts
 * import { Sundown, applySundownNag, trustSundownBroker } from 'sundown';
 * const sundown = new Sundown(stack, 'Sundown', { cloudTrail: 'existing' });
 * trustSundownBroker(workersRole, sundown.brokerRole);
 * ```
 *
 * Several accounts: `new Sundown(stack, 'Sundown', { hub: { organizationId: 'o-...' } })` in the hub,
 * a `SundownSpoke` (or `SundownSpokeStack`, or `SundownSpokeStackSet` for whole OUs) in each workload account.
 */
export { InvalidConfigError, parseConfig, type SundownConfig } from './config.ts';
export { BROKER_TRUST_ACTIONS, trustSundownBroker } from './constructs/broker-trust.ts';
export { OPT_IN_TAG, SUNDOWN_POLICY_PATH } from './constructs/revocation-permissions.ts';
export { applySundownNag } from './nag.ts';
export type { SpokePart } from './spoke/config.ts';
export {
  SundownSpoke,
  type SundownSpokeProps,
  SundownSpokeStack,
  type SundownSpokeStackProps,
} from './spoke/spoke.ts';
export { SundownSpokeStackSet, type SundownSpokeStackSetProps } from './spoke/stack-set.ts';
export { Sundown, SundownStack, type SundownStackProps } from './stacks/sundown-stack.ts';
export type { CanaryProps, HubProps, MaxSessionHours, SundownProps } from './sundown-props.ts';
