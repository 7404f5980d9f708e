import type { ModelConfig, OptimizerConfig } from '../../shared/modelConfig';
import type { AdamWState } from '../train/adamw';
import type { EvalSet, TokenBatch } from '../tasks/taskTypes';
import { archOf } from '../model/resolveConfig';
import { readBuiltWasm } from '../backend/builtWasm';

/**
 * The fused training kernel (assembly/fused.ts, compiled to out/fused/oocr-fused.wasm by
 * scripts/build-fused.mjs): one forward + backward + AdamW step per call, in WebAssembly with SIMD,
 * for the one-layer attention-only models with one-hot embeddings (the factorization presets). The
 * tfjs path stays the reference: test/fused compares the two.
 */

interface KernelExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  scratchBytes(d: number, dh: number, r: number, tMax: number): number;
  configure(d: number, dh: number, r: number, learnedK: number, factorized: number, softmax: number, residual: number, invScale: number, base: number, tMax: number): number;
  paramsPtr(): number;
  gradsPtr(): number;
  firstMomentPtr(): number;
  secondMomentPtr(): number;
  correct(): number;
  trainStep(tokens: number, targets: number, work: number, B: number, T: number, lr: number, beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, eps: number, bc1: number, bc2: number, decay: number, apply: number): number;
  evaluate(tokens: number, targets: number, n: number, T: number): number;
}

let compiled: { module: WebAssembly.Module } | { error: string } | undefined;

/** The compiled kernel, or why there is none (not built, built from an older source, no wasm SIMD). */
export function fusedKernelModule(): { module: WebAssembly.Module } | { error: string } {
  if (compiled) return compiled;
  try {
    const bytes = readBuiltWasm('oocr-fused.wasm');
    if (!WebAssembly.validate(bytes)) throw new Error('this runtime cannot run the kernel (WebAssembly SIMD)');
    compiled = { module: new WebAssembly.Module(bytes) };
  } catch (err) {
    compiled = { error: err instanceof Error ? err.message : String(err) };
  }
  return compiled;
}

/** Why the fused kernel cannot train this model (null: it can). */
export function fusedMisfit(c: ModelConfig): string | null {
  const a = archOf(c);
  const no: string[] = [];
  if (c.nLayers !== 1) no.push('nLayers ≠ 1');
  if (c.nHeads !== 1 || a.nKeyValueHeads !== 1) no.push('more than one head');
  if (c.mlp) no.push('an MLP');
  if (c.layerNorm) no.push('LayerNorm');
  if (c.posEmbed) no.push('positional embeddings');
  if (c.embed !== 'identity') no.push(`embed '${c.embed}'`);
  if (c.unembed !== 'identity') no.push(`unembed '${c.unembed}'`);
  if (a.qkvBias || a.attnOutBias || a.qkNorm || a.postNorms) no.push('attention biases or norms');
  if (a.rotaryDims > 0) no.push('rotary embeddings');
  if (a.embedScale !== 1 || a.attnSoftcap > 0 || a.finalSoftcap > 0 || a.slidingWindow > 0) no.push('scaled embeddings, soft-capping or sliding windows');
  return no.length ? `the fused kernel covers one-layer one-head attention-only models with identity embeddings; this one has ${no.join(', ')}` : null;
}

/** Trained tensors in the kernel's (and the tfjs variables') order, with their shapes. */
export function fusedTrainedShapes(c: ModelConfig): { name: string; shape: number[] }[] {
  const d = c.dModel;
  const r = c.ov === 'factorized' ? c.ovRank : d;
  const out = [{ name: 'blocks.0.attn.W_Q', shape: [1, d, c.dHead] }];
  if (c.wK === 'learned') out.push({ name: 'blocks.0.attn.W_K', shape: [1, d, c.dHead] });
  if (c.ov === 'factorized') out.push({ name: 'blocks.0.attn.W_V', shape: [1, d, r] });
  out.push({ name: 'blocks.0.attn.W_O', shape: [1, r, d] });
  return out;
}

