import { describe, expect, it } from 'vitest';
import { Matrix4, PerspectiveCamera, Vector3 } from 'three';
import type { AnalysisResult } from '../../../../shared/api';
import { SCREEN_THEME } from '../../figure/theme';
import { LORA_PCA } from './mocks/lora';
import { EMBED_PCA, RESID_POST_PCA, RESID_POST_UMAP } from './mocks/worldBase';
import {
  assignColours,
  axisLabels,
  buildRequest,
  checkProjection,
  defaultSource,
  exportLegend,
  exportViewport,
  extendedPalette,
  fitExportCamera,
  sceneExtentPoints,
  scenePads,
  focusColours,
  mixColour,
  FRAME,
  frameLines,
  hashString,
  MAX_CATEGORIES,
  MAX_LEGEND,
  MISSING,
  MISSING_COLOUR,
  nearestOnScreen,
  normalisePoints,
  pickDisc,
  screenRadius,
  paramError,
  pinText,
  projectionCsv,
  projectionSvg,
  projectionSvgBody,
  projectToScreen,
  sourceChoices,
  tooltipRows,
  varianceSummary,
  DEFAULT_PARAMS,
  type CameraView,
} from './projectionData';

const PALETTE = SCREEN_THEME.palette;

function cameraView(width = 400, height = 300, position: [number, number, number] = [0.8, 0.6, 4]): { view: CameraView; camera: PerspectiveCamera } {
  const camera = new PerspectiveCamera(40, width / height, 0.01, 100);
  camera.position.set(...position);
  camera.lookAt(0, 0, 0);
  camera.updateMatrixWorld();
  const vp = new Matrix4().multiplyMatrices(camera.projectionMatrix, camera.matrixWorldInverse);
  return { camera, view: { viewProjection: vp.elements, focalY: camera.projectionMatrix.elements[5], width, height } };
}

describe('sourceChoices', () => {
  it('lists embed then resid_pre/mid/post per layer for a model with an MLP', () => {
    expect(sourceChoices({ nLayers: 2, mlp: true })).toEqual([
      'embed',
      'blocks.0.hook_resid_pre',
      'blocks.0.hook_resid_mid',
      'blocks.0.hook_resid_post',
      'blocks.1.hook_resid_pre',
      'blocks.1.hook_resid_mid',
      'blocks.1.hook_resid_post',
    ]);
  });
  it('has no resid_mid without an MLP, and no embed for fine-tuned runs', () => {
    expect(sourceChoices({ nLayers: 1, mlp: false })).toEqual(['embed', 'blocks.0.hook_resid_pre', 'blocks.0.hook_resid_post']);
    expect(sourceChoices({ nLayers: 1, mlp: false }, { embed: false })).toEqual(['blocks.0.hook_resid_pre', 'blocks.0.hook_resid_post']);
  });
  it('defaults to the last resid_post', () => {
    expect(defaultSource(sourceChoices({ nLayers: 3, mlp: true }))).toBe('blocks.2.hook_resid_post');
    expect(defaultSource(['embed'])).toBe('embed');
    expect(defaultSource([])).toBeNull();
  });
});

