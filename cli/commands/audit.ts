/**
 * `sundown audit query|timeline|export` (verify and seal: audit-verify.ts): the operator's view of
 * the hash-chained audit trail, every chain (the legacy chain `main` and its shards) merged in time
 * order. Reads only, through `AuditLog` and the table's indexes (never a table scan). Items are
 * read as stored (unvalidated), so a tampered record is reported or printed instead of crashing.
 */
import { once } from 'node:events';
import type { Command } from 'commander';
import {
  type AuditLog,
  buildWorkloadTimeline,
  formatDuration,
  mergeByTime,
  recordAccount,
  type WorkloadTimeline,
} from '../../lambdas/audit/index.ts';
import {
  CREDENTIAL_ID_PATTERN,
  INSTANCE_ID_PATTERN,
  normalizeWorkloadId,
} from '../../lambdas/shared/domain/workload-id.ts';
import {
  AUDIT_RECORD_TYPES,
  type AuditRecord,
  type AuditRecordType,
} from '../../lambdas/shared/schemas/audit-record.ts';
import { parseAccount } from '../account-filter.ts';
import { callerIdentity } from '../deps.ts';
import { CliError } from '../errors.ts';
import { printJson, printTable } from '../output.ts';
import { type CommonOptions, type ResolvedTarget, resolveTarget, withTargetOptions } from '../target.ts';
import { parseTimeFlag, parseTimeRange } from '../time-range.ts';
import { registerAuditReport } from './audit-report.ts';
import { AUDIT_CHAIN, auditLogOf, registerAuditVerify } from './audit-verify.ts';

/** The chain base every Sundown function appends to (`SUNDOWN_AUDIT_CHAIN` in the stack). */
export { AUDIT_CHAIN };
export const DEFAULT_QUERY_LIMIT = 100;

/** With --account, how many matching-by-index records are read to find that account's. */
const ACCOUNT_SCAN_LIMIT = 10_000;

const TIME_HELP = 'ISO time (2024-05-01T12:00:00Z) or duration back from now (30m, 2h, 7d)';

interface ExportOptions extends CommonOptions {
  since?: string;
}
interface QueryOptions extends CommonOptions {
  workload?: string;
  account?: string;
  credential?: string;
  type?: string;
  since?: string;
  until?: string;
  limit?: string;
}

async function openAuditLog(opts: CommonOptions): Promise<{ target: ResolvedTarget; log: AuditLog }> {
  const target = await resolveTarget(opts);
  return {
    target,
    log: auditLogOf(target),
  };
}

/** Bare instance IDs become the instance ARN in the target's account and region, as in the pipeline. */
async function normalizeWorkload(raw: string, target: ResolvedTarget): Promise<string> {
  try {
    const account = INSTANCE_ID_PATTERN.test(raw) ? (await callerIdentity(target)).account : undefined;
    return normalizeWorkloadId(raw, { account, region: target.region }).id;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`--workload: ${(err as Error).message}`);
  }
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_QUERY_LIMIT;
  const limit = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(limit) || limit < 1) {
    throw new CliError(`--limit must be a positive integer, got "${raw}"`);
  }
  return limit;
}

function parseType(raw: string | undefined): AuditRecordType | undefined {
  if (raw === undefined) return undefined;
  if (!(AUDIT_RECORD_TYPES as readonly string[]).includes(raw)) {
    throw new CliError(`--type must be one of ${AUDIT_RECORD_TYPES.join(', ')}, got "${raw}"`);
  }
  return raw as AuditRecordType;
}

function parseCredential(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!CREDENTIAL_ID_PATTERN.test(raw)) {
    throw new CliError(
      `--credential must be a credential ID like rs-<24 hex digits> (or ak-, ct-), got "${raw}"`,
    );
  }
  return raw;
}

function recordRow(record: AuditRecord): Record<string, unknown> {
  return {
    chain: record.chainId,
    seq: record.seq,
    at: record.at,
    type: record.type,
    workload: record.workloadId,
    credential: record.credentialId,
    outcome: record.outcome,
    reason: record.reason,
  };
}

async function query(opts: QueryOptions): Promise<void> {
  // Every flag is checked before any AWS call.
  const type = parseType(opts.type);
  const range = parseTimeRange(opts);
  const limit = parseLimit(opts.limit);
  const credentialId = parseCredential(opts.credential);
  const account = parseAccount(opts.account);
  const { target, log } = await openAuditLog(opts);
  const workloadId = opts.workload === undefined ? undefined : await normalizeWorkload(opts.workload, target);
  const home = (await callerIdentity(target)).account;
  const read = await log.query(
    {
      ...(workloadId ? { workloadId } : {}),
      ...(credentialId ? { credentialId } : {}),
      ...(type ? { type } : {}),
      ...range,
      limit: account === undefined ? limit : ACCOUNT_SCAN_LIMIT,
    },
    { validate: false },
  );
  // --json prints the stored records exactly as stored (what `audit verify` hashes): `account` is in
  // those written since it was added; the table's column derives it for older ones too.
  const records = read
    .filter((r) => account === undefined || recordAccount(r, home) === account)
    .slice(0, limit);
  if (account !== undefined && read.length === ACCOUNT_SCAN_LIMIT && records.length < limit) {
    process.stderr.write(
      `(looked through the first ${ACCOUNT_SCAN_LIMIT} records only: narrow the query with --since/--until or --type)\n`,
    );
  }
  if (opts.json) {
    printJson(records);
    return;
  }
  printTable(
    records.map((r) => ({ ...recordRow(r), account: recordAccount(r, home) })),
    ['chain', 'seq', 'at', 'type', 'account', 'workload', 'credential', 'outcome', 'reason'],
  );
  if (records.length === limit) {
    process.stderr.write(
      `(showing the first ${limit} records, oldest first: narrow the query or raise --limit)\n`,
    );
  }
}

