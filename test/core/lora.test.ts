import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LoraSpec, LoraTarget } from '../../src/shared/finetune';
import type { ModelConfig, OptimizerConfig } from '../../src/shared/modelConfig';
import { initBackend } from '../../src/core/backend/initBackend';
import { applyLora, checkLoraSpec, initLora, loraDelta, loraDeltaMatrix, loraTensorNames } from '../../src/core/finetune/lora';
import { buildAdaptation, type Adaptation } from '../../src/core/finetune/runFinetune';
import { forward, type Params } from '../../src/core/model/forward';
import { initParams, paramSpecs, type HostTensor } from '../../src/core/model/params';
import { resolveConfig } from '../../src/core/model/resolveConfig';
import { AdamW } from '../../src/core/train/adamw';
import { lastTokenLoss } from '../../src/core/train/evaluate';
import { Rng } from '../../src/core/util/rng';

/**
 * LoRA (src/core/finetune/lora.ts) on a small model with every kind of block matrix: a fresh adapter is
 * exactly the base model, ΔW lands in each weight's own layout, and training through buildAdaptation
 * moves only the adapter (or the steering vector, or the trainable parameters of a full fine-tune).
 */

beforeAll(async () => {
  await initBackend();
});

// Two layers, two heads, a factorized OV of rank 4 (W_V [H, d, 4], W_O [H, 4, d]), MLP and LayerNorm.
const C = resolveConfig({ nLayers: 2, dModel: 16, nHeads: 2, dHead: 8, ovRank: 4, dVocab: 20, nCtx: 6, mlp: true, dMlp: 24, layerNorm: true, posEmbed: true });
const HOST = initParams(C, 1);
const ALL_TARGETS: LoraTarget[] = ['attn.W_Q', 'attn.W_K', 'attn.W_V', 'attn.W_O', 'mlp.W_in', 'mlp.W_out'];
const OPT: OptimizerConfig = { name: 'adamw', lr: 1e-2, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

function toParams(host: Record<string, HostTensor>): Params {
  return Object.fromEntries(Object.entries(host).map(([k, h]) => [k, tf.tensor(h.data, h.shape)]));
}

function dispose(p: Params): void {
  Object.values(p).forEach((t) => t.dispose());
}

function randomTokens(B: number, T: number, V: number, seed: number): tf.Tensor2D {
  const rng = new Rng(seed);
  return tf.tensor2d(Int32Array.from({ length: B * T }, () => rng.int(0, V - 1)), [B, T], 'int32');
}

function randn(rng: Rng, shape: number[], std = 1): HostTensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * std;
  return { shape, data };
}

/** The adapter's tensors with every B replaced by random values (so ΔW ≠ 0). */
function withRandomB(adapter: Record<string, HostTensor>, seed: number): Record<string, HostTensor> {
  const rng = new Rng(seed);
  return Object.fromEntries(Object.entries(adapter).map(([k, h]) => [k, k.endsWith('lora_B') ? randn(rng, h.shape) : h]));
}

/** Strips the uniqueness suffix tfjs variable names carry (`name#ft123.4`). */
const baseName = (variableName: string): string => variableName.split('#')[0];

