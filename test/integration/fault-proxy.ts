/**
 * A strict semantics adapter in front of the emulator, for what moto never does: IAM throttling its
 * writes, and a call failing at the worst moment. Sundown's runtime points at it (DeployOptions
 * `interpose`); everything it does not refuse is forwarded to moto unchanged.
 *
 * - IAM writes are rationed by a token bucket, as IAM's account-wide buckets do (AWS publishes no
 *   rate: ../shared/reference/limits-and-guardrails.md): a write without a token gets IAM's own
 *   `Throttling: Rate exceeded` (HTTP 400), which the SDK retries with backoff.
 * - `failNext` refuses the next calls a predicate picks with a non-retryable error, as a function
 *   dying between two of its durable steps leaves them: the ones before done, the rest not.
 */
import { randomUUID } from 'node:crypto';
import { Agent, createServer } from 'node:http';
import { forward } from '../../bench/forward.ts';
import { describe as describeCall } from '../../bench/proxy.ts';
import { iamErrorXml, isIamWrite, TokenBucket } from '../../bench/token-bucket.ts';

export interface ProxiedCall {
  /** The SigV4 service: `iam`, `sqs`, `dynamodb`, ... */
  service: string;
  /** `X-Amz-Target`'s operation (JSON protocols) or the query protocol's `Action`. */
  op: string;
  body: string;
}

export interface FaultProxy {
  endpoint: string;
  /** Rations IAM writes (any IAM operation but Get*, List*, Simulate*, Generate*); 0 stops rationing. */
  throttleIamWrites(perSecond: number, burst?: number): void;
  /** Refuses the next `count` calls `match` picks with a non-retryable AccessDenied. */
  failNext(match: (call: ProxiedCall) => boolean, count?: number): void;
  readonly stats: { iamWrites: number; throttled: number; failed: number };
  stop(): Promise<void>;
}

const iamError = (code: string, message: string) => iamErrorXml(code, message, randomUUID());

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const up = new URL(upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const stats = { iamWrites: 0, throttled: 0, failed: 0 };
  let bucket: TokenBucket | undefined;
  const failures: { match: (call: ProxiedCall) => boolean; left: number }[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString('utf8');
      const call: ProxiedCall = { ...describeCall(req, text), body: text };
      const failure = failures.find((f) => f.left > 0 && f.match(call));
      if (failure) {
        failure.left--;
        stats.failed++;
        if (call.service === 'iam' || !req.headers['x-amz-target']) {
          res.writeHead(403, { 'content-type': 'text/xml' }).end(iamError('AccessDenied', 'injected fault'));
        } else {
          res
            .writeHead(400, {
              'content-type': 'application/x-amz-json-1.0',
              'x-amzn-query-error': 'AccessDenied;Sender',
            })
            .end(
              JSON.stringify({
                __type: 'com.amazon.coral.service#AccessDeniedException',
                message: 'injected fault',
              }),
            );
        }
        return;
      }
      if (isIamWrite(call.service, call.op)) {
        if (bucket && !bucket.take()) {
          stats.throttled++;
          res.writeHead(400, { 'content-type': 'text/xml' }).end(iamError('Throttling', 'Rate exceeded'));
          return;
        }
        stats.iamWrites++;
      }
      forward(up, agent, req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    throttleIamWrites(perSecond, burst = 1) {
      bucket = perSecond > 0 ? new TokenBucket(perSecond, burst) : undefined;
    },
    failNext(match, count = 1) {
      failures.push({ match, left: count });
    },
    stats,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
