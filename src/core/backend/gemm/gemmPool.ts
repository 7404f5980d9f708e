import os from 'node:os';
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { readBuiltWasm } from '../builtWasm';

/**
 * Multi-threaded float32 matrix products for the wasm backend (assembly/gemm.ts, built to out/fused/ by
 * scripts/build-fused.mjs). tfjs-backend-wasm runs one thread in Node and its matmul has no fused
 * multiply-add; this kernel uses relaxed SIMD's FMA where the runtime has it and splits the rows of C
 * between this thread and helper worker threads over one shared WebAssembly memory.
 *
 * The caller's thread blocks (Atomics.wait) while the helpers work: a tfjs kernel is synchronous. That is
 * allowed in Node's main thread and in worker threads (where the engine runs), not in a browser's main
 * thread — the renderer never runs the engine.
 *
 * Each element of C is the same chain of multiply-adds whatever the number of threads, so results depend
 * on the machine's FMA (relaxed_madd is fused or not by hardware) but not on OOCR_THREADS.
 */

export const GEMM_FMA_WASM = 'oocr-gemm-fma.wasm';
export const GEMM_PLAIN_WASM = 'oocr-gemm.wasm';

interface GemmExports {
  packB(B: number, K: number, N: number, transB: number, Bp: number): void;
  gemmRows(A: number, sI: number, sK: number, Bp: number, C: number, i0: number, i1: number, K: number, N: number, tile: number): void;
  gemmBatch(A: number, sI: number, sK: number, strideA: number, B: number, transB: number, strideB: number, C: number, strideC: number, e0: number, e1: number, M: number, K: number, N: number, Bp: number, tile: number, exact: number): void;
}

export interface GemmModule {
  module: WebAssembly.Module;
  /** Whether this build uses relaxed SIMD's fused multiply-add. */
  fma: boolean;
}

let loaded: GemmModule | { error: string } | undefined;

/** Relaxed SIMD ships in Node ≥ 22 and Chromium ≥ 114; Node 20's V8 has it behind a flag. */
function enableRelaxedSimd(): void {
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // an embedder that refuses V8 flags keeps the plain build
  }
}

/** The compiled kernel (the FMA build where the runtime validates it), or why there is none. */
export function gemmModule(): GemmModule | { error: string } {
  if (loaded) return loaded;
  try {
    if (typeof SharedArrayBuffer === 'undefined') throw new Error('this runtime has no SharedArrayBuffer');
    if (process.env.OOCR_GEMM_FMA !== '0') {
      const bytes = readBuiltWasm(GEMM_FMA_WASM);
      if (!WebAssembly.validate(bytes)) enableRelaxedSimd();
      if (WebAssembly.validate(bytes)) return (loaded = { module: new WebAssembly.Module(bytes), fma: true });
    }
    const bytes = readBuiltWasm(GEMM_PLAIN_WASM);
    if (!WebAssembly.validate(bytes)) throw new Error('this runtime cannot run the kernel (WebAssembly SIMD and threads)');
    loaded = { module: new WebAssembly.Module(bytes), fma: false };
  } catch (err) {
    loaded = { error: err instanceof Error ? err.message : String(err) };
  }
  return loaded;
}

/** Threads a product uses: OOCR_THREADS, else the cores this process may use, at most 8. */
export function gemmThreads(): number {
  const env = process.env.OOCR_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`OOCR_THREADS=${env}: expected an integer from 1 to 256`);
    return n;
  }
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(8, cores));
}

const PAGE = 65536;

/** Bytes below this offset hold each thread's 256-byte scratch tile; operands start above it. */
const RESERVED = PAGE;
/** Control words (Int32) shared with the helpers. */
const GEN = 0;
const DONE = 1;
const STOP = 2;
const FAILED = 3;
const READY = 4;
/** The next unit (6-row block of C, or batch entry) not yet taken. */
const NEXT = 5;
/** Units whose inputs are in place: the caller raises it while it copies A in, the helpers wait for it. */
const READY_UNITS = 6;
const PARAMS = 8;
/** Products with fewer multiply-adds run on the calling thread alone. */
const PARALLEL_MIN_MACS = 2 ** 20;
/** How long to wait for helpers to start before giving up on them (ms). */
const START_TIMEOUT_MS = 20_000;