describe('initLora', () => {
  const spec: LoraSpec = { rank: 3, alpha: 6, targets: ALL_TARGETS, layers: [0, 1] };

  it('gives A [d_in, r] and B [r, d_out] = 0 in the documented 2-D view of every target', () => {
    const adapter = initLora(C, HOST, spec, 7);
    const H = C.nHeads;
    const k = C.dHead;
    const v = C.ovRank;
    const d = C.dModel;
    const expected: Record<LoraTarget, [[number, number], [number, number]]> = {
      'attn.W_Q': [[d, 3], [3, H * k]],
      'attn.W_K': [[d, 3], [3, H * k]],
      'attn.W_V': [[d, 3], [3, H * v]],
      'attn.W_O': [[H * v, 3], [3, d]],
      'mlp.W_in': [[d, 3], [3, C.dMlp]],
      'mlp.W_out': [[C.dMlp, 3], [3, d]],
    };
    const names = loraTensorNames(spec);
    expect(names).toHaveLength(12);
    expect(Object.keys(adapter).sort()).toEqual(names.flatMap((n) => [n.a, n.b]).sort());
    for (const { weight, a, b } of names) {
      const target = weight.replace(/^blocks\.\d+\./, '') as LoraTarget;
      expect(a).toBe(`${weight}.lora_A`);
      expect(b).toBe(`${weight}.lora_B`);
      expect(adapter[a].shape).toEqual(expected[target][0]);
      expect(adapter[b].shape).toEqual(expected[target][1]);
      expect(adapter[a].data.length).toBe(expected[target][0][0] * 3);
      expect(adapter[b].data.every((x) => x === 0)).toBe(true);
      expect(adapter[a].data.every((x) => Number.isFinite(x))).toBe(true);
      expect(adapter[a].data.some((x) => x !== 0)).toBe(true);
    }
    // The spelled-out shapes of the brief: W_out [dMlp, d], W_Q [H, d, k], W_O [H, k, d].
    expect(adapter['blocks.0.mlp.W_out.lora_A'].shape).toEqual([24, 3]);
    expect(adapter['blocks.0.mlp.W_out.lora_B'].shape).toEqual([3, 16]);
    expect(adapter['blocks.1.attn.W_Q.lora_A'].shape).toEqual([16, 3]);
    expect(adapter['blocks.1.attn.W_Q.lora_B'].shape).toEqual([3, 16]);
    expect(adapter['blocks.1.attn.W_O.lora_A'].shape).toEqual([8, 3]);
    expect(adapter['blocks.1.attn.W_O.lora_B'].shape).toEqual([3, 16]);
  });

  it('A ~ N(0, 1/d_in), seeded', () => {
    const big: LoraSpec = { rank: 64, alpha: 64, targets: ['mlp.W_out'], layers: [0] };
    const A = initLora(C, HOST, big, 3)['blocks.0.mlp.W_out.lora_A'].data;
    const mean = A.reduce((s, x) => s + x, 0) / A.length;
    const variance = A.reduce((s, x) => s + (x - mean) ** 2, 0) / A.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(variance * C.dMlp).toBeGreaterThan(0.85);
    expect(variance * C.dMlp).toBeLessThan(1.15);
    expect(initLora(C, HOST, big, 3)['blocks.0.mlp.W_out.lora_A'].data).toEqual(A);
    expect(initLora(C, HOST, big, 4)['blocks.0.mlp.W_out.lora_A'].data).not.toEqual(A);
  });
});

describe('a fresh adapter (B = 0) is exactly the base model', () => {
  const cases: [string, LoraSpec][] = [
    ['mlp.W_out of layer 0', { rank: 4, alpha: 8, targets: ['mlp.W_out'], layers: [0] }],
    ['every target of both layers', { rank: 2, alpha: 16, targets: ALL_TARGETS, layers: [0, 1] }],
  ];
  for (const [label, spec] of cases) {
    it(`bit for bit: ${label}`, () => {
      const base = toParams(HOST);
      const adapter = toParams(initLora(C, HOST, spec, 5));
      const before = tf.memory().numTensors;
      const [a, b] = tf.tidy(() => {
        const t = randomTokens(3, 6, C.dVocab, 11);
        return [Array.from(forward(C, base, t).logits.dataSync()), Array.from(forward(C, applyLora(base, adapter, spec), t).logits.dataSync())];
      });
      expect(tf.memory().numTensors).toBe(before);
      expect(b).toEqual(a);
      dispose(base);
      dispose(adapter);
    });
  }
});

