import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LoraSpec, SteerSpec } from '../../src/shared/finetune';
import { hookName } from '../../src/shared/hooks';
import { activationDeltas, summariseDeltas } from '../../src/core/analysis/loraVsSteering';
import { initBackend } from '../../src/core/backend/initBackend';
import { applyLora, initLora } from '../../src/core/finetune/lora';
import { steerHook, steeringIntervention } from '../../src/core/finetune/steering';
import { forward, type Params } from '../../src/core/model/forward';
import { initParams, type HostTensor } from '../../src/core/model/params';
import { resolveConfig } from '../../src/core/model/resolveConfig';
import type { TokenBatch } from '../../src/core/tasks/taskTypes';
import { Rng } from '../../src/core/util/rng';

/**
 * Steering vectors (src/core/finetune/steering.ts) and the per-token activation deltas they are compared
 * with (src/core/analysis/loraVsSteering.ts), on a small two-layer model with MLP and LayerNorm.
 */

beforeAll(async () => {
  await initBackend();
});

const C = resolveConfig({ nLayers: 2, dModel: 16, nHeads: 2, dHead: 8, dVocab: 20, nCtx: 6, mlp: true, dMlp: 32, layerNorm: true, posEmbed: true });
const HOST = initParams(C, 3);
const RESID0 = hookName('hook_resid_post', 0);
const ALL: SteerSpec = { layer: 0, positions: 'all' };

function toParams(host: Record<string, HostTensor>): Params {
  return Object.fromEntries(Object.entries(host).map(([k, h]) => [k, tf.tensor(h.data, h.shape)]));
}

function dispose(p: Params): void {
  Object.values(p).forEach((t) => t.dispose());
}

function batch(B: number, seed: number): TokenBatch {
  const rng = new Rng(seed);
  const T = 6;
  return { tokens: Int32Array.from({ length: B * T }, () => rng.int(0, C.dVocab - 1)), targets: new Int32Array(B), batch: B, seqLen: T };
}

const tokensOf = (b: TokenBatch): tf.Tensor2D => tf.tensor2d(b.tokens, [b.batch, b.seqLen], 'int32');

