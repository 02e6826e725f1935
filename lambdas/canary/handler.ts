/**
 * The scheduled revocation canary (./canary.ts). Thin; two ways in:
 *
 * - SQS: the schedule rule's ticks, through the CanaryTicks queue (no input; one drill per batch).
 *   A drill that fails is reported by the `DrillFailed` metric (alarmed), not retried: the next tick
 *   runs a new drill. Only a crash (e.g. a timeout of the function) returns the tick to the queue,
 *   and repeated crashes reach its DLQ, which is alarmed too.
 * - Lambda Invoke: `{}`, answered with the drill's report (no secrets in it).
 *
 * The probe is a real iam:GetRole with the session (./probe.ts). moto
 * does not enforce IAM, so the local runtime builds this handler with `withEmulatorProbe`, passing
 * the IAM simulator's probe (local/simulator-probe.ts), which is never bundled here.
 */
import { randomBytes } from 'node:crypto';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { SQSBatchResponse } from 'aws-lambda';
import { AuditLog } from '../audit/index.ts';
import { CredentialRegistry } from '../registry/index.ts';
import { clients, lazyClients, RETRY } from '../shared/clients.ts';
import { isSqsEvent } from '../shared/handlers/batch-response.ts';
import { logger, metrics } from '../shared/powertools.ts';
import { readCanaryConfig } from '../shared/runtime-config.ts';
import {
  CANARY_DIMENSIONS,
  type CanaryDeps,
  type CanaryReport,
  type Evaluation,
  runCanary,
} from './canary.ts';
import type { DrillDeps } from './drill.ts';
import { auditTypesOf, brokerIssuer, deployedBroker, workloadEnder } from './drill-effects.ts';
import { awsProbe } from './probe.ts';

const config = readCanaryConfig();
const roleArn = config.SUNDOWN_CANARY_ROLE_ARN;
const roleName = roleArn.split('/').pop() as string;
const doc = clients.dynamo();
const PROBE_INTERVAL_MS = 1_000;

/** What the local runtime replaces: the probe (moto enforces no IAM) and the broker's URL. */
export interface EmulatorOverrides {
  probe: (roleName: string) => DrillDeps['probe'];
  evaluation: Evaluation;
  note: string;
  /** moto serves no function URL: the local runtime's URL of a function. */
  functionUrl: (functionName: string) => URL;
}

function makeHandler(overrides?: EmulatorOverrides) {
  const broker = deployedBroker(
    new LambdaClient(RETRY),
    config.SUNDOWN_CANARY_BROKER_FUNCTION,
    config.AWS_REGION,
    overrides?.functionUrl,
  );
  const deps: CanaryDeps = {
    issue: brokerIssuer(broker, new CredentialRegistry(doc, config.SUNDOWN_CREDENTIALS_TABLE), roleArn),
    end: workloadEnder(lazyClients.events, config.SUNDOWN_EVENT_BUS),
    probe: overrides ? overrides.probe(roleName) : awsProbe(roleName, config.AWS_REGION),
    auditTypes: auditTypesOf(new AuditLog(doc, config.SUNDOWN_AUDIT_TABLE, 'main')),
    now: () => Date.now(),
    sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms)),
    // Published at once, with the canary's dimension only (never mixed into the revoker's metrics).
    record: (name, unit, value) =>
      metrics.singleMetric().addDimensions(CANARY_DIMENSIONS).addMetric(name, unit, value),
    evaluation: overrides?.evaluation ?? 'aws-call',
    ...(overrides ? { note: overrides.note } : {}),
  };

  const drill = async (): Promise<CanaryReport> => {
    const report = await runCanary(deps, {
      workloadPrefix: `canary-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
      timeoutMs: config.SUNDOWN_CANARY_TIMEOUT_SECONDS * 1000,
      intervalMs: PROBE_INTERVAL_MS,
    });
    if (report.ok) logger.info('revocation canary: drill succeeded', { ...report });
    else logger.error('revocation canary: drill FAILED', { ...report });
    return report;
  };

  return async (event: unknown): Promise<SQSBatchResponse | CanaryReport> => {
    if (isSqsEvent(event)) {
      await drill();
      return { batchItemFailures: [] };
    }
    const keys = event && typeof event === 'object' ? Object.keys(event) : [];
    if (keys.length > 0) throw new Error(`invalid canary request: expected {}, got keys ${keys.join(', ')}`);
    return drill();
  };
}

export const handler = makeHandler();

/** The handler against an emulator (local/runtime.ts): the simulator's probe, the runtime's broker URL. */
export const withEmulatorProbe = (overrides: EmulatorOverrides) => makeHandler(overrides);