describe('loraDelta and applyLora', () => {
  const spec: LoraSpec = { rank: 3, alpha: 5, targets: ALL_TARGETS, layers: [0, 1] };
  const scale = spec.alpha / spec.rank;

  it('the adapted weight is W + (alpha/r)·A·B in the weight’s own layout (heads included)', () => {
    const host = withRandomB(initLora(C, HOST, spec, 2), 9);
    const base = toParams(HOST);
    const adapter = toParams(host);
    const before = tf.memory().numTensors;
    const adapted = tf.tidy(() => Object.fromEntries(Object.entries(applyLora(base, adapter, spec)).map(([k, t]) => [k, t.dataSync().slice()])));
    expect(tf.memory().numTensors).toBe(before);
    // Untouched weights stay as they are.
    expect(adapted['blocks.0.ln1.w']).toEqual(HOST['blocks.0.ln1.w'].data);
    expect(adapted['embed.W_E']).toEqual(HOST['embed.W_E'].data);

    const ab = (weight: string, i: number, j: number): number => {
      const A = host[`${weight}.lora_A`];
      const B = host[`${weight}.lora_B`];
      const r = A.shape[1];
      const cols = B.shape[1];
      let s = 0;
      for (let q = 0; q < r; q++) s += A.data[i * r + q] * B.data[q * cols + j];
      return scale * s;
    };
    let checked = 0;
    for (const l of [0, 1]) {
      // attn.W_Q/K/V [H, d, k]: entry (h, i, c) is ΔW[i, h·k + c] of the [d, H·k] view.
      for (const t of ['attn.W_Q', 'attn.W_K', 'attn.W_V']) {
        const w = `blocks.${l}.${t}`;
        const [H, dIn, k] = HOST[w].shape;
        for (let h = 0; h < H; h++)
          for (let i = 0; i < dIn; i++)
            for (let c = 0; c < k; c++) {
              const at = (h * dIn + i) * k + c;
              expect(adapted[w][at]).toBeCloseTo(HOST[w].data[at] + ab(w, i, h * k + c), 5);
              checked++;
            }
      }
      // attn.W_O [H, k, d]: entry (h, c, j) is ΔW[h·k + c, j] of the [H·k, d] view.
      {
        const w = `blocks.${l}.attn.W_O`;
        const [H, k, d] = HOST[w].shape;
        for (let h = 0; h < H; h++)
          for (let c = 0; c < k; c++)
            for (let j = 0; j < d; j++) {
              const at = (h * k + c) * d + j;
              expect(adapted[w][at]).toBeCloseTo(HOST[w].data[at] + ab(w, h * k + c, j), 5);
              checked++;
            }
      }
      // MLP matrices are already 2-D.
      for (const t of ['mlp.W_in', 'mlp.W_out']) {
        const w = `blocks.${l}.${t}`;
        const [rows, cols] = HOST[w].shape;
        for (let i = 0; i < rows; i++)
          for (let j = 0; j < cols; j++) {
            expect(adapted[w][i * cols + j]).toBeCloseTo(HOST[w].data[i * cols + j] + ab(w, i, j), 5);
            checked++;
          }
      }
    }
    expect(checked).toBe(2 * (3 * 2 * 16 * 8 - 2 * 16 * 4 + 2 * 4 * 16 + 2 * 16 * 24));
    dispose(base);
    dispose(adapter);
  });

  it('the W_Q layout is the one the forward pass reads: a LoRA on head 1 only leaves head 0’s queries alone', () => {
    // B nonzero only in the columns of head 1 (h·k + c with h = 1): head 0's hook_q must not move.
    const one: LoraSpec = { rank: 2, alpha: 2, targets: ['attn.W_Q'], layers: [0] };
    const host = initLora(C, HOST, one, 1);
    const B = host['blocks.0.attn.W_Q.lora_B'];
    const rng = new Rng(4);
    for (let q = 0; q < 2; q++) for (let c = C.dHead; c < 2 * C.dHead; c++) B.data[q * 2 * C.dHead + c] = rng.normal();
    const base = toParams(HOST);
    const adapter = toParams(host);
    const [q0, q1] = tf.tidy(() => {
      const t = randomTokens(2, 6, C.dVocab, 3);
      const hook = 'blocks.0.attn.hook_q' as const;
      return [forward(C, base, t, { cache: [hook] }).cache[hook].arraySync(), forward(C, applyLora(base, adapter, one), t, { cache: [hook] }).cache[hook].arraySync()] as number[][][][][];
    });
    let moved = 0;
    for (let b = 0; b < 2; b++)
      for (let p = 0; p < 6; p++) {
        expect(q1[b][p][0]).toEqual(q0[b][p][0]);
        moved += q1[b][p][1].reduce((s, x, i) => s + Math.abs(x - q0[b][p][1][i]), 0);
      }
    expect(moved).toBeGreaterThan(1e-3);
    dispose(base);
    dispose(adapter);
  });

  it('loraDelta has the weight’s shape for every target', () => {
    const host = withRandomB(initLora(C, HOST, spec, 2), 1);
    tf.tidy(() => {
      for (const t of ALL_TARGETS) {
        const w = `blocks.0.${t}`;
        const d = loraDelta(HOST[w].shape, t, tf.tensor(host[`${w}.lora_A`].data, host[`${w}.lora_A`].shape), tf.tensor(host[`${w}.lora_B`].data, host[`${w}.lora_B`].shape), scale);
        expect(d.shape).toEqual(HOST[w].shape);
      }
    });
  });

  it('loraDeltaMatrix equals tf.matMul(A, B)·scale', () => {
    const host = withRandomB(initLora(C, HOST, spec, 2), 5);
    for (const t of ALL_TARGETS) {
      const w = `blocks.1.${t}`;
      const m = loraDeltaMatrix(host, spec, w);
      const A = host[`${w}.lora_A`];
      const B = host[`${w}.lora_B`];
      expect([m.rows, m.cols]).toEqual([A.shape[0], B.shape[1]]);
      const want = tf.tidy(() => tf.matMul(tf.tensor2d(A.data, A.shape as [number, number]), tf.tensor2d(B.data, B.shape as [number, number])).mul(scale).dataSync());
      expect(m.data.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) expect(m.data[i]).toBeCloseTo(want[i], 5);
    }
    expect(() => loraDeltaMatrix(host, spec, 'blocks.3.mlp.W_out')).toThrow(/no LoRA adapter for blocks.3.mlp.W_out/);
  });
});

