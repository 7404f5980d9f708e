import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend/initBackend';
import { buildTextTrainee, resolvePeftSpec } from '../src/core/finetune/textFinetune';
import { textBatch } from '../src/core/finetune/textBatches';
import { completionLoss } from '../src/core/finetune/textObjective';
import { loadHfLiveModel, readHfModelConfig } from '../src/core/hf/loadHfModel';
import { AdamW } from '../src/core/train/adamw';
await initBackend();
const dir = '/tmp/mb/gpt2-small';
const model = readHfModelConfig(dir);
const { live } = loadHfLiveModel(dir);
const c = model.config;
const B = Number(process.argv[2] ?? 4), T = Number(process.argv[3] ?? 64);
const rows = Array.from({ length: B }, (_, b) => ({ ids: Int32Array.from({ length: T + 1 }, (_, t) => (1 + 7919 * (b * (T + 1) + t)) % c.dVocab), promptLen: T + 1 - 8, label: 'x' }));
const batch = textBatch(rows);
const tr = buildTextTrainee(model, live.params, 'lora', { peft: resolvePeftSpec(model, { r: 8 }), seed: 0 });
const opt = new AdamW(tr.variables, { name: 'adamw', lr: 1e-4, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
for (let i = 0; i < 2; i++) {
  const t0 = performance.now();
  const loss = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => completionLoss(c, tr.adaptation(), batch), tr.variables);
    const l = value.dataSync()[0];
    opt.apply(tr.variables.map((v) => grads[v.name]));
    return l;
  });
  console.log('step', i, loss, (performance.now() - t0).toFixed(0), 'ms', tf.memory().numTensors, (process.resourceUsage().maxRSS / 1024).toFixed(0), 'MB');
}