describe('buildRequest', () => {
  const run = { choices: sourceChoices({ nLayers: 2, mlp: true }), checkpoints: [1000, 2500], finetune: false };
  it('fills the default source and leaves the step out for the latest', () => {
    expect(buildRequest('world-base', DEFAULT_PARAMS, run)).toEqual({ kind: 'projection', id: 'world-base', source: 'blocks.1.hook_resid_post', method: 'pca', promptsPerSet: 40 });
  });
  it('keeps a step the run has, drops one it lacks, and sends UMAP parameters only with UMAP', () => {
    const p = { ...DEFAULT_PARAMS, step: 1000, source: 'embed' as const, method: 'umap' as const, neighbors: 8, minDist: 0.3 };
    expect(buildRequest('r', p, run)).toEqual({ kind: 'projection', id: 'r', step: 1000, source: 'embed', method: 'umap', neighbors: 8, minDist: 0.3 });
    expect(buildRequest('r', { ...p, step: 7 }, run)?.step).toBeUndefined();
  });
  it('fine-tuned runs: no step, and a source they lack falls back to their default', () => {
    const ft = { choices: sourceChoices({ nLayers: 2, mlp: true }, { embed: false }), checkpoints: [], finetune: true };
    const req = buildRequest('lora-vs-steering/lora', { ...DEFAULT_PARAMS, step: 2500, source: 'embed' }, ft);
    expect(req).toEqual({ kind: 'projection', id: 'lora-vs-steering/lora', source: 'blocks.1.hook_resid_post', method: 'pca', promptsPerSet: 40 });
  });
  it('paramError checks the API bounds', () => {
    expect(paramError('promptsPerSet', 40)).toBeNull();
    expect(paramError('promptsPerSet', 0)).toMatch(/1…500/);
    expect(paramError('neighbors', 2.5)).toMatch(/whole/);
    expect(paramError('minDist', 0.25)).toBeNull();
    expect(paramError('minDist', Number.NaN)).toMatch(/number/);
  });
});

describe('checkProjection', () => {
  it('accepts real answers', () => {
    expect(checkProjection(RESID_POST_PCA)).toBe(RESID_POST_PCA);
    expect(checkProjection(LORA_PCA).origins).toHaveLength(LORA_PCA.points.length);
  });
  it('rejects mismatched lengths and other kinds', () => {
    expect(() => checkProjection({ ...RESID_POST_PCA, labels: RESID_POST_PCA.labels.slice(1) })).toThrow(/20 points but 19 labels/);
    expect(() => checkProjection({ ...LORA_PCA, origins: LORA_PCA.origins?.slice(2) })).toThrow(/origins/);
    expect(() => checkProjection({ kind: 'ov-spectrum', id: 'x', ov: 'factorized', steps: [], heads: [] } as AnalysisResult)).toThrow(/ov-spectrum/);
  });
});

describe('text', () => {
  it('summarises variance and names PCA axes; UMAP has no axis names', () => {
    expect(varianceSummary(RESID_POST_PCA.varianceRatio)).toBe('PC1 27.5% · PC2 24.6% · PC3 15.6% (Σ 67.7%)');
    expect(varianceSummary(undefined)).toBeNull();
    expect(axisLabels(RESID_POST_PCA)).toEqual(['PC1 (27.5%)', 'PC2 (24.6%)', 'PC3 (15.6%)']);
    expect(axisLabels(RESID_POST_UMAP)).toBeNull();
  });
  it('tooltip rows list only the fields a point has', () => {
    expect(tooltipRows(RESID_POST_PCA.labels[0])).toEqual([
      ['token', 'end'],
      ['group', 'world_country'],
      ['answer', 'country_0'],
      ['prompt', '0'],
      ['position', '5'],
    ]);
    expect(tooltipRows(EMBED_PCA.labels[0]).map((r) => r[0])).toEqual(['token', 'group']);
    expect(pinText(RESID_POST_PCA.labels[0])).toBe('#0 end → country_0');
    expect(pinText(EMBED_PCA.labels[0])).toBe('rel_country (rel)');
  });
});

