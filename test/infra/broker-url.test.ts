/**
 * The broker is reached through a Function URL with AuthType AWS_IAM (AWS verifies the caller), and
 * configured callers may invoke it only through that URL, never by a direct Invoke.
 */
import { describe, expect, it } from 'vitest';
import { ACCOUNT, arnRefOf, sundownTemplate } from './support.ts';

const CALLER = `arn:aws:iam::${ACCOUNT}:role/caller`;

function brokerFunctionId(resources: Record<string, { Type: string; Properties: Record<string, unknown> }>) {
  const id = Object.entries(resources).find(
    ([key, r]) => r.Type === 'AWS::Lambda::Function' && key.startsWith('Broker'),
  )?.[0];
  if (!id) throw new Error('no broker function');
  return id;
}

describe('the broker function URL', () => {
  it('uses AuthType AWS_IAM on the broker, without CORS', () => {
    const { template } = sundownTemplate();
    const resources = template.toJSON().Resources as Record<
      string,
      { Type: string; Properties: Record<string, unknown> }
    >;
    const urls = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Url');

    expect(urls).toHaveLength(1);
    expect(urls[0]?.Properties.AuthType).toBe('AWS_IAM');
    expect(urls[0]?.Properties.Cors).toBeUndefined();
    expect(arnRefOf(urls[0]?.Properties.TargetFunctionArn)).toBe(brokerFunctionId(resources));
  });

  it('grants each broker caller InvokeFunctionUrl (AWS_IAM only) and InvokeFunction only via the URL', () => {
    const { template } = sundownTemplate({ brokerCallers: [CALLER] });
    const permissions = Object.values(
      template.findResources('AWS::Lambda::Permission') as Record<
        string,
        { Properties: Record<string, unknown> }
      >,
    )
      .map((p) => p.Properties)
      .filter((p) => p.Principal === CALLER);

    expect(permissions.map((p) => p.Action).sort()).toEqual([
      'lambda:InvokeFunction',
      'lambda:InvokeFunctionUrl',
    ]);
    expect(permissions.find((p) => p.Action === 'lambda:InvokeFunctionUrl')?.FunctionUrlAuthType).toBe(
      'AWS_IAM',
    );
    expect(permissions.find((p) => p.Action === 'lambda:InvokeFunction')?.InvokedViaFunctionUrl).toBe(true);
  });

  it('grants nothing to anyone when no broker callers are configured', () => {
    const { template } = sundownTemplate();
    expect(Object.keys(template.findResources('AWS::Lambda::Permission'))).toEqual([]);
  });
});
