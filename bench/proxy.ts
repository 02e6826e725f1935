/**
 * A counting HTTP proxy on loopback, in front of the emulator. Every AWS SDK
 * client in the benchmark (Sundown's in-process handlers, the local runtime's
 * SQS pollers, the naive baseline and the bench driver) points at it, so AWS
 * calls are counted from the wire, never estimated.
 *
 * Runs as its own process (so forwarding never competes with the handlers'
 * event loop): `node --import tsx bench/proxy.ts <upstream>`. It prints
 * `{"port":N}` on stdout once listening. Control endpoints (never forwarded):
 * `GET /__bench/log?since=N` returns the calls recorded from index N,
 * `POST /__bench/reset` clears the log, and `POST /__bench/iam-writes?perSecond=R&burst=B`
 * rations IAM writes of both systems (not the driver's) as IAM's token buckets do, answering
 * IAM's own `Throttling` error (HTTP 400, recorded like any call); `perSecond=0` stops it.
 *
 * Each call is classified by service (the SigV4 credential scope), operation
 * (`X-Amz-Target` for JSON protocols, `Action` for query protocols), and the
 * principal it names (queue, role, table) for attribution.
 */
import { randomUUID } from 'node:crypto';
import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { forward } from './forward.ts';
import { iamErrorXml, isIamWrite, TokenBucket } from './token-bucket.ts';

export interface CallRecord {
  /** Arrival order (requests are numbered as they arrive, before forwarding). */
  seq: number;
  /** Request arrival, ms since the epoch (same clock as the bench process). */
  t0: number;
  /** Response end. */
  t1: number;
  service: string;
  op: string;
  /**
   * Who called: `bench` (the driver's clients), `naive` (the baseline revoker's
   * clients), told apart by their custom user agents; `app` for everything
   * else (Sundown's handlers and the local runtime's SQS pollers).
   */
  caller: 'bench' | 'naive' | 'app';
  status: number;
  /** Response body bytes (what the caller had to read). */
  bytes: number;
  queue?: string;
  role?: string;
  table?: string;
  /** Refused by the proxy's IAM write rationing (`Throttling`), never forwarded. */
  throttled?: boolean;
}

export const BENCH_USER_AGENT = 'sundown-bench-driver';
export const NAIVE_USER_AGENT = 'sundown-bench-naive';

function serviceOf(req: IncomingMessage): string {
  const auth = req.headers.authorization ?? '';
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(auth);
  if (scope?.[1]) return scope[1];
  if (req.url?.startsWith('/moto-api')) return 'moto-api';
  return 'unknown';
}

export type Described = Omit<CallRecord, 'seq' | 't0' | 't1' | 'status' | 'bytes'>;

/** Which service, operation and principal a call names, and who made it (the tests' fault proxy uses it too). */
export function describe(req: IncomingMessage, body: string): Described {
  const service = serviceOf(req);
  const ua = `${req.headers['user-agent'] ?? ''} ${req.headers['x-amz-user-agent'] ?? ''}`;
  const caller = ua.includes(NAIVE_USER_AGENT) ? 'naive' : ua.includes(BENCH_USER_AGENT) ? 'bench' : 'app';
  const target = req.headers['x-amz-target'];
  const record: Described = { service, op: 'unknown', caller };
  if (typeof target === 'string') {
    record.op = target.split('.').pop() ?? target;
    try {
      const json = JSON.parse(body || '{}') as Record<string, unknown>;
      if (typeof json.QueueUrl === 'string') record.queue = json.QueueUrl.split('/').pop();
      if (typeof json.TableName === 'string') record.table = json.TableName;
    } catch {
      // not JSON: keep the operation only
    }
    return record;
  }
  const query = new URL(req.url ?? '/', 'http://x').searchParams;
  const form = (req.headers['content-type'] ?? '').includes('x-www-form-urlencoded')
    ? new URLSearchParams(body)
    : new URLSearchParams();
  const param = (name: string) => form.get(name) ?? query.get(name) ?? undefined;
  const action = param('Action');
  if (action) record.op = action;
  else record.op = `${req.method} ${(req.url ?? '').split('?')[0]?.slice(0, 40)}`;
  const role = param('RoleName');
  if (role) record.role = role;
  const queueUrl = param('QueueUrl');
  if (queueUrl) record.queue = queueUrl.split('/').pop();
  return record;
}

function startProxy(upstream: URL): void {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const log: CallRecord[] = [];
  let nextSeq = 0;
  let iamWrites: TokenBucket | undefined;

  const control = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/__bench/iam-writes') {
      const perSecond = Number(url.searchParams.get('perSecond') ?? 0);
      const burst = Number(url.searchParams.get('burst') ?? 1);
      iamWrites = perSecond > 0 ? new TokenBucket(perSecond, Math.max(1, burst)) : undefined;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    if (url.pathname === '/__bench/reset') {
      log.length = 0;
      nextSeq = 0;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const since = Number(url.searchParams.get('since') ?? 0);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ total: log.length, calls: log.slice(since) }));
  };

  const server = createServer((req, res) => {
    if (req.url?.startsWith('/__bench/')) {
      req.resume();
      req.on('end', () => control(req, res));
      return;
    }
    const t0 = Date.now();
    const seq = nextSeq++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const info = describe(req, body.toString('utf8'));
      if (iamWrites && info.caller !== 'bench' && isIamWrite(info.service, info.op) && !iamWrites.take()) {
        const refusal = iamErrorXml('Throttling', 'Rate exceeded', randomUUID());
        res.writeHead(400, { 'content-type': 'text/xml' }).end(refusal);
        log.push({ ...info, seq, t0, t1: Date.now(), status: 400, bytes: refusal.length, throttled: true });
        return;
      }
      forward(upstream, agent, req, body, res, (status, bytes) => {
        log.push({ ...info, seq, t0, t1: Date.now(), status, bytes });
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    process.stdout.write(`${JSON.stringify({ port })}\n`);
  });
  // Never outlive the bench process.
  const parent = Number(process.env.SUNDOWN_BENCH_PARENT_PID ?? 0);
  if (parent > 0) {
    setInterval(() => {
      try {
        process.kill(parent, 0);
      } catch {
        process.exit(0);
      }
    }, 1000).unref();
  }
}

const upstreamArg = process.argv[2];
if (upstreamArg && process.argv[1]?.endsWith('proxy.ts')) startProxy(new URL(upstreamArg));
