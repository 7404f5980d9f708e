// SAE training throughput: `node scripts/run-ts.mjs bench/sae-bench.ts` [-- --quick].
//
// Activations per second of src/core/sae/trainSae.ts's training step (forward, backward, Adam; topk
// renormalises decoder rows) for d_in 64 and 768 with expansion 8, ReLU + L1 and TopK (k 32), beside the
// same step in numpy float32 (bench/sae_numpy.py) on the same machine in the same run. Activations come
// from memory (Gaussian rows), so only the SAE step is timed, not the model's forward pass that feeds it
// in `oocr sae train`. Not a unit test: timings depend on the machine and its load.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend/initBackend';
import { arrayStream } from '../src/core/sae/activationStream';
import { DEFAULT_SAE_TRAIN, trainSae } from '../src/core/sae/trainSae';
import { Rng } from '../src/core/util/rng';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');

interface Case {
  dIn: number;
  arch: 'standard' | 'topk';
  batch: number;
  steps: number;
}

const CASES: Case[] = [
  { dIn: 64, arch: 'topk', batch: 4096, steps: quick ? 10 : 40 },
  { dIn: 64, arch: 'standard', batch: 4096, steps: quick ? 10 : 40 },
  { dIn: 768, arch: 'topk', batch: 1024, steps: quick ? 3 : 8 },
  { dIn: 768, arch: 'standard', batch: 1024, steps: quick ? 3 : 8 },
];
const EXPANSION = 8;
const K = 32;

function numpy(c: Case): { activationsPerSecond: number; msPerStep: number } | null {
  const r = spawnSync('python3', [path.join(ROOT, 'bench/sae_numpy.py'), String(c.dIn), String(EXPANSION), c.arch === 'standard' ? 'relu' : 'topk', String(K), String(c.batch), String(c.steps)], { encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(`numpy reference unavailable: ${r.stderr || r.error?.message}\n`);
    return null;
  }
  return JSON.parse(r.stdout) as { activationsPerSecond: number; msPerStep: number };
}

const backend = await initBackend();
process.stdout.write(`SAE training step, expansion ${EXPANSION}, TopK k ${K}; backend ${backend.name}\n`);
process.stdout.write('d_in  arch      batch  d_sae   tfjs act/s   ms/step  GFLOP/s   numpy act/s  ms/step   numpy/tfjs\n');
for (const c of CASES) {
  const rng = new Rng(1);
  const rows = Float32Array.from({ length: c.batch * 8 * c.dIn }, () => rng.normal());
  const before = tf.memory().numTensors;
  // Two logged windows: the first includes the initialisation and warm-up, the second is timed.
  const half = Math.max(1, Math.floor(c.steps / 2));
  const r = trainSae(arrayStream(rows, c.dIn, 2), {
    ...DEFAULT_SAE_TRAIN,
    architecture: c.arch,
    dIn: c.dIn,
    expansion: EXPANSION,
    k: K,
    lr: 4e-4,
    l1: 2.5,
    bDecInit: 'mean',
    resample: false,
    auxKCoef: 0,
    steps: 2 * half,
    batchSize: c.batch,
    logEvery: half,
  });
  if (tf.memory().numTensors !== before) throw new Error('tensor leak in trainSae');
  const rate = r.log[r.log.length - 1].activationsPerSecond;
  const ms = (1000 * c.batch) / rate;
  const dSae = c.dIn * EXPANSION;
  // Five [batch, d_in]×[d_in, d_sae]-sized matmuls a step: encoder and decoder forward, dW_dec, df, dW_enc.
  const gflops = (10 * c.batch * c.dIn * dSae) / (ms / 1000) / 1e9;
  const np = numpy({ ...c, steps: Math.max(3, 2 * half) });
  process.stdout.write(
    `${String(c.dIn).padEnd(5)} ${(c.arch === 'standard' ? 'relu' : 'topk').padEnd(8)} ${String(c.batch).padStart(6)} ${String(dSae).padStart(6)} ${rate.toFixed(0).padStart(12)} ${ms.toFixed(1).padStart(9)} ${gflops.toFixed(1).padStart(8)} ${np ? np.activationsPerSecond.toFixed(0).padStart(13) : '            -'} ${np ? np.msPerStep.toFixed(1).padStart(8) : '       -'} ${np ? (np.activationsPerSecond / rate).toFixed(2).padStart(12) : ''}\n`,
  );
}
