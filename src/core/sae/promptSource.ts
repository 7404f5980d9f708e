import fs from 'node:fs';
import { readRegularTextSync, READ_LIMITS } from '../io/safeFs';
import type { Task, TokenBatch } from '../tasks/taskTypes';
import { Rng } from '../util/rng';
import type { SaeSubject } from './saeSubject';

/**
 * Prompts an SAE's activations come from: a batch of token sequences, right-padded to T, with each
 * row's length. Toy tasks also carry the target read at the last position (the task's loss), and a
 * label per prompt where one is known (for feature relevance).
 */
export interface PromptBatch {
  /** [B·T] row-major, padded with 0 after each row's length. */
  tokens: Int32Array;
  B: number;
  T: number;
  lengths: Int32Array;
  /** Toy tasks: the answer read at position T − 1 (every row has length T). Absent: next-token loss. */
  targets?: Int32Array;
  /** One label per prompt (a dataset's "label"), where the source has them. */
  labels?: string[];
}

/** An endless supply of prompt batches. */
export interface PromptSource {
  describe: string;
  next(): PromptBatch;
}

export function fromTokenBatch(b: TokenBatch): PromptBatch {
  return { tokens: b.tokens, B: b.batch, T: b.seqLen, lengths: new Int32Array(b.batch).fill(b.seqLen), targets: b.targets };
}

/** The task's training distribution: `sampleTrainBatch`, `prompts` sequences at a time. */
export function taskPromptSource(task: Task, seed: number, prompts: number): PromptSource {
  const rng = new Rng(seed ^ 0x7a5c);
  return { describe: `task ${task.name} (training prompts)`, next: () => fromTokenBatch(task.sampleTrainBatch(rng, prompts)) };
}

/** Fixed held-out prompts of a task: its eval sets, `samples` each (deterministic in `seed`). */
export function taskEvalBatches(task: Task, seed: number, samples: number, chunk = 256): PromptBatch[] {
  const out: PromptBatch[] = [];
  for (const set of task.evalSets(new Rng(seed ^ 0xe7a1), samples)) {
    for (let s = 0; s < set.batch; s += chunk) {
      const n = Math.min(chunk, set.batch - s);
      out.push({
        ...fromTokenBatch({ tokens: set.tokens.slice(s * set.seqLen, (s + n) * set.seqLen), targets: set.targets.slice(s, s + n), batch: n, seqLen: set.seqLen }),
        labels: new Array<string>(n).fill(set.name),
      });
    }
  }
  return out;
}

/** One text of a dataset, tokenised, with its label. */
export interface TextPrompt {
  ids: number[];
  label?: string;
}

/**
 * A dataset file: JSONL lines of {"text"} or {"prompt", "completion"} (optional "label"), or plain text,
 * one example per line. Texts are cut to the model's context; empty ones are dropped.
 */
export function readTextPrompts(file: string, subject: SaeSubject): TextPrompt[] {
  if (!fs.existsSync(file)) throw new Error(`${file}: file not found`);
  const text = readRegularTextSync(file, READ_LIMITS.jsonl);
  const out: TextPrompt[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (!t) return;
    let body = line;
    let label: string | undefined;
    if (t.startsWith('{')) {
      let v: Record<string, unknown>;
      try {
        v = JSON.parse(t) as Record<string, unknown>;
      } catch (err) {
        throw new Error(`${file}:${i + 1}: not valid JSON (${(err as Error).message})`);
      }
      if (typeof v.text === 'string') body = v.text;
      else if (typeof v.prompt === 'string') body = v.prompt + (typeof v.completion === 'string' ? v.completion : '');
      else throw new Error(`${file}:${i + 1}: expected {"text": ...} or {"prompt": ..., "completion": ...}`);
      if (v.label !== undefined) label = String(v.label);
    }
    let ids: number[];
    try {
      ids = subject.tokenize(body);
    } catch (err) {
      throw new Error(`${file}:${i + 1}: ${(err as Error).message}`);
    }
    if (ids.length) out.push({ ids, ...(label !== undefined ? { label } : {}) });
  });
  if (!out.length) throw new Error(`${file}: no texts`);
  return out;
}

/** Right-pads rows into one batch. */
export function padBatch(rows: readonly TextPrompt[]): PromptBatch {
  const T = Math.max(...rows.map((r) => r.ids.length));
  const tokens = new Int32Array(rows.length * T);
  const lengths = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    tokens.set(r.ids, i * T);
    lengths[i] = r.ids.length;
  });
  const labels = rows.some((r) => r.label !== undefined) ? rows.map((r) => r.label ?? '') : undefined;
  return { tokens, B: rows.length, T, lengths, ...(labels ? { labels } : {}) };
}

/** The dataset in shuffled epochs, `prompts` texts a batch, endlessly. */
export function textPromptSource(rows: readonly TextPrompt[], seed: number, prompts: number, describe: string): PromptSource {
  const rng = new Rng(seed ^ 0x7e47);
  let order: number[] = [];
  let at = 0;
  const shuffle = (): void => {
    order = rows.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [order[i], order[j]] = [order[j], order[i]];
    }
    at = 0;
  };
  shuffle();
  return {
    describe,
    next() {
      const pick: TextPrompt[] = [];
      for (let i = 0; i < Math.min(prompts, rows.length); i++) {
        if (at >= order.length) shuffle();
        pick.push(rows[order[at++]]);
      }
      return padBatch(pick);
    },
  };
}

/** Fixed evaluation batches of a dataset: its first `max` texts, in order. */
export function textEvalBatches(rows: readonly TextPrompt[], max: number, chunk = 16): PromptBatch[] {
  const use = rows.slice(0, max);
  const out: PromptBatch[] = [];
  for (let s = 0; s < use.length; s += chunk) out.push(padBatch(use.slice(s, s + chunk)));
  return out;
}
