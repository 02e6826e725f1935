/**
 * `sundown audit verify` and `sundown audit seal`.
 *
 * verify checks every chain's links (the legacy chain `main` and the shards `main#k`) AND the signed
 * seals over them, offline from the seal key's public key (KMS GetPublicKey on the stack output
 * `AuditSealKeyArn`, or `--public-key file.pem`). Exit codes: 0 verified, 1 tampered (every finding
 * named on stderr, one line each), 2 could not check (bad flags, no public key, AWS errors).
 * `--since` keeps the previous behaviour: links of the records in the window only, no seals.
 */

import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import type { Command } from 'commander';
import type { SealReport } from '../../lambdas/audit/index.ts';
import {
  AuditLog,
  type AuditVerifyReport,
  type ChainVerification,
  DynamoSealStore,
  fetchSealPublicKey,
  publicKeyFrom,
  trailReaderOf,
  verifyAuditChain,
  verifyAuditTrail,
} from '../../lambdas/audit/index.ts';
import { clients, lazyClients } from '../../lambdas/shared/clients.ts';
import { CliError } from '../errors.ts';
import { printJson } from '../output.ts';
import {
  type CommonOptions,
  type ResolvedTarget,
  requireOutput,
  resolveTarget,
  withTargetOptions,
} from '../target.ts';
import { parseTimeFlag } from '../time-range.ts';

export const AUDIT_CHAIN = 'main';
const EXIT_TAMPERED = 1;
const EXIT_UNCHECKED = 2;
const TIME_HELP = 'ISO time (2024-05-01T12:00:00Z) or duration back from now (30m, 2h, 7d)';

interface VerifyOptions extends CommonOptions {
  since?: string;
  publicKey?: string;
  maxSealAge?: string;
  requireSeals?: boolean;
}

/** The audit log of a target: the chain base and as many shards as the stack says (0 before sharding). */
export function auditLogOf(target: ResolvedTarget): AuditLog {
  const table = requireOutput(target, 'AuditTableName');
  const raw = target.outputs.AuditShards;
  const shards = raw === undefined ? 0 : Number(raw);
  if (!Number.isSafeInteger(shards) || shards < 0) {
    throw new CliError(`stack output AuditShards must be a whole number, got "${raw}"`);
  }
  return new AuditLog(clients.dynamo(), table, AUDIT_CHAIN, undefined, shards > 0 ? { shards } : {});
}

/** One stderr line per finding; the legacy chain keeps its original wording. */
export function findingLine(f: { chainId: string; problem: string; seq: number; message: string }): string {
  if (f.chainId === 'seal') return `audit seals broken at epoch ${f.seq}: ${f.problem} (${f.message})`;
  const chain = f.chainId === AUDIT_CHAIN ? '' : ` ${f.chainId}`;
  return `audit chain${chain} broken at seq ${f.seq}: record ${f.problem} (${f.message})`;
}

/** The one stderr line of a broken chain (the `--since` path). */
export function brokenChainLine(result: Extract<ChainVerification, { ok: false }>): string {
  return findingLine(result);
}

