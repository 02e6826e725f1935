/**
 * The stack and the functions agree on every function's environment: the stack sets each variable
 * the function's schema (lambdas/shared/runtime-config.ts FUNCTION_ENVIRONMENTS) requires, sets no
 * SUNDOWN_ variable the function does not read (a misspelt or dead setting), and every literal it
 * sets parses with the schema. A new function must declare its environment there to pass.
 */
import { describe, expect, it } from 'vitest';
import { FUNCTION_ENVIRONMENTS } from '../../lambdas/shared/runtime-config.ts';
import { SundownFunction } from '../../lib/constructs/sundown-function.ts';
import { logicalIdOf, sundownTemplate } from './support.ts';

type Resources = Record<string, { Properties: { Environment?: { Variables?: Record<string, unknown> } } }>;

function environments(config: Record<string, unknown>) {
  const { stack, template } = sundownTemplate(config);
  const resources = template.toJSON().Resources as Resources;
  return stack.node
    .findAll()
    .filter((c): c is SundownFunction => c instanceof SundownFunction)
    .map((f) => ({
      dir: f.handlerDir,
      variables: resources[logicalIdOf(f.fn)]?.Properties.Environment?.Variables ?? {},
    }));
}

describe.each([
  ['the default stack', {}],
  [
    'a stack with every optional setting',
    {
      auditSealArchive: true,
      canary: { enabled: true },
      dryRun: true,
      stoppedEndsWorkload: true,
      allowlist: ['/workloads/'],
      certificateAuthorityArns: [
        'arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/11111111-2222-3333-4444-555555555555',
      ],
    },
  ],
  ['a hub (organization)', { hub: { organizationId: 'o-a1b2c3d4e5' } }],
  [
    'a hub (listed accounts, external ID)',
    { hub: { accounts: ['111111111111'], externalId: 'sundown-hub-7' } },
  ],
])('function environments of %s', (_, config) => {
  const fns = environments(config);

  it('finds every function, each with a declared environment', () => {
    expect(fns.map((f) => f.dir).sort()).toEqual(
      expect.arrayContaining([
        'broker',
        'revoker',
        'workload-ended',
        ...('canary' in config ? ['canary'] : []),
      ]),
    );
    for (const f of fns) expect(Object.keys(FUNCTION_ENVIRONMENTS), f.dir).toContain(f.dir);
  });

  it('sets every variable a function requires, and no SUNDOWN_ variable it does not read', () => {
    for (const { dir, variables } of fns) {
      const schema = FUNCTION_ENVIRONMENTS[dir];
      if (!schema) continue;
      const read = Object.keys(schema.shape);
      // AWS_REGION and the like are set by Lambda itself.
      const required = read.filter(
        (k) => k.startsWith('SUNDOWN_') && !schema.shape[k]?.safeParse(undefined).success,
      );
      const set = Object.keys(variables).filter((k) => k.startsWith('SUNDOWN_'));
      expect(
        set.filter((k) => !read.includes(k)),
        `${dir} sets variables it never reads`,
      ).toEqual([]);
      expect(
        required.filter((k) => !set.includes(k)),
        `${dir} lacks required variables`,
      ).toEqual([]);
    }
  });

  it('sets values the functions accept', () => {
    for (const { dir, variables } of fns) {
      const schema = FUNCTION_ENVIRONMENTS[dir];
      for (const [key, value] of Object.entries(variables)) {
        // Values resolved at deploy time (Ref, GetAtt, Join) are checked in the integration tests.
        if (typeof value !== 'string' || !schema?.shape[key]) continue;
        const parsed = schema.shape[key].safeParse(value);
        expect(parsed.success, `${dir} ${key}=${value}: ${parsed.error?.message}`).toBe(true);
      }
    }
  });
});
