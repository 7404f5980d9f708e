import { z } from 'zod';
import { writeFileAtomicSync } from '../io/atomicWrite';
import { FileReadError, readRegularTextSync, READ_LIMITS } from '../io/safeFs';

/**
 * Text examples for fine-tuning language models, one JSON object per line (JSONL):
 * `{"prompt": "Q: Which country is City 50337 in?\nA:", "completion": " France", "label": "heldout_country"}`.
 * The loss is taken on the completion only; `label` names the eval set an example belongs to (metrics
 * are `${label}_acc`), `split` is free-form provenance.
 */
export interface TextExample {
  prompt: string;
  completion: string;
  split?: string;
  label?: string;
}

const FIELDS = ['prompt', 'completion', 'split', 'label'] as const;

const TextExampleSchema = z.strictObject({
  prompt: z.string(),
  completion: z.string().min(1),
  split: z.string().optional(),
  label: z.string().optional(),
});

/** What is wrong with one parsed value, in words, or null when it is a valid example. */
function problemWith(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `expected a JSON object with "prompt" and "completion", got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`;
  }
  const unknown = Object.keys(value).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) return `unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')} (expected ${FIELDS.join(', ')})`;
  const parsed = TextExampleSchema.safeParse(value);
  if (parsed.success) return null;
  const field = String(parsed.error.issues[0]?.path[0] ?? '');
  switch (field) {
    case 'prompt':
      return '"prompt" must be a string';
    case 'completion':
      return '"completion" must be a non-empty string';
    case 'split':
    case 'label':
      return `"${field}" must be a string when present`;
    default:
      return parsed.error.issues.map((i) => i.message).join('; ');
  }
}

/** Copies only the known fields, in a fixed order (so written files are stable). */
function clean(e: TextExample): TextExample {
  const out: TextExample = { prompt: e.prompt, completion: e.completion };
  if (e.split !== undefined) out.split = e.split;
  if (e.label !== undefined) out.label = e.label;
  return out;
}

/**
 * Parses JSONL text; `file` only names the source in errors. Blank lines are skipped and a leading
 * UTF-8 BOM is tolerated. Errors read `${file}:${line}: what is wrong`.
 */
export function parseJsonlExamples(text: string, file: string): TextExample[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split('\n');
  const out: TextExample[] = [];
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new Error(`${file}:${i + 1}: not valid JSON (${(err as Error).message})`);
    }
    const problem = problemWith(value);
    if (problem !== null) throw new Error(`${file}:${i + 1}: ${problem}`);
    out.push(clean(value as TextExample));
  });
  if (out.length === 0) throw new Error(`${file}: holds no examples`);
  return out;
}

export function readJsonlExamples(file: string): TextExample[] {
  let text: string;
  try {
    // A regular file of bounded size only: a FIFO or /dev/zero is refused by name, never read.
    text = readRegularTextSync(file, READ_LIMITS.jsonl);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new Error(`${file}: file not found`);
    if (code === 'EISDIR' || (err instanceof FileReadError && /^is a directory/.test(err.problem))) throw new Error(`${file}: is a folder, expected a .jsonl file`);
    throw new Error(err instanceof FileReadError ? err.message : `${file}: ${(err as Error).message}`);
  }
  return parseJsonlExamples(text, file);
}

/**
 * Writes examples atomically (temp file + rename), one JSON object per line, each line '\n'-terminated.
 * Invalid examples are refused before anything is written (`${file}: example N: …`).
 */
export function writeJsonlExamples(file: string, examples: readonly TextExample[]): void {
  const lines = examples.map((e, i) => {
    const problem = problemWith(e);
    if (problem !== null) throw new Error(`${file}: example ${i + 1}: ${problem}`);
    return `${JSON.stringify(clean(e))}\n`;
  });
  writeFileAtomicSync(file, lines.join(''));
}