const align16 = (n: number): number => Math.ceil(n / 16) * 16;
const PAGE = 65536;

/**
 * One model's parameters, gradients and AdamW moments in a kernel instance's memory. Values cross as
 * Float32Arrays in the trained order (fusedTrainedShapes).
 */
export class FusedKernel {
  private readonly k: KernelExports;
  private readonly shapes: { name: string; shape: number[] }[];
  private readonly sizes: number[];
  private readonly n: number;
  /** Values per sequence of the step's work area (z and d logits of a factorized model). */
  private readonly workPerRow: number;
  private readonly ioBase: number;
  private ioBytes = 0;
  private t = 0;

  constructor(
    readonly config: ModelConfig,
    private readonly opt: OptimizerConfig,
    private readonly tMax = config.nCtx,
  ) {
    const misfit = fusedMisfit(config);
    if (misfit) throw new Error(misfit);
    const mod = fusedKernelModule();
    if ('error' in mod) throw new Error(`fused kernel unavailable: ${mod.error}`);
    this.k = new WebAssembly.Instance(mod.module, {}).exports as unknown as KernelExports;
    const c = config;
    const d = c.dModel;
    const r = c.ov === 'factorized' ? c.ovRank : d;
    const a = archOf(c);
    this.shapes = fusedTrainedShapes(c);
    this.sizes = this.shapes.map((s) => s.shape.reduce((x, y) => x * y, 1));
    const base = align16(this.k.heapBase());
    this.n = this.k.configure(d, c.dHead, r, c.wK === 'learned' ? 1 : 0, c.ov === 'factorized' ? 1 : 0, c.attention === 'softmax' ? 1 : 0, c.residual ? 1 : 0, Math.fround(1 / a.attnScale), base, tMax);
    this.workPerRow = c.ov === 'factorized' ? r + d : 0;
    const arrays = 4 * align16(4 * this.n);
    this.ioBase = align16(base + arrays + this.k.scratchBytes(d, c.dHead, r, tMax));
    this.reserve(0);
  }

  /** Makes room for `bytes` of tokens and targets after everything else. */
  private reserve(bytes: number): void {
    if (bytes <= this.ioBytes && this.ioBytes > 0) return;
    const need = this.ioBase + bytes;
    const have = this.k.memory.buffer.byteLength;
    if (need > have) this.k.memory.grow(Math.ceil((need - have) / PAGE));
    this.ioBytes = Math.max(bytes, 1);
  }

