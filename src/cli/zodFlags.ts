import { Option } from 'commander';
import type { z } from 'zod';
import { formatZodIssues } from '../shared/zodIssues';

/**
 * Command-line flags derived from a zod object schema, so a CLI command accepts exactly the arguments
 * the API does: `topK` → `--top-k <value>`, with the field's description as help. Values arrive as
 * strings and are converted by the field's type; the schema then validates them as it does for the API.
 */

interface Def {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  entries?: Record<string, string>;
  values?: unknown[];
}

const defOf = (s: z.ZodType): Def => (s as unknown as { def: Def }).def;

function unwrap(s: z.ZodType): z.ZodType {
  let cur = s;
  for (let d = defOf(cur); (d.type === 'optional' || d.type === 'default' || d.type === 'nullable') && d.innerType; d = defOf(cur)) cur = d.innerType;
  return cur;
}

export const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A string from the command line as the field's type wants it; what cannot convert is left for the schema to reject. */
export function coerceFlag(schema: z.ZodType, raw: string): unknown {
  const s = unwrap(schema);
  const d = defOf(s);
  switch (d.type) {
    case 'number':
      return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    case 'array':
      return raw.split(',').map((part) => coerceFlag(d.element as z.ZodType, part.trim()));
    case 'union': {
      // The first alternative that accepts the converted value ('last' stays a string, 7 becomes a number).
      for (const o of d.options ?? []) {
        const v = coerceFlag(o, raw);
        if (o.safeParse(v).success) return v;
      }
      return raw;
    }
    default:
      return raw;
  }
}

export interface Flag {
  key: string;
  option: Option;
}

/** One commander Option per field of `schema`. */
export function flagsOf(schema: z.ZodObject): Flag[] {
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([key, field]) => {
    const inner = unwrap(field);
    const d = defOf(inner);
    const option = new Option(`--${kebab(key)} <value>`, field.description ?? inner.description ?? key);
    if (d.type === 'enum' && d.entries) option.choices(Object.values(d.entries));
    return { key, option };
  });
}

/**
 * The parsed commander options of those flags → the schema's input object (only the flags given). Each
 * value is checked against its field's schema here, so a wrong one is refused naming its flag, one line
 * per problem (`--position: must be ≥ 0`); checks across fields stay with the schema's caller.
 */
export function argsFromFlags(flags: readonly Flag[], schema: z.ZodObject, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const shape = schema.shape as Record<string, z.ZodType>;
  const problems: string[] = [];
  for (const f of flags) {
    const raw = given[f.option.attributeName()];
    if (typeof raw !== 'string') continue;
    const value = coerceFlag(shape[f.key], raw);
    const checked = shape[f.key].safeParse(value);
    if (!checked.success) {
      // An array flag's issue path starts at the element: "--layers (item 2): must be ≥ 0".
      // The API's field name rides along where it differs from the flag (`--top-k (topK)`), as in the JSON.
      const flag = kebab(f.key) === f.key ? `--${f.key}` : `--${kebab(f.key)} (${f.key})`;
      problems.push(formatZodIssues(checked.error, { whole: flag, name: (p) => `${flag} ${typeof p[0] === 'number' ? `item ${p[0] + 1}` : p.map(String).join('.')}` }));
    }
    out[f.key] = value;
  }
  if (problems.length) throw new Error(problems.join('\n'));
  return out;
}
