/**
 * Revokes certificates on AWS Private CA (ACM PCA) with `RevokeCertificate`.
 *
 * Serial format: the API wants the serial "in hexadecimal format" and its documentation points at
 * `openssl x509 -text` and the console, which print colon-separated byte pairs; Sundown's registry keeps
 * serials as bare lowercase hex (`normalizeSerial`). Sundown sends the colon-separated, upper-case form
 * of the same number, leading zero bytes dropped (`0A:1B:...`): the documented form, and the one moto
 * compares against when it reports a revoked certificate (moto stores the string it was given verbatim).
 *
 * A repeat revoke is success: AWS answers `RequestAlreadyProcessedException`, moto answers 200 again.
 * Refusals that another attempt cannot fix are thrown as {@link CertificateRevocationRefused}; anything
 * else (throttling after the SDK's retries, RequestInProgress, ConcurrentModification,
 * RequestFailed, LimitExceeded) is rethrown for the queue to retry.
 *
 * The call goes to the CA's own region (taken from its ARN), which need not be Sundown's.
 */
import type { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import { type ClientSource, clientOf, once, RETRY } from '../../shared/clients.ts';

/** The ACM PCA SDK package, imported on first use (most revoker batches revoke no certificate). */
const acmPcaSdk = once(() => import('@aws-sdk/client-acm-pca'));

export type CertificateRevocationReason = 'CESSATION_OF_OPERATION' | 'KEY_COMPROMISE';

/** `revoked`: this call revoked it; `already-revoked`: AWS reported an earlier revocation. */
export type CertificateRevocationResult = 'revoked' | 'already-revoked';

/** A refusal that retrying will not change; `code` is the service's error code. */
export class CertificateRevocationRefused extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'CertificateRevocationRefused';
  }
}

/**
 * The serial as sent to RevokeCertificate: upper-case hex byte pairs joined by colons, leading zero
 * bytes dropped, e.g. `0a1b2c` and `00:0A:1B:2C` both give `0A:1B:2C` (bare hex only if the paired
 * form would exceed the API's 128 characters). Throws on anything but hex.
 */
export function apiSerial(serial: string): string {
  const hex = serial.replaceAll(':', '');
  if (!/^[0-9A-Fa-f]{1,128}$/.test(hex)) {
    throw new RangeError(
      `certificate serial ${JSON.stringify(serial.slice(0, 140))} is invalid: expected hexadecimal digits, optionally colon-separated`,
    );
  }
  let digits = hex.replace(/^0+/, '').toUpperCase() || '0';
  if (digits.length % 2 === 1) digits = `0${digits}`;
  const paired = digits.match(/../g)?.join(':') ?? digits;
  // RFC 5280 serials are at most 20 octets (59 characters paired); the API takes at most 128.
  return paired.length <= 128 ? paired : digits;
}

/** Retrying cannot help: permissions, unknown CA or certificate, a CA state that forbids revocation. */
const REFUSED: Record<string, string> = {
  AccessDeniedException:
    'access denied: Sundown may revoke only on CAs listed in the deployment setting certificateAuthorityArns (enforced by IAM)',
  AccessDenied:
    'access denied: Sundown may revoke only on CAs listed in the deployment setting certificateAuthorityArns (enforced by IAM)',
  ResourceNotFoundException: 'the CA or the certificate was not found',
  InvalidArnException: 'the CA ARN is invalid',
  InvalidRequestException: 'the request was refused (for example, a CA certificate cannot be revoked)',
  InvalidStateException: 'the CA is not in a state that allows revocation (deleted, pending or failed)',
};

export class CertificateRevoker {
  private readonly regional = new Map<string, ACMPCAClient>();

  /**
   * @param client used for CAs in its own region.
   * @param clientForRegion makes a client for a CA in another region (the default reads the standard
   *   SDK configuration, like `clients.ts`).
   */
  constructor(
    private readonly client: ClientSource<ACMPCAClient>,
    private readonly clientForRegion: (region: string) => Promise<ACMPCAClient> = async (region) =>
      new (await acmPcaSdk()).ACMPCAClient({ region, ...RETRY }),
  ) {}

  async revoke(
    caArn: string,
    serial: string,
    reason: CertificateRevocationReason,
  ): Promise<CertificateRevocationResult> {
    const [client, { RevokeCertificateCommand }] = await Promise.all([this.clientFor(caArn), acmPcaSdk()]);
    try {
      await client.send(
        new RevokeCertificateCommand({
          CertificateAuthorityArn: caArn,
          CertificateSerial: apiSerial(serial),
          RevocationReason: reason,
        }),
      );
      return 'revoked';
    } catch (err) {
      const name = (err as { name?: string })?.name ?? '';
      if (name === 'RequestAlreadyProcessedException') return 'already-revoked';
      const why = REFUSED[name];
      if (why) {
        const detail = String((err as Error)?.message ?? '').slice(0, 300);
        throw new CertificateRevocationRefused(
          `revoking certificate ${serial} on ${caArn} failed with ${name}: ${why}${detail ? ` (${detail})` : ''}`,
          name,
        );
      }
      throw err;
    }
  }

  private async clientFor(caArn: string): Promise<ACMPCAClient> {
    const region = caArn.split(':')[3] ?? '';
    const ownClient = await clientOf(this.client);
    const own = await ownClient.config.region();
    if (!region || region === own) return ownClient;
    let client = this.regional.get(region);
    if (!client) {
      client = await this.clientForRegion(region);
      this.regional.set(region, client);
    }
    return client;
  }
}
