import type { z } from 'zod';

/**
 * zod's validation errors in words, one line per issue, for people: `--rank: must be ≥ 1` rather
 * than a JSON dump of the issue list. Every layer that validates user input with a zod schema (CLI
 * flags, fine-tune specs, API arguments) formats its refusals here, so they read the same everywhere.
 */

type Issue = z.core.$ZodIssue;

const list = (values: readonly unknown[]): string => values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');

/** What is wrong with the value, without where: "must be ≥ 1", "must be one of 'a', 'b'". */
export function describeZodIssue(issue: Issue): string {
  switch (issue.code) {
    case 'too_small': {
      const n = String(issue.minimum);
      if (issue.origin === 'string') return `must have at least ${n} character${n === '1' ? '' : 's'}`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at least ${n} item${n === '1' ? '' : 's'}`;
      return `must be ${issue.inclusive === false ? '>' : '≥'} ${n}`;
    }
    case 'too_big': {
      const n = String(issue.maximum);
      if (issue.origin === 'string') return `must have at most ${n} characters`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at most ${n} items`;
      return `must be ${issue.inclusive === false ? '<' : '≤'} ${n}`;
    }
    case 'invalid_type': {
      const expected = issue.expected === 'int' ? 'an integer' : ['array', 'object', 'undefined'].includes(issue.expected) ? `an ${issue.expected}` : `a ${issue.expected}`;
      // zod names what it received in its own message ("…, received undefined").
      if (/received undefined$/.test(issue.message)) return `is required (${expected})`;
      return `must be ${expected}`;
    }
    case 'invalid_value':
      return issue.values.length === 1 ? `must be ${list(issue.values)}` : `must be one of ${list(issue.values)}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length === 1 ? '' : 's'} ${list(issue.keys)}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_format':
      return issue.format === 'regex' ? issue.message : `must be a valid ${issue.format}`;
    default:
      return issue.message;
  }
}

export interface FormatZodOptions {
  /** How a field's path is named: default `a.b.0`; the CLI names flags (`--rank`). */
  name?: (path: readonly PropertyKey[]) => string;
  /** Names the whole value when an issue has an empty path (default '(value)'). */
  whole?: string;
  /** At most this many issues are shown (default 10), then "(and N more)". */
  max?: number;
}

/** One line per issue, "where: what": `rank: must be ≥ 1`. */
export function formatZodIssues(error: z.ZodError, opts: FormatZodOptions = {}): string {
  const name = opts.name ?? ((p: readonly PropertyKey[]) => p.map(String).join('.'));
  const max = opts.max ?? 10;
  const lines = error.issues.slice(0, max).map((issue) => {
    const where = issue.path.length ? name(issue.path) : (opts.whole ?? '(value)');
    return `${where}: ${describeZodIssue(issue)}`;
  });
  if (error.issues.length > max) lines.push(`(and ${error.issues.length - max} more)`);
  return lines.join('\n');
}

/**
 * `schema.parse(value)` with a readable error: throws `makeError(text)` (default: an Error) whose text
 * is `what: ` and then one line per issue when there are several.
 */
export function parseWithIssues<S extends z.ZodType>(schema: S, value: unknown, what: string, opts: FormatZodOptions & { makeError?: (message: string) => Error } = {}): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const text = formatZodIssues(parsed.error, opts);
  const message = text.includes('\n') ? `${what}:\n${text.replace(/^/gm, '  ')}` : `${what}: ${text}`;
  throw (opts.makeError ?? ((m: string) => new Error(m)))(message);
}
