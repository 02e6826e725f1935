/**
 * Whether an event matches an EventBridge pattern, for the operators Sundown's rules use: exact
 * values, `anything-but` and `prefix`. Any other operator throws, so a test never passes on a
 * pattern this helper does not understand.
 */
export function matchesPattern(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, condition]) => {
    const value = event[key];
    if (Array.isArray(condition)) return condition.some((c) => matchesValue(c, value));
    if (condition && typeof condition === 'object') {
      return (
        value !== null &&
        typeof value === 'object' &&
        matchesPattern(condition as Record<string, unknown>, value as Record<string, unknown>)
      );
    }
    throw new Error(`unsupported pattern member ${key}: ${JSON.stringify(condition)}`);
  });
}

function matchesValue(condition: unknown, value: unknown): boolean {
  if (typeof condition === 'string' || typeof condition === 'number') return condition === value;
  const operators = Object.entries(condition as Record<string, unknown>);
  const [name, operand] = operators[0] ?? [];
  if (operators.length === 1 && name === 'anything-but') {
    return !(Array.isArray(operand) ? operand : [operand]).includes(value);
  }
  if (operators.length === 1 && name === 'prefix' && typeof operand === 'string') {
    return typeof value === 'string' && value.startsWith(operand);
  }
  throw new Error(`unsupported pattern operator ${JSON.stringify(condition)}`);
}
