/**
 * Issue 19's bench scenarios: N terminations spread evenly over A accounts (a hub and its spokes,
 * see accounts.ts), R opted-in roles in each account, Sundown and the naive baseline side by side
 * in the same emulator, as the single-account scenarios are.
 *
 * They get a deployment of their own (a second emulator, started after the single-account one has
 * stopped, so neither competes with the other for the 2 cores): Sundown synthesized as a hub
 * (`hub.accounts`), the spoke stack created in each spoke account. The single-account scenarios
 * keep the default single-account deployment, so their numbers stay comparable across runs.
 *
 * Instance i runs in account i mod A, on role (i div A) mod R of that account. Sundown's handlers
 * enter the spokes only by assuming the spoke roles (in process, through the counting proxy, so
 * those AssumeRole calls are counted as Sundown's own). The baseline does the same work across
 * accounts: a worker assumes a role in an event's account once (a client cached per account, its
 * AssumeRole counted) and writes the deny there, with the same concurrency as everywhere else.
 */
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { IAMClient } from '@aws-sdk/client-iam';
import { workloadIndexItems } from '../lambdas/registry/index.ts';
import { batchWriteAll } from '../lambdas/shared/adapters/dynamo-batch.ts';
import { RETRY } from '../lambdas/shared/clients.ts';
import { PROJECT_ROOT } from '../local/deploy.ts';
import {
  accountsOf,
  clientsIn,
  credentialsIn,
  deploySpoke,
  instancesFor,
  type Log,
  MULTI_ACCOUNT_DELIVERY,
  type Placement,
  place,
  roleOfWorkload,
  rolesIn,
  SPOKE_ACCOUNTS,
  sendAll,
  serviceEventsQueueUrl,
  terminatedEnvelope,
} from './accounts.ts';
import type { BurstResult } from './burst-result.ts';
import { type RoleDenyState, roleDenyState } from './deny-state.ts';
import {
  type BenchClients,
  type BenchEnvironment,
  drainQueues,
  naiveClients,
  startBenchEnvironment,
} from './env.ts';
import { naiveResult } from './naive.ts';
import { createNaiveDelivery, type NaiveDelivery } from './naive-delivery.ts';
import { startWorkers } from './naive-worker.ts';
import { cpuDelta, cpuSnapshot } from './process-cpu.ts';
import { NAIVE_USER_AGENT } from './proxy.ts';
import { registryItems, sessionRecord } from './registry-sessions.ts';
import { ratiosOf, type ScenarioResult } from './report.ts';
import { sundownResult, writeTrace } from './sundown-burst.ts';
import { type Scenario, scenarioName } from './workloads.ts';

