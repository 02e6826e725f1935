/**
 * `npm run check:cycles`: no import cycles among Sundown's sources (a cycle makes module load order,
 * and so what is undefined at import time, depend on which file is imported first).
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'an import cycle: break it by moving the shared piece into a module both sides import',
      from: {},
      to: { circular: true },
    },
    {
      name: 'triggers-stay-pure',
      severity: 'error',
      comment:
        'lib/ imports lambdas/triggers/ to build the EventBridge rules (#17): nothing a trigger reaches may be the AWS SDK, the Lambda runtime (powertools, clients, adapters, the registry, audit, the broker, use-after-revoke, the canary, opt-in, workload roles and registration) or aws-cdk-lib',
      from: { path: '^lambdas/triggers/' },
      to: {
        reachable: true,
        path: [
          '^node_modules/(@aws-sdk|@smithy|@aws-lambda-powertools|aws-cdk-lib|constructs|aws-lambda)/',
          '^lambdas/shared/(adapters|services|handlers)/',
          '^lambdas/(audit|registry|broker|use-after-revoke|canary|opt-in|workload-roles|registration)/',
          '^lambdas/shared/(clients|powertools|bootstrap|runtime-config)[.]ts$',
        ],
      },
    },
    {
      name: 'audit-and-registry-through-index',
      severity: 'error',
      comment:
        'the runtime, CLI and bench reach lambdas/audit/ and lambdas/registry/ through their index.ts, their public face (#17); lib/ (synth time, pure modules only) and tests may import the files',
      from: {
        path: '^(lambdas|cli|bench|local|scripts)/',
        pathNot: ['^lambdas/(audit|registry)/'],
      },
      to: { path: '^lambdas/(audit|registry)/', pathNot: '^lambdas/(audit|registry)/index[.]ts$' },
    },
    {
      name: 'revocation-through-index',
      severity: 'error',
      comment:
        "the runtime's other capabilities, its handlers and the CLI reach lambdas/revocation/ through its index.ts, its public face (#17); lambdas/shared/services/deps.ts names the store's type directly (through the index it would be a type cycle: intake takes ServiceDeps), and the bench and tests may measure or test a part",
      from: {
        path: '^(lambdas|cli|local|scripts)/',
        pathNot: ['^lambdas/revocation/', '^lambdas/shared/services/deps[.]ts$'],
      },
      to: { path: '^lambdas/revocation/', pathNot: '^lambdas/revocation/index[.]ts$' },
    },
    {
      name: 'sweep-through-index',
      severity: 'error',
      comment:
        'the sweeper handler, the CLI and the rest of the runtime reach lambdas/sweep/ through its index.ts (#17); tests may test a pass directly',
      from: { path: '^(lambdas|cli|local|scripts|bench)/', pathNot: '^lambdas/sweep/' },
      to: { path: '^lambdas/sweep/', pathNot: '^lambdas/sweep/index[.]ts$' },
    },
    ...['broker', 'use-after-revoke', 'canary', 'opt-in', 'workload-roles', 'registration'].map((folder) => ({
      name: `${folder}-through-index`,
      severity: 'error',
      comment: `everything outside lambdas/${folder}/ (tests included) reaches it through its index.ts, its public face (#17); handler.ts is the entry point, found by path at synth time, and imported by nothing`,
      from: { pathNot: `^lambdas/${folder}/` },
      to: { path: `^lambdas/${folder}/`, pathNot: `^lambdas/${folder}/index[.]ts$` },
    })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|cdk\\.out)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
