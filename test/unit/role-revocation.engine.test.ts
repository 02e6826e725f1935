/**
 * The revoker's batch engine for roles (applyRevocations), with in-memory registry, store and audit,
 * and the real RolePolicyWriter over a STRICT IAM SEMANTICS ADAPTER: an in-memory IAM that enforces
 * what moto does not (the size of a role's inline policies and of each managed policy, counted
 * without whitespace, and the 5-version limit of managed policies). It can be set to a limit below
 * AWS's, to prove the engine re-renders smaller when IAM refuses a size instead of leaving the role
 * with its deny unwritten.
 */
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  GetRolePolicyCommand,
  IAMClient,
  LimitExceededException,
  ListAttachedRolePoliciesCommand,
  ListPolicyVersionsCommand,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import type { STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { denyBoundFor } from '../../lambdas/revocation/deny-entries.ts';
import { applyRevocations, type RevokerDeps } from '../../lambdas/revocation/engine.ts';
import type { RevocationMessage } from '../../lambdas/revocation/messages.ts';
import {
  INLINE_RENDER_LIMIT,
  MANAGED_RENDER_LIMIT,
  RolePolicyWriter,
} from '../../lambdas/revocation/role-sessions/policy-writer.ts';
import { entryKey, type StoredDenyEntry } from '../../lambdas/revocation/store.ts';
import { Accounts, SpokeAccessError } from '../../lambdas/shared/adapters/accounts.ts';
import type { AuditRecordInput } from '../../lambdas/shared/schemas/audit-record.ts';
import type { CredentialRecord } from '../../lambdas/shared/schemas/credential.ts';

const ROLE = 'fleet';
const ROLE_ARN = `arn:aws:iam::123456789012:role/${ROLE}`;
const ENDED_AT = '2024-05-01T12:00:00.000Z';
const NOW = new Date('2024-05-01T12:00:05.000Z');

const instanceId = (i: number) => `i-${(0xa0000000000000n + BigInt(i)).toString(16).padStart(17, '0')}`;
const credentialId = (i: number) => `rs-${i.toString(16).padStart(24, '0')}`;

function credential(i: number): CredentialRecord {
  return {
    credentialId: credentialId(i),
    kind: 'role-session',
    workloadId: `arn:aws:ec2:us-east-1:123456789012:instance/${instanceId(i)}`,
    workloadKind: 'ec2',
    status: 'revoking',
    issuedAt: '2024-05-01T11:00:00.000Z',
    expiresAt: '9999-12-31T00:00:00.000Z',
    issuer: 'event',
    account: '123456789012',
    region: 'us-east-1',
    roleArn: ROLE_ARN,
    roleName: ROLE,
    sessionName: instanceId(i),
    endedAt: ENDED_AT,
  };
}

function entry(i: number): StoredDenyEntry {
  return {
    sessionName: instanceId(i),
    notAfter: denyBoundFor(ENDED_AT),
    expiresAt: '2024-05-01T18:00:00.000Z',
    reusableName: false,
    workloadId: credential(i).workloadId,
  };
}

/** Size as IAM counts it: the document without whitespace. */
const iamSize = (text: string) => JSON.stringify(JSON.parse(text)).length;

/**
 * Strict IAM semantics adapter: enforces policy sizes (inline aggregate per role, per managed
 * policy) and IAM's 5 versions per managed policy, which moto does not. `inlineLimit` and
 * `managedLimit` default to AWS's quotas.
 */
function strictIam(limits: { inlineLimit?: number; managedLimit?: number } = {}) {
  const inlineLimit = limits.inlineLimit ?? 10_240;
  const managedLimit = limits.managedLimit ?? 6_144;
  const inline = new Map<string, string>();
  const managed = new Map<string, { versions: { id: string; doc: string; isDefault: boolean }[] }>();
  const attached = new Set<string>();
  const writes: string[] = [];
  const reads: string[] = [];
  let refusals = 0;
  const send = async (command: unknown) => {
    const { input } = command as {
      input: {
        PolicyName: string;
        PolicyDocument: string;
        PolicyArn: string;
        Path: string;
        VersionId: string;
      };
    };
    if (command instanceof ListRolePoliciesCommand || command instanceof ListAttachedRolePoliciesCommand)
      reads.push(command.constructor.name.replace('Command', ''));
    if (command instanceof ListRolePoliciesCommand) return { PolicyNames: [...inline.keys()] };
    if (command instanceof GetRolePolicyCommand) return { PolicyDocument: inline.get(input.PolicyName) };
    if (command instanceof ListAttachedRolePoliciesCommand) {
      return { AttachedPolicies: [...attached].map((PolicyArn) => ({ PolicyArn })) };
    }
    if (command instanceof PutRolePolicyCommand) {
      const others = [...inline].filter(([n]) => n !== input.PolicyName).map(([, d]) => iamSize(d));
      if (iamSize(input.PolicyDocument) + others.reduce((a, b) => a + b, 0) > inlineLimit) {
        refusals++;
        throw new LimitExceededException({
          message: `Maximum policy size of ${inlineLimit} bytes exceeded for role ${ROLE}`,
          $metadata: {},
        });
      }
      writes.push(`PutRolePolicy ${input.PolicyName}`);
      inline.set(input.PolicyName, input.PolicyDocument);
      return {};
    }
    if (command instanceof CreatePolicyCommand || command instanceof CreatePolicyVersionCommand) {
      if (iamSize(input.PolicyDocument) > managedLimit) {
        refusals++;
        throw new LimitExceededException({
          message: `Cannot exceed quota for PolicySize: ${managedLimit}`,
          $metadata: {},
        });
      }
      const arn =
        command instanceof CreatePolicyCommand
          ? `arn:aws:iam::123456789012:policy${input.Path}${input.PolicyName}`
          : input.PolicyArn;
      const policy = managed.get(arn) ?? { versions: [] };
      if (command instanceof CreatePolicyCommand && managed.has(arn)) throw new Error('EntityAlreadyExists');
      if (policy.versions.length >= 5)
        throw new LimitExceededException({ message: '5 versions', $metadata: {} });
      for (const v of policy.versions) v.isDefault = false;
      policy.versions.push({
        id: `v${policy.versions.length + 1}`,
        doc: input.PolicyDocument,
        isDefault: true,
      });
      managed.set(arn, policy);
      writes.push(`${command.constructor.name.replace('Command', '')} ${arn.split('/').pop()}`);
      return { Policy: { Arn: arn } };
    }
    if (command instanceof ListPolicyVersionsCommand) {
      const policy = managed.get(input.PolicyArn);
      if (!policy) throw new NoSuchEntityException({ message: 'no such policy', $metadata: {} });
      return { Versions: policy.versions.map((v) => ({ VersionId: v.id, IsDefaultVersion: v.isDefault })) };
    }
    if (command instanceof DeletePolicyVersionCommand) {
      const policy = managed.get(input.PolicyArn);
      if (policy) policy.versions = policy.versions.filter((v) => v.id !== input.VersionId);
      writes.push(`DeletePolicyVersion ${input.PolicyArn.split('/').pop()}`);
      return {};
    }
    if (command instanceof AttachRolePolicyCommand) {
      attached.add(input.PolicyArn);
      writes.push(`AttachRolePolicy ${input.PolicyArn.split('/').pop()}`);
      return {};
    }
    throw new Error(`strict IAM adapter: ${(command as object).constructor.name} is not modelled`);
  };
  const documents = () => [
    ...inline.values(),
    ...[...managed.values()].map((p) => p.versions.find((v) => v.isDefault)?.doc ?? ''),
  ];
  return {
    client: { send } as unknown as IAMClient,
    inline,
    managed,
    writes,
    reads,
    documents,
    refusals: () => refusals,
  };
}

/** In-memory registry, store and audit: just what applyRevocations uses. */
function fakeDeps(iam: IAMClient, credentials: CredentialRecord[], writer = new RolePolicyWriter(iam)) {
  const registry = new Map(credentials.map((c) => [c.credentialId, { ...c }]));
  const entries = new Map<string, StoredDenyEntry>();
  const meta = {
    version: 0,
    renderedVersion: 0,
    renderedAt: undefined as string | undefined,
    policyHashes: {} as Record<string, string>,
    unplacedKeys: [] as string[],
  };
  const audit: AuditRecordInput[] = [];
  let loads = 0;
  const deps = {
    config: { SUNDOWN_MAX_SESSION_HOURS: { ec2: 6 } },
    registry: {
      getMany: async (ids: string[]) =>
        ids.flatMap((id) => (registry.has(id) ? [{ ...registry.get(id) }] : [])),
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
    },
    store: {
      addEntries: async (_arn: string, added: StoredDenyEntry[]) => {
        for (const e of added) entries.set(entryKey(e), e);
        meta.version++;
        return meta.version;
      },
      load: async () => {
        loads++;
        return {
          entries: [...entries.values()],
          iamWrites: 0,
          charsUsed: 0,
          charsCapacity: 0,
          unplaced: 0,
          ...meta,
        };
      },
      markRendered: async (
        _arn: string,
        version: number,
        stats: { policyHashes?: Record<string, string>; renderedAt?: string },
      ) => {
        if (version <= meta.renderedVersion) return;
        meta.renderedVersion = version;
        meta.policyHashes = stats.policyHashes ?? {};
        meta.renderedAt = stats.renderedAt;
      },
      deleteEntries: async () => undefined,
    },
    audit: { append: async (r: AuditRecordInput) => audit.push(r) },
    rolePolicies: writer,
    actor: { type: 'function', name: 'revoker' },
    now: () => NOW,
  } as unknown as RevokerDeps;
  return { deps, registry, audit, addEntries: deps.store.addEntries, loads: () => loads };
}

function roleMessage(version: number, ids: string[]): RevocationMessage {
  return { target: 'role', roleArn: ROLE_ARN, version, credentialIds: ids };
}

describe('the revoker batch engine, on a strict IAM semantics adapter', () => {
  it('renders a role named by several messages of a batch once, and settles every credential', async () => {
    // Prepare: three WorkloadEnded batches' messages for one role arrive in one revoker batch.
    const iam = strictIam();
    const f = fakeDeps(iam.client, [1, 2, 3, 4, 5, 6].map(credential));
    const v1 = await f.addEntries(ROLE_ARN, [entry(1), entry(2)]);
    const v2 = await f.addEntries(ROLE_ARN, [entry(3), entry(4)]);
    const v3 = await f.addEntries(ROLE_ARN, [entry(5), entry(6)]);

    // Act
    const { errors, outcome } = await applyRevocations(f.deps, [
      { id: 'm1', message: roleMessage(v1, [credentialId(1), credentialId(2)]) },
      { id: 'm2', message: roleMessage(v2, [credentialId(3), credentialId(4)]) },
      { id: 'm3', message: roleMessage(v3, [credentialId(5), credentialId(6)]) },
    ]);

    // Assess: one deny-set read, one IAM write, six revoked, audited as one batch.
    expect(errors.size).toBe(0);
    expect(f.loads()).toBe(1);
    expect(iam.writes).toEqual(['PutRolePolicy SundownRevokedSessions']);
    expect(outcome.revoked).toHaveLength(6);
    expect([...f.registry.values()].every((c) => c.status === 'revoked')).toBe(true);
    expect(f.audit.filter((r) => r.type === 'revoked')).toHaveLength(6);
  });

  it('dates a revocation when its deny was written, not when the bookkeeping after it finished', async () => {
    // Prepare: recording the render takes 5 s (a slow table), after IAM accepted the deny.
    const iam = strictIam();
    const f = fakeDeps(iam.client, [1, 2].map(credential));
    const v = await f.addEntries(ROLE_ARN, [entry(1), entry(2)]);
    let clock = NOW.getTime();
    const store = f.deps.store;
    const deps = {
      ...f.deps,
      now: () => new Date(clock),
      store: {
        ...store,
        markRendered: async (...args: Parameters<typeof store.markRendered>) => {
          clock += 5_000;
          return store.markRendered(...args);
        },
      },
    } as unknown as RevokerDeps;

    // Act
    await applyRevocations(deps, [{ id: 'm', message: roleMessage(v, [credentialId(1), credentialId(2)]) }]);

    // Assess
    expect(iam.writes).toEqual(['PutRolePolicy SundownRevokedSessions']);
    expect([...f.registry.values()].map((c) => [c.status, c.revokedAt])).toEqual([
      ['revoked', NOW.toISOString()],
      ['revoked', NOW.toISOString()],
    ]);
  });

  it('dates a coalesced revocation when the render that covered it was written, not when it settles', async () => {
    // Prepare: two intake batches' entries are stored before the first message is applied, so its
    // render covers both; the second message arrives 5 s later and finds nothing to render.
    const iam = strictIam();
    const f = fakeDeps(iam.client, [1, 2].map(credential));
    const v1 = await f.addEntries(ROLE_ARN, [entry(1)]);
    const v2 = await f.addEntries(ROLE_ARN, [entry(2)]);
    let clock = NOW.getTime();
    const deps = { ...f.deps, now: () => new Date(clock) } as unknown as RevokerDeps;

    // Act
    await applyRevocations(deps, [{ id: 'm1', message: roleMessage(v1, [credentialId(1)]) }]);
    clock += 5_000;
    await applyRevocations(deps, [{ id: 'm2', message: roleMessage(v2, [credentialId(2)]) }]);

    // Assess: one render; both sessions denied by it, at its time.
    expect(iam.writes).toEqual(['PutRolePolicy SundownRevokedSessions']);
    expect([...f.registry.values()].map((c) => [c.status, c.revokedAt])).toEqual([
      ['revoked', NOW.toISOString()],
      ['revoked', NOW.toISOString()],
    ]);
  });

  it('keeps 5% headroom under IAM limits, and rewrites only the overflow policy whose content changed', async () => {
    // Prepare: enough entries to need the inline policy and two managed ones.
    const iam = strictIam();
    const first = Array.from({ length: 600 }, (_, i) => i + 1);
    const f = fakeDeps(iam.client, [...first, 601, 602].map(credential));
    const v1 = await f.addEntries(ROLE_ARN, first.map(entry));
    await applyRevocations(f.deps, [{ id: 'm1', message: roleMessage(v1, first.map(credentialId)) }]);
    const firstWrites = [...iam.writes];
    iam.writes.length = 0;

    // Act: two more ends on the role; their entries sort last, into the last managed policy.
    const v2 = await f.addEntries(ROLE_ARN, [entry(601), entry(602)]);
    await applyRevocations(f.deps, [
      { id: 'm2', message: roleMessage(v2, [credentialId(601), credentialId(602)]) },
    ]);

    // Assess
    expect(firstWrites).toContain('PutRolePolicy SundownRevokedSessions');
    expect(firstWrites.filter((w) => w.startsWith('CreatePolicy '))).toHaveLength(1);
    expect(iam.writes).toEqual(['CreatePolicyVersion sundown-fleet-1']);
    for (const text of iam.inline.values()) expect(iamSize(text)).toBeLessThanOrEqual(INLINE_RENDER_LIMIT);
    for (const policy of iam.managed.values()) {
      for (const v of policy.versions) expect(iamSize(v.doc)).toBeLessThanOrEqual(MANAGED_RENDER_LIMIT);
    }
    expect([...f.registry.values()].every((c) => c.status === 'revoked')).toBe(true);
    const denied = iam.documents().join('\n');
    for (const i of [1, 300, 600, 601, 602]) expect(denied).toContain(`"*:${instanceId(i)}"`);
  });

  it('re-renders smaller when IAM refuses a size, audits it, and leaves no entry unwritten', async () => {
    // Prepare: an IAM that counts 8,000 as its inline limit (below Sundown's 9,728 render budget).
    const iam = strictIam({ inlineLimit: 8_000 });
    const ids = Array.from({ length: 380 }, (_, i) => i + 1);
    const f = fakeDeps(iam.client, ids.map(credential));
    const v1 = await f.addEntries(ROLE_ARN, ids.map(entry));

    // Act
    const { errors, outcome } = await applyRevocations(f.deps, [
      { id: 'm1', message: roleMessage(v1, ids.map(credentialId)) },
    ]);

    // Assess: refused at least once, then everything written within the strict limits.
    expect(errors.size).toBe(0);
    expect(iam.refusals()).toBeGreaterThan(0);
    expect(outcome.revoked).toHaveLength(380);
    const resized = f.audit.filter((r) => r.type === 'policy-resized');
    expect(resized.length).toBeGreaterThan(0);
    expect(resized[0]?.reason).toMatch(/refused a deny policy of .*fleet for its size/);
    const inlineTotal = [...iam.inline.values()].reduce((n, d) => n + iamSize(d), 0);
    expect(inlineTotal).toBeLessThanOrEqual(8_000);
    const denied = iam.documents().join('\n');
    for (const i of ids) expect(denied).toContain(`"*:${instanceId(i)}"`);
  });

  it('settles a credential whose entry was stored before the whole-second bound (in flight across an upgrade)', async () => {
    const iam = strictIam();
    const f = fakeDeps(iam.client, [credential(1)]);
    const v1 = await f.addEntries(ROLE_ARN, [{ ...entry(1), notAfter: ENDED_AT }]);

    const { errors, outcome } = await applyRevocations(f.deps, [
      { id: 'm1', message: roleMessage(v1, [credentialId(1)]) },
    ]);

    expect(errors.size).toBe(0);
    expect(outcome.revoked).toEqual([credentialId(1)]);
  });

  it('fails only the messages of a group that failed; other roles of the batch are applied', async () => {
    // Prepare: IAM refuses every write for one role with a non-size error.
    const iam = strictIam();
    const broken = {
      send: async (command: unknown) => {
        const input = (command as { input: { RoleName?: string } }).input;
        if (command instanceof PutRolePolicyCommand && input.RoleName === 'broken') {
          throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
        }
        return iam.client.send(command as never);
      },
    } as unknown as IAMClient;
    const f = fakeDeps(broken, [credential(1)]);
    const v1 = await f.addEntries(ROLE_ARN, [entry(1)]);

    // Act
    const { errors, outcome } = await applyRevocations(f.deps, [
      {
        id: 'bad',
        message: {
          target: 'role',
          roleArn: 'arn:aws:iam::123456789012:role/broken',
          version: 1,
          credentialIds: [],
        },
      },
      { id: 'good', message: roleMessage(v1, [credentialId(1)]) },
    ]);

    // Assess
    expect([...errors.keys()]).toEqual(['bad']);
    expect(outcome.revoked).toEqual([credentialId(1)]);
  });

  it('reuses a role inspection across renders, and reads the role again when IAM refuses a size', async () => {
    // Prepare: a writer that keeps inspections (as the revoker does), and a first render.
    const iam = strictIam();
    const clock = { ms: 0 };
    const writer = new RolePolicyWriter(iam.client, { inspectionTtlMs: 60_000, now: () => clock.ms });
    const ids = Array.from({ length: 300 }, (_, i) => i + 1);
    const f = fakeDeps(iam.client, ids.map(credential), writer);
    const v1 = await f.addEntries(ROLE_ARN, ids.slice(0, 100).map(entry));
    await applyRevocations(f.deps, [
      { id: 'm1', message: roleMessage(v1, ids.slice(0, 100).map(credentialId)) },
    ]);
    const readsAfterFirst = iam.reads.length;

    // Act 1: a second render within the minute.
    clock.ms = 30_000;
    const v2 = await f.addEntries(ROLE_ARN, ids.slice(100, 150).map(entry));
    await applyRevocations(f.deps, [
      { id: 'm2', message: roleMessage(v2, ids.slice(100, 150).map(credentialId)) },
    ]);

    // Assess 1: no second inspection.
    expect(readsAfterFirst).toBe(2);
    expect(iam.reads).toHaveLength(2);

    // Act 2: someone else's inline policy grows on the role (the reused view does not know), and
    // 150 more ends arrive: IAM refuses the aggregate size.
    iam.inline.set(
      'OperatorPolicy',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${'b'.repeat(4_000)}/*` },
        ],
      }),
    );
    const v3 = await f.addEntries(ROLE_ARN, ids.slice(150).map(entry));
    const { errors, outcome } = await applyRevocations(f.deps, [
      { id: 'm3', message: roleMessage(v3, ids.slice(150).map(credentialId)) },
    ]);

    // Assess 2: refused once, inspected afresh, re-rendered within what is left, nothing unwritten.
    expect(errors.size).toBe(0);
    expect(iam.refusals()).toBeGreaterThan(0);
    expect(iam.reads.length).toBeGreaterThan(2);
    expect(outcome.revoked).toHaveLength(150);
    expect(f.audit.some((r) => r.type === 'policy-resized')).toBe(true);
    const inlineTotal = [...iam.inline.values()].reduce((n, d) => n + iamSize(d), 0);
    expect(inlineTotal).toBeLessThanOrEqual(10_240);
    const denied = iam.documents().join('\n');
    for (const i of ids) expect(denied).toContain(`"*:${instanceId(i)}"`);
  });
});

describe('the revoker in a hub, when a spoke role cannot be assumed', () => {
  const SPOKE = '222222222222';
  const SPOKE_ROLE_ARN = `arn:aws:iam::${SPOKE}:role/${ROLE}`;

  it("fails only that spoke's message, with a reason naming the role, and settles the rest of the batch", async () => {
    // Prepare: a strict STS semantics adapter (moto lets any AssumeRole through): the spoke has no
    // Sundown spoke stack, so AssumeRole is refused. The IAM client for the spoke is the real SDK
    // client, which asks its credential provider before sending anything.
    const iam = strictIam();
    const sts = {
      send: async () => {
        throw Object.assign(new Error(`User is not authorized to perform: sts:AssumeRole`), {
          name: 'AccessDenied',
        });
      },
    } as unknown as STSClient;
    const accounts = new Accounts({
      home: '123456789012',
      spokes: [SPOKE],
      sessionName: 'sundown-revoker',
      sts,
    });
    const iamIn = accounts.perAccount('iam', 'revoke', (c) =>
      c.credentials
        ? new IAMClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', ...c })
        : iam.client,
    );
    const spokeCredential = { ...credential(2), account: SPOKE, roleArn: SPOKE_ROLE_ARN };
    const f = fakeDeps(iam.client, [credential(1), spokeCredential], new RolePolicyWriter(iamIn));
    const v = await f.addEntries(ROLE_ARN, [entry(1)]);

    // Act
    const { errors, outcome } = await applyRevocations(f.deps, [
      { id: 'home', message: roleMessage(v, [credentialId(1)]) },
      {
        id: 'spoke',
        message: { target: 'role', roleArn: SPOKE_ROLE_ARN, version: v, credentialIds: [credentialId(2)] },
      },
    ]);

    // Assess: the home role is written; the spoke's message fails (retried by SQS) with a clear reason.
    expect(outcome.revoked).toEqual([credentialId(1)]);
    expect([...errors.keys()]).toEqual(['spoke']);
    const err = errors.get('spoke') as Error;
    expect(err).toBeInstanceOf(SpokeAccessError);
    expect(err.message).toMatch(
      /cannot assume arn:aws:iam::222222222222:role\/sundown\/SundownSpokeRevoker \(is the Sundown spoke stack deployed in that account\?\): AccessDenied/,
    );
    expect(f.registry.get(credentialId(2))?.status).toBe('revoking');
  });
});
