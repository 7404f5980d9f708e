import { ApiArgumentError } from '../../shared/errors';
import { hookName } from '../../shared/hooks';
import { LORA_DELTAS_MAX_TOKENS } from '../../shared/analyses/loraDeltas';
import { norm, pairwiseAbsCos } from '../analysis/linalg';
import { summariseDeltas } from '../analysis/loraVsSteering';
import { pickRows, rowNorms, sampleTokenIndices, textDeltas } from '../analysis/loraDeltas';
import { readHfModelConfig } from '../hf/loadHfModel';
import { checkPeftAdapter } from '../hf/peftAdapter';
import { openCachedModel } from './modelCache';
import type { AnalysisRunner } from './runner';
import { hfModel } from './target';

/**
 * A model folder and a PEFT adapter for it: the per-token residual delta the adapter makes over the
 * caller's texts, at one layer's resid_post, summarised as in arXiv 2507.08218 (|cos| between token
 * deltas, the uncentred PC1 share, the natural steering vector).
 */
export const loraDeltas: AnalysisRunner<'lora-deltas'> = (target, args) => {
  if (target.source !== 'model') throw new ApiArgumentError(`${target.id} is a run: lora-deltas compares a Hugging Face model folder with a PEFT adapter for it (a run's own LoRA is in the LoRA-vs-steering studies)`);
  if (!target.adapterDir) throw new ApiArgumentError(`lora-deltas needs an adapter: name one of ${target.id}'s PEFT adapters as \`adapter\``);
  const base = openCachedModel(target.dir, undefined, target.load);
  const adapted = openCachedModel(target.dir, target.adapterDir, target.load);
  const c = base.config;
  const adapterLayers = checkPeftAdapter(target.adapterDir, readHfModelConfig(target.dir)).layers;
  const layer = args.layer ?? (adapterLayers.length ? adapterLayers[adapterLayers.length - 1] : Math.floor(c.nLayers / 2));
  if (layer >= c.nLayers) throw new ApiArgumentError(`layer ${layer} does not exist: ${target.id} has layers 0..${c.nLayers - 1}`);
  const m = hfModel(base);
  const ids = args.texts.map((t, i) => m.encode(t, `texts[${i}]`));
  const total = ids.reduce((s, t) => s + t.length, 0);
  if (total > LORA_DELTAS_MAX_TOKENS) throw new ApiArgumentError(`the texts have ${total} tokens; at most ${LORA_DELTAS_MAX_TOKENS} are analysed at once (give fewer or shorter texts)`);
  const hook = hookName('hook_resid_post', layer);
  const deltas = textDeltas(c, base.params, adapted.params, ids, hook);
  const norms = rowNorms(deltas);
  const labels = m.vocab;
  const tokens = ids.flatMap((t, text) => t.map((id, position) => ({ text, position, token: labels[id], norm: 0 })));
  tokens.forEach((t, i) => (t.norm = norms[i]));
  const summary = summariseDeltas(deltas);
  const index = sampleTokenIndices(ids.map((t) => t.length), args.sample);
  const cos = pairwiseAbsCos(pickRows(deltas, index)).matrix;
  return { step: 0, hook, layer, adapterLayers, texts: args.texts, tokens, summary, naturalVectorNorm: norm(summary.naturalVector), cos: { index, values: cos } };
};
