/**
 * Which signing algorithm ACM Private CA must be asked for, given the CA's key algorithm, and the serial
 * number of an issued certificate. Pure; no AWS calls.
 *
 * IssueCertificate's SigningAlgorithm must belong to the family of the CA's private key ("the specified
 * signing algorithm family (RSA or ECDSA) must match the algorithm family of the CA's private key",
 * Private CA user guide, supported algorithms): an EC CA refuses SHA256WITHRSA. The hash follows the key
 * size (P-256 with SHA-256, P-384 with SHA-384, P-521 with SHA-512); SM2 keys sign with SM3WITHSM2 and
 * ML-DSA keys with the ML-DSA parameter set of the same name.
 */
import { X509Certificate } from 'node:crypto';

const BY_KEY_ALGORITHM: Readonly<Record<string, string>> = Object.freeze({
  EC_prime256v1: 'SHA256WITHECDSA',
  EC_secp384r1: 'SHA384WITHECDSA',
  EC_secp521r1: 'SHA512WITHECDSA',
  SM2: 'SM3WITHSM2',
  ML_DSA_44: 'ML_DSA_44',
  ML_DSA_65: 'ML_DSA_65',
  ML_DSA_87: 'ML_DSA_87',
});

export class UnsupportedKeyAlgorithmError extends Error {
  override readonly name = 'UnsupportedKeyAlgorithmError';
}

/** The IssueCertificate signing algorithm for a CA whose key algorithm is `keyAlgorithm`. */
export function signingAlgorithmFor(keyAlgorithm: string | undefined): string {
  if (typeof keyAlgorithm === 'string' && /^RSA_\d+$/.test(keyAlgorithm)) return 'SHA256WITHRSA';
  if (typeof keyAlgorithm === 'string' && Object.hasOwn(BY_KEY_ALGORITHM, keyAlgorithm)) {
    return BY_KEY_ALGORITHM[keyAlgorithm] as string;
  }
  throw new UnsupportedKeyAlgorithmError(
    `CA key algorithm ${JSON.stringify(String(keyAlgorithm).slice(0, 40))} is not supported: expected RSA_*, ` +
      `${Object.keys(BY_KEY_ALGORITHM).join(', ')}`,
  );
}

/**
 * The serial number of a PEM certificate as Sundown's registry keeps serials: lowercase hex, no colons,
 * no leading zero bytes, an even number of digits (`0a1b...`). RevokeCertificate gets the colon-separated
 * form of the same number (certificate-revoker.ts `apiSerial`). Throws on anything but one certificate.
 */
export function certificateSerial(pem: string): string {
  const hex = new X509Certificate(pem).serialNumber.replaceAll(':', '');
  let digits = BigInt(`0x${hex}`).toString(16);
  if (digits.length % 2 === 1) digits = `0${digits}`;
  return digits;
}

/** When a PEM certificate stops being valid, as an ISO instant. */
export function certificateNotAfter(pem: string): string {
  return new Date(new X509Certificate(pem).validTo).toISOString();
}
