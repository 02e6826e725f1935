/**
 * One sweep run with in-memory registry, store, audit, queue and state, and fake ports for the
 * AWS lookups: the revocation path is the real `endWorkload`; what is checked here is what the run
 * does with the answers (never revoke on uncertainty, dry runs write nothing, the work is bounded
 * and resumes where it stopped, one run at a time, a failing phase does not stop the others).
 * test/integration/operations.test.ts runs the same against the emulator.
 */
import type { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { ListOptions } from '../../lambdas/registry/index.ts';
import { entryKey, type StoredDenyEntry } from '../../lambdas/revocation/store.ts';
import type { Workload } from '../../lambdas/shared/domain/workload-id.ts';
import type { AuditRecordInput } from '../../lambdas/shared/schemas/audit-record.ts';
import type { CredentialRecord } from '../../lambdas/shared/schemas/credential.ts';
import {
  type LastSweep,
  type Liveness,
  type SweepCursors,
  type SweepDeps,
  sweep,
} from '../../lambdas/sweep/index.ts';

const NOW = new Date('2024-05-01T12:00:00.000Z');
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/workers`;
const instance = (n: number) => `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0000000000000000${n}`;

function session(n: number, overrides: Partial<CredentialRecord> = {}): CredentialRecord {
  return {
    credentialId: `rs-00000000000000000000000${n}`,
    kind: 'role-session',
    workloadId: instance(n),
    workloadKind: 'ec2',
    status: 'active',
    issuedAt: '2024-05-01T10:00:00.000Z',
    expiresAt: '9999-12-31T00:00:00.000Z',
    issuer: 'discovery',
    account: ACCOUNT,
    region: 'us-east-1',
    roleArn: ROLE,
    sessionName: `i-0000000000000000${n}`,
    reusableSessionName: false,
    ...overrides,
  };
}

interface FakeOptions {
  liveness?: Record<string, Liveness>;
  batch?: number;
  dryRunConfig?: boolean;
  cursors?: SweepCursors;
  leaseHeld?: boolean;
}

function fake(credentials: CredentialRecord[], options: FakeOptions = {}) {
  const registry = new Map(credentials.map((c) => [c.credentialId, { ...c }]));
  const entries = new Map<string, StoredDenyEntry>();
  const audit: AuditRecordInput[] = [];
  const sent: unknown[] = [];
  const metrics: [string, number, Record<string, string> | undefined][] = [];
  const lists: ListOptions[] = [];
  const state: { cursors: SweepCursors; lastSweep?: LastSweep; released: number } = {
    cursors: options.cursors ?? {},
    released: 0,
  };
  const listed = (o: ListOptions) =>
    [...registry.values()]
      .filter((c) => c.status === o.status)
      .filter((c) => !o.expiresBefore || c.expiresAt < o.expiresBefore)
      .filter((c) => !o.kinds || o.kinds.includes(c.kind))
      .sort((a, b) => a.credentialId.localeCompare(b.credentialId));
  const deps = {
    config: {
      SUNDOWN_DRY_RUN: options.dryRunConfig ?? false,
      SUNDOWN_SWEEP_BATCH_SIZE: options.batch ?? 100,
      SUNDOWN_IDLE_KEY_DAYS: 30,
      SUNDOWN_REVOCATION_QUEUE_URL:
        'https://sqs.us-east-1.amazonaws.com/123456789012/Sundown-revocations.fifo',
      SUNDOWN_MAX_SESSION_HOURS: {
        ec2: 6,
        ecs: 6,
        batch: 6,
        codebuild: 8,
        lambda: 12,
        custom: 12,
        accessKeySessions: 36,
      },
    },
    registry: {
      list: async (o: ListOptions) => {
        lists.push(o);
        const all = listed(o);
        const start = o.cursor ? Number(o.cursor) : 0;
        const limit = o.limit ?? 50;
        const items = all.slice(start, start + limit);
        return { items, ...(start + limit < all.length ? { cursor: String(start + limit) } : {}) };
      },
      forWorkload: async (id: string) => [...registry.values()].filter((c) => c.workloadId === id),
      forWorkloads: async (ids: string[]) =>
        new Map(ids.map((id) => [id, [...registry.values()].filter((c) => c.workloadId === id)])),
      get: async (id: string) => registry.get(id),
      getMany: async (ids: string[]) => ids.flatMap((id) => (registry.has(id) ? [registry.get(id)] : [])),
      transitionMany: async (
        reqs: { credentialId: string; from: string[]; to: string; fields?: object }[],
      ) => {
        const moved = new Set<string>();
        for (const r of reqs) {
          const c = registry.get(r.credentialId);
          if (!c || !r.from.includes(c.status)) continue;
          Object.assign(c, r.fields ?? {}, { status: r.to });
          moved.add(r.credentialId);
        }
        return moved;
      },
      existing: async (ids: string[]) => new Set(ids.filter((id) => registry.has(id))),
      transition: async (id: string, from: string[], to: string, fields: Partial<CredentialRecord>) => {
        const c = registry.get(id);
        if (!c || !from.includes(c.status)) return undefined;
        Object.assign(c, fields, { status: to });
        return { ...c };
      },
    },
    store: {
      addEntries: async (_arn: string, added: StoredDenyEntry[]) => {
        for (const e of added) entries.set(entryKey(e), e);
        return 1;
      },
      addEntriesMany: async (groups: Map<string, StoredDenyEntry[]>) => {
        for (const added of groups.values()) for (const e of added) entries.set(entryKey(e), e);
        return new Map([...groups.keys()].map((arn) => [arn, 1]));
      },
      load: async () => ({
        entries: [...entries.values()],
        version: 1,
        renderedVersion: 1,
        iamWrites: 0,
        charsUsed: 0,
        charsCapacity: 0,
        unplaced: 0,
      }),
      principals: async () => ({ items: [] }),
      entriesPage: async () => ({ entries: [] }),
      markEntryReported: async () => undefined,
    },
    audit: { append: async (r: AuditRecordInput) => audit.push(r) },
    optIn: { check: async () => ({ optedIn: true, via: 'tag' }) },
    resolver: { resolveRole: async () => undefined },
    sqs: {
      send: async (cmd: SendMessageBatchCommand) => {
        sent.push(...(cmd.input.Entries ?? []).map((e) => JSON.parse(e.MessageBody as string)));
        return { Successful: cmd.input.Entries?.map((e) => ({ Id: e.Id })), Failed: [] };
      },
    },
    liveness: {
      check: async (ws: Workload[]) =>
        new Map(
          ws.map((w) => [w.id, options.liveness?.[w.id] ?? { state: 'live', detail: 'instance is running' }]),
        ),
    },
    keyUsage: { lastUsed: async () => ({ state: 'found' }) },
    denyPolicies: { deniedSessions: async () => new Map() },
    sweepState: {
      read: async () => ({ cursors: state.cursors }),
      acquire: async () => (options.leaseHeld ? undefined : { cursors: state.cursors }),
      release: async (_owner: string, update: { cursors?: SweepCursors; lastSweep?: LastSweep }) => {
        state.released++;
        if (update.cursors) state.cursors = update.cursors;
        if (update.lastSweep) state.lastSweep = update.lastSweep;
      },
    },
    metricsSink: (name: string, value: number, _unit: string, dims?: Record<string, string>) =>
      metrics.push([name, value, dims]),
    account: ACCOUNT,
    region: 'us-east-1',
    actor: { type: 'function', name: 'sweeper' },
    now: () => NOW,
  } as unknown as SweepDeps;
  return { deps, registry, entries, audit, sent, metrics, lists, state };
}

describe('sweep', () => {
  it('revokes only workloads the platform reports gone or ended, through the normal revocation path', async () => {
    // Prepare: 1 gone, 2 running, 3 an API error.
    const f = fake([session(1), session(2), session(3)], {
      liveness: {
        [instance(1)]: { state: 'gone', detail: 'EC2 no longer knows the instance' },
        [instance(3)]: { state: 'unknown', detail: 'DescribeInstances failed (Throttling)' },
      },
    });

    // Act
    const report = await sweep(f.deps);

    // Assess
    expect(report.counts).toMatchObject({ 'missed-end': 1, 'unknown-liveness': 1 });
    expect([...f.registry.values()].map((c) => c.status)).toEqual(['revoking', 'active', 'active']);
    expect(f.registry.get(session(1).credentialId)).toMatchObject({
      endedAt: NOW.toISOString(),
      statusReason: 'reconciliation: end event missed (EC2 no longer knows the instance)',
      trigger: { source: 'sundown.reconciliation', detailType: 'Reconciliation' },
    });
    expect(f.audit.map((r) => [r.type, r.trigger?.kind, r.details?.endEventMissed])).toEqual([
      ['revocation-requested', 'reconciliation', true],
    ]);
    expect(f.sent).toEqual([
      { target: 'role', roleArn: ROLE, version: 1, credentialIds: [session(1).credentialId] },
    ]);
    expect(f.metrics).toEqual([
      ['ReconciliationFindings', 1, { finding: 'missed-end' }],
      ['ReconciliationFindings', 1, { finding: 'unknown-liveness' }],
    ]);
    expect(f.state.lastSweep?.counts['missed-end']).toBe(1);
  });

  it('changes nothing and keeps no state in a dry run, and reports what it would do', async () => {
    const f = fake([session(1), session(2, { expiresAt: '2024-05-01T11:00:00.000Z', issuer: 'broker' })], {
      liveness: { [instance(1)]: { state: 'ended', detail: 'instance is terminated' } },
    });

    const report = await sweep(f.deps, { dryRun: true });

    expect(report.dryRun).toBe(true);
    expect(report.counts).toMatchObject({ 'missed-end': 1, expired: 1 });
    expect(report.findings.map((x) => x.action)).toEqual(['none (dry run)', 'none (dry run)']);
    expect([...f.registry.values()].map((c) => c.status)).toEqual(['active', 'active']);
    expect(f.audit).toEqual([]);
    expect(f.sent).toEqual([]);
    expect(f.metrics).toEqual([]);
    expect(f.state.released).toBe(0);
  });

  it('in a dryRun deployment changes nothing but keeps its cursors and summary', async () => {
    const f = fake([session(1)], {
      dryRunConfig: true,
      liveness: { [instance(1)]: { state: 'gone', detail: 'gone' } },
    });

    const report = await sweep(f.deps);

    expect(report.dryRun).toBe(true);
    expect(f.registry.get(session(1).credentialId)?.status).toBe('active');
    expect(f.audit).toEqual([]);
    expect(f.state.released).toBe(1);
    expect(f.state.lastSweep?.dryRun).toBe(true);
  });

  it('bounds each pass by the batch size and resumes where the last run stopped', async () => {
    const f = fake(
      [1, 2, 3, 4, 5].map((n) => session(n)),
      { batch: 2 },
    );

    const first = await sweep(f.deps);
    const second = await sweep(f.deps);
    const third = await sweep(f.deps);

    const active = f.lists.filter((o) => o.status === 'active' && !o.expiresBefore);
    expect(active.map((o) => [o.limit, o.cursor])).toEqual([
      [2, undefined],
      [2, '2'],
      [2, '4'],
    ]);
    expect([first, second, third].map((r) => [r.checked.active, r.passes.active])).toEqual([
      [2, 'partial'],
      [2, 'partial'],
      [1, 'complete'],
    ]);
    expect(f.state.cursors.active).toBeUndefined(); // the next run starts over
    expect(f.state.lastSweep?.completedPasses.active).toBe(NOW.toISOString());
  });

  it('does nothing while another sweep holds the lease', async () => {
    const f = fake([session(1)], {
      leaseHeld: true,
      liveness: { [instance(1)]: { state: 'gone', detail: 'gone' } },
    });

    const report = await sweep(f.deps);

    expect(report.skipped).toMatch(/another sweep is running/);
    expect(f.lists).toEqual([]);
    expect(f.registry.get(session(1).credentialId)?.status).toBe('active');
  });

  it('records a failing phase, runs the others, and still saves its state', async () => {
    const f = fake([session(1)], { liveness: { [instance(1)]: { state: 'gone', detail: 'gone' } } });
    f.deps.store.principals = async () => {
      throw new Error('throttled');
    };

    const report = await sweep(f.deps);

    expect(report.errors).toEqual(['pruning: Error: throttled', 'principals: Error: throttled']);
    expect(report.counts['missed-end']).toBe(1);
    expect(f.state.lastSweep?.errors).toHaveLength(2);
    expect(f.metrics).toContainEqual(['SweepFailures', 2, undefined]);
  });

  it('restores a revoked session whose deny entry went missing from the store', async () => {
    const revoked = session(1, { status: 'revoked', endedAt: '2024-05-01T11:00:00.000Z' });
    const f = fake([revoked]);

    const report = await sweep(f.deps);

    expect(report.counts['missing-deny']).toBe(1);
    expect([...f.entries.values()]).toEqual([
      {
        sessionName: 'i-00000000000000001',
        // The end's whole second is covered (intake.ts denyBoundFor).
        notAfter: '2024-05-01T11:00:01.000Z',
        expiresAt: '2024-05-01T17:00:00.000Z',
        reusableName: false,
        workloadId: instance(1),
      },
    ]);
    expect(f.sent).toEqual([{ target: 'role', roleArn: ROLE, version: 1, credentialIds: [] }]);
    expect(f.audit.map((r) => [r.type, r.outcome, r.credentialId])).toEqual([
      ['drift', 'restored', revoked.credentialId],
    ]);
  });
});
