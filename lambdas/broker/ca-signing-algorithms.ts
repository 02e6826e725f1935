/**
 * The signing algorithm to request from each ACM Private CA, read once per CA with
 * DescribeCertificateAuthority (CertificateAuthorityConfiguration.KeyAlgorithm) and kept: a CA's key
 * algorithm never changes after it is created. A failed lookup is not kept, so the next call retries.
 */
import { type ACMPCAClient, DescribeCertificateAuthorityCommand } from '@aws-sdk/client-acm-pca';
import { signingAlgorithmFor } from './certificate-signing.ts';

export interface SigningAlgorithmSource {
  forCa(caArn: string): Promise<string>;
}

export class CaSigningAlgorithms implements SigningAlgorithmSource {
  private readonly cache = new Map<string, Promise<string>>();

  constructor(private readonly client: ACMPCAClient) {}

  forCa(caArn: string): Promise<string> {
    let pending = this.cache.get(caArn);
    if (!pending) {
      pending = this.lookUp(caArn);
      this.cache.set(caArn, pending);
      const failed = pending;
      failed.catch(() => {
        if (this.cache.get(caArn) === failed) this.cache.delete(caArn);
      });
    }
    return pending;
  }

  private async lookUp(caArn: string): Promise<string> {
    const res = await this.client.send(
      new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn }),
    );
    return signingAlgorithmFor(res.CertificateAuthority?.CertificateAuthorityConfiguration?.KeyAlgorithm);
  }
}