/** A fixed, non-constant vector (LayerNorm would remove a constant one). */
function vector(seed: number, d = C.dModel): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: d }, () => rng.normal());
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('steering vectors', () => {
  it('a zero vector is exactly the base model, at any residual hook', () => {
    const params = toParams(HOST);
    const b = batch(3, 1);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const t = tokensOf(b);
      const base = Array.from(forward(C, params, t).logits.dataSync());
      for (const spec of [ALL, { layer: 1, positions: 'all' as const }, { layer: 0, hook: 'blocks.1.hook_mlp_out', positions: [2, 3] }, { layer: 0, hook: 'hook_embed', positions: 'all' as const }]) {
        const iv = steeringIntervention(C, spec, tf.zeros([C.dModel]));
        expect(Array.from(forward(C, params, t, { interventions: [iv] }).logits.dataSync())).toEqual(base);
      }
    });
    expect(tf.memory().numTensors).toBe(before);
    dispose(params);
  });

  it('a constant delta v (mlp.b_out += v in layer 0) is seen at every token and reproduced by steering with v', () => {
    const v = vector(5);
    const adaptedHost = { ...HOST, 'blocks.0.mlp.b_out': { shape: [C.dModel], data: HOST['blocks.0.mlp.b_out'].data.map((x, i) => x + v[i]) } };
    const base = toParams(HOST);
    const adapted = toParams(adaptedHost);
    const b = batch(4, 2);
    const before = tf.memory().numTensors;

    const deltas = activationDeltas(C, base, adapted, b, RESID0);
    expect(tf.memory().numTensors).toBe(before);
    expect(deltas.n).toBe(4 * 6);
    expect(deltas.d).toBe(C.dModel);
    for (let i = 0; i < deltas.n; i++) expect(maxAbsDiff(deltas.data.subarray(i * deltas.d, (i + 1) * deltas.d), v)).toBeLessThan(1e-5);

    const s = summariseDeltas(deltas);
    expect(s.nTokens).toBe(24);
    expect(s.meanAbsCos).toBeCloseTo(1, 5);
    expect(s.pc1VarRatio).toBeCloseTo(1, 5);
    expect(s.cosPc1Mean).toBeCloseTo(1, 5);
    expect(s.meanNorm).toBeCloseTo(Math.hypot(...v), 4);
    expect(maxAbsDiff(s.naturalVector, v)).toBeLessThan(1e-5);

    const [want, got, gotNatural] = tf.tidy(() => {
      const t = tokensOf(b);
      return [
        forward(C, adapted, t).logits.dataSync(),
        forward(C, base, t, { interventions: [steeringIntervention(C, ALL, tf.tensor1d(v))] }).logits.dataSync(),
        forward(C, base, t, { interventions: [steeringIntervention(C, ALL, tf.tensor1d(s.naturalVector))] }).logits.dataSync(),
      ];
    });
    expect(tf.memory().numTensors).toBe(before);
    // The base model alone is far from the adapted one, so the match below means something.
    const baseLogits = tf.tidy(() => forward(C, base, tokensOf(b)).logits.dataSync());
    expect(maxAbsDiff(baseLogits, want)).toBeGreaterThan(1e-2);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-4);
    expect(maxAbsDiff(gotNatural, want)).toBeLessThan(1e-4);
    dispose(base);
    dispose(adapted);
  });

  it('the deltas of a LoRA on mlp.W_out are each token’s hook_post times ΔW (per-token, not constant)', () => {
    const spec: LoraSpec = { rank: 2, alpha: 4, targets: ['mlp.W_out'], layers: [0] };
    const host = initLora(C, HOST, spec, 1);
    const rng = new Rng(6);
    const B = host['blocks.0.mlp.W_out.lora_B'];
    for (let i = 0; i < B.data.length; i++) B.data[i] = rng.normal();
    const base = toParams(HOST);
    const adapter = toParams(host);
    const b = batch(2, 4);
    const adapted = applyLora(base, adapter, spec);
    const deltas = activationDeltas(C, base, adapted, b, RESID0);
    const post = tf.tidy(() => forward(C, base, tokensOf(b), { cache: ['blocks.0.mlp.hook_post'] }).cache['blocks.0.mlp.hook_post'].dataSync());
    const A = host['blocks.0.mlp.W_out.lora_A'];
    const scale = spec.alpha / spec.rank;
    for (let t = 0; t < deltas.n; t++)
      for (let j = 0; j < C.dModel; j++) {
        let want = 0;
        for (let i = 0; i < C.dMlp; i++) for (let q = 0; q < 2; q++) want += post[t * C.dMlp + i] * scale * A.data[i * 2 + q] * B.data[q * C.dModel + j];
        expect(deltas.data[t * C.dModel + j]).toBeCloseTo(want, 4);
      }
    expect(summariseDeltas(deltas).meanAbsCos).toBeLessThan(1);
    adapted['blocks.0.mlp.W_out'].dispose();
    dispose(base);
    dispose(adapter);
  });

  it('with positions [1], only position 1 of the hook moves, by scale·v', () => {
    const params = toParams(HOST);
    const v = vector(7);
    const [plain, steered, scaled] = tf.tidy(() => {
      const t = tokensOf(batch(2, 3));
      const spec: SteerSpec = { layer: 0, positions: [1] };
      const read = (ivs: ReturnType<typeof steeringIntervention>[]): number[][][] => forward(C, params, t, { cache: [RESID0], interventions: ivs }).cache[RESID0].arraySync() as number[][][];
      return [read([]), read([steeringIntervention(C, spec, tf.tensor1d(v))]), read([steeringIntervention(C, spec, tf.tensor1d(v), -2)])];
    });
    for (let bi = 0; bi < 2; bi++)
      for (let p = 0; p < 6; p++) {
        if (p === 1) {
          for (let j = 0; j < C.dModel; j++) {
            expect(steered[bi][p][j] - plain[bi][p][j]).toBeCloseTo(v[j], 5);
            expect(scaled[bi][p][j] - plain[bi][p][j]).toBeCloseTo(-2 * v[j], 5);
          }
        } else {
          expect(steered[bi][p]).toEqual(plain[bi][p]);
          expect(scaled[bi][p]).toEqual(plain[bi][p]);
        }
      }
    dispose(params);
  });
});