describe('checkLoraSpec', () => {
  it('rejects a layer outside the model', () => {
    const spec: LoraSpec = { rank: 2, alpha: 2, targets: ['attn.W_Q'], layers: [0, 2] };
    expect(() => checkLoraSpec(C, spec)).toThrow(/LoRA layer 2 outside 0..1/);
    expect(() => initLora(C, HOST, spec, 0)).toThrow(/LoRA layer 2 outside/);
    expect(() => checkLoraSpec(C, { ...spec, layers: [1] })).not.toThrow();
  });

  it('rejects MLP targets on a model without MLP (attention targets are fine)', () => {
    const noMlp = resolveConfig({ nLayers: 1, dModel: 16, nHeads: 2, dHead: 8, dVocab: 20, nCtx: 6 });
    const host = initParams(noMlp, 0);
    for (const t of ['mlp.W_in', 'mlp.W_out'] as const) {
      const spec: LoraSpec = { rank: 2, alpha: 2, targets: ['attn.W_O', t], layers: [0] };
      expect(() => checkLoraSpec(noMlp, spec)).toThrow(/has no MLP/);
      expect(() => initLora(noMlp, host, spec, 0)).toThrow(/has no MLP/);
      expect(() => buildAdaptation(noMlp, host, 'lora', { lora: spec, seed: 0 })).toThrow(/has no MLP/);
    }
    expect(() => checkLoraSpec(noMlp, { rank: 2, alpha: 2, targets: ['attn.W_Q', 'attn.W_O'], layers: [0] })).not.toThrow();
  });
});

/**
 * One optimizer step through buildAdaptation, as runFinetune takes it: returns the gradient names (with
 * the variable suffix stripped) and the host values of every parameter (the adapted ones included)
 * and every trained tensor, before and after.
 */
function oneStep(
  config: ModelConfig,
  a: Adaptation,
): { gradNames: string[]; zeroGrads: string[]; paramsBefore: Record<string, Float32Array>; paramsAfter: Record<string, Float32Array>; trainedBefore: Record<string, HostTensor>; trainedAfter: Record<string, HostTensor> } {
  const snapshot = (): Record<string, Float32Array> => tf.tidy(() => Object.fromEntries(Object.entries(a.params()).map(([k, t]) => [k, t.dataSync().slice() as Float32Array])));
  const copy = (r: Record<string, HostTensor>): Record<string, HostTensor> => Object.fromEntries(Object.entries(r).map(([k, h]) => [k, { shape: h.shape, data: h.data.slice() }]));
  const paramsBefore = snapshot();
  const trainedBefore = copy(a.export());
  const optimizer = new AdamW(a.variables, OPT);
  const rng = new Rng(8);
  const B = 8;
  const { gradNames, zeroGrads } = tf.tidy(() => {
    const tokens = randomTokens(B, 6, config.dVocab, 21);
    const targets = tf.tensor1d(Int32Array.from({ length: B }, () => rng.int(0, config.dVocab - 1)), 'int32');
    const { grads } = tf.variableGrads(() => lastTokenLoss(config, a.params(), tokens, targets, a.interventions()), a.variables);
    optimizer.apply(a.variables.map((v) => grads[v.name]));
    const names = Object.keys(grads);
    return { gradNames: names.map(baseName).sort(), zeroGrads: names.filter((n) => grads[n].abs().max().dataSync()[0] === 0).map(baseName).sort() };
  });
  optimizer.dispose();
  return { gradNames, zeroGrads, paramsBefore, paramsAfter: snapshot(), trainedBefore, trainedAfter: copy(a.export()) };
}

