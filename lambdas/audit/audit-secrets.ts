/**
 * Secret hygiene for audit records: the record builder (audit-chain.ts) refuses secrets, so none can
 * ever be hashed into the chain (a chain cannot be redacted without breaking it). Pure; no I/O.
 */

// ---------------------------------------------------------------------------------------------
// Secret hygiene. The record builder refuses secrets so none can ever be hashed into the chain
// (a chain cannot be redacted without breaking it). Messages name the path and kind, never the value.

export const SECRET_KINDS = [
  'aws-secret-access-key',
  'sts-session-token',
  'pem-private-key',
  'secret-field-name',
] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];
export type SecretFinding = { path: string; kind: SecretKind };

export class SecretMaterialError extends Error {
  override readonly name = 'SecretMaterialError';
  constructor(readonly findings: readonly SecretFinding[]) {
    const where = findings.map((finding) => `${finding.path} (${finding.kind})`).join(', ');
    super(`secret material found at ${where}; secrets must never be written to audit records or logs`);
  }
}

const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
/** ARNs are public identifiers whose resource part (`role/Path/Name`) can look like base64: mask them. */
const ARN = /arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:\d*:[^\s"'`,;<>()[\]{}]*/g;
/** Base64 runs; `=` only as trailing padding so `secret_key=<value>` still isolates the value. */
const BASE64_RUN = /[A-Za-z0-9/+]+=*/g;
const SECRET_FIELD = /^(aws|xamz)?(sessiontoken|securitytoken|secretaccesskey|secretkey|privatekey)$/;

/**
 * Random base64 has both cases and almost surely a digit, `/` or `+`. Requiring them keeps hex
 * digests, upper-case IDs and plain words from matching; a real key escapes with odds ~1 in 4000.
 */
function looksRandom(run: string): boolean {
  return /[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9/+]/.test(run) && !/^[0-9a-fA-F]+$/.test(run);
}

/**
 * Kinds of secret material in free text (a log line, a message), distinct and in `SECRET_KINDS`
 * order. A secret access key is a standalone 40-character base64 run, a session token a base64 run
 * longer than 100. Access key IDs (AKIA/ASIA, 20 chars), sha256 hex, ISO dates, UUIDs and ARNs pass.
 */
export function findSecretMaterial(text: string): SecretKind[] {
  const found = new Set<SecretKind>();
  if (PEM_PRIVATE_KEY.test(text)) found.add('pem-private-key');
  for (const [run] of text.replace(ARN, ' ').matchAll(BASE64_RUN)) {
    const body = run.replace(/=+$/, '');
    if (body.length === 40 && looksRandom(body)) found.add('aws-secret-access-key');
    if (body.length > 100 && looksRandom(body)) found.add('sts-session-token');
  }
  return SECRET_KINDS.filter((kind) => found.has(kind));
}

/** Throws `SecretMaterialError` if any string or key in `value`, or any key's name, is secret-like. */
export function assertNoSecretMaterial(value: unknown): void {
  const findings: SecretFinding[] = [];
  scanForSecrets(value, '$', findings, new Set());
  if (findings.length > 0) throw new SecretMaterialError(findings);
}

function scanForSecrets(value: unknown, path: string, findings: SecretFinding[], seen: Set<object>): void {
  if (typeof value === 'string') {
    for (const kind of findSecretMaterial(value)) findings.push({ path, kind });
    return;
  }
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value) || value instanceof Set) {
    [...value].forEach((item, index) => {
      scanForSecrets(item, `${path}[${index}]`, findings, seen);
    });
    return;
  }
  const entries = value instanceof Map ? [...value] : Object.entries(value);
  for (const [rawKey, child] of entries) {
    const key = String(rawKey);
    const keyKinds = findSecretMaterial(key);
    const childPath = `${path}.${keyKinds.length > 0 ? '<redacted key>' : key}`;
    for (const kind of keyKinds) findings.push({ path: childPath, kind });
    const normalized = key.toLowerCase().replace(/[^a-z0-9]/g, '');
    if (child != null && SECRET_FIELD.test(normalized))
      findings.push({ path: childPath, kind: 'secret-field-name' });
    scanForSecrets(child, childPath, findings, seen);
  }
}
