/**
 * `sundown local`: start the emulator (or use --endpoint), deploy the real
 * synthesized stack through CloudFormation, run its handlers in process,
 * write .sundown/local.json, run the demo, and keep processing events until
 * SIGINT/SIGTERM (or exit after the demo with --once).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { applyAwsEnv, LOCAL_ACCOUNT, LOCAL_REGION, type Target } from '../../local/aws-env.ts';
import { DEMO_HEADING, demoVerdict, runDemo } from '../../local/demo.ts';
import { deployStack, PROJECT_ROOT } from '../../local/deploy.ts';
import { type Emulator, startEmulator } from '../../local/emulator.ts';
import { startLocalRuntime } from '../../local/runtime.ts';
import { synthesizeCached } from '../../local/synth-cache.ts';
import { CliError } from '../errors.ts';
import { writeLocalState } from '../local-state.ts';

/** What `sundown local` prints before the demo. README.md quotes it (test/unit/readme-demo.test.ts). */
export const LOCAL_TEXT = {
  starting: 'Starting the AWS emulator (moto)...',
  deploying: (endpoint: string, region: string) =>
    `Synthesizing and deploying the Sundown stack into ${endpoint} (${region})...`,
  deployed: (d: {
    stackName: string;
    functions: number;
    queues: number;
    eventBus: string;
    credentialsTable: string;
    auditTable: string;
    stateFile: string;
  }) => [
    `Deployed stack ${d.stackName}: ${d.functions} functions, ${d.queues} queues polled.`,
    `  event bus:          ${d.eventBus}`,
    `  credentials table:  ${d.credentialsTable}`,
    `  audit table:        ${d.auditTable}`,
    `  state written to:   ${d.stateFile} (use --local with any sundown command)`,
  ],
};

interface LocalOptions {
  endpoint?: string;
  port?: string;
  once?: boolean;
  demo: boolean;
  region: string;
  verbose?: boolean;
}

export function registerLocal(program: Command): void {
  program
    .command('local')
    .description('deploy Sundown into a local AWS emulator and run it')
    .option('--endpoint <url>', 'use an already running AWS-compatible endpoint instead of starting moto')
    .option('--port <n>', 'port for the emulator (default: a free one)')
    .option('--once', 'run the demo scenario, print what happened, and exit (0 on success)')
    .option('--no-demo', 'deploy and process events until SIGINT/SIGTERM, without the demo')
    .option('--region <region>', 'region to deploy into', LOCAL_REGION)
    .option('--verbose', "print the handlers' logs and the deployment output")
    .action(async (opts: LocalOptions) => {
      if (!existsSync(path.join(PROJECT_ROOT, 'cdk.json'))) {
        throw new CliError(
          'sundown local deploys the CDK app of a clone of the repository (it is not in the installed package): ' +
            'git clone the Sundown repository, then npm install && npm start',
        );
      }
      process.exitCode = await runLocal(opts);
    });
}

function parsePort(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new CliError(`--port must be 1-65535, got "${raw}"`);
  return port;
}

async function runLocal(opts: LocalOptions): Promise<number> {
  const say = (line: string) => process.stdout.write(`${line}\n`);
  if (!opts.verbose) {
    process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  }
  let emulator: Emulator | undefined;
  const stopEmulator = async () => emulator?.stop();
  // Synthesis needs no endpoint (only the account and region): it runs while the emulator starts.
  const log = opts.verbose ? say : undefined;
  const synthTarget = {
    endpoint: opts.endpoint ?? 'http://localhost',
    region: opts.region,
    accountId: LOCAL_ACCOUNT,
  };
  const assembly = synthesizeCached({ target: synthTarget, ...(log ? { log } : {}) });
  assembly.catch(() => undefined); // awaited below (or settled before an error is reported)
  try {
    if (opts.endpoint) {
      try {
        new URL(opts.endpoint);
      } catch {
        throw new CliError(`--endpoint must be a URL like http://localhost:5000, got "${opts.endpoint}"`);
      }
    } else {
      say(LOCAL_TEXT.starting);
      emulator = await startEmulator({ port: parsePort(opts.port) });
    }
    const target: Target = {
      endpoint: (opts.endpoint ?? emulator?.endpoint) as string,
      region: opts.region,
      accountId: LOCAL_ACCOUNT,
    };
    applyAwsEnv(target);
    say(LOCAL_TEXT.deploying(target.endpoint, target.region));
    const stack = await deployStack({ target, cloudAssemblyDir: await assembly, log });
    const runtime = await startLocalRuntime({
      target,
      stack,
      onError: opts.verbose ? (m) => process.stderr.write(`${m}\n`) : undefined,
    });
    const file = writeLocalState({
      endpoint: target.endpoint,
      region: target.region,
      accountId: target.accountId,
      stackName: stack.stackName,
      outputs: stack.outputs,
      lambdaEndpoint: runtime.lambdaEndpoint,
      pid: process.pid,
    });
    const deployed = LOCAL_TEXT.deployed({
      stackName: stack.stackName,
      functions: runtime.model.functions.length,
      queues: runtime.model.eventSources.length,
      eventBus: stack.outputs.EventBusName ?? '',
      credentialsTable: stack.outputs.CredentialsTableName ?? '',
      auditTable: stack.outputs.AuditTableName ?? '',
      stateFile: file,
    });
    for (const line of deployed) say(line);

    let ok = true;
    if (opts.demo || opts.once) {
      say(`\n${DEMO_HEADING}`);
      const result = await runDemo(target, () => runtime.drain(60_000));
      for (const line of result.lines) say(`  ${line}`);
      ok = result.ok;
      say(demoVerdict(ok));
    }
    if (opts.once) {
      await runtime.stop();
      await stopEmulator();
      return ok ? 0 : 1;
    }
    say('\nProcessing events; press Ctrl-C to stop.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    say('Stopping...');
    await runtime.stop();
    await stopEmulator();
    return 0;
  } catch (err) {
    await stopEmulator();
    await assembly.catch(() => undefined); // no cdk process left running behind a failure
    throw err;
  }
}
