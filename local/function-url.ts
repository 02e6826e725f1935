/**
 * A local Lambda Function URL with AuthType AWS_IAM. Like the real service it refuses a request that
 * is not SigV4-signed for service `lambda` in the function's region (403 `{"Message":"Forbidden"}`,
 * before the function runs), and hands the function a payload 2.0 event whose
 * `requestContext.authorizer.iam` names the principal of the signing credentials, asked from STS
 * (GetCallerIdentity with the request's access key ID and session token) and `http.sourceIp` the
 * peer address.
 *
 * moto does not verify signatures, so by default the signature itself is only re-computed for keys
 * whose secret `secretFor` knows; `strict` refuses every other key. What AWS verifies on a real
 * deployment is listed in SECURITY.md.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type ParsedAuthorization,
  parseAmzDate,
  parseAuthorization,
  type SigningCredentials,
  signatureMatches,
} from './sigv4.ts';
import type { Handler } from './sqs-poller.ts';

export interface CallerIdentity {
  arn: string;
  account: string;
  userId: string;
}

export interface FunctionUrlOptions {
  /** The principal of an access key (and session token), as STS names it. */
  identify(accessKeyId: string, sessionToken: string | undefined): Promise<CallerIdentity | undefined>;
  /** Secrets the server knows, to re-compute signatures (Lambda's own check). */
  secretFor?(accessKeyId: string): SigningCredentials | undefined;
  /** Refuse keys whose secret is unknown (no signature check possible). @default false */
  strict?: boolean;
}

export interface ServeOptions extends FunctionUrlOptions {
  region: string;
  functionAccount: string;
  handler: Handler;
  context: Record<string, unknown>;
}

/** AWS accepts a signature up to 15 minutes from its time. */
const MAX_SKEW_MS = 15 * 60_000;

function forbidden(res: ServerResponse, why: string): void {
  res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-ErrorType': 'AccessDeniedException' });
  res.end(JSON.stringify({ Message: 'Forbidden', Reason: why }));
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

async function authenticate(
  req: IncomingMessage,
  headers: Record<string, string>,
  body: string,
  options: ServeOptions,
): Promise<{ ok: true; auth: ParsedAuthorization; identity: CallerIdentity } | { ok: false; why: string }> {
  const auth = parseAuthorization(headers.authorization);
  if (!auth) return { ok: false, why: 'the request is not SigV4-signed' };
  if (auth.service !== 'lambda' || auth.region !== options.region) {
    return { ok: false, why: `the signature is scoped to ${auth.service}/${auth.region}` };
  }
  const signedAt = parseAmzDate(headers['x-amz-date']);
  if (!signedAt || !auth.signedHeaders.includes('host') || !auth.signedHeaders.includes('x-amz-date')) {
    return { ok: false, why: 'the signature does not cover host and x-amz-date' };
  }
  if (Math.abs(Date.now() - signedAt.getTime()) > MAX_SKEW_MS) return { ok: false, why: 'signature expired' };
  const sessionToken = headers['x-amz-security-token'];
  const known = options.secretFor?.(auth.accessKeyId);
  if (known) {
    const url = new URL(req.url ?? '/', `http://${headers.host ?? 'localhost'}`);
    const request = { method: req.method ?? 'POST', url, headers, body };
    const credentials = { ...known, ...(sessionToken ? { sessionToken } : {}) };
    if (!(await signatureMatches(request, auth, credentials, signedAt))) {
      return { ok: false, why: 'the signature does not match' };
    }
  } else if (options.strict) {
    return { ok: false, why: 'unknown access key' };
  }
  const identity = await options.identify(auth.accessKeyId, sessionToken).catch(() => undefined);
  if (!identity) return { ok: false, why: 'the access key belongs to no principal' };
  return { ok: true, auth, identity };
}

/** Handles one request to a function URL: authenticate, build the event, run the handler, answer. */
export async function serveFunctionUrl(
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  options: ServeOptions,
): Promise<void> {
  const headers = headersOf(req);
  const who = await authenticate(req, headers, body, options);
  if (!who.ok) {
    forbidden(res, who.why);
    return;
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  const rawPath = url.pathname.replace(/^\/lambda-url\/[^/]+/, '') || '/';
  const now = new Date();
  // The signing secrets stay here: the event carries no Authorization or session token header.
  const { authorization: _a, 'x-amz-security-token': _t, ...visible } = headers;
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers: visible,
    requestContext: {
      accountId: options.functionAccount,
      apiId: 'local',
      authorizer: {
        iam: {
          accessKey: who.auth.accessKeyId,
          accountId: who.identity.account,
          callerId: who.identity.userId,
          cognitoIdentity: null,
          principalOrgId: null,
          userArn: who.identity.arn,
          userId: who.identity.userId,
        },
      },
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method: req.method ?? 'POST',
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body,
    isBase64Encoded: false,
  };
  try {
    const result = (await options.handler(event, options.context)) as unknown;
    const shaped = result as { statusCode?: unknown; headers?: Record<string, string>; body?: unknown };
    if (typeof shaped === 'object' && shaped !== null && typeof shaped.statusCode === 'number') {
      res.writeHead(shaped.statusCode, shaped.headers ?? {});
      res.end(typeof shaped.body === 'string' ? shaped.body : '');
    } else {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(result ?? null));
    }
  } catch {
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ Message: 'Internal Server Error' }));
  }
}
