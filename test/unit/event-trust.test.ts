import { describe, expect, it } from 'vitest';
import { untrustedReason } from '../../lambdas/shared/handlers/event-trust.ts';

const ctx = { fromSundownBus: false, account: '123456789012' };
const onBus = { ...ctx, fromSundownBus: true };

describe('event trust', () => {
  it("accepts AWS service events from the default bus in Sundown's account", () => {
    expect(untrustedReason({ source: 'aws.ec2', account: '123456789012' }, ctx)).toBeUndefined();
  });

  it("accepts source sundown on Sundown's bus", () => {
    expect(untrustedReason({ source: 'sundown', account: '123456789012' }, onBus)).toBeUndefined();
  });

  it("rejects an AWS-looking event on Sundown's bus", () => {
    expect(untrustedReason({ source: 'aws.ec2', account: '123456789012' }, onBus)).toMatch(
      /not accepted on Sundown's bus/,
    );
  });

  it("rejects a custom source on Sundown's bus and on the default bus", () => {
    expect(untrustedReason({ source: 'acme.deployer', account: '123456789012' }, onBus)).toMatch(
      /only "sundown"/,
    );
    expect(untrustedReason({ source: 'sundown', account: '123456789012' }, ctx)).toMatch(/only aws\.\*/);
  });

  it('rejects events from another account and events without an account', () => {
    expect(untrustedReason({ source: 'aws.ec2', account: '999999999999' }, ctx)).toMatch(
      /unexpected account "999999999999"/,
    );
    expect(untrustedReason({ source: 'aws.ec2' }, ctx)).toBe('event has no account field');
  });

  it('leaves malformed events to the classifier', () => {
    expect(untrustedReason('not an event', ctx)).toBeUndefined();
    expect(untrustedReason({ detail: {} }, ctx)).toBeUndefined();
  });
});
