/**
 * The accounts Sundown serves, and AWS clients that act in each (issue 19, hub and spoke).
 *
 * In its own (home) account a function acts with its execution role, as always. In a spoke account
 * it acts only through the role Sundown's spoke stack made there (contract.ts): the revoker role for
 * writes, the reader role for lookups. An account that is neither home nor a configured spoke gets no
 * client at all ({@link AccountNotServed}): no event, registry record or message can make Sundown act
 * in an account it was not deployed to serve, and a role ARN naming another account is never mistaken
 * for the home role of the same name.
 */
import type { AssumeRoleCommandOutput, STSClient } from '@aws-sdk/client-sts';
import { type ClientSource, clientOf } from '../clients.ts';
import { roleArnOf, SPOKE_READER_ROLE_NAME, SPOKE_REVOKER_ROLE_NAME, SPOKE_ROLE_PATH } from '../contract.ts';

/** The spoke accounts of a hub, or `organization`: any account its bus admits. */
export type SpokeAccounts = readonly string[] | 'organization';
/** Why a function acts in a spoke: `revoke` (IAM writes, the revoker only) or `read` (lookups). */
export type SpokePurpose = 'revoke' | 'read';

/** Temporary credentials, as the SDK's clients take them. */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

/** Client settings for one account: no credentials = the function's own role (home account). */
export interface AccountClientConfig {
  credentials?: AwsCredentialIdentityProvider;
}

/** A client for the account (and partition) a resource lives in. */
export type PerAccount<T> = (account: string, partition: string) => T;

/** The client for `account`: `source` itself when it is one client (tests, single account). */
export function clientIn<T extends object>(source: T | PerAccount<T>, account: string, partition: string): T {
  return typeof source === 'function' ? (source as PerAccount<T>)(account, partition) : source;
}

/** Sundown was asked to act in an account it does not serve: permanent, never retried into success. */
export class AccountNotServed extends Error {
  constructor(readonly account: string) {
    super(
      `account ${account} is not one this Sundown deployment serves (not its own, not a configured spoke)`,
    );
    this.name = 'AccountNotServed';
  }
}

/** The spoke role could not be assumed (missing spoke stack, trust, SCP): retried, then audited. */
export class SpokeAccessError extends Error {
  constructor(
    readonly roleArn: string,
    cause: unknown,
  ) {
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`cannot assume ${roleArn} (is the Sundown spoke stack deployed in that account?): ${detail}`);
    this.name = 'SpokeAccessError';
  }
}

export interface AccountsOptions {
  home: string;
  spokes?: SpokeAccounts | undefined;
  externalId?: string | undefined;
  /** Names the sessions in the spoke's CloudTrail: `sundown-<function>`. */
  sessionName: string;
  sts: ClientSource<STSClient>;
}

const SESSION_SECONDS = 3600;
/** A spoke session is renewed this long before it expires (the SDK's own margin is 5 minutes). */
const REFRESH_MS = 10 * 60_000;

export class Accounts {
  private readonly providers = new Map<string, AwsCredentialIdentityProvider>();
  private readonly clients = new Map<string, unknown>();

  constructor(private readonly options: AccountsOptions) {}

  get home(): string {
    return this.options.home;
  }

  /** True for a hub: it serves accounts besides its own. */
  get isHub(): boolean {
    const spokes = this.options.spokes;
    return spokes === 'organization' || (spokes?.length ?? 0) > 0;
  }

  /** Home, a listed spoke, or (organization) any well-formed account the hub's bus admitted. */
  serves(account: string): boolean {
    if (account === this.options.home) return true;
    const spokes = this.options.spokes;
    if (spokes === 'organization') return /^\d{12}$/.test(account);
    return spokes?.includes(account) ?? false;
  }