function printTimeline(timeline: WorkloadTimeline): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`Workload ${timeline.workloadId}`);
  if (timeline.credentials.length === 0 && timeline.events.length === 0) {
    out('(no audit records)');
    return;
  }
  if (timeline.credentials.length > 0) {
    printTable(
      timeline.credentials.map((c) => ({
        credential: c.credentialId,
        kind: c.credentialKind,
        status: c.status,
        issued: c.issuedAt,
        ended: c.endedAt,
        requested: c.revocationRequestedAt,
        settled: c.revokedAt ?? c.failedAt ?? c.skippedAt ?? c.dryRunAt ?? c.expiredAt,
        'time-to-revoke': c.timeToRevokeMs === undefined ? undefined : formatDuration(c.timeToRevokeMs),
        'requested-by': c.requestedBy,
        'source-ip': c.sourceIp,
        reason: c.requestReason,
      })),
      [
        'credential',
        'kind',
        'status',
        'issued',
        'ended',
        'requested',
        'settled',
        'time-to-revoke',
        'requested-by',
        'source-ip',
        'reason',
      ],
    );
  }
  if (timeline.events.length > 0) {
    out('Workload events without a credential:');
    printTable(
      timeline.events.map((e) => ({ ...e, 'requested-by': e.requestedBy, 'source-ip': e.sourceIp })),
      ['seq', 'at', 'type', 'outcome', 'reason', 'requested-by', 'source-ip'],
    );
  }
}

async function timeline(rawWorkloadId: string, opts: CommonOptions): Promise<void> {
  const { target, log } = await openAuditLog(opts);
  const workloadId = await normalizeWorkload(rawWorkloadId, target);
  const records = await log.query({ workloadId, limit: Number.POSITIVE_INFINITY }, { validate: false });
  const result = buildWorkloadTimeline(workloadId, records);
  if (opts.json) printJson(result);
  else printTimeline(result);
}

/** Every chain from its first record at/after `since`, merged in time order (one line per record). */
async function exportChain(opts: ExportOptions): Promise<void> {
  const since = opts.since === undefined ? undefined : parseTimeFlag('--since', opts.since);
  const { log } = await openAuditLog(opts);
  const streams: AsyncIterable<import('../../lambdas/shared/schemas/audit-record.ts').AuditRecord>[] = [];
  for (const chainId of log.chainIds()) {
    const chain = log.forChain(chainId);
    const fromSeq = since === undefined ? 1 : await chain.firstSeqSince(since);
    if (fromSeq !== undefined) streams.push(chain.scanChain(fromSeq, { validate: false }));
  }
  for await (const record of mergeByTime(streams)) {
    if (!process.stdout.write(`${JSON.stringify(record)}\n`)) await once(process.stdout, 'drain');
  }
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('verify, query and export the hash-chained audit trail');
  registerAuditVerify(audit);
  withTargetOptions(
    audit
      .command('query')
      .description('find audit records through the table indexes')
      .option('--workload <id>', 'workload ID (ARN, bare i-... instance ID, or custom ID)')
      .option('--credential <id>', 'credential ID (rs-..., ak-..., ct-...)')
      .option('--type <type>', `record type: ${AUDIT_RECORD_TYPES.join(', ')}`)
      .option(
        '--account <id>',
        `only records about this account's workloads and principals (a hub's spokes; looks through at most ${ACCOUNT_SCAN_LIMIT} records)`,
      )
      .option('--since <time>', `records at or after (${TIME_HELP})`)
      .option('--until <time>', `records at or before (${TIME_HELP})`)
      .option('--limit <n>', `at most n records, oldest first (default ${DEFAULT_QUERY_LIMIT})`),
  ).action((opts: QueryOptions) => query(opts));
  withTargetOptions(
    audit
      .command('timeline')
      .description("a workload's credentials from issue to revocation, with time-to-revoke")
      .argument('<workloadId>', 'workload ID (ARN, bare i-... instance ID, or custom ID)'),
  ).action((workloadId: string, opts: CommonOptions) => timeline(workloadId, opts));
  withTargetOptions(
    audit
      .command('export')
      .description(
        'print every chain as JSON Lines (one stored record per line; chains merged in time order, each in chain order)',
      )
      .option('--since <time>', `start at the first record from this time on (${TIME_HELP})`),
  ).action((opts: ExportOptions) => exportChain(opts));
  registerAuditReport(audit);
}
