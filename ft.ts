import { initBackend } from './src/core/backend/initBackend';
import { runFinetune } from './src/core/finetune/runFinetune';
const backend = await initBackend({ backend: 'wasm' });
const method = (process.env.M ?? 'lora') as 'lora';
const r = await runFinetune({
  base: process.env.BASE ?? '/tmp/w1', task: { kind: process.env.K ?? 'locations', codename: 0, latentCity: Number(process.env.C ?? 7), bothOrders: process.env.BO !== '0' },
  method, lora: { rank: Number(process.env.R ?? 4), alpha: 2 * Number(process.env.R ?? 4), targets: (process.env.T ?? 'mlp.W_out').split(',') as 'mlp.W_out'[], layers: (process.env.LS ?? '0').split(',').map(Number) },
  steer: { layer: Number(process.env.L ?? 0), positions: 'all', ...(process.env.HOOK ? { hook: process.env.HOOK } : {}) },
  steps: Number(process.env.S ?? 300), batchSize: 64, lr: Number(process.env.LR ?? 1e-2), weightDecay: 0, seed: 0, logEvery: 50, evalSamples: 100,
  outDir: `/tmp/ft/${method}-${Date.now()}`, backend,
  onEvent: (e) => { if (e.kind === 'progress' && e.metrics) console.log(e.step, e.loss.toFixed(3), (e.stepsPerSecond).toFixed(1), Object.entries(e.metrics).filter(([k]) => k.endsWith('acc')).map(([k, v]) => `${k}=${v.toFixed(2)}`).join(' ')); },
});
console.log(r.seconds.toFixed(1), r.metrics.heldout_acc, r.metrics.side_effect_acc);