  private view(ptr: number, length: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, ptr, length);
  }

  /** Copies of a flat kernel array split per tensor. */
  private read(ptr: number): Float32Array[] {
    let off = 0;
    return this.sizes.map((n) => {
      const out = this.view(ptr + 4 * off, n).slice();
      off += n;
      return out;
    });
  }

  private write(ptr: number, values: readonly Float32Array[]): void {
    if (values.length !== this.sizes.length) throw new Error(`fused kernel: expected ${this.sizes.length} tensors, got ${values.length}`);
    let off = 0;
    values.forEach((v, i) => {
      if (v.length !== this.sizes[i]) throw new Error(`fused kernel: ${this.shapes[i].name} has ${v.length} values, expected ${this.sizes[i]}`);
      this.view(ptr + 4 * off, v.length).set(v);
      off += v.length;
    });
  }

  get names(): string[] {
    return this.shapes.map((s) => s.name);
  }

  setParams(values: readonly Float32Array[]): void {
    this.write(this.k.paramsPtr(), values);
  }

  params(): Float32Array[] {
    return this.read(this.k.paramsPtr());
  }

  /** The gradients of the last step (or gradients() call). */
  grads(): Float32Array[] {
    return this.read(this.k.gradsPtr());
  }

  setState(s: AdamWState): void {
    this.write(
      this.k.firstMomentPtr(),
      s.m.map((h) => h.data),
    );
    this.write(
      this.k.secondMomentPtr(),
      s.v.map((h) => h.data),
    );
    this.t = s.step;
  }

  state(): AdamWState {
    const host = (data: Float32Array[]): AdamWState['m'] => data.map((x, i) => ({ shape: this.shapes[i].shape.slice(), data: x }));
    return { step: this.t, m: host(this.read(this.k.firstMomentPtr())), v: host(this.read(this.k.secondMomentPtr())) };
  }

  private load(b: TokenBatch): void {
    if (b.seqLen > this.tMax || b.seqLen < 1) throw new Error(`fused kernel: sequence length ${b.seqLen} outside 1..${this.tMax}`);
    // The kernel reads rows by token id unchecked: an id outside the vocabulary would read other memory.
    const V = this.config.dVocab;
    const n = b.batch * b.seqLen;
    for (let i = 0; i < n; i++) if (!(b.tokens[i] >= 0 && b.tokens[i] < V)) throw new Error(`fused kernel: token ${b.tokens[i]} outside the vocabulary 0..${V - 1}`);
    for (let i = 0; i < b.batch; i++) if (!(b.targets[i] >= 0 && b.targets[i] < V)) throw new Error(`fused kernel: target ${b.targets[i]} outside the vocabulary 0..${V - 1}`);
    this.reserve(4 * (b.batch * b.seqLen + b.batch + b.batch * this.workPerRow) + 32);
    const mem = this.k.memory.buffer;
    new Int32Array(mem, this.ioBase, b.batch * b.seqLen).set(b.tokens.subarray(0, b.batch * b.seqLen));
    new Int32Array(mem, this.ioBase + 4 * b.batch * b.seqLen, b.batch).set(b.targets.subarray(0, b.batch));
  }

  /** After a batch's tokens and targets, 16-byte aligned. */
  private workPtr(b: TokenBatch): number {
    return align16(this.ioBase + 4 * (b.batch * b.seqLen + b.batch));
  }

  /** Mean loss and gradients of a batch (in grads()), without stepping. */
  gradients(b: TokenBatch): number {
    this.load(b);
    return this.k.trainStep(this.ioBase, this.ioBase + 4 * b.batch * b.seqLen, this.workPtr(b), b.batch, b.seqLen, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0);
  }

  /**
   * One AdamW step on a batch's mean loss, as src/core/train/adamw.ts with the tfjs gradients; returns
   * the loss. A non-finite loss leaves the weights and moments as they were.
   */
  step(b: TokenBatch, lr = this.opt.lr): number {
    this.load(b);
    const { beta1, beta2, eps, weightDecay } = this.opt;
    const t = this.t + 1;
    const f = Math.fround;
    const loss = this.k.trainStep(
      this.ioBase,
      this.ioBase + 4 * b.batch * b.seqLen,
      this.workPtr(b),
      b.batch,
      b.seqLen,
      f(lr),
      f(beta1),
      f(1 - beta1),
      f(beta2),
      f(1 - beta2),
      f(eps),
      f(1 - Math.pow(beta1, t)),
      f(1 - Math.pow(beta2, t)),
      f(1 - lr * weightDecay),
      1,
    );
    if (Number.isFinite(loss)) this.t = t;
    return loss;
  }

  /** Accuracy (first argmax over the vocabulary) and mean loss of an eval set. */
  evaluate(set: EvalSet, chunk = 4096): { acc: number; loss: number } {
    let correct = 0;
    let lossSum = 0;
    for (let start = 0; start < set.batch; start += chunk) {
      const n = Math.min(chunk, set.batch - start);
      const part: TokenBatch = { tokens: set.tokens.subarray(start * set.seqLen, (start + n) * set.seqLen), targets: set.targets.subarray(start, start + n), batch: n, seqLen: set.seqLen };
      this.load(part);
      lossSum += this.k.evaluate(this.ioBase, this.ioBase + 4 * n * set.seqLen, n, set.seqLen);
      correct += this.k.correct();
    }
    return { acc: correct / set.batch, loss: lossSum / set.batch };
  }
}