describe('steerHook', () => {
  it('defaults to blocks.{layer}.hook_resid_post and accepts other residual-stream hooks', () => {
    expect(steerHook(C, ALL)).toBe('blocks.0.hook_resid_post');
    expect(steerHook(C, { layer: 1, positions: [0] })).toBe('blocks.1.hook_resid_post');
    for (const h of ['hook_embed', 'blocks.1.hook_resid_pre', 'blocks.0.hook_resid_mid', 'blocks.1.hook_attn_out', 'blocks.0.hook_mlp_out']) {
      expect(steerHook(C, { layer: 0, hook: h, positions: 'all' })).toBe(h);
    }
    const iv = steeringIntervention(C, { layer: 1, positions: [2, 4] }, tf.zeros([1]), 3);
    expect(iv).toMatchObject({ hook: 'blocks.1.hook_resid_post', kind: 'add', positions: [2, 4], scale: 3 });
    expect(steeringIntervention(C, ALL, iv.value).positions).toBeUndefined();
    iv.value.dispose();
  });

  it('rejects non-residual hooks, unknown hooks and layers outside the model', () => {
    expect(() => steerHook(C, { layer: 0, hook: 'blocks.0.attn.hook_pattern', positions: 'all' })).toThrow(/not a residual-stream hook/);
    expect(() => steerHook(C, { layer: 0, hook: 'blocks.0.mlp.hook_post', positions: 'all' })).toThrow(/not a residual-stream hook/);
    expect(() => steerHook(C, { layer: 0, hook: 'blocks.0.attn.hook_nope', positions: 'all' })).toThrow(/unknown hook/);
    expect(() => steerHook(C, { layer: 2, positions: 'all' })).toThrow(/steering layer 2 outside 0..1/);
    expect(() => steeringIntervention(C, { layer: 5, positions: [0] }, tf.zeros([1]))).toThrow(/outside 0..1/);
  });

  // Regression test (fixed): steerHook once range-checked only `spec.layer`; an explicit `spec.hook` naming
  // a block the model does not have passed, forward() never reached that hook, and the "steering" silently
  // did nothing (training such a vector left the model exactly the base).
  it('rejects an explicit hook in a layer outside the model', () => {
    const spec: SteerSpec = { layer: 0, hook: 'blocks.5.hook_resid_post', positions: 'all' };
    expect(() => steerHook(C, spec)).toThrow(/outside/);
  });
});

/**
 * Regression test (fixed; src/core/model/forward.ts, readout 'last', used by lastTokenLoss / evaluateSets
 * and so by every steer fine-tune and finetuneMetrics): the last block runs on the last query position
 * only, and an intervention's `positions` were once applied to that 1-long axis unchanged, so steering the
 * last layer at position 0 landed on the last token and any position ≥ 1 threw. Positions index the full
 * sequence: readout 'last' equals the last position of the full forward pass for any intervention.
 */
describe('steering the last block under readout "last"', () => {
  const lastLayer: SteerSpec = { layer: C.nLayers - 1, positions: [0] };

  it('with positions "all" it equals the last position of the full forward pass', () => {
    const params = toParams(HOST);
    const v = tf.tensor1d(vector(8));
    const [full, last] = tf.tidy(() => {
      const t = tokensOf(batch(3, 5));
      const iv = [steeringIntervention(C, { layer: C.nLayers - 1, positions: 'all' }, v)];
      return [forward(C, params, t, { interventions: iv }).logits.slice([0, 5, 0], [3, 1, C.dVocab]).dataSync(), forward(C, params, t, { interventions: iv, readout: 'last' }).logits.dataSync()];
    });
    expect(maxAbsDiff(last, full)).toBeLessThan(1e-4);
    v.dispose();
    dispose(params);
  });

  it('with positions [0] it equals the last position of the full forward pass', () => {
    const params = toParams(HOST);
    const v = tf.tensor1d(vector(8));
    try {
      const [full, last] = tf.tidy(() => {
        const t = tokensOf(batch(3, 5));
        const iv = [steeringIntervention(C, lastLayer, v)];
        return [forward(C, params, t, { interventions: iv }).logits.slice([0, 5, 0], [3, 1, C.dVocab]).dataSync(), forward(C, params, t, { interventions: iv, readout: 'last' }).logits.dataSync()];
      });
      expect(maxAbsDiff(last, full)).toBeLessThan(1e-4);
    } finally {
      v.dispose();
      dispose(params);
    }
  });

  it('with positions [3] it runs', () => {
    const params = toParams(HOST);
    const v = tf.tensor1d(vector(8));
    try {
      tf.tidy(() => {
        forward(C, params, tokensOf(batch(3, 5)), { interventions: [steeringIntervention(C, { ...lastLayer, positions: [3] }, v)], readout: 'last' });
      });
    } finally {
      v.dispose();
      dispose(params);
    }
  });
});
