import { Option } from 'commander';
import type { z } from 'zod';

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

/** The parsed commander options of those flags → the schema's input object (only the flags given). */
export function argsFromFlags(flags: readonly Flag[], schema: z.ZodObject, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const shape = schema.shape as Record<string, z.ZodType>;
  for (const f of flags) {
    const raw = given[f.option.attributeName()];
    if (typeof raw === 'string') out[f.key] = coerceFlag(shape[f.key], raw);
  }
  return out;
}
