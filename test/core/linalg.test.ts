import { describe, expect, it } from 'vitest';
import { cosine, dot, norm, pairwiseAbsCos, pca, row, singularValues, type Rows } from '../../src/core/analysis/linalg';
import { Rng } from '../../src/core/util/rng';

/** Row-major Rows from plain arrays. */
function rows(r: number[][]): Rows {
  const d = r[0].length;
  return { n: r.length, d, data: Float32Array.from(r.flat()) };
}

function expectVecClose(a: ArrayLike<number>, b: ArrayLike<number>, digits: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], digits);
}

/** ±v (the sign of an eigenvector is arbitrary). */
function expectSameDirection(a: ArrayLike<number>, b: ArrayLike<number>, digits: number): void {
  const sign = dot(a, b) < 0 ? -1 : 1;
  expectVecClose(Array.from(a, (x) => sign * x), b, digits);
}

describe('dot, norm, cosine', () => {
  it('dot and norm of hand-picked vectors', () => {
    expect(dot([1, 2, 3], [4, -5, 6])).toBe(4 - 10 + 18);
    expect(dot([], [])).toBe(0);
    expect(norm([3, 4])).toBe(5);
    expect(norm([1, 2, 2])).toBe(3);
    expect(norm([0, 0, 0])).toBe(0);
    expect(norm(Float32Array.from([-6, 8]))).toBe(10);
  });

  it('cosine: parallel 1, antiparallel −1, orthogonal 0, zero vector 0', () => {
    expect(cosine([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(cosine([1, 2, 3], [-0.5, -1, -1.5])).toBeCloseTo(-1, 12);
    expect(cosine([1, 0, 0], [0, 5, 0])).toBe(0);
    expect(cosine([1, 1, 0], [1, -1, 7])).toBe(0);
    expect(cosine([0, 0, 0], [1, 2, 3])).toBe(0);
    expect(cosine([1, 2, 3], [0, 0, 0])).toBe(0);
    expect(cosine([0, 0], [0, 0])).toBe(0);
    // 45°: (1,0)·(1,1) / (1·√2)
    expect(cosine([1, 0], [1, 1])).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('row views the i-th row without copying', () => {
    const m = rows([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(Array.from(row(m, 1))).toEqual([3, 4]);
    row(m, 2)[0] = 50;
    expect(m.data[4]).toBe(50);
  });
});

describe('pairwiseAbsCos', () => {
  it('exact |cos| entries of three hand-picked rows and their mean over distinct pairs', () => {
    // r0 = e1, r1 = e1 + e2, r2 = −e2: |cos(r0,r1)| = 1/√2, |cos(r0,r2)| = 0, |cos(r1,r2)| = 1/√2.
    const { matrix, meanOffDiagonal } = pairwiseAbsCos(
      rows([
        [1, 0, 0],
        [1, 1, 0],
        [0, -1, 0],
      ]),
    );
    const s = Math.SQRT1_2;
    const expected = [
      [1, s, 0],
      [s, 1, s],
      [0, s, 1],
    ];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(matrix[i][j]).toBeCloseTo(expected[i][j], 7);
    expect(meanOffDiagonal).toBeCloseTo((2 * s) / 3, 7);
  });

  it('is symmetric, takes absolute values, and gives 0 for a zero row (diagonal included)', () => {
    const { matrix, meanOffDiagonal } = pairwiseAbsCos(
      rows([
        [2, 0],
        [-3, 0],
        [0, 0],
      ]),
    );
    expect(matrix).toEqual([
      [1, 1, 0],
      [1, 1, 0],
      [0, 0, 0],
    ]);
    expect(meanOffDiagonal).toBeCloseTo(1 / 3, 12);
  });
});

describe('pca', () => {
  it('data in a 3-D subspace of R^6: three components carry all the variance, all unit and orthogonal', () => {
    const basis = [
      [1, 2, 0, -1, 0, 3],
      [0, 1, 1, 0, -2, 1],
      [2, 0, -1, 1, 1, 0],
    ];
    const rng = new Rng(3);
    const data: number[][] = [];
    for (let i = 0; i < 40; i++) {
      const c = [rng.normal(), rng.normal(), rng.normal()];
      // A non-zero offset: centring must remove it.
      data.push(basis[0].map((_, j) => 5 + c[0] * basis[0][j] + c[1] * basis[1][j] + c[2] * basis[2][j]));
    }
    const p = pca(rows(data), { centre: true });
    expect(p.components).toHaveLength(6);
    expect(p.varianceRatio[0] + p.varianceRatio[1] + p.varianceRatio[2]).toBeCloseTo(1, 9);
    for (let i = 3; i < 6; i++) expect(p.varianceRatio[i]).toBeLessThan(1e-9);
    for (let i = 1; i < 6; i++) expect(p.variances[i]).toBeLessThanOrEqual(p.variances[i - 1]);
    for (let i = 0; i < 6; i++) {
      expect(norm(p.components[i])).toBeCloseTo(1, 9);
      for (let j = i + 1; j < 6; j++) expect(Math.abs(dot(p.components[i], p.components[j]))).toBeLessThan(1e-9);
    }
    // The top three components lie in span(basis): their part orthogonal to it is zero.
    const q = gramSchmidt(basis);
    for (let i = 0; i < 3; i++) {
      const c = p.components[i];
      const inSpan = q.reduce((acc, b) => acc.map((x, j) => x + dot(c, b) * b[j]), new Array<number>(6).fill(0));
      expect(norm(c.map((x, j) => x - inSpan[j]))).toBeLessThan(1e-6);
    }
    // The centred mean is the sample mean.
    for (let j = 0; j < 6; j++) expect(p.mean[j]).toBeCloseTo(data.reduce((s, r) => s + r[j], 0) / data.length, 4);
  });

  it('rows that are multiples of one vector, uncentred: PC1 is ±v/|v| with the whole second moment', () => {
    const v = [1, -2, 0, 3, 1, 1];
    const nv = norm(v);
    const scales = [1, -2, 0.5, 3, -0.25];
    const p = pca(rows(scales.map((s) => v.map((x) => s * x))), { centre: false });
    expectSameDirection(p.components[0], v.map((x) => x / nv), 6);
    expect(p.varianceRatio[0]).toBeCloseTo(1, 9);
    // Second moment along v: mean of (s·|v|)².
    expect(p.variances[0]).toBeCloseTo((scales.reduce((a, s) => a + s * s, 0) / scales.length) * nv * nv, 4);
    expect(p.mean).toEqual(new Array(6).fill(0));
    expect(pca(rows(scales.map((s) => v.map((x) => s * x))), { centre: false, k: 1 }).components).toHaveLength(1);
  });

  it('2-D example by hand: (±1, 0), (0, ±2) centred → variances [2, 0.5]', () => {
    const p = pca(
      rows([
        [1, 0],
        [-1, 0],
        [0, 2],
        [0, -2],
      ]),
      { centre: true },
    );
    // Covariance (1/n) Σ x xᵀ = diag((1 + 1)/4, (4 + 4)/4) = diag(0.5, 2).
    expectVecClose(p.variances, [2, 0.5], 12);
    expectVecClose(p.varianceRatio, [0.8, 0.2], 12);
    expectSameDirection(p.components[0], [0, 1], 12);
    expectSameDirection(p.components[1], [1, 0], 12);
  });

  it('2-D example by hand with off-diagonal covariance, centred and not', () => {
    const m = rows([
      [2, 0],
      [0, 1],
    ]);
    // Uncentred second moment: diag(4/2, 1/2).
    const raw = pca(m, { centre: false });
    expectVecClose(raw.variances, [2, 0.5], 12);
    // Centred: mean (1, 0.5), rows ±(1, −0.5), covariance [[1, −0.5], [−0.5, 0.25]]: eigenvalues 1.25 and 0,
    // PC1 ∝ (2, −1).
    const c = pca(m, { centre: true });
    expectVecClose(c.mean, [1, 0.5], 12);
    expect(c.variances[0]).toBeCloseTo(1.25, 12);
    expect(c.variances[1]).toBeCloseTo(0, 12);
    expectVecClose(c.varianceRatio, [1, 0], 12);
    expectSameDirection(c.components[0], [2 / Math.sqrt(5), -1 / Math.sqrt(5)], 12);
  });
});

describe('singularValues', () => {
  it('of a diagonal matrix: the absolute diagonal, descending', () => {
    const sv = singularValues(3, 3, [3, 0, 0, 0, -2, 0, 0, 0, 1]);
    expectVecClose(sv, [3, 2, 1], 12);
  });

  it('of a rank-1 outer product u vᵀ: one value |u|·|v|, the rest zero', () => {
    const u = [1, 2, 2]; // |u| = 3
    const v = [3, 4]; // |v| = 5
    const sv = singularValues(
      3,
      2,
      u.flatMap((a) => v.map((b) => a * b)),
    );
    expect(sv).toHaveLength(2);
    expect(sv[0]).toBeCloseTo(15, 10);
    expect(sv[1]).toBeCloseTo(0, 10);
  });

  it('of a 3×2 example by hand, and of its 2×3 transpose', () => {
    // M = [[1,0],[0,1],[1,1]]: MᵀM = [[2,1],[1,2]], eigenvalues 3 and 1 → singular values √3, 1.
    expectVecClose(singularValues(3, 2, [1, 0, 0, 1, 1, 1]), [Math.sqrt(3), 1], 12);
    expectVecClose(singularValues(2, 3, [1, 0, 1, 0, 1, 1]), [Math.sqrt(3), 1], 12);
    // [[3,0],[4,5]] (2×2): MᵀM = [[25,20],[20,25]] → eigenvalues 45, 5 → √45, √5.
    expectVecClose(singularValues(2, 2, [3, 0, 4, 5]), [Math.sqrt(45), Math.sqrt(5)], 10);
  });
});

function gramSchmidt(vs: number[][]): number[][] {
  const out: number[][] = [];
  for (const v of vs) {
    let w = v.slice();
    for (const q of out) {
      const c = dot(w, q);
      w = w.map((x, j) => x - c * q[j]);
    }
    const n = norm(w);
    out.push(w.map((x) => x / n));
  }
  return out;
}