async function runSundown(
  env: BenchEnvironment,
  scenario: Scenario,
  ids: readonly string[],
  p: Placement,
  clients: Map<string, BenchClients>,
  queueUrl: string,
  log: Log,
): Promise<BurstResult> {
  const roles = await rolesIn(clients, `bench-sd-${scenario.name}`, scenario.roles);
  log(`  sundown ${scenario.name}: registering ${ids.length} sessions in ${clients.size} accounts...`);
  const issuedAt = new Date().toISOString();
  const items = ids.map((id, i) =>
    sessionRecord(
      { region: env.target.region, accountId: p.accountOf[i] as string },
      id,
      roleOfWorkload(roles, p, i).arn,
      issuedAt,
    ),
  );
  await batchWriteAll(
    env.clients.doc,
    env.stack.outputs.CredentialsTableName as string,
    [...items, ...workloadIndexItems(items)].map((Item) => ({ PutRequest: { Item } })),
  );
  const workloadArns = items.map((r) => r.workloadId);
  const active = (await registryItems(env, new Set(workloadArns))).filter((r) => r.status === 'active');
  if (active.length !== ids.length)
    throw new Error(`expected ${ids.length} active sessions after registration, found ${active.length}`);

  const errorsBefore = env.runtimeErrors.length;
  const mark = await env.proxy.mark();
  const endedAtMs = Date.now();
  const bodies = ids.map((id, i) =>
    terminatedEnvelope(env.target.region, p.accountOf[i] as string, id, new Date(endedAtMs)),
  );
  const cpuBefore = cpuSnapshot(env);
  log(`  sundown ${scenario.name}: sending ${bodies.length} end events to the hub's ServiceEvents queue...`);
  const { firstPutAt, lastPutAt, acceptedAt } = await sendAll(env.clients.sqs, queueUrl, bodies);
  await drainQueues(env.clients.sqs, env.sourceQueueUrls);
  const settledAt = Date.now();
  const cpu = cpuDelta(cpuBefore, cpuSnapshot(env));
  const allCalls = await env.proxy.calls(mark);
  const calls = allCalls.filter((c) => c.t0 >= firstPutAt && c.caller === 'app');
  writeTrace(env, scenario, allCalls, firstPutAt);

  // Read back in each role's own account.
  const states = new Map<string, RoleDenyState[]>();
  for (const [account, list] of roles) {
    const iam = { clients: clients.get(account) as BenchClients };
    states.set(account, await Promise.all(list.map((r) => roleDenyState(iam, r.name))));
  }
  return sundownResult(env, scenario, ids, {
    workloadArns,
    states: [...states.values()].flat(),
    stateOf: (i) => (states.get(p.accountOf[i] as string) ?? [])[p.roleIndexOf[i] as number] as RoleDenyState,
    window: { endedAtMs, firstPutAt, lastPutAt, settledAt, acceptedAt, cpu, errorsBefore, calls },
  });
}

async function runNaive(
  env: BenchEnvironment,
  delivery: NaiveDelivery,
  scenario: Scenario,
  ids: readonly string[],
  p: Placement,
  clients: Map<string, BenchClients>,
  concurrency: number,
  log: Log,
): Promise<BurstResult> {
  const roles = await rolesIn(clients, `bench-naive-${scenario.name}`, scenario.roles);
  const roleOf = new Map(ids.map((id, i) => [id, roleOfWorkload(roles, p, i).name]));
  const naive = naiveClients(env.target);
  // A client per account, made on first use by an event of that account (its AssumeRole counted).
  const iamByAccount = new Map<string, Promise<IAMClient>>();
  const iamFor = (account = env.target.accountId) => {
    let iam = iamByAccount.get(account);
    if (!iam) {
      iam = credentialsIn(env.target, account, NAIVE_USER_AGENT, 'bench-naive-revoker').then((credentials) =>
        credentials
          ? new IAMClient({
              endpoint: env.target.endpoint,
              region: env.target.region,
              customUserAgent: NAIVE_USER_AGENT,
              credentials,
              ...RETRY,
            })
          : naive.iam,
      );
      iamByAccount.set(account, iam);
    }
    return iam;
  };
  log(
    `  naive   ${scenario.name}: ${concurrency} workers, ${ids.length} terminations in ${clients.size} accounts...`,
  );
  // Sundown's pollers are stopped while the baseline runs: they neither compete nor count.
  await env.pauseRuntime();
  try {
    const workers = startWorkers(iamFor, naive.sqs, delivery.queueUrl, roleOf, concurrency);
    const mark = await env.proxy.mark();
    const endedAtMs = Date.now();
    const bodies = ids.map((id, i) =>
      terminatedEnvelope(env.target.region, p.accountOf[i] as string, id, new Date(endedAtMs)),
    );
    const cpuBefore = cpuSnapshot(env);
    const { firstPutAt, lastPutAt, acceptedAt } = await sendAll(env.clients.sqs, delivery.queueUrl, bodies);
    await drainQueues(env.clients.sqs, [delivery.queueUrl], { busy: workers.busy });
    const settledAt = Date.now();
    const cpu = cpuDelta(cpuBefore, cpuSnapshot(env));
    await workers.stop();
    const calls = (await env.proxy.calls(mark)).filter((c) => c.t0 >= firstPutAt && c.caller === 'naive');
    const readBack = [...roles].flatMap(([account, list]) =>
      list.map((r) => ({ name: r.name, iam: (clients.get(account) as BenchClients).iam })),
    );
    return naiveResult(scenario, ids, readBack, roleOf, workers.outcome, calls, {
      firstPutAt,
      lastPutAt,
      settledAt,
      acceptedAt,
      cpu,
    });
  } finally {
    await env.resumeRuntime();
  }
}

