/**
 * IAM writes on an opted-in user: deactivate exactly the access keys Sundown recorded, and write or
 * delete Sundown's inline policy on the user. The policy document comes from the revocation store
 * (DynamoDB); nothing here lists the user's keys or reads Sundown's policy back to modify it.
 *
 * Errors that another attempt cannot fix (access denied, the user's inline-policy quota, a rejected
 * document) are thrown as {@link UserRevocationRefused}, so the caller can settle the credential as
 * `failed` at once instead of retrying it into the DLQ. Anything else (throttling after the SDK's own
 * retries, service failures) is rethrown as it is.
 */

import {
  DeleteUserPolicyCommand,
  type IAMClient,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { AccountNotServed, clientIn, type PerAccount } from '../../shared/adapters/accounts.ts';
import { DENY_POLICY_NAME } from '../../shared/contract.ts';
import { parseIamArn } from '../../shared/domain/iam-arn.ts';

export const USER_INLINE_POLICY_NAME = DENY_POLICY_NAME;
/** IAM quota: aggregate size of all inline policies of one user, whitespace not counted. */
export const USER_INLINE_POLICY_LIMIT = 2_048;

/** An IAM refusal that retrying will not change; `code` is IAM's error code. */
export class UserRevocationRefused extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'UserRevocationRefused';
  }
}

/** `deactivated`: UpdateAccessKey succeeded (also when the key was already inactive). */
export type KeyDeactivation = 'deactivated' | 'not-found';

function errorName(err: unknown): string {
  return (err as { name?: string })?.name ?? '';
}

const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException']);
const NO_SUCH_ENTITY = new Set(['NoSuchEntity', 'NoSuchEntityException']);
const LIMIT_EXCEEDED = new Set(['LimitExceeded', 'LimitExceededException']);
const MALFORMED = new Set(['MalformedPolicyDocument', 'MalformedPolicyDocumentException']);

function message(err: unknown): string {
  return String((err as Error)?.message ?? err).slice(0, 300);
}

/** The user's name and the client for the user's own account (a hub acts in a spoke through its revoker role). */
function target(
  iam: IAMClient | PerAccount<IAMClient>,
  userArn: string,
): { userName: string; client: IAMClient } {
  const user = parseIamArn(userArn);
  if (user?.kind !== 'user')
    throw new UserRevocationRefused(`not an IAM user ARN: ${userArn.slice(0, 200)}`, 'InvalidInput');
  try {
    return { userName: user.name, client: clientIn(iam, user.account, user.partition) };
  } catch (err) {
    if (err instanceof AccountNotServed) throw new UserRevocationRefused(err.message, 'AccountNotServed');
    throw err;
  }
}

export class UserPolicyWriter {
  /** One client, or one per account. */
  constructor(private readonly iam: IAMClient | PerAccount<IAMClient>) {}

  /**
   * Sets one recorded key `Inactive`. Idempotent: an already inactive key succeeds again.
   * `not-found` means IAM knows no such key on this user: it was deleted (the key can no longer sign
   * anything), or the registration named another user.
   */
  async deactivateKey(userArn: string, accessKeyId: string): Promise<KeyDeactivation> {
    const { userName, client } = target(this.iam, userArn);
    try {
      await client.send(
        new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId, Status: 'Inactive' }),
      );
      return 'deactivated';
    } catch (err) {
      const name = errorName(err);
      if (NO_SUCH_ENTITY.has(name)) return 'not-found';
      if (ACCESS_DENIED.has(name)) {
        throw new UserRevocationRefused(
          `access denied deactivating access key ${accessKeyId} of user ${userName}: the user must be tagged sundown:revoke=enabled or allowlisted (${message(err)})`,
          name,
        );
      }
      throw err;
    }
  }

  /** Writes Sundown's inline policy; `user-deleted` when the user no longer exists. */
  async putSessionsPolicy(userArn: string, document: object): Promise<'written' | 'user-deleted'> {
    const { userName, client } = target(this.iam, userArn);
    try {
      await client.send(
        new PutUserPolicyCommand({
          UserName: userName,
          PolicyName: USER_INLINE_POLICY_NAME,
          PolicyDocument: JSON.stringify(document),
        }),
      );
      return 'written';
    } catch (err) {
      const name = errorName(err);
      if (NO_SUCH_ENTITY.has(name)) return 'user-deleted';
      if (ACCESS_DENIED.has(name)) {
        throw new UserRevocationRefused(
          `access denied writing policy ${USER_INLINE_POLICY_NAME} on user ${userName}: the user must be tagged sundown:revoke=enabled or allowlisted (${message(err)})`,
          name,
        );
      }
      if (LIMIT_EXCEEDED.has(name)) {
        throw new UserRevocationRefused(
          `policy ${USER_INLINE_POLICY_NAME} does not fit on user ${userName}: IAM allows ${USER_INLINE_POLICY_LIMIT} characters for all of a user's inline policies together (${message(err)})`,
          name,
        );
      }
      if (MALFORMED.has(name)) {
        throw new UserRevocationRefused(
          `IAM rejected policy ${USER_INLINE_POLICY_NAME} for user ${userName}: ${message(err)}`,
          name,
        );
      }
      throw err;
    }
  }

  /** Deletes Sundown's inline policy; `absent` when there was none (or no such user). */
  async deleteSessionsPolicy(userArn: string): Promise<'deleted' | 'absent'> {
    const { userName, client } = target(this.iam, userArn);
    try {
      await client.send(
        new DeleteUserPolicyCommand({ UserName: userName, PolicyName: USER_INLINE_POLICY_NAME }),
      );
      return 'deleted';
    } catch (err) {
      const name = errorName(err);
      if (NO_SUCH_ENTITY.has(name)) return 'absent';
      if (ACCESS_DENIED.has(name)) {
        throw new UserRevocationRefused(
          `access denied deleting policy ${USER_INLINE_POLICY_NAME} from user ${userName} (${message(err)})`,
          name,
        );
      }
      throw err;
    }
  }
}
