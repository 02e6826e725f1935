/**
 * The `sundown` package's public face: the `Sundown` construct and what a CDK app needs around it.
 *
 * ```ts
 * import { Sundown, applySundownNag, trustSundownBroker } from 'sundown';
 * const sundown = new Sundown(stack, 'Sundown', { cloudTrail: 'existing' });
 * trustSundownBroker(workersRole, sundown.brokerRole);
 * ```
 */
export { InvalidConfigError, parseConfig, type SundownConfig } from './config.ts';
export { BROKER_TRUST_ACTIONS, trustSundownBroker } from './constructs/broker-trust.ts';
export { OPT_IN_TAG, SUNDOWN_POLICY_PATH } from './constructs/revocation-permissions.ts';
export { applySundownNag } from './nag.ts';
export { Sundown, SundownStack, type SundownStackProps } from './stacks/sundown-stack.ts';
export type { CanaryProps, MaxSessionHours, SundownProps } from './sundown-props.ts';