/**
 * Runs the multi-account scenarios ([instances, roles per account, accounts]) in a hub deployment of
 * their own; returns their results and anything broken (a revocation Sundown lost).
 */
export async function runMultiAccountScenarios(
  specs: readonly (readonly [number, number, number])[],
  naiveConcurrency: number,
  log: Log,
  time: <T>(label: string, fn: () => Promise<T>) => Promise<T>,
): Promise<{ scenarios: ScenarioResult[]; broken: string[] }> {
  const outDir = path.join(PROJECT_ROOT, 'cdk.out', 'bench-hub-assembly');
  const givenAssembly = process.env.SUNDOWN_BENCH_HUB_ASSEMBLY;
  if (!givenAssembly) await rm(outDir, { recursive: true, force: true });
  log(`hub deployment for the multi-account scenarios (spokes ${SPOKE_ACCOUNTS.join(', ')})...`);
  const env = await time('setup hub', async () => {
    const e = await startBenchEnvironment(log, givenAssembly, {
      config: { hub: { accounts: [...SPOKE_ACCOUNTS] } },
      outDir,
    });
    for (const account of SPOKE_ACCOUNTS) await deploySpoke(e.target, account);
    return e;
  });
  const scenarios: ScenarioResult[] = [];
  const broken: string[] = [];
  try {
    const queueUrl = await serviceEventsQueueUrl(env);
    const delivery = await createNaiveDelivery(env);
    for (const [instances, roles, accounts] of specs) {
      const name = scenarioName(instances, roles, accounts);
      const scenario: Scenario = { name, instances, roles, accounts };
      log(`scenario ${name}: ${instances} instance(s) over ${accounts} accounts x ${roles} role(s)`);
      const clients = new Map<string, BenchClients>();
      for (const account of accountsOf(env.target, accounts))
        clients.set(account, await clientsIn(env.target, account));
      const p = place(instances, roles, [...clients.keys()]);
      const { ids, launched } = await instancesFor(p, clients, log);
      const sundown = await time(`sundown ${name}`, () =>
        runSundown(env, scenario, ids, p, clients, queueUrl, log),
      );
      log(
        `  sundown ${name}: ${sundown.revoked}/${instances} revoked in ${(sundown.timing.endToEndMs / 1000).toFixed(1)} s, lost ${sundown.lost}, ${sundown.perWorkload.handlerCalls} calls/workload`,
      );
      if (sundown.lost > 0)
        broken.push(
          `Sundown lost ${sundown.lost} revocation(s) in ${name}: ${JSON.stringify(sundown.lostDetail)}`,
        );
      const naive = await time(`naive ${name}`, () =>
        runNaive(env, delivery, scenario, ids, p, clients, naiveConcurrency, log),
      );
      log(
        `  naive   ${name}: handled all in ${(naive.timing.endToEndMs / 1000).toFixed(1)} s, lost ${naive.lost}, ${naive.perWorkload.handlerCalls} calls/workload`,
      );
      scenarios.push({
        scenario: name,
        instances,
        roles,
        accounts,
        delivery: MULTI_ACCOUNT_DELIVERY,
        launchedInstances: launched,
        sundown,
        naive,
        ratios: ratiosOf(sundown, naive),
      });
    }
  } finally {
    await env.stop();
  }
  return { scenarios, broken };
}
