/**
 * SigV4 for Lambda Function URL requests (AuthType AWS_IAM), on the AWS SDK's own signer, and the
 * plain HTTP POST that sends them. The canary function calls the broker's URL with it; `sundown issue`
 * (cli/broker-client.ts) too, and the local runtime re-computes signatures with it (local/sigv4.ts).
 * Only the signature leaves the process: credentials are never logged or sent.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { SignatureV4 } from '@smithy/signature-v4';

type Data = string | ArrayBuffer | ArrayBufferView;

function bytes(data: Data): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** SHA-256 / HMAC-SHA-256 from node:crypto in the shape the signer expects. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: Data) {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
  update(data: Data): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface PlainRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: string;
}

/** Signs a request for service `lambda` (what Function URLs with AuthType AWS_IAM verify). */
export async function signLambdaUrlRequest(
  request: PlainRequest,
  credentials: SigningCredentials,
  region: string,
  signingDate?: Date,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({ service: 'lambda', region, credentials, sha256: NodeSha256 });
  const query: Record<string, string> = {};
  for (const [key, value] of request.url.searchParams) query[key] = value;
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: request.url.protocol,
      hostname: request.url.hostname,
      ...(request.url.port ? { port: Number(request.url.port) } : {}),
      path: request.url.pathname,
      query,
      headers: { ...request.headers, host: request.url.host },
      body: request.body,
    },
    signingDate ? { signingDate } : {},
  );
  return signed.headers as Record<string, string>;
}

/** POSTs `body` with `headers` (a signed request's); resolves with the status and the body text. */
export function postRequest(
  url: URL,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