  /** The role a hub assumes in `account` for `purpose`. */
  spokeRoleArn(partition: string, account: string, purpose: SpokePurpose): string {
    const name = purpose === 'revoke' ? SPOKE_REVOKER_ROLE_NAME : SPOKE_READER_ROLE_NAME;
    return roleArnOf(partition, account, SPOKE_ROLE_PATH, name);
  }

  /**
   * How to sign calls in `account`: undefined at home (the function's own role), else the spoke
   * role's session, assumed on first use and refreshed by the SDK before it expires.
   * @throws AccountNotServed
   */
  credentials(
    account: string,
    partition: string,
    purpose: SpokePurpose,
  ): AwsCredentialIdentityProvider | undefined {
    if (account === this.options.home) return undefined;
    if (!this.serves(account)) throw new AccountNotServed(account);
    const roleArn = this.spokeRoleArn(partition, account, purpose);
    let provider = this.providers.get(roleArn);
    if (!provider) {
      provider = this.assume(roleArn);
      this.providers.set(roleArn, provider);
    }
    return provider;
  }

  /**
   * A client per account and purpose, made once: `make({})` at home, `make({ credentials })` in a
   * spoke. `kind` names the client type in the cache (e.g. 'iam').
   */
  perAccount<T>(
    kind: string,
    purpose: SpokePurpose,
    make: (config: AccountClientConfig, account: string, partition: string) => T,
  ): PerAccount<T> {
    return (account, partition) => {
      const key = `${kind}|${purpose}|${partition}|${account}`;
      let client = this.clients.get(key) as T | undefined;
      if (client === undefined) {
        const credentials = this.credentials(account, partition, purpose);
        client = make(credentials ? { credentials } : {}, account, partition);
        this.clients.set(key, client);
      }
      return client;
    };
  }

  /**
   * The spoke role's session, shared by every client that acts with it (IAM, EC2, ECS, ...): assumed
   * once, again only when it is within {@link REFRESH_MS} of expiring or the last attempt failed.
   */
  private assume(roleArn: string): AwsCredentialIdentityProvider {
    let session: Promise<AwsCredentialIdentity> | undefined;
    return async () => {
      const seen = session;
      if (seen) {
        const held = await seen.catch(() => undefined);
        const expiring = held?.expiration && held.expiration.getTime() - Date.now() < REFRESH_MS;
        if (held && !expiring) return held;
      }
      // None yet, failed or expiring: the first caller to notice renews it, the others share that.
      if (session === seen) session = this.assumeOnce(roleArn);
      return session as Promise<AwsCredentialIdentity>;
    };
  }

  private assumeOnce(roleArn: string): Promise<AwsCredentialIdentity> {
    const { sessionName, externalId } = this.options;
    return (async (): Promise<AwsCredentialIdentity> => {
      const { AssumeRoleCommand } = await import('@aws-sdk/client-sts');
      const sts = await clientOf(this.options.sts);
      let res: AssumeRoleCommandOutput;
      try {
        res = await sts.send(
          new AssumeRoleCommand({
            RoleArn: roleArn,
            RoleSessionName: sessionName.slice(0, 64),
            DurationSeconds: SESSION_SECONDS,
            ...(externalId ? { ExternalId: externalId } : {}),
          }),
        );
      } catch (err) {
        throw new SpokeAccessError(roleArn, err);
      }
      const c = res.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
        throw new SpokeAccessError(roleArn, new Error('AssumeRole returned no credentials'));
      }
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        ...(c.Expiration ? { expiration: c.Expiration } : {}),
      };
    })();
  }
}

/** The account and partition of an ARN (`arn:<partition>:<service>:<region>:<account>:...`); undefined otherwise. */
export function arnAccount(arn: string): { account: string; partition: string } | undefined {
  const parts = arn.split(':');
  if (parts[0] !== 'arn' || parts.length < 6) return undefined;
  const partition = parts[1] ?? '';
  const account = parts[4] ?? '';
  return /^\d{12}$/.test(account) && partition ? { account, partition } : undefined;
}
