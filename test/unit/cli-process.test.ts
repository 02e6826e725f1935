/**
 * The CLI as an operator runs it (node bin/sundown.mjs): `--version`, and no warning noise on
 * ordinary commands. On Node.js below 22 the AWS SDK prints a six-line NodeVersionSupportWarning
 * whenever a client is created, unless AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED is "true".
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

function sundown(args: string[], env: Record<string, string | undefined> = {}) {
  const base = { ...process.env };
  delete base.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED; // CI exports it; the CLI must not need it
  const result = spawnSync(process.execPath, ['bin/sundown.mjs', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...base,
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'not-a-secret',
      AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// Creates AWS SDK clients, then fails fast: nothing listens on port 9 of the loopback.
const ORDINARY = ['credentials', 'list', '--endpoint', 'http://127.0.0.1:9', '--region', 'us-east-1'];

describe('sundown CLI process', () => {
  it('prints the package version with --version', () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

    const { status, stdout, stderr } = sundown(['--version']);

    expect(status).toBe(0);
    expect(stdout.trim()).toBe(version);
    expect(stderr).toBe('');
  });

  it('prints only its own one-line error on stderr for an ordinary command, no SDK warning', () => {
    const { status, stderr } = sundown(ORDINARY);

    expect(status).not.toBe(0);
    expect(stderr).not.toMatch(/Warning/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^sundown: /);
  });

  it('still shows the SDK warning to an operator who asks for it on Node.js < 22 (so the check above can fail)', () => {
    const { stderr } = sundown(ORDINARY, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' });

    const warns = Number(process.versions.node.split('.')[0]) < 22; // the SDK is silent on 22+
    expect(/NodeVersionSupportWarning/.test(stderr)).toBe(warns);
  });
});