describe('assignColours', () => {
  it('gives each of few categories its own palette colour, in natural order', () => {
    const a = assignColours(RESID_POST_PCA.labels, 'group', PALETTE);
    expect(a.hashed).toBe(false);
    expect(a.total).toBe(4);
    expect(a.legend.map((e) => e.label)).toEqual(['world_country', 'world_dist', 'world_language', 'world_size']);
    expect(a.legend.map((e) => e.colour)).toEqual(PALETTE.slice(0, 4));
    expect(a.legend.every((e) => e.count === 5)).toBe(true);
    expect(a.colours[0]).toBe(PALETTE[0]);
    expect(new Set(a.colours).size).toBe(4);
  });
  it('sorts numbered categories numerically and keeps 12 distinct colours from an 8-colour palette', () => {
    const labels = Array.from({ length: 12 }, (_, i) => ({ token: `city_${i}`, group: 'city' }));
    const a = assignColours(labels, 'token', PALETTE);
    expect(a.legend.map((e) => e.label).slice(0, 3)).toEqual(['city_0', 'city_1', 'city_2']);
    expect(a.legend[10].label).toBe('city_10');
    expect(new Set(a.legend.map((e) => e.colour)).size).toBe(12);
    expect(extendedPalette(PALETTE)).toHaveLength(16);
    expect(extendedPalette(PALETTE)[8]).toBe('#80b9d9');
  });
  it('hashes more than MAX_CATEGORIES into the palette and lists the largest', () => {
    const a = assignColours(EMBED_PCA.labels, 'token', PALETTE);
    expect(a.total).toBe(62);
    expect(a.total).toBeGreaterThan(MAX_CATEGORIES);
    expect(a.hashed).toBe(true);
    expect(a.legend).toHaveLength(MAX_LEGEND);
    const pal = extendedPalette(PALETTE);
    a.categories.forEach((c, i) => expect(a.colours[i]).toBe(pal[hashString(c) % pal.length]));
    // Stable: the same name gets the same colour whatever else is in the data.
    const b = assignColours(EMBED_PCA.labels.slice(0, 20), 'token', PALETTE);
    expect(assignColours([EMBED_PCA.labels[0]], 'token', PALETTE).colours[0]).not.toBeUndefined();
    expect(b.colours[0]).toBe(pal[hashString(EMBED_PCA.labels[0].token) % pal.length]);
    const legend = exportLegend(a, 'token');
    expect(legend).toHaveLength(MAX_LEGEND + 1);
    expect(legend[MAX_LEGEND]).toEqual({ label: '+52 more tokens (colours hashed, shared)', colour: 'none' });
  });
  it('orders the hashed legend by count, then by name', () => {
    const labels = Array.from({ length: 14 }, (_, i) => ({ token: 't', group: 'g', answer: `a_${i}` }));
    for (let k = 0; k < 4; k++) labels.push({ token: 't', group: 'g', answer: 'a_13' });
    labels.push({ token: 't', group: 'g', answer: 'a_2' });
    const a = assignColours(labels, 'answer', PALETTE);
    expect(a.hashed).toBe(true);
    expect(a.legend.slice(0, 4).map((e) => [e.label, e.count])).toEqual([
      ['a_13', 5],
      ['a_2', 2],
      ['a_0', 1],
      ['a_1', 1],
    ]);
    expect(assignColours(EMBED_PCA.labels, 'group', PALETTE).hashed).toBe(false);
  });
  it('focusColours fades every other category toward the background', () => {
    const a = assignColours(RESID_POST_PCA.labels, 'group', PALETTE);
    expect(focusColours(a, null, '#ffffff')).toBe(a.colours);
    expect(focusColours(a, 'not-a-category', '#ffffff')).toBe(a.colours);
    const f = focusColours(a, 'world_dist', '#ffffff');
    a.categories.forEach((c, i) => expect(f[i] === a.colours[i]).toBe(c === 'world_dist'));
    expect(f[0]).toBe(mixColour(PALETTE[0], '#ffffff', 0.85));
  });
  it('greys points that lack the field and lists them last', () => {
    const a = assignColours(EMBED_PCA.labels, 'answer', PALETTE);
    expect(a.total).toBe(1);
    expect(a.legend).toEqual([{ label: MISSING, colour: MISSING_COLOUR, count: 62 }]);
    const mixed = assignColours([{ token: 'a', group: 'g' }, { token: 'b', group: 'g', answer: 'z' }], 'answer', PALETTE);
    expect(mixed.legend.map((e) => e.label)).toEqual(['z', MISSING]);
    expect(mixed.colours).toEqual([MISSING_COLOUR, PALETTE[0]]);
  });
});

