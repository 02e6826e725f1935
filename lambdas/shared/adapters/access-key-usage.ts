/**
 * When an IAM access key was last used (iam:GetAccessKeyLastUsed), for the sweep's idle-key check.
 * IAM reports the date of the last request signed with the key, if any; a key never used has none.
 */
import { GetAccessKeyLastUsedCommand, type IAMClient } from '@aws-sdk/client-iam';
import { clientIn, type PerAccount } from './accounts.ts';

export type KeyUsage =
  | { state: 'found'; userName?: string; lastUsedAt?: string }
  | { state: 'not-found' }
  | { state: 'unknown'; detail: string };

export interface AccessKeyUsage {
  /** `where`: the key's account (a hub asks a spoke through the spoke's reader role). */
  lastUsed(accessKeyId: string, where?: { account: string; partition: string }): Promise<KeyUsage>;
}

export class IamAccessKeyUsage implements AccessKeyUsage {
  constructor(
    private readonly iam: IAMClient | PerAccount<IAMClient>,
    private readonly home: { account: string; partition: string } = { account: '', partition: 'aws' },
  ) {}

  async lastUsed(accessKeyId: string, where = this.home): Promise<KeyUsage> {
    try {
      const res = await clientIn(this.iam, where.account, where.partition).send(
        new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }),
      );
      const date = res.AccessKeyLastUsed?.LastUsedDate;
      return {
        state: 'found',
        ...(res.UserName ? { userName: res.UserName } : {}),
        ...(date ? { lastUsedAt: new Date(date).toISOString() } : {}),
      };
    } catch (err) {
      const name = (err as { name?: string })?.name ?? 'Error';
      if (name === 'NoSuchEntity' || name === 'NoSuchEntityException') return { state: 'not-found' };
      return { state: 'unknown', detail: `${name}: ${String((err as Error)?.message ?? err).slice(0, 160)}` };
    }
  }
}
