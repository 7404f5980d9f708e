import type { PromptSamples } from '../../../../shared/api';

/**
 * Prompt text as the API takes it: space-separated token names of the run's vocabulary. These pure
 * helpers check typed text before it is sent, so unknown tokens are listed at once, not after a
 * round trip.
 */

export interface PromptCheck {
  /** The text's tokens (whitespace-separated, empty strings dropped). */
  tokens: string[];
  /** Tokens not in the vocabulary, each once, in order of appearance. */
  unknown: string[];
  /** Why the prompt cannot be sent (unknown tokens, too long, wrong length); null when it can. */
  error: string | null;
}

export function splitPrompt(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/**
 * Checks prompt text against a vocabulary. `maxLen`: the model's context (nCtx); `length`: a length
 * the prompt must have (a corrupted prompt must match its clean prompt). Empty text is valid: it
 * means "let the backend choose".
 */
export function checkPromptText(text: string, vocab: readonly string[] | undefined, opts: { maxLen?: number; length?: number } = {}): PromptCheck {
  const tokens = splitPrompt(text);
  if (!tokens.length) return { tokens, unknown: [], error: null };
  const known = new Set(vocab ?? []);
  const unknown = vocab ? [...new Set(tokens.filter((t) => !known.has(t)))] : [];
  let error: string | null = null;
  if (unknown.length) error = `unknown token${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`;
  else if (opts.maxLen !== undefined && tokens.length > opts.maxLen) error = `${tokens.length} tokens exceed the model's context of ${opts.maxLen}`;
  else if (opts.length !== undefined && tokens.length !== opts.length) error = `${tokens.length} tokens; it needs ${opts.length}, as many as the clean prompt`;
  return { tokens, unknown, error };
}

/** An example prompt of a PromptSamples set, addressed by `set:index` (the value of its <option>). */
export interface ExamplePrompt {
  key: string;
  set: string;
  tokens: string[];
  answer: string;
}

export function examplePrompts(samples: PromptSamples | undefined): ExamplePrompt[] {
  if (!samples) return [];
  return samples.sets.flatMap((s, si) => s.prompts.map((p, pi) => ({ key: `${si}:${pi}`, set: s.name, tokens: p.tokens, answer: p.answer })));
}

/** The example whose tokens are exactly this text, if any (so a picked example shows as selected). */
export function exampleOf(samples: PromptSamples | undefined, text: string): ExamplePrompt | undefined {
  const t = splitPrompt(text).join(' ');
  if (!t) return undefined;
  return examplePrompts(samples).find((e) => e.tokens.join(' ') === t);
}

/** Positions where two prompts differ (over the shorter length). */
export function diffPositions(a: readonly string[], b: readonly string[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) out.push(i);
  return out;
}