describe('normalisePoints', () => {
  it('fits the longest side into [−1, 1], keeps aspect, and centres the box', () => {
    const n = normalisePoints(RESID_POST_PCA.points);
    const coords = (a: number) => Array.from({ length: n.n }, (_, i) => n.positions[i * 3 + a]);
    const spans = [0, 1, 2].map((a) => Math.max(...coords(a)) - Math.min(...coords(a)));
    expect(Math.max(...spans)).toBeCloseTo(2, 5);
    for (let a = 0; a < 3; a++) expect(Math.max(...coords(a)) + Math.min(...coords(a))).toBeCloseTo(0, 5);
    // Uniform scale: ratios of spans are those of the raw data.
    const raw = [0, 1, 2].map((a) => Math.max(...RESID_POST_PCA.points.map((p) => p[a])) - Math.min(...RESID_POST_PCA.points.map((p) => p[a])));
    expect(spans[1] / spans[0]).toBeCloseTo(raw[1] / raw[0], 4);
    // Inverse mapping: raw = centre + pos / scale.
    expect(n.centre[0] + n.positions[0] / n.scale).toBeCloseTo(RESID_POST_PCA.points[0][0], 4);
    expect(n.visible.every((v) => v === 1)).toBe(true);
    expect(n.origins).toBeNull();
  });
  it('normalises origins jointly with the points', () => {
    const n = normalisePoints(LORA_PCA.points, LORA_PCA.origins);
    const all = [...n.positions, ...(n.origins as Float32Array)];
    expect(Math.max(...all.map(Math.abs))).toBeLessThanOrEqual(1 + 1e-6);
    const i = 4;
    const raw = (LORA_PCA.origins as number[][])[i][1];
    expect(n.centre[1] + (n.origins as Float32Array)[i * 3 + 1] / n.scale).toBeCloseTo(raw, 4);
  });
  it('hides non-finite points and survives degenerate clouds', () => {
    const n = normalisePoints([
      [1, 2, 3],
      [Number.NaN, 0, 0],
      [1, 2, 3],
    ]);
    expect(Array.from(n.visible)).toEqual([1, 0, 1]);
    expect(n.scale).toBe(1);
    expect(Array.from(n.positions)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(normalisePoints([]).n).toBe(0);
  });
});

describe('projectionCsv', () => {
  it('writes raw coordinates and labels, one row per point', () => {
    const lines = projectionCsv(RESID_POST_PCA).trim().split('\n');
    expect(lines[0]).toBe('x,y,z,token,group,answer,prompt,position');
    expect(lines).toHaveLength(21);
    const [x, y, z] = RESID_POST_PCA.points[0];
    expect(lines[1]).toBe(`${x},${y},${z},end,world_country,country_0,0,5`);
  });
  it('adds origin columns for fine-tuned runs and leaves missing fields empty', () => {
    const lines = projectionCsv(LORA_PCA).trim().split('\n');
    expect(lines[0]).toBe('x,y,z,token,group,answer,prompt,position,origin_x,origin_y,origin_z');
    expect(lines[1].split(',')).toHaveLength(11);
    expect(lines[1].endsWith((LORA_PCA.origins as number[][])[0].join(','))).toBe(true);
    expect(projectionCsv(EMBED_PCA).split('\n')[1]).toMatch(/^[-\d.e]+,[-\d.e]+,[-\d.e]+,rel_country,rel,,,$/);
  });
  it('quotes fields that need it', () => {
    expect(projectionCsv({ points: [[0, 0, 0]], labels: [{ token: 'a,"b"', group: 'g' }] }).split('\n')[1]).toBe('0,0,0,"a,""b""",g,,,');
  });
});

describe('camera projection and SVG', () => {
  it('projectToScreen agrees with three.js Vector3.project', () => {
    const { view, camera } = cameraView();
    for (const p of [
      [0, 0, 0],
      [0.7, -0.3, 0.5],
      [-1, 1, -1],
    ]) {
      const ndc = new Vector3(p[0], p[1], p[2]).project(camera);
      const s = projectToScreen(view, p[0], p[1], p[2]);
      expect(s.x).toBeCloseTo(((ndc.x + 1) / 2) * view.width, 6);
      expect(s.y).toBeCloseTo(((1 - ndc.y) / 2) * view.height, 6);
      expect(s.depth).toBeCloseTo(ndc.z, 6);
    }
    const c = projectToScreen(view, 0, 0, 0);
    expect(c.x).toBeCloseTo(200, 6);
    expect(c.y).toBeCloseTo(150, 6);
  });
  it('nearestOnScreen picks the point under the cursor, or none', () => {
    const { view } = cameraView();
    const n = normalisePoints(RESID_POST_PCA.points);
    const s = projectToScreen(view, n.positions[9], n.positions[10], n.positions[11]);
    expect(nearestOnScreen(view, n.positions, n.visible, s.x + 1, s.y - 1, 8)).toBe(3);
    expect(nearestOnScreen(view, n.positions, n.visible, -50, -50, 8)).toBe(-1);
  });
  it('pickDisc hits exactly the drawn disc of a sphere impostor, the front-most where two overlap', () => {
    const { view } = cameraView();
    // Two points on the line of sight through the same pixel: the nearer one wins.
    const eye = new Vector3(0.8, 0.6, 4);
    const far = new Vector3(0, 0, 0);
    const near = far.clone().lerp(eye, 0.5);
    const positions = new Float32Array([far.x, far.y, far.z, near.x, near.y, near.z, 0.9, -0.9, 0.9]);
    const visible = new Uint8Array([1, 1, 1]);
    const c = projectToScreen(view, 0, 0, 0);
    expect(pickDisc(view, positions, visible, 0.05, c.x, c.y)).toBe(1);
    expect(pickDisc(view, positions, new Uint8Array([1, 0, 1]), 0.05, c.x, c.y)).toBe(0);
    // The disc's edge, in screen pixels: just inside hits, just outside misses.
    const p = projectToScreen(view, 0.9, -0.9, 0.9);
    const r = screenRadius(view, 0.05, p.w);
    expect(r).toBeGreaterThan(2);
    expect(pickDisc(view, positions, visible, 0.05, p.x + r * 0.98, p.y)).toBe(2);
    expect(pickDisc(view, positions, visible, 0.05, p.x + r * 1.02, p.y)).toBe(-1);
  });
  it('the frame has 12 edges and 3 axes', () => {
    const f = frameLines();
    expect(f.edges).toHaveLength(12);
    expect(f.axes.map(([, b]) => b)).toEqual([
      [FRAME, -FRAME, -FRAME],
      [-FRAME, FRAME, -FRAME],
      [-FRAME, -FRAME, FRAME],
    ]);
  });
  it('draws points far to near, with PC axis labels and a legend', () => {
    const { view } = cameraView();
    const n = normalisePoints(RESID_POST_PCA.points);
    const colours = assignColours(RESID_POST_PCA.labels, 'group', PALETTE);
    const opts = { colours: colours.colours, radius: 0.05, axisLabels: axisLabels(RESID_POST_PCA), showArrows: true, pinned: 2, labels: RESID_POST_PCA.labels };
    const body = projectionSvgBody(n, view, opts, SCREEN_THEME);
    const circles = [...body.matchAll(/<circle cx="([-\d.]+)" cy="([-\d.]+)" r="([\d.]+)" fill="(#[0-9A-Fa-f]{6})"/g)];
    expect(circles).toHaveLength(20);
    // Far to near: perspective radii grow along the drawing order (nearer = larger, up to rounding).
    const radii = circles.map((m) => Number(m[3]));
    for (let i = 1; i < radii.length; i++) expect(radii[i]).toBeGreaterThanOrEqual(radii[i - 1] - 0.1);
    expect(body).toContain('PC1 (27.5%)');
    expect(body).toContain('PC3 (15.6%)');
    expect((body.match(/<line /g) ?? []).length).toBe(12 + 3);
    expect(body).toContain('#2 end → country_0');
    const doc = projectionSvg(n, view, opts, SCREEN_THEME, { title: 'Projection', legend: exportLegend(colours, 'group') });
    expect(doc.startsWith('<?xml')).toBe(true);
    expect(doc).toContain('width="400"');
    // Groups (the task's splits) by their human labels.
    expect(doc).toContain('world facts: country (5)');
  });
  it('draws arrows origin → point for fine-tuned runs, and none when turned off', () => {
    const { view } = cameraView();
    const n = normalisePoints(LORA_PCA.points, LORA_PCA.origins);
    const colours = assignColours(LORA_PCA.labels, 'group', PALETTE).colours;
    const on = projectionSvgBody(n, view, { colours, radius: 0.02, axisLabels: null, showArrows: true, pinned: null, labels: LORA_PCA.labels }, SCREEN_THEME);
    const heads = (on.match(/<polygon /g) ?? []).length;
    expect(heads).toBeGreaterThan(LORA_PCA.points.length / 2);
    expect(heads).toBeLessThanOrEqual(LORA_PCA.points.length);
    expect(on).not.toContain('PC1');
    const off = projectionSvgBody(n, view, { colours, radius: 0.02, axisLabels: null, showArrows: false, pinned: null, labels: LORA_PCA.labels }, SCREEN_THEME);
    expect(off).not.toContain('<polygon');
    // Each arrow is drawn before (under) its own point: its head's tip touches a circle drawn later.
    const head = /<polygon points="([-\d.]+),([-\d.]+) /.exec(on);
    expect(head).not.toBeNull();
    const rest = on.slice((head as RegExpExecArray).index);
    const tip = [Number((head as RegExpExecArray)[1]), Number((head as RegExpExecArray)[2])];
    const touching = [...rest.matchAll(/<circle cx="([-\d.]+)" cy="([-\d.]+)" r="([\d.]+)"/g)].some((m) => Math.abs(Math.hypot(Number(m[1]) - tip[0], Number(m[2]) - tip[1]) - Number(m[3])) < 0.3);
    expect(touching).toBe(true);
  });
  it('skips points behind the camera', () => {
    const { view } = cameraView(400, 300, [0, 0, 0.5]);
    const n = normalisePoints([
      [0, 0, 1],
      [0, 0, -1],
    ]);
    const body = projectionSvgBody(n, view, { colours: ['#000000', '#111111'], radius: 0.05, axisLabels: null, showArrows: false, pinned: null, labels: [] }, SCREEN_THEME);
    expect((body.match(/<circle /g) ?? []).length).toBe(1);
    expect(body).toContain('#111111');
  });
});

describe('export framing', () => {
  /** The view of an export camera (three.js, as the scene renders it). */
  function viewOf(cam: { position: number[]; target: number[]; up: number[] }, w: number, h: number) {
    const c = new PerspectiveCamera(35, w / h, 0.01, 100);
    c.position.set(cam.position[0], cam.position[1], cam.position[2]);
    c.up.set(cam.up[0], cam.up[1], cam.up[2]);
    c.lookAt(new Vector3(cam.target[0], cam.target[1], cam.target[2]));
    c.updateProjectionMatrix();
    c.updateMatrixWorld();
    const vp = new Matrix4().multiplyMatrices(c.projectionMatrix, c.matrixWorldInverse);
    return { viewProjection: Array.from(vp.elements), focalY: c.projectionMatrix.elements[5], width: w, height: h };
  }

  it('frames the whole scene (frame, axis labels, points, arrows) inside the inset, filling the view', () => {
    const n = normalisePoints(LORA_PCA.points, LORA_PCA.origins);
    const pts = sceneExtentPoints(n, true);
    expect(pts.length).toBe(8 + 3 + 2 * n.n);
    for (const dir of [
      [0.42, 0.32, 1],
      [1, 0.1, 0],
      [-0.3, 1, 0.2],
      [0, 0, -1],
    ] as [number, number, number][])
      for (const [w, h] of [
        [312, 250],
        [900, 520],
      ]) {
        const inset = 6;
        // The axis labels (after the 8 corners) need 30 px of room on each side, 7 above and below.
        const pads = scenePads([0, 1, 2].map(() => ({ x: 30, y: 7 })));
        const cam = fitExportCamera(pts, dir, [0, 1, 0], 35, w, h, inset, pads);
        const v = viewOf(cam, w, h);
        const xs: number[] = [];
        const ys: number[] = [];
        pts.forEach((p, i) => {
          const s = projectToScreen(v, p[0], p[1], p[2]);
          expect(s.w).toBeGreaterThan(0);
          const pad = pads[i] ?? { x: 0, y: 0 };
          xs.push(s.x - pad.x, s.x + pad.x);
          ys.push(s.y - pad.y, s.y + pad.y);
        });
        expect(Math.min(...xs)).toBeGreaterThanOrEqual(inset - 1);
        expect(Math.max(...xs)).toBeLessThanOrEqual(w - inset + 1);
        expect(Math.min(...ys)).toBeGreaterThanOrEqual(inset - 1);
        expect(Math.max(...ys)).toBeLessThanOrEqual(h - inset + 1);
        // It fills the view along one axis, and is centred.
        const fillX = (Math.max(...xs) - Math.min(...xs)) / (w - 2 * inset);
        const fillY = (Math.max(...ys) - Math.min(...ys)) / (h - 2 * inset);
        expect(Math.max(fillX, fillY)).toBeGreaterThan(0.97);
        expect((Math.max(...xs) + Math.min(...xs)) / 2).toBeCloseTo(w / 2, -0.5);
      }
  });

  it('sizes the exported view: the screen’s, or the column’s width at 4:5', () => {
    expect(exportViewport(SCREEN_THEME, { width: 800.4, height: 500 }, null)).toMatchObject({ width: 800, height: 500 });
    const print = exportViewport({ ...SCREEN_THEME, fontSize: 10.67, fitWidth: 312 }, { width: 800, height: 500 }, ['PC1 (27.5%)', 'PC2', 'PC3']);
    expect(print.width).toBe(312);
    expect(print.height).toBe(250);
    expect(print.labelPads).toHaveLength(3);
    expect(print.labelPads[0].x).toBeGreaterThan(20);
    expect(print.labelPads[1].x).toBeLessThan(print.labelPads[0].x);
  });

  it('draws the WebGL image in place of the vector scene, under the same labels', () => {
    const n = normalisePoints(LORA_PCA.points, LORA_PCA.origins);
    const v = viewOf(fitExportCamera(sceneExtentPoints(n, true), [0.42, 0.32, 1], [0, 1, 0], 35, 400, 300, 30), 400, 300);
    const colours = n.visible.length ? Array.from({ length: n.n }, () => '#0072B2') : [];
    const opts = { colours, radius: 0.04, axisLabels: ['PC1', 'PC2', 'PC3'] as const, showArrows: true, pinned: null, labels: LORA_PCA.labels };
    const vector = projectionSvgBody(n, v, { ...opts, axisLabels: [...opts.axisLabels] }, SCREEN_THEME);
    const raster = projectionSvgBody(n, v, { ...opts, axisLabels: [...opts.axisLabels], raster: 'data:image/png;base64,AAAA' }, SCREEN_THEME);
    expect(raster).toContain('<image href="data:image/png;base64,AAAA" x="0" y="0" width="400" height="300"');
    expect(raster).not.toContain('<circle');
    const labels = (s: string) => [...s.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[0]);
    expect(labels(raster)).toEqual(labels(vector));
    // Arrows: shafts thicker than a hairline, with heads.
    const shafts = [...vector.matchAll(/<line [^>]*stroke-opacity="0.8" stroke-width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(shafts.length).toBeGreaterThan(0);
    for (const w of shafts) expect(w).toBeGreaterThanOrEqual(1.5);
    expect(vector).toContain('<polygon ');
  });
});
