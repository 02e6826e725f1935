/**
 * How the canary asks the broker for a session (lambdas/canary/drill-effects.ts): a POST to
 * the broker's function URL, SigV4-signed for service `lambda`; the session's secret goes only into
 * the returned credentials, and a refusal's error names the status and code, never a body or key.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { brokerIssuer, CANARY_REASON } from '../../lambdas/canary/index.ts';
import type { CredentialRegistry } from '../../lambdas/registry/credential-registry.ts';
import { parseAuthorization } from '../../local/sigv4.ts';

const ROLE = 'arn:aws:iam::123456789012:role/Sundown-CanaryRole-ABC';
const SECRET = 'wJalrXUtnFEMI-secret-of-the-session';
const SIGNING = { accessKeyId: 'AKIACANARY', secretAccessKey: 'canary-signing-secret' };

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function broker(
  answer: (req: IncomingMessage, body: string) => [number, unknown],
): Promise<{ url: URL; seen: { headers: IncomingMessage['headers']; body: string }[] }> {
  const seen: { headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    seen.push({ headers: req.headers, body });
    const [status, payload] = answer(req, body);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(payload));
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as { port: number };
  return { url: new URL(`http://127.0.0.1:${address.port}/lambda-url/broker/`), seen };
}

const registry = {
  get: async (credentialId: string) => ({
    credentialId,
    workloadId: 'canary-x-ended',
    sessionName: 'canary-x-ended',
    issuedAt: '2026-12-02T11:00:00.000Z',
  }),
} as unknown as CredentialRegistry;

const source = (url: URL) => ({
  url: async () => url,
  credentials: async () => SIGNING,
  region: 'us-east-1',
});

describe('the canary calling the broker', () => {
  it('signs a POST for service lambda with the issue-session request and its reason', async () => {
    const { url, seen } = await broker(() => [
      200,
      {
        ok: true,
        session: {
          credentialId: 'rs-0123456789abcdef01234567',
          accessKeyId: 'ASIASESSION',
          secretAccessKey: SECRET,
          sessionToken: SECRET,
          expiration: '2026-12-02T11:15:00.000Z',
          assumedRoleId: 'AROAX:canary-x-ended',
        },
      },
    ]);
    const session = await brokerIssuer(source(url), registry, ROLE)('canary-x-ended');

    expect(session).toEqual({
      workloadId: 'canary-x-ended',
      credentialId: 'rs-0123456789abcdef01234567',
      sessionName: 'canary-x-ended',
      issuedAt: '2026-12-02T11:00:00.000Z',
      credentials: { accessKeyId: 'ASIASESSION', secretAccessKey: SECRET, sessionToken: SECRET },
    });
    const auth = parseAuthorization(String(seen[0]?.headers.authorization));
    expect(auth).toMatchObject({ accessKeyId: 'AKIACANARY', service: 'lambda', region: 'us-east-1' });
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({
      action: 'issue-session',
      role: ROLE,
      workloadId: 'canary-x-ended',
      durationSeconds: 900,
      reason: CANARY_REASON,
    });
    expect(JSON.stringify(seen[0]?.headers)).not.toContain(SIGNING.secretAccessKey);
  });

  it('fails with the status and the broker code only, never a body or a key', async () => {
    const { url } = await broker(() => [
      403,
      { ok: false, code: 'not-opted-in', error: 'role not opted in' },
    ]);
    const issue = brokerIssuer(source(url), registry, ROLE);
    await expect(issue('canary-x-ended')).rejects.toThrow(
      'the broker issued no session (HTTP 403, not-opted-in: role not opted in)',
    );
    const refused = await broker(() => [403, { Message: 'Forbidden' }]);
    const err = (await brokerIssuer(
      source(refused.url),
      registry,
      ROLE,
    )('w').catch((e: Error) => e)) as Error;
    expect(err.message).toBe(
      'the broker issued no session (HTTP 403, the URL refused the request (Forbidden))',
    );
    expect(err.message).not.toContain(SIGNING.secretAccessKey);
  });
});
