/**
 * When an IAM access key was last used (iam:GetAccessKeyLastUsed), for the sweep's idle-key check.
 * IAM reports the date of the last request signed with the key, if any; a key never used has none.
 */
import { GetAccessKeyLastUsedCommand, type IAMClient } from '@aws-sdk/client-iam';

export type KeyUsage =
  | { state: 'found'; userName?: string; lastUsedAt?: string }
  | { state: 'not-found' }
  | { state: 'unknown'; detail: string };

export interface AccessKeyUsage {
  lastUsed(accessKeyId: string): Promise<KeyUsage>;
}

export class IamAccessKeyUsage implements AccessKeyUsage {
  constructor(private readonly iam: IAMClient) {}

  async lastUsed(accessKeyId: string): Promise<KeyUsage> {
    try {
      const res = await this.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId }));
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
