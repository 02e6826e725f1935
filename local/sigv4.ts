/**
 * SigV4 for Lambda Function URL requests: the local runtime reads (and, where it knows the secret,
 * re-computes) the signature the way Lambda does before it builds `requestContext.authorizer.iam`.
 * The signer itself is in lambdas/shared/adapters/function-url-client.ts, shared with `sundown issue`
 * and the canary function.
 */
import { timingSafeEqual } from 'node:crypto';
import {
  type PlainRequest,
  type SigningCredentials,
  signLambdaUrlRequest,
} from '../lambdas/shared/adapters/function-url-client.ts';

export {
  type PlainRequest,
  type SigningCredentials,
  signLambdaUrlRequest,
} from '../lambdas/shared/adapters/function-url-client.ts';

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=(\w{1,128})\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/** The Authorization header's parts, or undefined when it is not a SigV4 header. */
export function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  const m = header ? AUTH.exec(header) : null;
  if (!m) return undefined;
  return {
    accessKeyId: m[1] as string,
    date: m[2] as string,
    region: m[3] as string,
    service: m[4] as string,
    signedHeaders: (m[5] as string).split(';'),
    signature: m[6] as string,
  };
}

/** `20240501T120000Z` as a Date, or undefined. */
export function parseAmzDate(value: string | undefined): Date | undefined {
  const m = value ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value) : null;
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const time = Date.UTC(year, month - 1, day, hour, minute, second);
  return Number.isNaN(time) ? undefined : new Date(time);
}

/**
 * Re-computes the signature over the same signed headers with the given secret and compares it in
 * constant time: what Lambda does for AuthType AWS_IAM (moto never does this).
 */
export async function signatureMatches(
  request: PlainRequest,
  auth: ParsedAuthorization,
  credentials: SigningCredentials,
  signingDate: Date,
): Promise<boolean> {
  const signedOnly: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    if (name === 'host' || name === 'x-amz-date') continue;
    const value = request.headers[name];
    if (value === undefined) return false;
    signedOnly[name] = value;
  }
  const again = await signLambdaUrlRequest(
    { ...request, headers: signedOnly },
    credentials,
    auth.region,
    signingDate,
  );
  const recomputed = parseAuthorization(again.authorization);
  if (!recomputed || recomputed.signedHeaders.join(';') !== auth.signedHeaders.join(';')) return false;
  return timingSafeEqual(Buffer.from(recomputed.signature), Buffer.from(auth.signature));
}
