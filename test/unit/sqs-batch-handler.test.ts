import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import type { AuditSink } from '../../lambdas/audit/audit-log.ts';
import {
  type BatchItem,
  eachItem,
  type Rejected,
  sqsBatchHandler,
} from '../../lambdas/shared/handlers/sqs-batch.ts';
import { metrics } from '../../lambdas/shared/powertools.ts';
import type { AuditRecord, AuditRecordInput } from '../../lambdas/shared/schemas/audit-record.ts';

type Item = { kind: 'a'; n: number } | { kind: 'b'; n: number } | { kind: 'other'; n: number };

function record(messageId: string, body: string): SQSRecord {
  return { messageId, body, attributes: { ApproximateReceiveCount: '1' } } as unknown as SQSRecord;
}

/** Bodies: `a:1`, `b:2`, `other:3` are items; `bad:why` is rejected; `boom` makes parse throw. */
function parse(r: SQSRecord): Item | Rejected {
  const [kind, arg] = r.body.split(':');
  if (kind === 'boom') throw new Error('parser bug');
  if (kind === 'bad') return { kind: 'rejected', reason: `bad input: ${arg}` };
  return { kind: kind as Item['kind'], n: Number(arg) };
}

const event = (...bodies: string[]): SQSEvent => ({
  Records: bodies.map((body, i) => record(`m${i + 1}`, body)),
});
const context = { functionName: 'fn-under-test', awsRequestId: 'req-1' } as Context;
const failedIds = (response: { batchItemFailures: { itemIdentifier: string }[] }) =>
  response.batchItemFailures.map((f) => f.itemIdentifier);

function fakeDeps(options: { auditFails?: boolean } = {}) {
  const appended: AuditRecordInput[][] = [];
  const audit: AuditSink = {
    append: async () => {
      throw new Error('not used: the factory appends in one batch');
    },
    appendMany: async (inputs) => {
      if (options.auditFails) throw new Error('audit table unavailable');
      appended.push([...inputs]);
      return inputs as unknown as AuditRecord[];
    },
  };
  return {
    deps: {
      actor: { type: 'function' as const, name: 'fn' },
      audit,
      now: () => new Date('2026-12-02T00:00:00Z'),
    },
    appended,
  };
}

let addMetric: MockInstance<typeof metrics.addMetric>;
let publish: MockInstance<typeof metrics.publishStoredMetrics>;
beforeEach(() => {
  addMetric = vi.spyOn(metrics, 'addMetric');
  vi.spyOn(metrics, 'hasStoredMetrics').mockReturnValue(true);
  publish = vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
});
afterEach(() => vi.restoreAllMocks());

/** Runs `bodies` through a handler whose only processor, of kind `a`, fails nothing and keeps what it saw. */
async function withCollector(...bodies: string[]) {
  const { deps, appended } = fakeDeps();
  const seen: string[] = [];
  const process = async (items: BatchItem<unknown>[]) => {
    seen.push(...items.map((i) => i.messageId));
    return [];
  };
  const response = await sqsBatchHandler<Item>({ deps, parse, process: { a: process } })(
    event(...bodies),
    context,
  );
  return { failed: failedIds(response), seen, appended };
}

const outage = async (): Promise<string[]> => {
  throw new Error('downstream outage');
};

const rejectedCount = () => addMetric.mock.calls.filter((c) => c[0] === 'EventsRejected').length;

