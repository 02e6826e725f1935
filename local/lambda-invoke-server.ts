/**
 * Answers the Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`)
 * for the stack's functions by running their handlers in process, so CLI
 * commands that invoke a function run unchanged against the emulator: they
 * only need `AWS_ENDPOINT_URL_LAMBDA` pointed here. (moto cannot invoke
 * functions without Docker.) It also serves Function URLs (AuthType AWS_IAM)
 * at `/lambda-url/{name}/`: see function-url.ts. Listens on loopback only.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type FunctionUrlOptions, serveFunctionUrl } from './function-url.ts';
import type { Handler } from './sqs-poller.ts';
import type { LocalFunction } from './stack-model.ts';

export interface InvokeServer {
  endpoint: string;
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(payload === undefined ? '' : JSON.stringify(payload));
}

export async function startInvokeServer(
  functions: readonly LocalFunction[],
  handlerOf: (fn: LocalFunction) => Handler,
  region: string,
  accountId: string,
  urls?: FunctionUrlOptions,
): Promise<InvokeServer> {
  const contextFor = (fn: LocalFunction) => ({
    functionName: fn.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${fn.functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => fn.timeoutSeconds * 1000,
  });
  const find = (ref: string) => {
    const name = decodeURIComponent(ref)
      .replace(/^arn:[^:]+:lambda:[^:]+:\d{12}:function:/, '')
      .split(':')[0];
    return functions.find((f) => f.functionName === name || f.logicalId === name);
  };
  const server: Server = createServer(async (req, res) => {
    const url = /^\/lambda-url\/([^/?]+)(\/[^?]*)?/.exec(req.url ?? '');
    if (url && urls) {
      const fn = find(url[1] as string);
      if (!fn) {
        send(res, 404, { Message: null });
        return;
      }
      await serveFunctionUrl(req, res, await body(req), {
        ...urls,
        region,
        functionAccount: accountId,
        handler: handlerOf(fn),
        context: contextFor(fn),
      });
      return;
    }
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) {
      send(
        res,
        404,
        { message: 'only Invoke is served here' },
        { 'x-amzn-ErrorType': 'ResourceNotFoundException' },
      );
      return;
    }
    const fn = find(match[1] as string);
    if (!fn) {
      send(
        res,
        404,
        { Type: 'User', message: `Function not found: ${match[1]}` },
        { 'x-amzn-ErrorType': 'ResourceNotFoundException' },
      );
      return;
    }
    const text = await body(req);
    let event: unknown;
    try {
      event = text ? JSON.parse(text) : {};
    } catch {
      send(
        res,
        400,
        { Type: 'User', message: 'Could not parse request body into json' },
        { 'x-amzn-ErrorType': 'InvalidRequestContentException' },
      );
      return;
    }
    try {
      const result = await handlerOf(fn)(event, contextFor(fn));
      send(res, 200, result ?? null, { 'x-amz-executed-version': '$LATEST' });
    } catch (err) {
      send(
        res,
        200,
        { errorType: (err as Error).name ?? 'Error', errorMessage: (err as Error).message ?? String(err) },
        { 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' },
      );
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
