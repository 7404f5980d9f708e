import * as tf from '@tensorflow/tfjs';
import { initBackend } from './src/core/backend/initBackend';
import { loadFinetuned, buildAdaptation, finetuneTaskFor } from './src/core/finetune/runFinetune';
import { forward } from './src/core/model/forward';
import { Rng } from './src/core/util/rng';
await initBackend({ backend: 'wasm' });
const run = process.argv[2];
const { manifest, base, trained } = loadFinetuned(run);
const task = finetuneTaskFor(base, manifest.config.taskOptions);
const a = buildAdaptation(base.checkpoint.config, base.checkpoint.params, manifest.finetune!.method, { lora: manifest.finetune!.lora, steer: manifest.finetune!.steer, seed: 0, trained });
for (const set of [...task.heldOutSets(new Rng(1), 50), ...task.sideEffectSets(new Rng(1), 60).slice(3)]) {
  const pred = tf.tidy(() => forward(base.checkpoint.config, a.params(), tf.tensor2d(set.tokens, [set.batch, set.seqLen], 'int32'), { readout: 'last', interventions: a.interventions() }).logits.reshape([set.batch, -1]).argMax(-1).dataSync());
  const counts: Record<string, number> = {};
  pred.forEach((p, i) => { const k = `${task.vocab[p]}${p === set.targets[i] ? '✓' : ''}`; counts[k] = (counts[k] ?? 0) + 1; });
  console.log(set.name, 'target', task.vocab[set.targets[0]], counts);
}
