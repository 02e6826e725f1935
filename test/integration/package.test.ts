/**
 * [slow: about 2-4 minutes; builds, packs and installs] The npm package as a consumer gets it:
 * build (tsc into dist/, prebundled functions into dist/assets/), `npm pack`, install the tarball
 * into a fresh CDK app next to aws-cdk-lib and constructs (offline from the npm cache: no esbuild,
 * no sources), then type-check and synthesize `new Sundown(...)` there, and run the packaged CLI.
 * Needs no emulator.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  devDependencies: Record<string, string>;
};

const CONSUMER_APP = `
import { App, Stack } from 'aws-cdk-lib';
import { Sundown, applySundownNag, trustSundownBroker } from 'sundown';
import * as iam from 'aws-cdk-lib/aws-iam';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Platform', { env: { account: '123456789012', region: 'us-east-1' } });
const sundown = new Sundown(stack, 'Sundown', { cloudTrail: 'existing', alarmEmails: ['ops@example.com'] });
const workers = new iam.Role(stack, 'Workers', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
trustSundownBroker(workers, sundown.brokerRole);
applySundownNag(app);
app.synth();
`;

const CONSUMER_TYPES = `
import { App, Stack } from 'aws-cdk-lib';
import { Sundown, type SundownProps } from 'sundown';

const props: SundownProps = { dryRun: true, maxSessionHours: { ec2: 2 }, sweepSchedule: 'rate(10 minutes)' };
const sundown: Sundown = new Sundown(new Stack(new App(), 'S'), 'Sundown', props);
export const roleArn: string = sundown.brokerRole.roleArn;
// @ts-expect-error the declarations type the props: a string is no boolean (unused if they were any)
new Sundown(new Stack(new App(), 'T'), 'Sundown', { dryRun: 'yes' });
`;

let work: string;
let app: string;

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 600_000,
  });
}

describe('the npm package [slow]', () => {
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'sundown-pack-'));
    // The build's emitting steps (npm run build also type-checks, which the unit project does).
    run(
      process.execPath,
      [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'scripts/bundle-lambdas.ts'],
      ROOT,
    );
    run(
      process.execPath,
      [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
      ROOT,
    );
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], ROOT)) as {
      filename: string;
      files: { path: string }[];
    }[];
    if (!packed) throw new Error('npm pack reported no tarball');
    writeFileSync(path.join(work, 'files.json'), JSON.stringify(packed.files.map((f) => f.path)));

    app = path.join(work, 'app');
    run('mkdir', ['-p', app], work);
    writeFileSync(
      path.join(app, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        private: true,
        type: 'module',
        dependencies: {
          sundown: `file:${path.join(work, packed.filename)}`,
          'aws-cdk-lib': pkg.devDependencies['aws-cdk-lib'],
          constructs: pkg.devDependencies.constructs,
        },
      }),
    );
    run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], app);
    writeFileSync(path.join(app, 'app.mjs'), CONSUMER_APP);
    writeFileSync(path.join(app, 'types.ts'), CONSUMER_TYPES);
  }, 900_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships built JavaScript, declarations and prebundled functions, and no TypeScript sources or tests', () => {
    const files = JSON.parse(readFileSync(path.join(work, 'files.json'), 'utf8')) as string[];

    expect(files).toEqual(
      expect.arrayContaining(['dist/lib/sundown.js', 'dist/lib/sundown.d.ts', 'dist/cli/main.js']),
    );
    for (const fn of ['broker', 'canary', 'revoker', 'sweeper', 'workload-ended', 'workload-started']) {
      expect(files).toContain(`dist/assets/${fn}/index.mjs`);
    }
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('test/') || f.includes('.test.'))).toEqual([]);
    // A consumer's synth must not need esbuild (nor Docker): it is not installed with the package.
    expect(existsSync(path.join(app, 'node_modules', 'esbuild'))).toBe(false);
  });

  it('synthesizes new Sundown(...) in a consumer app, with every function from its prebundled asset', () => {
    run(process.execPath, ['app.mjs'], app);

    const template = JSON.parse(
      readFileSync(path.join(app, 'cdk.out', 'Platform.template.json'), 'utf8'),
    ) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      Outputs: Record<string, unknown>;
    };
    const resources = Object.entries(template.Resources);
    const functions = resources.filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(7); // the pipeline's five, the audit sealer, use-after-revoke
    for (const [, fn] of functions) {
      expect(fn.Properties.Handler).toBe('index.handler');
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      const key = String((fn.Properties.Code as { S3Key: string }).S3Key).replace(/\.zip$/, '');
      expect(existsSync(path.join(app, 'cdk.out', `asset.${key}`, 'index.mjs'))).toBe(true);
    }
    const rules = resources.filter(([, r]) => r.Type === 'AWS::Events::Rule').map(([id]) => id);
    expect(rules.some((id) => id.startsWith('SundownEndTriggers'))).toBe(true);
    expect(rules.some((id) => id.startsWith('SundownStartTriggers'))).toBe(true);
    expect(rules.some((id) => id.startsWith('SundownBusTriggers'))).toBe(true);
    expect(resources.some(([, r]) => r.Type === 'AWS::CloudTrail::Trail')).toBe(false);
    expect(Object.keys(template.Outputs)).toEqual(
      expect.arrayContaining([expect.stringMatching(/BrokerRoleArn/)]),
    );
  });

  it("type-checks a consumer's TypeScript against the package's declarations", () => {
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          // aws-cdk-lib's own declarations need lib esnext.disposable; the consumer's code and
          // Sundown's declarations are still checked (the @ts-expect-error fails if they were any).
          skipLibCheck: true,
        },
        files: ['types.ts'],
      }),
    );

    const result = spawnSync(
      process.execPath,
      [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', '.'],
      {
        cwd: app,
        encoding: 'utf8',
      },
    );

    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('runs the packaged CLI from built JavaScript: --version, and local refused with a clear message', () => {
    const bin = path.join(app, 'node_modules', '.bin', 'sundown');

    const version = spawnSync(bin, ['--version'], { cwd: app, encoding: 'utf8' });
    const local = spawnSync(bin, ['local', '--once'], { cwd: app, encoding: 'utf8' });

    expect(version.stdout.trim()).toBe(pkg.version);
    expect(version.stderr).toBe('');
    expect(existsSync(path.join(app, 'node_modules', 'tsx'))).toBe(false);
    expect(local.status).toBe(1);
    expect(local.stderr).toMatch(/^sundown: sundown local deploys the CDK app of a clone of the repository/);
  });
});
