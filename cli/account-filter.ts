/**
 * `--account`: which account's credentials and audit records to show (a hub serves several, issue 19).
 */
import { CliError } from './errors.ts';

/** The 12-digit account of `--account`, or undefined when the flag is not given. */
export function parseAccount(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const account = raw.trim();
  if (!/^\d{12}$/.test(account))
    throw new CliError(`--account must be a 12-digit AWS account ID, got "${raw}"`);
  return account;
}
