/**
 * The forwarding half of the bench's counting proxy (proxy.ts) and of the integration tests' fault
 * proxy: a request already read in full goes to the emulator unchanged, and its answer is piped back.
 */
import { type Agent, type IncomingMessage, request, type ServerResponse } from 'node:http';

/** Forwards `req` (its `body` read) to `upstream`; `done` gets the answer's status and size (599 when unreachable). */
export function forward(
  upstream: URL,
  agent: Agent,
  req: IncomingMessage,
  body: Buffer,
  res: ServerResponse,
  done: (status: number, bytes: number) => void = () => undefined,
): void {
  const upstreamReq = request(
    {
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, 'content-length': String(body.length) },
      agent,
    },
    (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      let bytes = 0;
      upstreamRes.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      upstreamRes.pipe(res);
      upstreamRes.on('end', () => done(upstreamRes.statusCode ?? 0, bytes));
    },
  );
  upstreamReq.on('error', (err) => {
    done(599, 0);
    if (!res.headersSent) res.writeHead(502);
    res.end(String(err));
  });
  upstreamReq.end(body);
}