// The helpers' code, run with `eval` so that no separate file has to be found next to a bundle.
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, index } = workerData;
const ctl = new Int32Array(control);
let e;
try {
  e = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('abort'); } } }).exports;
} catch (err) {
  Atomics.store(ctl, ${FAILED}, 1);
}
Atomics.add(ctl, ${READY}, 1);
Atomics.notify(ctl, ${READY});
let gen = 0;
for (;;) {
  Atomics.wait(ctl, ${GEN}, gen);
  gen = Atomics.load(ctl, ${GEN});
  if (Atomics.load(ctl, ${STOP})) break;
  try {
    if (e) takeShare(e, ctl, index);
  } catch (err) {
    Atomics.store(ctl, ${FAILED}, 1);
  }
  Atomics.add(ctl, ${DONE}, 1);
  Atomics.notify(ctl, ${DONE});
}
${takeShare.toString()}
`;

/**
 * Takes units of the posted product (6-row blocks of C, or batch entries), a chunk at a time, until none
 * are left: every thread runs this, so a thread that is slower (woken late, its cache cold) just takes
 * fewer. Each unit is computed the same by any thread. Its source is also the helpers' (toString), so it
 * names nothing outside itself: control words as numbers (NEXT = 5, READY_UNITS = 6, the parameters from
 * 8, see PARAMS).
 */
export function takeShare(e: GemmExports, ctl: Int32Array, index: number): void {
  const [mode, A, sI, sK, Bp, C, M, K, N, chunk, strideA, B, transB, strideB, strideC, E, bpBytes, exact] = ctl.subarray(8, 26);
  // mode 0: rows of C (6-row units); 1: batch entries.
  const units = mode === 0 ? Math.ceil(M / 6) : E;
  for (;;) {
    const u0 = Atomics.add(ctl, 5, chunk);
    if (u0 >= units) return;
    const u1 = Math.min(units, u0 + chunk);
    // Wait until the caller has copied these units' inputs in (control word 6, READY_UNITS).
    let ready: number;
    while ((ready = Atomics.load(ctl, 6)) < u1) Atomics.wait(ctl, 6, ready);
    if (mode === 0) e.gemmRows(A, sI, sK, Bp, C, 6 * u0, Math.min(M, 6 * u1), K, N, 256 * index);
    else e.gemmBatch(A, sI, sK, strideA, B, transB, strideB, C, strideC, u0, u1, M, K, N, Bp + bpBytes * index, 256 * index, exact);
  }
}

/** Byte offsets in the shared memory: B, its panels, a chunk of `rows` rows of A, C's rows. */
function layout(rows: number, K: number, N: number): { B: number; Bp: number; A: number; C: number; end: number } {
  const align = (x: number): number => Math.ceil(x / 64) * 64;
  const B = RESERVED;
  const Bp = align(B + 4 * K * N);
  const A = align(Bp + 4 * Math.ceil(N / 8) * 8 * K);
  const C = align(A + 4 * rows * K);
  return { B, Bp, A, C, end: C + 4 * rows * N };
}

export interface GemmOperands {
  /** A as stored: [M, K] row-major, or [K, M] when transA. */
  a: Float32Array;
  /** B as stored: [K, N], or [N, K] when transB. */
  b: Float32Array;
  M: number;
  K: number;
  N: number;
  transA: boolean;
  transB: boolean;
}

export class GemmPool {
  readonly threads: number;
  readonly fma: boolean;
  private readonly memory: WebAssembly.Memory;
  private readonly exports: GemmExports;
  private readonly control = new Int32Array(new SharedArrayBuffer(64 * 4));
  private readonly helpers: Worker[] = [];

  constructor(mod: GemmModule, threads: number, readonly maxBytes: number) {
    this.fma = mod.fma;
    this.memory = new WebAssembly.Memory({ initial: 2, maximum: 65536, shared: true });
    this.exports = new WebAssembly.Instance(mod.module, { env: { memory: this.memory, abort: () => { throw new Error('gemm kernel aborted'); } } }).exports as unknown as GemmExports;
    const wanted = Math.max(1, threads);
    for (let index = 1; index < wanted; index++) {
      const w = new Worker(HELPER_SOURCE, { eval: true, workerData: { module: mod.module, memory: this.memory, control: this.control.buffer, index } });
      w.unref();
      this.helpers.push(w);
    }
    // A helper that cannot start would leave every product waiting for it: wait for all to be ready.
    const deadline = Date.now() + START_TIMEOUT_MS;
    let ready: number;
    while ((ready = Atomics.load(this.control, READY)) < this.helpers.length && Date.now() < deadline) Atomics.wait(this.control, READY, ready, 50);
    if (Atomics.load(this.control, READY) < this.helpers.length || Atomics.load(this.control, FAILED)) {
      this.dispose();
      this.helpers.length = 0;
      Atomics.store(this.control, FAILED, 0);
    }
    this.threads = this.helpers.length + 1;
  }

  /**
   * Bytes of shared memory a product needs when A's rows go in chunks of `rows`: B and its packed
   * panels, then the chunk's rows of A and of C.
   */
  static bytesFor(rows: number, K: number, N: number): number {
    return layout(rows, K, N).end;
  }

  /** Rows of A per chunk within maxBytes (all of M when they fit), or 0 when not even 6 rows fit. */
  chunkRows(M: number, K: number, N: number): number {
    if (GemmPool.bytesFor(M, K, N) <= this.maxBytes) return M;
    let rows = Math.floor((this.maxBytes - GemmPool.bytesFor(0, K, N)) / (4 * (K + N)) / 6) * 6;
    while (rows >= 6 && GemmPool.bytesFor(rows, K, N) > this.maxBytes) rows -= 6;
    return Math.max(0, rows);
  }

  /**
   * C = op(A) · op(B) into `out` ([M, N], row-major). A product bigger than maxBytes runs in chunks of
   * A's rows (a real vocabulary's unembedding): B is packed once, each element of C is computed the same.
   */
  run(o: GemmOperands, out: Float32Array): void {
    const { M, K, N } = o;
    const rows = this.chunkRows(M, K, N);
    if (rows === 0) throw new Error(`a ${K}×${N} right operand does not fit the pool's ${this.maxBytes} bytes`);
    const need = GemmPool.bytesFor(rows, K, N);
    if (this.memory.buffer.byteLength < need) this.memory.grow(Math.ceil((need - this.memory.buffer.byteLength) / PAGE));
    const { B, Bp, A, C } = layout(rows, K, N);
    const heap = this.memory.buffer;
    new Float32Array(heap, B, K * N).set(o.b.subarray(0, K * N));
    this.exports.packB(B, K, N, o.transB ? 1 : 0, Bp);
    for (let r0 = 0; r0 < M; r0 += rows) {
      const m = Math.min(rows, M - r0);
      const a = new Float32Array(heap, A, m * K);
      // A element (i, k) at A + 4·(i·sI + k·sK): row-major [m, K], or the stored [K, m] when transposed.
      // Row-major A goes in by blocks of rows, which the helpers start on while the rest is copied.
      const copyIn = (ready: (u: number) => void): void => {
        if (o.transA) {
          if (m === M) a.set(o.a.subarray(0, K * M));
          else for (let k = 0; k < K; k++) a.set(o.a.subarray(k * M + r0, k * M + r0 + m), k * m);
          return;
        }
        const step = 6 * Math.max(1, Math.ceil(m / 6 / 8));
        for (let i = 0; i < m; i += step) {
          const i1 = Math.min(m, i + step);
          a.set(o.a.subarray((r0 + i) * K, (r0 + i1) * K), i * K);
          ready(Math.floor(i1 / 6));
        }
      };
      this.gemm(A, o.transA ? 1 : K, o.transA ? m : 1, Bp, C, m, K, N, copyIn);
      out.set(new Float32Array(heap, C, m * N), r0 * N);
    }
  }

  /** Rows of C split between this thread and the helpers; returns when all are done. */
  private gemm(A: number, sI: number, sK: number, Bp: number, C: number, M: number, K: number, N: number, produce?: (ready: (u: number) => void) => void): void {
    this.post([0, A, sI, sK, Bp, C, M, K, N, 0], Math.ceil(M / 6), M * K * N, produce);
  }

  /**
   * Posts a job's parameters (from PARAMS; the chunk size goes in the tenth), takes a share on this
   * thread, and waits for the helpers when they were woken: only for PARALLEL_MIN_MACS and up. With
   * `produce`, the helpers start at once and this thread first copies the inputs in, calling `ready(u)`
   * as the first u units become computable, so the copy overlaps their work.
   */
  private post(params: number[], units: number, macs: number, produce?: (ready: (u: number) => void) => void): void {
    const ctl = this.control;
    const parallel = this.helpers.length > 0 && macs >= PARALLEL_MIN_MACS && units > 1;
    // About sixteen chunks a thread: small enough that the last to finish waits little for the others,
    // big enough that taking one (an atomic add and a call) costs nothing.
    params[9] = parallel ? Math.max(1, Math.floor(units / (16 * this.threads))) : units;
    ctl.set(params, PARAMS);
    Atomics.store(ctl, NEXT, 0);
    Atomics.store(ctl, READY_UNITS, produce && parallel ? 0 : units);
    if (parallel) this.dispatch();
    if (produce) {
      produce((u) => {
        if (!parallel) return;
        Atomics.store(ctl, READY_UNITS, u);
        Atomics.notify(ctl, READY_UNITS);
      });
      Atomics.store(ctl, READY_UNITS, units);
      Atomics.notify(ctl, READY_UNITS);
    }
    takeShare(this.exports, ctl, 0);
    if (parallel) this.join();
  }

  /** Bytes a batched product needs: A's and B's entries (one when broadcast), every C, one packed B per thread. */
  batchBytes(o: { E: number; EA: number; EB: number; M: number; K: number; N: number }): number {
    return RESERVED + 4 * (o.EA * o.M * o.K + o.EB * o.K * o.N + o.E * o.M * o.N) + this.threads * 4 * Math.ceil(o.N / 8) * 8 * o.K + 4 * 64;
  }

  /**
   * E products of the same shapes, split between threads by entry. `a` holds EA matrices and `b` EB, one
   * after another, each either E or 1 (one matrix for every entry). With `exact`, each entry's C has the
   * bits of tfjs-backend-wasm's own batched kernel; otherwise those `run` would give it.
   */
  runBatch(o: GemmOperands & { E: number; EA: number; EB: number; exact: boolean }, out: Float32Array): void {
    const { E, EA, EB, M, K, N } = o;
    if ((EA !== E && EA !== 1) || (EB !== E && EB !== 1)) throw new Error(`batch of ${E}: operands of ${EA} and ${EB} matrices`);
    const need = this.batchBytes(o);
    if (need > this.maxBytes) throw new Error(`a batched product of ${need} bytes does not fit the pool's ${this.maxBytes}`);
    if (this.memory.buffer.byteLength < need) this.memory.grow(Math.ceil((need - this.memory.buffer.byteLength) / PAGE));
    const align = (x: number): number => Math.ceil(x / 64) * 64;
    const A = RESERVED;
    const B = align(A + 4 * EA * M * K);
    const C = align(B + 4 * EB * K * N);
    const Bp = align(C + 4 * E * M * N);
    const bpBytes = align(4 * Math.ceil(N / 8) * 8 * K);
    const heap = this.memory.buffer;
    new Float32Array(heap, A, EA * M * K).set(o.a.subarray(0, EA * M * K));
    new Float32Array(heap, B, EB * K * N).set(o.b.subarray(0, EB * K * N));
    const sI = o.transA ? 1 : K;
    const sK = o.transA ? M : 1;
    const strideA = EA === 1 ? 0 : M * K;
    const strideB = EB === 1 ? 0 : K * N;
    this.post([1, A, sI, sK, Bp, C, M, K, N, 0, strideA, B, o.transB ? 1 : 0, strideB, M * N, E, bpBytes, o.exact ? 1 : 0], E, E * M * K * N);
    out.set(new Float32Array(heap, C, E * M * N));
  }

  private dispatch(): void {
    Atomics.store(this.control, DONE, 0);
    Atomics.add(this.control, GEN, 1);
    Atomics.notify(this.control, GEN);
  }

  /** Waits for every helper (those with no share report at once). */
  private join(): void {
    const ctl = this.control;
    let done: number;
    while ((done = Atomics.load(ctl, DONE)) < this.helpers.length) Atomics.wait(ctl, DONE, done);
    if (Atomics.exchange(ctl, FAILED, 0)) throw new Error('a gemm helper thread failed');
  }

  dispose(): void {
    Atomics.store(this.control, STOP, 1);
    Atomics.add(this.control, GEN, 1);
    Atomics.notify(this.control, GEN);
    for (const w of this.helpers) void w.terminate();
  }
}

let pool: GemmPool | { error: string } | undefined;

/**
 * Cap on the pool's shared memory, which never shrinks: every product of the 2-layer d = 256 step fits
 * whole; a real vocabulary's unembedding (GPT-2's W_E is 154 MB) runs in chunks of rows.
 */
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** The process's pool (made at first use), or why there is none. */
export function gemmPool(): GemmPool | { error: string } {
  if (pool) return pool;
  const mod = gemmModule();
  if ('error' in mod) return (pool = mod);
  try {
    pool = new GemmPool(mod, gemmThreads(), DEFAULT_MAX_BYTES);
  } catch (err) {
    pool = { error: err instanceof Error ? err.message : String(err) };
  }
  return pool;
}
