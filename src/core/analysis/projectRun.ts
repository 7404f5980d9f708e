import * as tf from '@tensorflow/tfjs';
import { parseHookName, type HookName } from '../../shared/hooks';
import type { ModelConfig } from '../../shared/modelConfig';
import { forward, type Intervention } from '../model/forward';
import { liveParams, type HostTensor } from '../model/params';
import type { Task } from '../tasks/taskTypes';
import { Rng } from '../util/rng';
import type { Rows } from './linalg';
import { project3, type PointLabel, type Projection3D } from './projection';
import { ApiArgumentError } from '../../shared/errors';

export interface ProjectRunOptions {
  /** 'embed' projects the rows of W_E; a hook name projects that activation for a prompt set. */
  source: 'embed' | HookName;
  method: 'pca' | 'umap';
  /** Prompts per eval split of the task. */
  promptsPerSet?: number;
  /** Sequence position to project ('last' by default). */
  position?: number | 'last';
  seed?: number;
  nNeighbors?: number;
  minDist?: number;
  /** Applied on the forward pass (a fine-tune's steering vector); hooks are read after them. */
  interventions?: readonly Intervention[];
}

/** Rows to project, with a label for each: embeddings, or one activation per prompt. */
export function projectionRows(c: ModelConfig, host: Record<string, HostTensor>, vocab: readonly string[], task: Task | undefined, o: ProjectRunOptions): { rows: Rows; labels: PointLabel[] } {
  if (o.source === 'embed') {
    const W = host['embed.W_E'];
    return {
      rows: { n: W.shape[0], d: W.shape[1], data: W.data },
      labels: vocab.map((t) => ({ token: t, group: t.includes('_') ? t.slice(0, t.lastIndexOf('_')) : t })),
    };
  }
  const parsed = parseHookName(o.source);
  if (!parsed) throw new ApiArgumentError(`unknown hook '${o.source}'`);
  if (parsed.layer !== null && parsed.layer >= c.nLayers) throw new ApiArgumentError(`hook '${o.source}' is outside the model's layers 0..${c.nLayers - 1}`);
  if (!task) throw new Error('projecting activations needs the run’s task for prompts');
  const sets = task.evalSets(new Rng(o.seed ?? 0), o.promptsPerSet ?? 40);
  const T = task.seqLen;
  const pos = o.position === undefined || o.position === 'last' ? T - 1 : o.position;
  if (!Number.isInteger(pos) || pos < 0 || pos >= T) throw new ApiArgumentError(`position ${pos} outside 0..${T - 1}`);
  const labels: PointLabel[] = [];
  const chunks: Float32Array[] = [];
  let d = 0;
  let prompt = 0;
  tf.tidy(() => {
    const params = liveParams(host);
    for (const set of sets) {
      const tokens = tf.tensor2d(set.tokens, [set.batch, set.seqLen], 'int32');
      const act = forward(c, params, tokens, { cache: [o.source as HookName], interventions: o.interventions }).cache[o.source];
      if (!act) throw new ApiArgumentError(`hook '${o.source}' is not computed by this model (e.g. MLP hooks without an MLP)`);
      const axis = o.source.endsWith('hook_pattern') || o.source.endsWith('hook_attn_scores') ? 2 : 1;
      const sel = tf.gather(act, tf.tensor1d([pos], 'int32'), axis).reshape([set.batch, -1]);
      d = sel.shape[1] as number;
      chunks.push(sel.dataSync() as Float32Array);
      for (let i = 0; i < set.batch; i++, prompt++) {
        labels.push({ token: vocab[set.tokens[i * T + pos]], group: set.name, answer: vocab[set.targets[i]], prompt, position: pos });
      }
    }
  });
  const data = new Float32Array(chunks.reduce((s, x) => s + x.length, 0));
  let off = 0;
  for (const ch of chunks) {
    data.set(ch, off);
    off += ch.length;
  }
  return { rows: { n: data.length / d, d, data }, labels };
}

export function projectRun(c: ModelConfig, host: Record<string, HostTensor>, vocab: readonly string[], task: Task | undefined, o: ProjectRunOptions): Projection3D & { source: string } {
  const { rows, labels } = projectionRows(c, host, vocab, task, o);
  return { source: o.source, ...project3(rows, labels, o.method, o) };
}