describe('sqsBatchHandler', () => {
  it('hands each kind all its items at once, in the order of `process`, and reports what they fail', async () => {
    const calls: string[] = [];
    const { deps } = fakeDeps();
    const handler = sqsBatchHandler<Item>({
      deps,
      parse,
      process: {
        b: async (items) => {
          calls.push(`b:${items.map((i) => i.value.n).join(',')}`);
          return ['m2'];
        },
        a: async (items) => {
          calls.push(`a:${items.map((i) => i.value.n).join(',')}`);
          return new Set<string>();
        },
      },
    });

    const response = await handler(event('a:1', 'b:2', 'a:3', 'b:4'), context);

    expect(calls).toEqual(['b:2,4', 'a:1,3']);
    expect(failedIds(response)).toEqual(['m2']);
  });

  it('audits rejected records once, as one append, and does not report them failed', async () => {
    const { failed, seen, appended } = await withCollector('bad:x', 'a:1', 'bad:y');

    expect(failed).toEqual([]);
    expect(seen).toEqual(['m2']);
    expect(appended).toHaveLength(1);
    expect(appended[0]?.map((r) => [r.type, r.outcome, r.reason])).toEqual([
      ['rejected', 'rejected', 'bad input: x'],
      ['rejected', 'rejected', 'bad input: y'],
    ]);
    expect(appended[0]?.[0]?.actor).toEqual({ type: 'function', name: 'fn-under-test', requestId: 'req-1' });
    expect(rejectedCount()).toBe(2);
  });

  it('reports the rejected records failed when their audit write fails, and only those', async () => {
    const { deps } = fakeDeps({ auditFails: true });
    const handler = sqsBatchHandler<Item>({ deps, parse, process: { a: async () => [] } });

    const response = await handler(event('bad:x', 'a:1', 'bad:y'), context);

    expect(failedIds(response)).toEqual(['m1', 'm3']);
  });

  it('fails only the items of a processor that throws; the other kinds and the rejections go on', async () => {
    const { deps, appended } = fakeDeps();
    let bRan = false;
    const handler = sqsBatchHandler<Item>({
      deps,
      parse,
      process: {
        a: outage,
        b: async () => {
          bRan = true;
          return [];
        },
      },
    });

    const response = await handler(event('a:1', 'b:2', 'a:3', 'bad:z'), context);

    expect(failedIds(response)).toEqual(['m1', 'm3']);
    expect(bRan).toBe(true);
    expect(appended.flat()).toHaveLength(1);
  });

  it('ignores a failed ID a processor names that is not one of its items', async () => {
    const { deps } = fakeDeps();
    const handler = sqsBatchHandler<Item>({
      deps,
      parse,
      process: { a: async () => ['m2', 'nope'], b: async () => [] },
    });

    expect(failedIds(await handler(event('a:1', 'b:2'), context))).toEqual([]);
  });

  it('ignores kinds without a processor: neither processed nor failed', async () => {
    const { failed, seen, appended } = await withCollector('other:1', 'a:2', 'b:3');

    expect(failed).toEqual([]);
    expect(seen).toEqual(['m2']);
    expect(appended).toEqual([]);
  });

  it('fails a record whose parse throws, alone', async () => {
    const { deps } = fakeDeps();
    const handler = sqsBatchHandler<Item>({ deps, parse, process: { a: async () => [] } });

    expect(failedIds(await handler(event('a:1', 'boom', 'a:2'), context))).toEqual(['m2']);
  });

  it('publishes the metrics on every invocation, also when a processor throws', async () => {
    const { deps } = fakeDeps();
    const handler = sqsBatchHandler<Item>({
      deps,
      parse,
      process: {
        a: outage,
      },
    });

    await handler(event('a:1', 'bad:x'), context);
    expect(publish).toHaveBeenCalledTimes(1);
    await handler(event('b:1'), context);
    expect(publish).toHaveBeenCalledTimes(2);
  });

  it('publishes the metrics when the handler itself throws', async () => {
    const { deps } = fakeDeps();
    const handler = sqsBatchHandler<Item>({ deps, parse, process: {} });

    await expect(handler({} as SQSEvent, context)).rejects.toThrow();
    expect(publish).toHaveBeenCalledTimes(1);
  });

  it('returns only once the audit sink has settled (deferred audit events published), after the work', async () => {
    const { deps } = fakeDeps();
    const order: string[] = [];
    let release: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => {
      release = resolve;
    });
    deps.audit.settle = async () => {
      order.push('settle started');
      await settled;
      order.push('settled');
    };
    const handler = sqsBatchHandler<Item>({
      deps,
      parse,
      process: {
        a: async () => {
          order.push('processed');
          return [];
        },
      },
    });

    let done = false;
    const response = handler(event('a:1'), context).then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    release();
    expect(failedIds(await response)).toEqual([]);
    expect(order).toEqual(['processed', 'settle started', 'settled']);
  });
});

describe('eachItem', () => {
  const items = (...ns: number[]): BatchItem<number>[] =>
    ns.map((n) => ({ messageId: `m${n}`, record: record(`m${n}`, ''), value: n }));

  it('returns the items whose call threw, each reported once', async () => {
    const errors: string[] = [];
    const failed = await eachItem(
      items(1, 2, 3),
      async ({ value }) => {
        if (value % 2 === 1) throw new Error(`odd ${value}`);
      },
      { concurrent: true, onError: (item, e) => errors.push(`${item.messageId}: ${(e as Error).message}`) },
    );

    expect([...failed]).toEqual(['m1', 'm3']);
    expect(errors.sort()).toEqual(['m1: odd 1', 'm3: odd 3']);
  });

  it('runs the items in order unless concurrent', async () => {
    const order: string[] = [];
    const slowFirst = async ({ value }: BatchItem<number>) => {
      order.push(`start ${value}`);
      await new Promise((r) => setTimeout(r, value === 1 ? 20 : 0));
      order.push(`end ${value}`);
    };

    await eachItem(items(1, 2), slowFirst, { concurrent: false, onError: () => undefined });
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);

    order.length = 0;
    await eachItem(items(1, 2), slowFirst, { concurrent: true, onError: () => undefined });
    expect(order).toEqual(['start 1', 'start 2', 'end 2', 'end 1']);
  });
});