describe('training through buildAdaptation moves only what the method trains', () => {
  it("'lora': gradients only for lora_A / lora_B; after a step the base is unchanged and B ≠ 0", () => {
    const spec: LoraSpec = { rank: 2, alpha: 4, targets: ['mlp.W_out', 'attn.W_Q'], layers: [0, 1] };
    const hostCopy = Object.fromEntries(Object.entries(HOST).map(([k, h]) => [k, h.data.slice()]));
    const start = tf.memory().numTensors;
    const a = buildAdaptation(C, HOST, 'lora', { lora: spec, seed: 3 });
    expect(a.method).toBe('lora');
    const loraNames = loraTensorNames(spec).flatMap((n) => [n.a, n.b]).sort();
    expect(a.variables.map((v) => baseName(v.name)).sort()).toEqual(loraNames);
    const s = oneStep(C, a);
    expect(s.gradNames).toEqual(loraNames);
    // With B = 0, dL/dA = (alpha/r) · dL/dΔW · Bᵀ = 0 exactly; dL/dB is not.
    expect(s.zeroGrads).toEqual(loraNames.filter((n) => n.endsWith('lora_A')));
    const adaptedWeights = new Set(loraTensorNames(spec).map((n) => n.weight));
    for (const spec of paramSpecs(C)) {
      if (adaptedWeights.has(spec.name)) {
        expect(s.paramsBefore[spec.name]).toEqual(HOST[spec.name].data);
        expect(s.paramsAfter[spec.name]).not.toEqual(HOST[spec.name].data);
      } else {
        expect(s.paramsAfter[spec.name]).toEqual(HOST[spec.name].data);
      }
    }
    for (const n of loraNames.filter((x) => x.endsWith('lora_B'))) {
      expect(s.trainedBefore[n].data.every((x) => x === 0)).toBe(true);
      expect(s.trainedAfter[n].data.some((x) => x !== 0)).toBe(true);
    }
    // A had a zero gradient and there is no weight decay: it did not move.
    for (const n of loraNames.filter((x) => x.endsWith('lora_A'))) expect(s.trainedAfter[n].data).toEqual(s.trainedBefore[n].data);
    // The caller's host tensors are never written.
    for (const [k, d] of Object.entries(hostCopy)) expect(HOST[k].data).toEqual(d);
    a.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it("'steer': the only gradient is steering_vector; the model's parameters are unchanged", () => {
    const start = tf.memory().numTensors;
    const a = buildAdaptation(C, HOST, 'steer', { steer: { layer: 0, positions: 'all' }, seed: 3 });
    expect(a.variables.map((v) => baseName(v.name))).toEqual(['steering_vector']);
    expect(a.interventions()).toHaveLength(1);
    expect(a.interventions()[0].hook).toBe('blocks.0.hook_resid_post');
    const s = oneStep(C, a);
    expect(s.gradNames).toEqual(['steering_vector']);
    expect(s.zeroGrads).toEqual([]);
    expect(s.trainedBefore.steering_vector.shape).toEqual([C.dModel]);
    expect(s.trainedAfter.steering_vector.data).not.toEqual(s.trainedBefore.steering_vector.data);
    for (const spec of paramSpecs(C)) expect(s.paramsAfter[spec.name]).toEqual(HOST[spec.name].data);
    a.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it("'full': gradients for the trainable parameters only; frozen ones (identity W_E, identity W_K) are untouched", () => {
    const c = resolveConfig({ nLayers: 1, dModel: 16, dVocab: 16, nHeads: 1, dHead: 16, nCtx: 6, embed: 'identity', wK: 'identity', mlp: true, dMlp: 32 });
    const host = initParams(c, 2);
    const specs = paramSpecs(c);
    const trainable = specs.filter((s) => s.trainable).map((s) => s.name).sort();
    const frozen = specs.filter((s) => !s.trainable).map((s) => s.name).sort();
    expect(frozen).toEqual(['blocks.0.attn.W_K', 'embed.W_E']);
    const start = tf.memory().numTensors;
    const a = buildAdaptation(c, host, 'full', { seed: 0 });
    expect(a.interventions()).toEqual([]);
    expect(a.variables.map((v) => baseName(v.name)).sort()).toEqual(trainable);
    const s = oneStep(c, a);
    expect(s.gradNames).toEqual(trainable);
    for (const name of frozen) {
      expect(s.paramsAfter[name]).toEqual(host[name].data);
      expect(s.trainedAfter[name].data).toEqual(host[name].data);
    }
    // Every trainable matrix that the loss reads moved (biases may get tiny steps, but they move too).
    for (const name of ['blocks.0.attn.W_Q', 'blocks.0.attn.W_V', 'blocks.0.attn.W_O', 'blocks.0.mlp.W_in', 'blocks.0.mlp.W_out', 'unembed.W_U']) {
      expect(s.paramsAfter[name]).not.toEqual(host[name].data);
    }
    // The export is a whole checkpoint: every parameter, with its shape.
    expect(Object.keys(s.trainedAfter).sort()).toEqual(specs.map((x) => x.name).sort());
    a.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