function parseMaxAge(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const match = /^(\d+)(s|m|h|d)$/.exec(raw.trim());
  if (!match)
    throw new CliError(`--max-seal-age must be a duration like 15m or 2h, got "${raw}"`, EXIT_UNCHECKED);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

async function trustedKey(target: ResolvedTarget, file: string | undefined): Promise<KeyObject | undefined> {
  if (file !== undefined) {
    try {
      return publicKeyFrom(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new CliError(
        `--public-key: cannot read a PEM public key from ${file}: ${(err as Error).message}`,
        EXIT_UNCHECKED,
      );
    }
  }
  const keyArn = target.outputs.AuditSealKeyArn;
  if (!keyArn) return undefined;
  try {
    return publicKeyFrom(await fetchSealPublicKey(lazyClients.kms, keyArn));
  } catch (err) {
    throw new CliError(
      `could not fetch the seal key's public key (${keyArn}): ${(err as Error).message}; pass --public-key file.pem`,
      EXIT_UNCHECKED,
    );
  }
}

async function verifySince(opts: VerifyOptions, target: ResolvedTarget, since: string): Promise<void> {
  const log = auditLogOf(target);
  const results = [];
  for (const chainId of log.chainIds())
    results.push(await verifyAuditChain(log.forChain(chainId), { since }));
  const broken = results.filter((r) => !r.ok);
  const single = results.find((r) => r.count > 0) ?? results[0];
  if (opts.json) printJson(broken[0] ?? { ...single, count: results.reduce((n, r) => n + r.count, 0) });
  for (const r of broken.slice(1)) process.stderr.write(`sundown: ${findingLine(r)}\n`);
  if (broken[0]) throw new CliError(findingLine(broken[0]), EXIT_TAMPERED);
  if (opts.json) return;
  for (const r of results.filter((x) => x.ok && (x.count > 0 || x.chainId === AUDIT_CHAIN))) {
    if (!r.ok) continue;
    const range = r.count === 0 ? 'no records' : `seq ${r.fromSeq}-${r.lastSeq}`;
    process.stdout.write(
      `audit chain ${r.chainId} intact: ${r.count} records verified since ${since} (${range}), head at seq ${r.headSeq}\n`,
    );
  }
}

function printVerified(report: AuditVerifyReport): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  for (const c of report.chains.filter((x) => x.count > 0)) {
    out(
      `audit chain ${c.chainId} intact: ${c.count} records verified (seq 1-${c.headSeq}), head at seq ${c.headSeq}`,
    );
  }
  if (report.count === 0) out(`audit trail ${AUDIT_CHAIN}: no records`);
  const s = report.seals;
  out(
    s.verified === 0
      ? 'no seal yet: every record is only checked by its links'
      : `${s.verified} seals verified (newest: epoch ${s.lastEpoch} at ${s.lastSealedAt})`,
  );
  for (const u of report.unsealed) {
    out(`not yet sealed: ${u.chainId} seq ${u.fromSeq}-${u.toSeq} (${u.count} records)`);
  }
}

async function verify(opts: VerifyOptions): Promise<void> {
  let since: string | undefined;
  let maxSealAgeSeconds: number | undefined;
  try {
    since = opts.since === undefined ? undefined : parseTimeFlag('--since', opts.since);
  } catch (err) {
    throw new CliError((err as Error).message, EXIT_UNCHECKED);
  }
  maxSealAgeSeconds = parseMaxAge(opts.maxSealAge);
  const target = await resolveTarget(opts);
  if (since !== undefined) return verifySince(opts, target, since);
  const publicKey = await trustedKey(target, opts.publicKey);
  const log = auditLogOf(target);
  const store = new DynamoSealStore(clients.dynamo(), log.tableName, AUDIT_CHAIN);
  let report: AuditVerifyReport;
  try {
    report = await verifyAuditTrail(trailReaderOf(log, store), AUDIT_CHAIN, {
      now: new Date(),
      ...(publicKey ? { publicKey } : {}),
      ...(target.outputs.AuditSealKeyArn ? { keyId: target.outputs.AuditSealKeyArn } : {}),
      ...(maxSealAgeSeconds === undefined ? {} : { maxSealAgeSeconds }),
      ...(opts.requireSeals ? { requireSeals: true } : {}),
    });
  } catch (err) {
    throw new CliError(`could not read the audit trail: ${(err as Error).message}`, EXIT_UNCHECKED);
  }
  if (report.seals.count > 0 && !publicKey) {
    throw new CliError(
      'seals exist but no public key to check them: pass --public-key file.pem',
      EXIT_UNCHECKED,
    );
  }
  if (opts.json) printJson(report);
  const [first, ...rest] = report.findings;
  if (first) {
    for (const f of rest) process.stderr.write(`sundown: ${findingLine(f)}\n`);
    throw new CliError(findingLine(first), EXIT_TAMPERED);
  }
  if (!opts.json) printVerified(report);
}

export async function invokeSealer(functionName: string): Promise<SealReport> {
  const lambda = new LambdaClient({});
  let res: InvokeCommandOutput;
  try {
    res = await lambda.send(
      new InvokeCommand({ FunctionName: functionName, Payload: new TextEncoder().encode('{}') }),
    );
  } catch (err) {
    throw new CliError(`could not invoke the audit sealer ${functionName}: ${(err as Error).message}`);
  }
  const text = new TextDecoder().decode(res.Payload ?? new Uint8Array());
  if (res.FunctionError) {
    const err = JSON.parse(text || '{}') as { errorMessage?: string };
    throw new CliError(`sealing failed: ${err.errorMessage ?? res.FunctionError}`);
  }
  return JSON.parse(text) as SealReport;
}

async function seal(opts: CommonOptions): Promise<void> {
  const target = await resolveTarget(opts);
  const report = await invokeSealer(requireOutput(target, 'AuditSealerFunctionName'));
  if (opts.json) printJson(report);
  else {
    process.stdout.write(
      report.raced
        ? `another sealer run wrote epoch ${report.epoch} first; nothing written\n`
        : `sealed epoch ${report.epoch} at ${report.sealedAt}: ${report.chains} chains, ${report.newRecords} new records${report.archived ? ', archived' : ''}\n`,
    );
  }
  for (const p of report.problems) process.stderr.write(`sundown: ${findingLine(p)}\n`);
  if (report.problems.length > 0) {
    throw new CliError(
      `${report.problems.length} chain(s) could not be sealed (left at their previous seal)`,
    );
  }
}

export function registerAuditVerify(audit: Command): void {
  withTargetOptions(
    audit
      .command('verify')
      .description(
        'check every audit chain and the signed seals over them; exit 0 verified, 1 tampered (each finding named), 2 could not check',
      )
      .option('--since <time>', `verify only the links of records from this time on, no seals (${TIME_HELP})`)
      .option(
        '--public-key <file>',
        'PEM public key of the seal key (default: KMS GetPublicKey of AuditSealKeyArn)',
      )
      .option(
        '--max-seal-age <duration>',
        'newest seal may be at most this old (default: 2 x the seal interval + 5m)',
      )
      .option('--require-seals', 'no seal at all counts as tampering (seal-missing)'),
  ).action((opts: VerifyOptions) => verify(opts));
  withTargetOptions(
    audit
      .command('seal')
      .description('seal the audit chains now (invokes the deployed audit sealer) and print its report'),
  ).action((opts: CommonOptions) => seal(opts));
}
