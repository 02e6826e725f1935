/**
 * The canary's outside effects for the drill (./drill.ts), on AWS:
 *
 * - issue: a SigV4-signed POST to the broker's Function URL (AuthType AWS_IAM), as any workload
 *   calls it. The broker refuses a direct Invoke (no verified caller), so the URL is the only way
 *   in; the broker records the canary's role as the caller, with the reason. The URL is read once
 *   (lambda:GetFunctionUrlConfig on the broker only). The issued credential is then read back from
 *   the registry (its session name and issue time: the broker recorded it before returning it).
 * - end: `Workload Ended` on Sundown's bus, the event `sundown end` and the CLI drill put.
 * - auditTypes: the ended workload's audit records, through the byWorkload index.
 *
 * The response body of a successful issue holds the session's secret; it is parsed here and only
 * the credentials object is handed on (to the probe). No body, header or credential is ever put
 * into an error message or a log line.
 */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetFunctionUrlConfigCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { AuditLog } from '../audit/index.ts';
import type { CredentialRegistry } from '../registry/index.ts';
import {
  postRequest,
  type SigningCredentials,
  signLambdaUrlRequest,
} from '../shared/adapters/function-url-client.ts';
import { type ClientSource, clientOf } from '../shared/clients.ts';
import type { BrokerResponse } from '../shared/schemas/broker.ts';
import { WorkloadEndedDetailSchema } from '../triggers/index.ts';
import { type DrillSession, drillSessionOf } from './drill.ts';

export const CANARY_REASON =
  'sundown canary: a scheduled revocation drill session, revoked when the canary ends its workload';
/** The shortest session STS issues: the drill needs it for a few minutes at most. */
const SESSION_SECONDS = 900;

export interface BrokerUrlSource {
  /** The broker's Function URL. */
  url(): Promise<URL>;
  /** The credentials to sign with (the function's own role). */
  credentials(): Promise<SigningCredentials>;
  region: string;
}

/**
 * The deployed broker's URL, read once from Lambda (or from `urlOf`: an emulator serves no function
 * URL of its own); requests are signed with the Lambda client's credentials (the function's role).
 */
export function deployedBroker(
  lambda: LambdaClient,
  functionName: string,
  region: string,
  urlOf?: (functionName: string) => URL,
): BrokerUrlSource {
  let url: Promise<URL> | undefined;
  const read = async () => {
    if (urlOf) return urlOf(functionName);
    const config = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: functionName }));
    if (!config.FunctionUrl) throw new Error(`the broker ${functionName} has no function URL`);
    return new URL(config.FunctionUrl);
  };
  return {
    url: () => {
      url ??= read().catch((err: unknown) => {
        url = undefined;
        throw err;
      });
      return url;
    },
    credentials: () => lambda.config.credentials(),
    region,
  };
}

/** Issues a session of `roleArn` for a workload through the broker, read back from the registry. */
export function brokerIssuer(
  broker: BrokerUrlSource,
  registry: CredentialRegistry,
  roleArn: string,
): (workloadId: string) => Promise<DrillSession> {
  return async (workloadId) => {
    const url = await broker.url();
    const body = JSON.stringify({
      action: 'issue-session',
      role: roleArn,
      workloadId,
      durationSeconds: SESSION_SECONDS,
      reason: CANARY_REASON,
    });
    const headers = await signLambdaUrlRequest(
      { method: 'POST', url, headers: { 'content-type': 'application/json' }, body },
      await broker.credentials(),
      broker.region,
    );
    const res = await postRequest(url, headers, body);
    let parsed: Partial<BrokerResponse> & { code?: string; error?: string; Message?: string };
    try {
      parsed = JSON.parse(res.text);
    } catch {
      throw new Error(`the broker answered HTTP ${res.status} without a JSON body`);
    }
    if (parsed.ok !== true || !('session' in parsed) || !parsed.session) {
      const why =
        typeof parsed.ok === 'boolean'
          ? `${parsed.code ?? 'error'}: ${parsed.error ?? 'no session'}`
          : `the URL refused the request${parsed.Message ? ` (${parsed.Message})` : ''}`;
      throw new Error(`the broker issued no session (HTTP ${res.status}, ${why})`);
    }
    const { credentialId } = parsed.session;
    const record = await registry.get(credentialId);
    if (!record?.sessionName) throw new Error(`the broker did not record ${credentialId}`);
    return drillSessionOf({ ...record, sessionName: record.sessionName }, parsed.session);
  };
}

/** Puts `Workload Ended` for the workload on Sundown's bus. */
export function workloadEnder(
  events: ClientSource<EventBridgeClient>,
  busName: string,
): (workloadId: string) => Promise<void> {
  return async (workloadId) => {
    const detail = WorkloadEndedDetailSchema.parse({ workloadId, reason: 'sundown canary' });
    const res = await (await clientOf(events)).send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: busName,
            Source: 'sundown',
            DetailType: 'Workload Ended',
            Detail: JSON.stringify(detail),
            Resources: [],
          },
        ],
      }),
    );
    const entry = res.Entries?.[0];
    if ((res.FailedEntryCount ?? 0) > 0 || !entry?.EventId) {
      throw new Error(
        `EventBridge refused the event: ${entry?.ErrorCode ?? ''} ${entry?.ErrorMessage ?? ''}`,
      );
    }
  };
}

/** The workload's audit record types, in time order (merged over the shard chains). */
export function auditTypesOf(audit: AuditLog): (workloadId: string) => Promise<string[]> {
  return async (workloadId) =>
    (await audit.query({ workloadId, limit: Number.POSITIVE_INFINITY })).map((r) => r.type);
}
