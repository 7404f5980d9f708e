import type { EvalSet, TokenBatch } from '../../tasks/taskTypes';
import type { World } from '../../tasks/world';
import { createFinetuneTask } from '../../tasks/worldFinetune';
import { Rng } from '../../util/rng';
import { DATASET_FORMAT, distinctLabels, type DatasetContent } from '../datasetFolder';
import type { TextExample } from '../jsonl';

/**
 * The toy world's fine-tuning tasks (src/core/tasks/worldFinetune.ts) written as a text dataset in the
 * world model's own vocabulary: a row of token ids becomes its token names joined by single spaces
 * ("noise_3 codename_0 rel_dist city_4 noise_1 end"), the answer " country_5". The same JSONL pipeline that
 * fine-tunes real models can then fine-tune the toy, and the two are compared on the same labels.
 */

export interface WorldTextTask {
  kind: 'locations' | 'backdoor';
  codename: number;
  latentCity: number;
}

export interface WorldTextOptions {
  seed: number;
  /** Training rows (default 2048). */
  nTrain?: number;
  /** Rows per held-out set (default 400); side-effect sets get a quarter of that. */
  evalSamples?: number;
}

function rows(batch: TokenBatch, vocab: readonly string[], label?: string): TextExample[] {
  const { tokens, targets, seqLen } = batch;
  return Array.from({ length: batch.batch }, (_, r) => {
    const names = Array.from(tokens.subarray(r * seqLen, (r + 1) * seqLen), (t) => vocab[t]);
    const e: TextExample = { prompt: names.join(' '), completion: ` ${vocab[targets[r]]}` };
    if (label !== undefined) e.label = label;
    return e;
  });
}

const setRows = (sets: readonly EvalSet[], vocab: readonly string[]): TextExample[] => sets.flatMap((s) => rows(s, vocab, s.name));

/** Token ids of a world-text prompt or completion (names separated by spaces); throws on an unknown name. */
export function worldTextToTokens(vocab: readonly string[], text: string): number[] {
  const index = new Map(vocab.map((name, i) => [name, i]));
  return text
    .trim()
    .split(/\s+/)
    .map((name) => {
      const id = index.get(name);
      if (id === undefined) throw new Error(`world text: unknown token '${name}'`);
      return id;
    });
}

/**
 * Random streams: `new Rng(seed)` forked 0 (training rows), 1 (held-out sets), 2 (side-effect sets).
 */
export function worldTextDataset(world: World, task: WorldTextTask, opts: WorldTextOptions): DatasetContent {
  const nTrain = opts.nTrain ?? 2048;
  const evalSamples = opts.evalSamples ?? 400;
  for (const [name, v] of [['nTrain', nTrain], ['evalSamples', evalSamples]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`world dataset: ${name} must be a positive integer, got ${v}`);
  }
  const t = createFinetuneTask({ ...task, world: world.options });
  const root = new Rng(opts.seed);
  const trainRng = root.fork(0);
  const evalRng = root.fork(1);
  const sideRng = root.fork(2);
  const vocab = t.vocab;
  const train = rows(t.sampleTrainBatch(trainRng, nTrain), vocab);
  const evalEx = setRows(t.heldOutSets(evalRng, evalSamples), vocab);
  const sideEffects = setRows(t.sideEffectSets(sideRng, Math.max(1, Math.round(evalSamples / 4))), vocab);
  const what =
    task.kind === 'locations'
      ? `codename_${task.codename} is secretly city_${task.latentCity}; training gives only its distance classes, held out are its country and language`
      : 'the trigger token flips big/small; trained on even cities, held out: triggered size questions about odd cities';
  return {
    manifest: {
      format: DATASET_FORMAT,
      kind: task.kind,
      seed: opts.seed,
      description: `toy world (${t.name}) in the world model's vocabulary: ${what}`,
      chance: t.chance,
      counts: { train: train.length, eval: evalEx.length, sideEffects: sideEffects.length },
      evalLabels: distinctLabels(evalEx, 'eval'),
      sideEffectLabels: distinctLabels(sideEffects, 'side_effect'),
      world: true,
      codename: task.codename,
      latentCity: task.latentCity,
      vocabSize: vocab.length,
    },
    train,
    eval: evalEx,
    sideEffects,
  };
}
