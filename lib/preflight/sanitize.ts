/**
 * Text from a template (logical IDs, tag values, file names) can hold anything: terminal escape
 * sequences, control characters, bidirectional overrides, megabytes. Everything preflight prints goes
 * through `printable` (for a terminal) or `escapeJsonText` (JSON and SARIF: same data, but those
 * characters written as \u escapes).
 */

/** C0 and C1 controls, DEL, line/paragraph separators and bidi controls. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export const MAX_PRINTED = 200;

/** For a terminal: unsafe characters as \xNN / \uNNNN, cut to `max` characters. */
export function printable(text: string, max = MAX_PRINTED): string {
  const escaped = text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return escaped.length > max ? `${escaped.slice(0, max)}…(${escaped.length - max} more)` : escaped;
}

/** What JSON.stringify leaves raw inside strings (it escapes C0 itself; newlines between tokens must stay). */
const RAW_IN_JSON = /[\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** JSON text with the characters JSON.stringify leaves raw (DEL, C1, bidi, separators) escaped. */
export function escapeJsonText(json: string): string {
  return json.replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** True when the text holds a character `printable` would escape. */
export function hasUnsafeCharacters(text: string): boolean {
  UNSAFE.lastIndex = 0;
  const found = UNSAFE.test(text);
  UNSAFE.lastIndex = 0;
  return found;
}
