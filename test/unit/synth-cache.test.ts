import { describe, expect, it } from 'vitest';
import { synthKey } from '../../local/synth-cache.ts';

const target = { endpoint: 'http://localhost:1', region: 'us-east-1', accountId: '123456789012' };

describe('synthKey (which cached assembly `sundown local` and the tests may reuse)', () => {
  it('is the same for the same sources and inputs, whatever the endpoint', () => {
    expect(synthKey({ target })).toBe(synthKey({ target: { ...target, endpoint: 'http://localhost:5000' } }));
  });

  it('differs when the CDK context, the account or the region differs', () => {
    const base = synthKey({ target });
    const keys = [
      synthKey({ target, context: { sundown: '{"dryRun":true}' } }),
      synthKey({ target, context: { sundown: '{"dryRun":false}' } }),
      synthKey({ target: { ...target, accountId: '222222222222' } }),
      synthKey({ target: { ...target, region: 'eu-west-1' } }),
    ];
    expect(new Set([base, ...keys]).size).toBe(keys.length + 1);
  });

  it('does not depend on the order the context is given in', () => {
    expect(synthKey({ target, context: { a: '1', b: '2' } })).toBe(
      synthKey({ target, context: { b: '2', a: '1' } }),
    );
  });
});
