/**
 * Sundown's benchmarks (issue 7), every figure from one run against the local
 * emulator:
 *
 *   npm run bench              full run: 1 / 100 / 1,000 terminations over 1 and 10 roles,
 *                              writes bench/results.json and the tables in BENCHMARKS.md
 *   npm run bench -- --quick   smoke run for CI (1 and 20 terminations over 1 and 2 roles),
 *                              writes bench/results.quick.json, asserts no timing
 *
 * Exits 1 only when something is actually broken: a revocation Sundown lost,
 * a capacity point the revoker did not honour, or an error. Missed targets
 * are reported, not failed on.
 */

import { rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../local/deploy.ts';
import { runAuditAppends, runAuditVerify } from './audit-scale.ts';
import { measureBundles } from './bundle-cost.ts';
import { type CapacityConfirmation, computeCapacity, confirmCapacity } from './capacity.ts';
import { startBenchEnvironment } from './env.ts';
import { measureCpu, measureSdkCallCpu } from './handler-cost.ts';
import { markdown } from './markdown.ts';
import { runMultiAccountScenarios } from './multi-account.ts';
import { runNaiveBurst } from './naive.ts';
import { createNaiveDelivery } from './naive-delivery.ts';
import { machine, provenance } from './provenance.ts';
import { type Results, ratiosOf, type ScenarioResult } from './report.ts';
import { formatWithBiome, RESULTS_FILE, updateBenchmarksMd } from './results-file.ts';
import { allowDirty, check, only, partialRun, quick, SCENARIOS } from './scenarios.ts';
import { runSundownBurst } from './sundown-burst.ts';
import { evaluateTargets } from './targets.ts';
import { launchInstances, scenarioName, terminateInstances } from './workloads.ts';

const NAIVE_CONCURRENCY = 8;

const started = Date.now();
const log = (line: string) =>
  process.stdout.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

async function main(): Promise<number> {
  const source = provenance();
  // The full run writes the committed results (bench/results.json, BENCHMARKS.md): only from a
  // committed tree. Quick runs (CI's smoke run) write a git-ignored file and are marked either way.
  if (!partialRun && !source.clean && !allowDirty) {
    process.stderr.write(
      `bench: the working tree has uncommitted changes, so the results could not be traced to commit ${source.commit.slice(0, 12)}. Commit first, or pass --allow-dirty (the results are then marked dirty).\n`,
    );
    return 2;
  }
  const durations: Record<string, number> = {};
  const loadStart = os.loadavg();
  const time = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
    const t = Date.now();
    try {
      return await fn();
    } finally {
      durations[label] = Date.now() - t;
    }
  };

  log(
    `Sundown benchmarks (${quick ? 'quick' : only ? 'only' : 'full'}): ${SCENARIOS.map(([n, r, a, w]) => scenarioName(n, r, a, w)).join(', ')}`,
  );
  // SUNDOWN_BENCH_ASSEMBLY: deploy that cloud assembly instead of synthesizing (iterating on the bench).
  const givenAssembly = process.env.SUNDOWN_BENCH_ASSEMBLY;
  // Stale bundles of earlier synths would pile up in the bench's cloud assembly.
  if (!givenAssembly) {
    await rm(path.join(PROJECT_ROOT, 'cdk.out', 'bench-assembly'), { recursive: true, force: true });
  }
  // CPU per event first, while this process runs nothing else.
  log('handler cost: CPU per event (AWS calls excluded)...');
  const cpu = measureCpu(partialRun ? 100 : 500);
  // The multi-account scenarios first, in a hub deployment of their own (stopped before the next starts).
  const multiSpecs = SCENARIOS.filter(([, , a]) => a > 1);
  const multi = multiSpecs.length
    ? await runMultiAccountScenarios(
        multiSpecs.map(([n, r, a]) => [n, r, a] as const),
        NAIVE_CONCURRENCY,
        log,
        time,
      )
    : { scenarios: [], broken: [] };
  const env = await time('setup', () => startBenchEnvironment(log, givenAssembly));
  const broken: string[] = [...multi.broken];
  try {
    log('handler cost: bundle sizes and cold imports (Sundown paused)...');
    await env.pauseRuntime();
    const bundles = await time('bundles', () =>
      measureBundles(env.model.functions, partialRun ? 1 : 5, !partialRun),
    );
    log('handler cost: client-side CPU of one AWS SDK call...');
    const sdkCallCpuMs = await measureSdkCallCpu(
      env.clients.doc,
      env.stack.outputs.CredentialsTableName as string,
      partialRun ? 100 : 500,
    );
    await env.resumeRuntime();

    const delivery = await createNaiveDelivery(env);
    const scenarios: ScenarioResult[] = [];
    for (const [instances, roles, , iamWritesPerSecond] of SCENARIOS.filter(([, , a]) => a === 1)) {
      const name = scenarioName(instances, roles, 1, iamWritesPerSecond);
      const scenario = { name, instances, roles, ...(iamWritesPerSecond ? { iamWritesPerSecond } : {}) };
      // Both systems' IAM writes rationed while each runs (the driver's setup is not).
      const rationed = async <T>(run: () => Promise<T>): Promise<T> => {
        if (!iamWritesPerSecond) return run();
        await env.proxy.rationIamWrites(iamWritesPerSecond, iamWritesPerSecond);
        try {
          return await run();
        } finally {
          await env.proxy.rationIamWrites(0);
        }
      };
      log(`scenario ${name}: ${instances} instance(s) over ${roles} role(s)`);
      const launched = await launchInstances(env.clients, instances);
      if (launched.launched) await terminateInstances(env.clients, launched.ids);
      else log(`  (RunInstances failed in the emulator, using synthetic instance IDs: ${launched.error})`);
      const sundown = await time(`sundown ${name}`, () =>
        rationed(() => runSundownBurst(env, scenario, launched.ids, log)),
      );
      log(
        `  sundown ${name}: ${sundown.revoked}/${instances} revoked in ${(sundown.timing.endToEndMs / 1000).toFixed(1)} s, lost ${sundown.lost}, ${sundown.perWorkload.handlerCalls} calls/workload`,
      );
      if (sundown.lost > 0)
        broken.push(
          `Sundown lost ${sundown.lost} revocation(s) in ${name}: ${JSON.stringify(sundown.lostDetail)}`,
        );
      const naive = await time(`naive ${name}`, () =>
        rationed(() => runNaiveBurst(env, delivery, scenario, launched.ids, NAIVE_CONCURRENCY, log)),
      );
      log(
        `  naive   ${name}: handled all in ${(naive.timing.endToEndMs / 1000).toFixed(1)} s, lost ${naive.lost}, ${naive.perWorkload.handlerCalls} calls/workload`,
      );
      scenarios.push({
        scenario: name,
        instances,
        roles,
        ...(iamWritesPerSecond ? { iamWritesPerSecond } : {}),
        launchedInstances: launched.launched,
        sundown,
        naive,
        ratios: ratiosOf(sundown, naive),
      });
    }
    scenarios.push(...multi.scenarios);

    log('capacity: renderDenyPolicies with the real budgets...');
    const rows = computeCapacity();
    const confirmations: CapacityConfirmation[] = [];
    for (const mode of partialRun
      ? (['inline-only'] as const)
      : (['inline-only', 'with-overflow'] as const)) {
      const c = await time(`capacity ${mode}`, () => confirmCapacity(env, mode, log));
      log(
        `  capacity ${mode}: predicted ${c.predicted}, denied ${c.deniedAtLimit}, one more -> ${c.statusPastLimit}`,
      );
      if (!c.ok) broken.push(`capacity ${mode} was not honoured by the revoker: ${JSON.stringify(c)}`);
      confirmations.push(c);
    }

    log('audit: 8 concurrent writers x 200 sharded appends, then verify of 100,000 records offline...');
    const appends = await time('audit appends', () =>
      runAuditAppends(
        env.target,
        env.stack.outputs.AuditTableName as string,
        Number(env.stack.outputs.AuditShards),
      ),
    );
    log(
      `  audit appends: ${appends.records} records by ${appends.writers} writers in ${appends.elapsedMs} ms: ${appends.cancelled} cancelled, ${appends.throttled} throttled, ${appends.leases.acquired} shard leases taken (${appends.leases.conflicts} refused, ${appends.leases.fallbacks} fallbacks), ${appends.headReads} head reads, ${appends.writeRequestsPerRecord} write requests and ${appends.itemsWrittenPerRecord} items written per record`,
    );
    if (appends.records !== appends.writers * appends.perWriter)
      broken.push(`audit appends lost records: ${JSON.stringify(appends)}`);
    const verify = await time('audit verify', () => runAuditVerify(100_000, 16));
    log(
      `  audit verify: ${verify.records} records, ${verify.seals} seals, ok ${verify.ok}, ${verify.elapsedMs} ms`,
    );
    if (!verify.ok) broken.push(`audit verify rejected an intact generated trail: ${JSON.stringify(verify)}`);
    durations.total = Date.now() - started;
    const partial = {
      scenarios,
      capacity: { rows, confirmations },
      handlers: { bundles, cpu, sdkCallCpuMs },
    };
    const results: Results = {
      mode: quick ? 'quick' : only ? 'only' : 'full',
      date: new Date().toISOString(),
      commit: source.commit,
      treeClean: source.clean,
      machine: machine(),
      loadAverage: { start: loadStart, end: os.loadavg() },
      cloudAssembly: givenAssembly ?? 'synthesized from the working tree (cdk.out/bench-assembly)',
      emulator: {
        endpoint: env.emulator.endpoint,
        serializesRequests: true,
        speedups: [
          'EventBridge: jsonpath parsers memoized (moto rebuilt one per delivered event, ~150 ms each)',
          'DynamoDB TransactWriteItems: rollback snapshot of the named items only (moto deep-copied whole tables per call)',
          'DynamoDB: responses written with json.dumps (moto serialized ~0.55 ms per returned item)',
          'SQS: queue attributes computed once per call and the clock read once per scan of the messages (moto scanned the queue ~30 times per ReceiveMessage and per message sent)',
          'DynamoDB: condition and update expressions parsed once per distinct expression (moto parsed each condition three times per written item)',
          'DynamoDB: a plain `SET #a = :a, ...` on an existing item sets the values directly (moto ran ten validator walks and a stream copy per item)',
          'every service: the list of moto service packages made once (moto listed its package directory twice per request, ~1.6 ms each)',
          'DynamoDB: an item measured once against the 400 KB limit (moto re-measured every attribute on each insertion)',
          "DynamoDB Query on a table's key: only the queried partition is sorted (moto sorted the whole table)",
        ],
        workarounds: [
          "event source mappings disabled before the local runtime deletes them (moto's DeleteEventSourceMapping leaves them on the queue, which then moves messages to the DLQ under bursts)",
        ],
      },
      naiveConcurrency: NAIVE_CONCURRENCY,
      durationsMs: durations,
      ...partial,
      audit: { appends, verify },
      targets: evaluateTargets({ ...partial, audit: { appends, verify } }),
      broken,
    };
    await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
    formatWithBiome(RESULTS_FILE);
    if (!partialRun && !givenAssembly) await updateBenchmarksMd(results, log);
    process.stdout.write(`\n${markdown(results)}\n\n`);
    for (const t of results.targets) {
      process.stdout.write(`${t.met ? 'PASS' : 'FAIL'}  ${t.target}: ${t.measured}\n`);
    }
    const missed = results.targets.filter((t) => !t.met);
    if (check && missed.length > 0) broken.push(`${missed.length} target(s) missed (--check)`);
    log(
      `results written to ${path.relative(PROJECT_ROOT, RESULTS_FILE)}${partialRun ? '' : ' and BENCHMARKS.md'}`,
    );
  } finally {
    await env.stop();
  }
  if (broken.length > 0) {
    for (const b of broken) process.stderr.write(`BROKEN: ${b}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
