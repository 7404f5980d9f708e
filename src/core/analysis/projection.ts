import { UMAP } from 'umap-js';
import { Rng } from '../util/rng';
import { pca, type Rows } from './linalg';
import type { PointLabel, Projection3D } from '../../shared/analysis';

export type { PointLabel, Projection3D } from '../../shared/analysis';

/** Exact PCA to 3D (centred), via the covariance eigen-decomposition. */
export function pca3(rows: Rows): { points: number[][]; varianceRatio: number[] } {
  const p = pca(rows, { centre: true, k: 3 });
  const points: number[][] = [];
  for (let i = 0; i < rows.n; i++) {
    const x = rows.data.subarray(i * rows.d, (i + 1) * rows.d);
    points.push(
      [0, 1, 2].map((k) => {
        const comp = p.components[k];
        if (!comp) return 0;
        let s = 0;
        for (let j = 0; j < rows.d; j++) s += (x[j] - p.mean[j]) * comp[j];
        return s;
      }),
    );
  }
  return { points, varianceRatio: [0, 1, 2].map((k) => p.varianceRatio[k] ?? 0) };
}

/** UMAP to 3D through umap-js, seeded so a projection is reproducible. */
export function umap3(rows: Rows, opts: { nNeighbors?: number; minDist?: number; seed?: number } = {}): number[][] {
  const data: number[][] = [];
  for (let i = 0; i < rows.n; i++) data.push(Array.from(rows.data.subarray(i * rows.d, (i + 1) * rows.d)));
  const rng = new Rng(opts.seed ?? 0);
  const umap = new UMAP({ nComponents: 3, nNeighbors: Math.min(opts.nNeighbors ?? 15, Math.max(2, rows.n - 1)), minDist: opts.minDist ?? 0.1, random: () => rng.next() });
  return umap.fit(data);
}

export function project3(rows: Rows, labels: PointLabel[], method: 'pca' | 'umap', opts: { nNeighbors?: number; minDist?: number; seed?: number } = {}): Projection3D {
  if (labels.length !== rows.n) throw new Error(`projection: ${rows.n} points but ${labels.length} labels`);
  if (rows.n < 4) throw new Error(`projection needs at least 4 points, got ${rows.n}`);
  if (method === 'pca') {
    const { points, varianceRatio } = pca3(rows);
    return { method, points, labels, varianceRatio };
  }
  return { method, points: umap3(rows, opts), labels };
}
