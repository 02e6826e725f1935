/**
 * Redaction by construction: every structured log line passes through
 * `redactingReplacer` (wired into the Logger as its JSON replacer), so a
 * secret cannot reach a log even when a developer logs a whole object.
 */
const SECRET_KEY_NAME = /secret|sessiontoken|securitytoken|privatekey|password|^token$|^credentials$/i;
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g;
/** 40 base64 characters standing alone: the shape of an AWS secret access key. */
const SECRET_ACCESS_KEY = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])/g;
/** STS session tokens are long base64 strings (hundreds of characters). */
const SESSION_TOKEN = /[A-Za-z0-9/+=]{100,}/g;

export const REDACTED = '[REDACTED]';

export function redactString(value: string): string {
  return value
    .replace(PEM_PRIVATE_KEY, REDACTED)
    .replace(SESSION_TOKEN, REDACTED)
    .replace(SECRET_ACCESS_KEY, (match) => (/^[0-9a-f]{40}$/.test(match) ? match : REDACTED));
}

export function redactingReplacer(key: string, value: unknown): unknown {
  if (key && SECRET_KEY_NAME.test(key.replace(/[^A-Za-z]/g, ''))) return REDACTED;
  if (typeof value === 'string') return redactString(value);
  if (value instanceof Error) return { name: value.name, message: redactString(value.message) };
  return value;
}
