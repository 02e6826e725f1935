/**
 * One broker invocation, from the raw Lambda event to the response: who is asking (only what AWS
 * verified: the IAM principal of a SigV4-signed Function URL request), whether the request is valid
 * (including its required reason), then the issuance. Every refusal is audited as `refused` and
 * issues nothing. A direct Lambda Invoke carries no verified caller identity, so it is refused.
 */
import { isWorkloadIdSyntax } from '../shared/domain/workload-id.ts';
import { logger } from '../shared/powertools.ts';
import type { AuditRecordInput } from '../shared/schemas/audit-record.ts';
import {
  BROKER_HTTP_STATUS,
  type BrokerCaller,
  BrokerCallerSchema,
  type BrokerErrorCode,
  BrokerRequestSchema,
  type BrokerResponse,
  FunctionUrlEventSchema,
} from '../shared/schemas/broker.ts';
import { type BrokerDeps, issueCertificate, issueSession } from './broker.ts';

/** A Function URL (payload 2.0) response: the status is the HTTP status the caller sees. */
export interface FunctionUrlResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type BrokerInvocationResult =
  | { via: 'function-url'; response: FunctionUrlResponse; outcome: BrokerResponse }
  | { via: 'invoke'; response: BrokerResponse; outcome: BrokerResponse };

const MAX_BODY_BYTES = 64 * 1024;

export const UNAUTHENTICATED_MESSAGE =
  'the broker issues credentials only to callers AWS authenticated: call its function URL with a SigV4-signed request (AuthType AWS_IAM); a direct Lambda Invoke carries no verified caller identity';

/** The caller as AWS verified it, or why there is none. */
export function authenticatedCaller(
  event: unknown,
): { ok: true; caller: BrokerCaller } | { ok: false; message: string } {
  const parsed = FunctionUrlEventSchema.safeParse(event);
  if (!parsed.success) return { ok: false, message: UNAUTHENTICATED_MESSAGE };
  const iam = parsed.data.requestContext.authorizer?.iam;
  if (!iam?.userArn || !iam.accountId || !iam.callerId) {
    return {
      ok: false,
      message:
        'the function URL request carries no IAM-authenticated principal: the broker URL must use AuthType AWS_IAM',
    };
  }
  const sourceIp = parsed.data.requestContext.http.sourceIp;
  const caller = BrokerCallerSchema.safeParse({
    principalArn: iam.userArn,
    accountId: iam.accountId,
    callerId: iam.callerId,
    ...(sourceIp ? { sourceIp } : {}),
    via: 'function-url',
  });
  if (!caller.success) return { ok: false, message: 'the authenticated principal is not an IAM principal' };
  return { ok: true, caller: caller.data };
}

function bodyOf(event: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  const parsed = FunctionUrlEventSchema.safeParse(event);
  if (!parsed.success) return { ok: false, message: 'not a function URL request' };
  const { body, isBase64Encoded } = parsed.data;
  if (!body) return { ok: false, message: 'the request has no body: send the broker request as JSON' };
  const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    return { ok: false, message: `the request body is over ${MAX_BODY_BYTES} bytes` };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, message: 'the request body is not JSON' };
  }
}

/** Identifiers of a refused request worth auditing, taken only where they are well formed. */
function refusalFacts(body: unknown): Pick<AuditRecordInput, 'workloadId'> & { action?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const { workloadId, action } = body as Record<string, unknown>;
  return {
    ...(typeof workloadId === 'string' && workloadId.length <= 2048 && isWorkloadIdSyntax(workloadId)
      ? { workloadId }
      : {}),
    ...(action === 'issue-session' || action === 'issue-certificate' ? { action } : {}),
  };
}

async function refuse(
  deps: BrokerDeps,
  code: BrokerErrorCode,
  error: string,
  caller: BrokerCaller | undefined,
  body: unknown,
  via: 'function-url' | 'invoke',
): Promise<BrokerResponse> {
  const { workloadId, action } = refusalFacts(body);
  await deps.audit.append({
    type: 'refused',
    at: deps.now().toISOString(),
    actor: deps.actor,
    ...(workloadId ? { workloadId } : {}),
    trigger: { kind: 'broker', source: 'sundown.broker', ...(action ? { detailType: action } : {}) },
    outcome: code,
    reason: error.slice(0, 1000),
    details: {
      via,
      ...(caller
        ? {
            callerArn: caller.principalArn,
            callerAccount: caller.accountId,
            callerId: caller.callerId,
            ...(caller.sourceIp ? { sourceIp: caller.sourceIp } : {}),
          }
        : {}),
    },
  });
  return { ok: false, code, error };
}

async function decide(
  deps: BrokerDeps,
  event: unknown,
  via: 'function-url' | 'invoke',
): Promise<BrokerResponse> {
  const who = authenticatedCaller(event);
  if (!who.ok) return refuse(deps, 'unauthenticated', who.message, undefined, undefined, via);
  const { caller } = who;
  const body = bodyOf(event);
  if (!body.ok)
    return refuse(deps, 'invalid-request', `invalid broker request: ${body.message}`, caller, {}, via);
  const parsed = BrokerRequestSchema.safeParse(body.value);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.join('.') || 'request'}: ${i.message}`)
      .join('; ');
    return refuse(deps, 'invalid-request', `invalid broker request: ${issues}`, caller, body.value, via);
  }
  const request = parsed.data;
  const requester = { caller, reason: request.reason };
  let response: BrokerResponse;
  try {
    response =
      request.action === 'issue-session'
        ? await issueSession(deps, request, requester)
        : await issueCertificate(deps, request, requester);
  } catch (err) {
    logger.error('issuance failed', { action: request.action, error: err as Error });
    return {
      ok: false,
      code: 'failed',
      error: `${(err as Error).name}: ${(err as Error).message}`.slice(0, 500),
    };
  }
  if (!response.ok) return refuse(deps, response.code, response.error, caller, request, via);
  // Identifiers only; the response holds secrets and is never logged.
  logger.info('issued', {
    action: request.action,
    workloadId: request.workloadId,
    caller: caller.principalArn,
  });
  return response;
}

/** Handles one raw broker event: a Function URL request, or a direct Invoke (always refused). */
export async function handleBrokerEvent(deps: BrokerDeps, event: unknown): Promise<BrokerInvocationResult> {
  const isUrl = FunctionUrlEventSchema.safeParse(event).success;
  if (!isUrl) {
    const outcome = await decide(deps, event, 'invoke');
    return { via: 'invoke', response: outcome, outcome };
  }
  const outcome = await decide(deps, event, 'function-url');
  return {
    via: 'function-url',
    outcome,
    response: {
      statusCode: outcome.ok ? 200 : BROKER_HTTP_STATUS[outcome.code],
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify(outcome),
    },
  };
}
