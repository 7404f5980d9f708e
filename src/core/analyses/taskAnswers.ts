import type { AnswerSource } from '../../shared/analyses/logitLens';
import type { Task } from '../tasks/taskTypes';
import { Rng } from '../util/rng';

/**
 * The true answers a run's task knows, for the Lens & Patching defaults: which answer a prompt has when
 * it comes from one of the task's eval splits, and which tokens answer a split.
 *
 * Every task here is a question of a few content tokens (subject, relation, maybe an object, maybe a
 * trigger) set among noise tokens, answered at the last position; the answer depends on the content
 * tokens and their order only, never on the noise. So a prompt's key is its non-noise tokens in order,
 * and a table of keys → targets sampled from the task's eval sets answers every prompt the task would
 * ask (and any other placement of the noise). A key that ever maps to two targets is dropped; a prompt
 * whose key the table lacks (a typed prompt the task never asks) has no known answer.
 */

export interface TaskAnswer {
  /** The target token the task trains and scores at the last position. */
  answer: number;
  /** The eval split the prompt belongs to (`test_impl`, `world_dist`, …). */
  split: string;
}

export interface TaskAnswers {
  /** The true answer of a prompt read at its last position, or undefined when the task does not know one. */
  lookup(tokens: readonly number[]): TaskAnswer | undefined;
  /** Every token that answers some prompt of a split, ascending. */
  answersOf(split: string): number[];
  /** Whether a token is a noise token (carries no content). */
  isNoise(token: number): boolean;
}

/** The token family: `city_3` → `city`, `end` → `end`. */
export function tokenFamily(name: string): string {
  return name.includes('_') ? name.slice(0, name.lastIndexOf('_')) : name;
}

/**
 * Eval sets sampled for the table: the exact ones the workbench shows (the default prompt is the first
 * of `evalSets(Rng(0), 1)`, the prompt picker's are `evalSets(Rng(0), 6)`), then a larger draw so that
 * swapped subjects (a corruption) are found too.
 */
const SAMPLES: [seed: number, perSet: number][] = [
  [0, 1],
  [0, 6],
  [1, 512],
];

export function taskAnswers(task: Task): TaskAnswers {
  const noise = task.vocab.map((t) => tokenFamily(t) === 'noise');
  const keyOf = (tokens: readonly number[]): string => tokens.filter((t) => !noise[t]).join(',');
  const exact = new Map<string, TaskAnswer>();
  const byKey = new Map<string, TaskAnswer | null>();
  const answers = new Map<string, Set<number>>();
  for (const [seed, perSet] of SAMPLES) {
    for (const set of task.evalSets(new Rng(seed), perSet)) {
      const split = answers.get(set.name) ?? new Set<number>();
      answers.set(set.name, split);
      for (let i = 0; i < set.batch; i++) {
        const tokens = Array.from(set.tokens.subarray(i * set.seqLen, (i + 1) * set.seqLen));
        const answer = set.targets[i];
        split.add(answer);
        const full = tokens.join(',');
        if (!exact.has(full)) exact.set(full, { answer, split: set.name });
        const key = keyOf(tokens);
        const seen = byKey.get(key);
        if (seen === undefined) byKey.set(key, { answer, split: set.name });
        else if (seen && seen.answer !== answer) byKey.set(key, null);
      }
    }
  }
  return {
    lookup(tokens) {
      return exact.get(tokens.join(',')) ?? byKey.get(keyOf(tokens)) ?? undefined;
    },
    answersOf: (split) => [...(answers.get(split) ?? [])].sort((a, b) => a - b),
    isNoise: (t) => noise[t] ?? false,
  };
}

/**
 * The answer an analysis tracks: the one the caller gave (marked 'task' when it is the task's own), else
 * the task's true answer for a prompt it asks, else the model's top prediction.
 */
export function resolveAnswer(given: number | undefined, known: TaskAnswer | undefined, top: number): { answer: number; answerSource: AnswerSource } {
  if (given !== undefined) return { answer: given, answerSource: known?.answer === given ? 'task' : 'given' };
  if (known) return { answer: known.answer, answerSource: 'task' };
  return { answer: top, answerSource: 'predicted' };
}
