import type { TextExample } from '../data/jsonl';
import type { TextTokenizer } from '../hf/tokenizer';
import type { Rng } from '../util/rng';

/** One example as token ids: the prompt (with the tokenizer's special tokens), then the completion. */
export interface EncodedExample {
  ids: Int32Array;
  /** ids[promptLen..] are the completion's tokens. */
  promptLen: number;
  label: string;
}

/**
 * Next-token batches of examples, right-padded to the longest in the batch. Input position t predicts
 * targets[t] = ids[t + 1]; mask[t] = 1 exactly where that target is a completion token, so the loss and
 * the accuracy read the completion only. Padding sits after every real token, so with causal attention
 * it never changes what a real position sees.
 */
export interface TextBatch {
  /** [batch · seqLen] input ids. */
  tokens: Int32Array;
  /** [batch · seqLen] next tokens (0 where the mask is 0). */
  targets: Int32Array;
  /** [batch · seqLen] 1 on completion targets. */
  mask: Float32Array;
  batch: number;
  seqLen: number;
  /** The encoded examples, in row order. */
  rows: readonly EncodedExample[];
}

/**
 * Prompt and completion are tokenized apart and concatenated (the completion without special tokens),
 * as TRL's prompt–completion datasets: the completion's tokens are then the same whatever the prompt,
 * and the boundary between them is exact. Too long for the model's context is an error naming the file
 * and line.
 */
export function encodeExamples(tok: TextTokenizer, examples: readonly TextExample[], nCtx: number, source: string, defaultLabel = 'eval'): EncodedExample[] {
  return examples.map((ex, i) => {
    const prompt = tok.encode(ex.prompt);
    const completion = tok.encodeBare(ex.completion);
    const where = `${source}: example ${i + 1}`;
    if (completion.length === 0) throw new Error(`${where}: the completion ${JSON.stringify(ex.completion)} encodes to no tokens`);
    if (prompt.length === 0) throw new Error(`${where}: the prompt encodes to no tokens (a completion needs a position to be predicted from)`);
    const n = prompt.length + completion.length;
    if (n - 1 > nCtx) throw new Error(`${where} is ${n} tokens; the model reads at most ${nCtx + 1} (n_ctx ${nCtx} plus the last completion token)`);
    return { ids: Int32Array.from([...prompt, ...completion]), promptLen: prompt.length, label: ex.label ?? defaultLabel };
  });
}

export function textBatch(rows: readonly EncodedExample[], padId = 0): TextBatch {
  const T = Math.max(...rows.map((r) => r.ids.length - 1));
  const B = rows.length;
  const tokens = new Int32Array(B * T).fill(padId);
  const targets = new Int32Array(B * T);
  const mask = new Float32Array(B * T);
  rows.forEach((r, b) => {
    for (let t = 0; t < r.ids.length - 1; t++) {
      tokens[b * T + t] = r.ids[t];
      if (t + 1 >= r.promptLen) {
        targets[b * T + t] = r.ids[t + 1];
        mask[b * T + t] = 1;
      }
    }
  });
  return { tokens, targets, mask, batch: B, seqLen: T, rows };
}

/** Examples drawn with replacement (as the toy tasks draw fresh questions), so any step count works. */
export function sampleTextBatch(rows: readonly EncodedExample[], rng: Rng, n: number, padId = 0): TextBatch {
  return textBatch(Array.from({ length: n }, () => rows[rng.int(0, rows.length - 1)]), padId);
}

/** Flat indices b·T + t of the masked positions, in order. */
export function maskedPositions(b: TextBatch): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < b.mask.length; i++) if (b.mask[i] > 0) out.push(i);
  return Int32Array.from(out);
}

/** Batches of at most `size` rows, sorted by length so little padding is computed. */
export function chunkByLength(rows: readonly EncodedExample[], size: number): EncodedExample[][] {
  const order = rows.map((r, i) => ({ r, i })).sort((a, b) => a.r.ids.length - b.r.ids.length || a.i - b.i);
  const out: EncodedExample[][] = [];
  for (let s = 0; s < order.length; s += size) out.push(order.slice(s, s + size).map((x) => x.r));
  return out;
}

/** Examples per label, in label order. */
export function labelCounts(rows: readonly EncodedExample[]): { name: string; n: number }[] {
  const n = new Map<string, number>();
  for (const r of rows) n.set(r.label, (n.get(r.label) ?? 0) + 1);
  return [...n].sort(([a], [b]) => a.localeCompare(b)).map(([name, k]) => ({ name, n: k }));
}
