import { EigenvalueDecomposition, Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';

/** Row-major [n, d] data as plain arrays: what analyses take and return. */
export interface Rows {
  n: number;
  d: number;
  data: Float32Array;
}

export function row(m: Rows, i: number): Float32Array {
  return m.data.subarray(i * m.d, (i + 1) * m.d);
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** Cosine similarity; 0 when either vector is zero (no direction to compare). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const na = norm(a);
  const nb = norm(b);
  return na === 0 || nb === 0 ? 0 : dot(a, b) / (na * nb);
}

/** |cos| between every pair of rows, and the mean over distinct pairs. */
export function pairwiseAbsCos(m: Rows): { matrix: number[][]; meanOffDiagonal: number } {
  const norms = Array.from({ length: m.n }, (_, i) => norm(row(m, i)));
  const matrix: number[][] = Array.from({ length: m.n }, () => new Array<number>(m.n).fill(0));
  let sum = 0;
  let count = 0;
  for (let i = 0; i < m.n; i++) {
    matrix[i][i] = norms[i] === 0 ? 0 : 1;
    for (let j = i + 1; j < m.n; j++) {
      const c = norms[i] === 0 || norms[j] === 0 ? 0 : Math.abs(dot(row(m, i), row(m, j)) / (norms[i] * norms[j]));
      matrix[i][j] = matrix[j][i] = c;
      sum += c;
      count++;
    }
  }
  return { matrix, meanOffDiagonal: count ? sum / count : 1 };
}

export interface Pca {
  /** Unit principal directions, descending by variance: [k][d]. */
  components: number[][];
  /** Variance (second moment, or variance when centred) along each component. */
  variances: number[];
  /** Share of the total for each component. */
  varianceRatio: number[];
  mean: number[];
}

/**
 * PCA through the eigen-decomposition of the d×d second-moment (or covariance) matrix, via ml-matrix.
 * `centre: false` keeps the mean in: for LoRA deltas that are nearly one constant vector, the mean
 * *is* the signal, and centring would remove exactly what the analysis looks for.
 */
export function pca(m: Rows, opts: { centre: boolean; k?: number }): Pca {
  const mean = new Array<number>(m.d).fill(0);
  if (opts.centre) {
    for (let i = 0; i < m.n; i++) for (let j = 0; j < m.d; j++) mean[j] += m.data[i * m.d + j] / m.n;
  }
  const cov = Matrix.zeros(m.d, m.d);
  const x = new Float64Array(m.d);
  for (let i = 0; i < m.n; i++) {
    for (let j = 0; j < m.d; j++) x[j] = m.data[i * m.d + j] - mean[j];
    for (let a = 0; a < m.d; a++) {
      if (x[a] === 0) continue;
      for (let b = a; b < m.d; b++) cov.set(a, b, cov.get(a, b) + (x[a] * x[b]) / m.n);
    }
  }
  for (let a = 0; a < m.d; a++) for (let b = 0; b < a; b++) cov.set(a, b, cov.get(b, a));
  const evd = new EigenvalueDecomposition(cov, { assumeSymmetric: true });
  const values = evd.realEigenvalues;
  const vectors = evd.eigenvectorMatrix;
  const order = values.map((v, i) => [Math.max(v, 0), i] as const).sort((p, q) => q[0] - p[0]);
  const k = Math.min(opts.k ?? m.d, m.d);
  const total = order.reduce((s, [v]) => s + v, 0);
  return {
    components: order.slice(0, k).map(([, i]) => vectors.getColumn(i)),
    variances: order.slice(0, k).map(([v]) => v),
    varianceRatio: order.slice(0, k).map(([v]) => (total > 0 ? v / total : 0)),
    mean,
  };
}

/** Singular values, descending, of a row-major matrix. */
export function singularValues(rows: number, cols: number, data: ArrayLike<number>): number[] {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, data[i * cols + j]);
  const svd = new SingularValueDecomposition(m, { computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true });
  return [...svd.diagonal].sort((a, b) => b - a);
}

/**
 * Singular values of A·B for A [dIn, r], B [r, dOut] (row-major) without forming the product: with
 * A = Q·R (Q orthonormal columns), A·B and R·B [r, dOut] share them. A rank-r LoRA's ΔW of a real model
 * (768 × 2304 for GPT-2's c_attn) takes an r × dOut decomposition instead of a 768 × 2304 one.
 */
export function lowRankSingularValues(A: ArrayLike<number>, dIn: number, r: number, B: ArrayLike<number>, dOut: number): number[] {
  const a = new Matrix(dIn, r);
  for (let i = 0; i < dIn; i++) for (let k = 0; k < r; k++) a.set(i, k, A[i * r + k]);
  const R = new QrDecomposition(a).upperTriangularMatrix;
  const b = new Matrix(r, dOut);
  for (let k = 0; k < r; k++) for (let j = 0; j < dOut; j++) b.set(k, j, B[k * dOut + j]);
  const rb = R.mmul(b);
  return singularValues(r, dOut, rb.to1DArray());
}
