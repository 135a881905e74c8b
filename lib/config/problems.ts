import type { z } from 'zod';

/**
 * One line per zod issue of a configuration, `  {prefix.}{key} = {value}: {message}`, naming the key and the value
 * that was given, so a bad configuration stops synth saying what to change.
 */
export function configurationProblems(
  candidate: unknown,
  issues: readonly z.core.$ZodIssue[],
  prefix?: string,
): string[] {
  return issues.map((issue) => {
    const key = [...(prefix ? [prefix] : []), ...issue.path.map(String)].join('.') || '(root)';
    return `  ${key} = ${JSON.stringify(valueAt(candidate, issue.path))}: ${issue.message}`;
  });
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (node, key) =>
      node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[key] : undefined,
    root,
  );
}
