/**
 * `sundown register ...` (credentials created elsewhere) and
 * `sundown credentials list`.
 */
import type { Command } from 'commander';
import { recordRegistration } from '../../lambdas/registration/index.ts';
import { parseIamArn } from '../../lambdas/shared/domain/iam-arn.ts';
import { normalizeWorkloadId } from '../../lambdas/shared/domain/workload-id.ts';
import {
  CREDENTIAL_STATUSES,
  type CredentialRecord,
  type CredentialRegistration,
  CredentialRegistrationSchema,
  type CredentialStatus,
} from '../../lambdas/shared/schemas/credential.ts';
import { parseAccount } from '../account-filter.ts';
import { cliDeps } from '../deps.ts';
import { CliError } from '../errors.ts';
import { printJson, printTable } from '../output.ts';
import { type CommonOptions, resolveTarget, withTargetOptions } from '../target.ts';

function parseRegistration(raw: Record<string, unknown>): CredentialRegistration {
  const parsed = CredentialRegistrationSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(
      `invalid ${String(raw.kind)}: ${issue?.path.join('.') || 'input'} ${issue?.message ?? 'is invalid'}`,
    );
  }
  return parsed.data;
}

async function register(
  raw: Record<string, unknown>,
  opts: CommonOptions & { expires?: string; purpose?: string },
) {
  const target = await resolveTarget(opts);
  const deps = await cliDeps(target);
  if (raw.kind === 'access-key') Object.assign(raw, userOf(String(raw.userName), deps.account));
  let workloadId = String(raw.workloadId);
  try {
    workloadId = normalizeWorkloadId(workloadId, { account: deps.account, region: deps.region }).id;
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const registration = parseRegistration({
    ...raw,
    workloadId,
    ...(opts.expires ? { expiresAt: opts.expires } : {}),
    ...(opts.purpose ? { purpose: opts.purpose } : {}),
  });
  const { created, record } = await recordRegistration(deps, registration, 'cli', { source: 'sundown.cli' });
  if (opts.json) printJson({ created, credential: record });
  else
    process.stdout.write(
      `${created ? 'Recorded' : 'Already recorded'} ${record.kind} ${record.credentialId} for ${record.workloadId}\n`,
    );
}

/**
 * `--user` takes a user name or the user's ARN; an ARN keeps the user's IAM path (so Sundown can name the
 * user by its real ARN) and must belong to the target account.
 */
function userOf(value: string, account: string): { userName: string; userPath?: string } {
  if (!value.startsWith('arn:')) return { userName: value };
  const arn = parseIamArn(value);
  if (arn?.kind !== 'user') {
    throw new CliError(
      `--user ${JSON.stringify(value.slice(0, 120))} is not an IAM user ARN: expected arn:<partition>:iam::<account>:user/<path/>name or a user name`,
    );
  }
  if (arn.account !== account) {
    throw new CliError(
      `--user ${value} belongs to account ${arn.account}, but the target account is ${account}`,
    );
  }
  return { userName: arn.name, userPath: arn.path };
}

export function registerCredentialCommands(program: Command): void {
  const reg = program.command('register').description('record a credential issued outside Sundown');
  withTargetOptions(
    reg
      .command('access-key')
      .description('record an IAM access key used by a workload')
      .requiredOption('--user <name|arn>', "IAM user name, or the user's ARN (keeps its IAM path)")
      .requiredOption('--key <accessKeyId>', 'access key ID (AKIA...)')
      .requiredOption('--workload <id>', 'workload ID (ARN, i-..., or custom)')
      .option('--expires <iso>', 'when the key stops being needed')
      .option('--purpose <text>', 'free text'),
  ).action((opts) =>
    register(
      { kind: 'access-key', userName: opts.user, accessKeyId: opts.key, workloadId: opts.workload },
      opts,
    ),
  );
  withTargetOptions(
    reg
      .command('session')
      .description('record a role session used by a workload')
      .requiredOption('--role <arn>', 'role ARN')
      .requiredOption('--session-name <name>', 'RoleSessionName')
      .requiredOption('--workload <id>', 'workload ID (ARN, i-..., or custom)')
      // Not `<ASIA...>`: commander reads a placeholder ending in `...` as a variadic (array) option.
      .option('--access-key-id <id>', "the session's temporary access key ID (ASIA...)")
      .option('--expires <iso>', 'session expiration')
      .option('--purpose <text>', 'free text'),
  ).action((opts) =>
    register(
      {
        kind: 'role-session',
        roleArn: opts.role,
        sessionName: opts.sessionName,
        workloadId: opts.workload,
        ...(opts.accessKeyId ? { accessKeyId: opts.accessKeyId } : {}),
      },
      opts,
    ),
  );
  withTargetOptions(
    reg
      .command('certificate')
      .description('record an ACM Private CA certificate used by a workload')
      .requiredOption('--ca <arn>', 'certificate authority ARN')
      .requiredOption('--serial <hex>', 'certificate serial (hex)')
      .requiredOption('--workload <id>', 'workload ID (ARN, i-..., or custom)')
      .option('--expires <iso>', 'certificate expiry')
      .option('--purpose <text>', 'free text'),
  ).action((opts) =>
    register({ kind: 'certificate', caArn: opts.ca, serial: opts.serial, workloadId: opts.workload }, opts),
  );

  const creds = program.command('credentials').description('the credential registry');
  withTargetOptions(
    creds
      .command('list')
      .description('list recorded credentials (by workload and/or status, through indexes)')
      .option('--workload <id>', 'only this workload')
      .option('--status <status>', `only this status (${CREDENTIAL_STATUSES.join(', ')})`)
      .option('--account <id>', "only credentials of workloads in this account (a hub's spokes)")
      .option('--limit <n>', 'at most this many', '50'),
  ).action(
    async (opts: CommonOptions & { workload?: string; status?: string; account?: string; limit: string }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new CliError(`--limit must be 1-1000, got "${opts.limit}"`);
      if (opts.status && !CREDENTIAL_STATUSES.includes(opts.status as CredentialStatus)) {
        throw new CliError(`--status must be one of ${CREDENTIAL_STATUSES.join(', ')}, got "${opts.status}"`);
      }
      const account = parseAccount(opts.account);
      const target = await resolveTarget(opts);
      const deps = await cliDeps(target);
      const wanted = (c: CredentialRecord) => account === undefined || c.account === account;
      let workloadId: string | undefined;
      if (opts.workload) {
        try {
          workloadId = normalizeWorkloadId(opts.workload, { account: deps.account, region: deps.region }).id;
        } catch (err) {
          throw new CliError((err as Error).message);
        }
      }
      const items = [];
      if (workloadId || opts.status) {
        let cursor: string | undefined;
        do {
          const page = await deps.registry.list({
            ...(workloadId ? { workloadId } : {}),
            ...(opts.status ? { status: opts.status as CredentialStatus } : {}),
            limit: limit - items.length,
            cursor,
          });
          items.push(...page.items.filter(wanted));
          cursor = page.cursor;
        } while (cursor && items.length < limit);
      } else {
        // No filter: walk the status index one status at a time (bounded, never a scan). With
        // --account, each status is paged until enough of that account's credentials are found.
        for (const status of CREDENTIAL_STATUSES) {
          let cursor: string | undefined;
          do {
            if (items.length >= limit) break;
            const page = await deps.registry.list({ status, limit: limit - items.length, cursor });
            items.push(...page.items.filter(wanted));
            cursor = account === undefined ? undefined : page.cursor;
          } while (cursor);
        }
      }
      const shown = items.slice(0, limit);
      if (opts.json) printJson(shown);
      else
        printTable(
          shown.map((c) => ({
            ...c,
            principal: c.roleArn ?? c.userName ?? c.caArn,
            name: c.sessionName ?? c.accessKeyId ?? c.serial,
            requestedBy: c.callerArn,
            reason: c.requestReason,
          })),
          [
            'credentialId',
            'kind',
            'status',
            'account',
            'workloadId',
            'principal',
            'name',
            'issuedAt',
            'statusReason',
            'requestedBy',
            'sourceIp',
            'reason',
          ],
        );
    },
  );
}
