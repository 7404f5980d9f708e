import type { AnalysisRequest, AnalysisResult, ProjectionAnalysis } from '../../../../shared/api';
import type { PointLabel, Projection3D } from '../../../../shared/analysis';
import { hookName, type HookName } from '../../../../shared/hooks';
import type { ModelConfig } from '../../../../shared/modelConfig';
import { escapeXml, standaloneSvg, type LegendEntry } from '../../figure/exportFigure';
import { humanLabel } from '../../figure/labels';
import { textWidth } from '../../figure/text';
import { rgbOf, type FigureTheme } from '../../figure/theme';

/**
 * Pure parts of the 3D projection view: what the controls offer, how points are coloured and placed,
 * and the CSV / SVG exports. No three.js and no DOM here, so all of it is tested in node.
 *
 * Coordinates: the analysis gives raw projected coordinates [n][3] (and, for fine-tuned runs, origins
 * [n][3] from the same fit). The scene draws them normalised: centred on the joint bounding box and
 * scaled uniformly (aspect kept: PCA axes with less variance stay shorter) so the box's longest side
 * spans [−1, 1]. The frame (box and axes) sits at ±FRAME.
 */

export type Source = 'embed' | HookName;
export type Method = 'pca' | 'umap';
export type ColourField = 'group' | 'answer' | 'token';

export const COLOUR_FIELDS: readonly { value: ColourField; label: string }[] = [
  { value: 'group', label: 'group / split' },
  { value: 'answer', label: 'answer' },
  { value: 'token', label: 'token' },
];

/** More categories than this: colours are hashed into the palette and the legend lists the largest. */
export const MAX_CATEGORIES = 12;
/** Legend rows shown when colours are hashed. */
export const MAX_LEGEND = 10;
/** Category of a point whose label lacks the field (e.g. `answer` of an embedding row). */
export const MISSING = '(none)';
export const MISSING_COLOUR = '#b0b0b0';
/** Half the side of the drawn frame (data fill ±1). */
export const FRAME = 1.1;

// ─── Controls ───────────────────────────────────────────────────────────────────────────────────────

/**
 * Sources a model offers: its embedding matrix, then each block's residual stream before the block,
 * between attention and MLP (only with an MLP) and after it. Fine-tuned runs share their base model's
 * embeddings, so they project hooks only.
 */
export function sourceChoices(model: Pick<ModelConfig, 'nLayers' | 'mlp'>, opts: { embed?: boolean } = {}): Source[] {
  const out: Source[] = opts.embed === false ? [] : ['embed'];
  for (let l = 0; l < model.nLayers; l++) {
    out.push(hookName('hook_resid_pre', l));
    if (model.mlp) out.push(hookName('hook_resid_mid', l));
    out.push(hookName('hook_resid_post', l));
  }
  return out;
}

/** The default source: the residual stream after the last block (where answers are read out). */
export function defaultSource(choices: readonly Source[]): Source | null {
  for (let i = choices.length - 1; i >= 0; i--) if (choices[i].endsWith('hook_resid_post')) return choices[i];
  return choices[0] ?? null;
}

export interface ProjectionParams {
  /** Checkpoint step; null: the latest. */
  step: number | null;
  /** null: the run's default source. */
  source: Source | null;
  method: Method;
  promptsPerSet: number;
  neighbors: number;
  minDist: number;
}

export const DEFAULT_PARAMS: ProjectionParams = { step: null, source: null, method: 'pca', promptsPerSet: 40, neighbors: 15, minDist: 0.1 };

/** Bounds of the numeric inputs, as the API's schema checks them. */
export const LIMITS = {
  promptsPerSet: { min: 1, max: 500, step: 1 },
  neighbors: { min: 2, max: 200, step: 1 },
  minDist: { min: 0, max: 1, step: 0.05 },
} as const;

/** The problem with a numeric input, or null when it is acceptable. */
export function paramError(name: keyof typeof LIMITS, v: number): string | null {
  const { min, max } = LIMITS[name];
  if (!Number.isFinite(v)) return `${name}: enter a number`;
  if (name !== 'minDist' && !Number.isInteger(v)) return `${name}: enter a whole number`;
  if (v < min || v > max) return `${name}: must lie in ${min}…${max}`;
  return null;
}

export type ProjectionRequest = Extract<AnalysisRequest, { kind: 'projection' }>;

/**
 * The request for a run from the committed parameters, adjusted to what the run has: a source it
 * lacks falls back to its default, a step it lacks to the latest; fine-tuned runs have no steps.
 * UMAP parameters are sent only with UMAP, prompts per split only for hook sources.
 */
export function buildRequest(id: string, p: ProjectionParams, run: { choices: readonly Source[]; checkpoints: readonly number[]; finetune: boolean }): ProjectionRequest | null {
  const source = p.source !== null && run.choices.includes(p.source) ? p.source : defaultSource(run.choices);
  if (source === null) return null;
  const req: ProjectionRequest = { kind: 'projection', id, source, method: p.method };
  if (!run.finetune && p.step !== null && run.checkpoints.includes(p.step)) req.step = p.step;
  if (source !== 'embed') req.promptsPerSet = p.promptsPerSet;
  if (p.method === 'umap') {
    req.neighbors = p.neighbors;
    req.minDist = p.minDist;
  }
  return req;
}

/** Checks an analysis answer before drawing it; throws with what is wrong. */
export function checkProjection(r: AnalysisResult): ProjectionAnalysis {
  if (r.kind !== 'projection') throw new Error(`expected a projection, the backend answered '${r.kind}'`);
  const n = r.points?.length ?? 0;
  if (!Array.isArray(r.points) || !Array.isArray(r.labels)) throw new Error('projection: points or labels missing');
  if (r.labels.length !== n) throw new Error(`projection: ${n} points but ${r.labels.length} labels`);
  if (r.origins && r.origins.length !== n) throw new Error(`projection: ${n} points but ${r.origins.length} origins`);
  for (let i = 0; i < n; i++) if (!Array.isArray(r.points[i]) || r.points[i].length !== 3) throw new Error(`projection: point ${i} is not [x, y, z]`);
  return r;
}

// ─── Text ───────────────────────────────────────────────────────────────────────────────────────────

export function pct(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

/** "PC1 27.5% · PC2 24.6% · PC3 15.6% (Σ 67.7%)". */
export function varianceSummary(vr: readonly number[] | undefined): string | null {
  if (!vr || !vr.length) return null;
  const sum = vr.reduce((s, v) => s + v, 0);
  return `${vr.map((v, i) => `PC${i + 1} ${pct(v)}`).join(' · ')} (Σ ${pct(sum)})`;
}

/** Axis names: PC1 (27.5%)… for PCA; none for UMAP (its axes carry no meaning). */
export function axisLabels(p: Pick<Projection3D, 'method' | 'varianceRatio'>): [string, string, string] | null {
  if (p.method !== 'pca') return null;
  const vr = p.varianceRatio;
  return [0, 1, 2].map((i) => (vr && Number.isFinite(vr[i]) ? `PC${i + 1} (${pct(vr[i])})` : `PC${i + 1}`)) as [string, string, string];
}

/** Tooltip rows of a point: name → value, only the fields it has. */
export function tooltipRows(l: PointLabel): [string, string][] {
  const rows: [string, string][] = [
    ['token', l.token],
    ['group', l.group],
  ];
  if (l.answer !== undefined) rows.push(['answer', l.answer]);
  if (l.prompt !== undefined) rows.push(['prompt', String(l.prompt)]);
  if (l.position !== undefined) rows.push(['position', String(l.position)]);
  if (l.text !== undefined) rows.push(['text', l.text]);
  return rows;
}

/** A category as legends show it: groups (a task's splits) by their human label, tokens as they are. */
export function categoryLabel(category: string, field: ColourField): string {
  return field === 'group' && category !== MISSING ? humanLabel(category) : category;
}

/**
 * The exported view's size: the on-screen view's for the screen preset; for a print preset the
 * column's width (theme.fitWidth) and 4:5 of it in height. `inset` is the margin every mark keeps
 * from the edges, `labelPads` the room each axis label (centred on its anchor) needs around it.
 */
export function exportViewport(theme: FigureTheme, screen: { width: number; height: number }, axisLabels: readonly string[] | null): { width: number; height: number; inset: number; labelPads: { x: number; y: number }[] } {
  const inset = Math.ceil(theme.fontSize * 0.5);
  const labelPads = (axisLabels ?? []).map((l) => ({ x: textWidth(l, theme.fontSize) / 2 + 2, y: theme.fontSize * 0.6 }));
  if (!theme.fitWidth) return { width: Math.round(screen.width), height: Math.round(screen.height), inset, labelPads };
  const width = Math.round(theme.fitWidth);
  return { width, height: Math.round(width * 0.8), inset, labelPads };
}

/** Per point of sceneExtentPoints(…, true): the axis labels' pads at their anchors (after the 8 corners), none elsewhere. */
export function scenePads(labelPads: readonly { x: number; y: number }[]): { x: number; y: number }[] {
  return [...Array.from({ length: 8 }, () => ({ x: 0, y: 0 })), ...labelPads];
}

/** Short label drawn next to a pinned point. */
export function pinText(l: PointLabel): string {
  const head = l.prompt !== undefined ? `#${l.prompt} ${l.token}` : l.token;
  return l.answer !== undefined ? `${head} → ${l.answer}` : `${head} (${l.group})`;
}

// ─── Colours ────────────────────────────────────────────────────────────────────────────────────────

export function fieldValue(l: PointLabel, field: ColourField): string {
  const v = l[field];
  return v === undefined || v === '' ? MISSING : v;
}

/** '#rrggbb' moved toward `to` by t ∈ [0, 1]. */
export function mixColour(colour: string, to: string, t: number): string {
  const a = rgbOf(colour);
  const b = rgbOf(to);
  return `#${a.map((c, i) => Math.round(c + (b[i] - c) * t).toString(16).padStart(2, '0')).join('')}`;
}

/** The palette, then its colours lightened, so up to 2 × palette.length categories stay distinct. */
export function extendedPalette(palette: readonly string[]): string[] {
  return [...palette, ...palette.map((c) => mixColour(c, '#ffffff', 0.5))];
}

/** FNV-1a, 32 bit: a stable hash so a category keeps its colour across runs and reloads. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export const naturalCompare = (a: string, b: string): number => (a === MISSING ? 1 : b === MISSING ? -1 : a.localeCompare(b, 'en', { numeric: true }));

export interface LegendItem extends LegendEntry {
  count: number;
}

export interface ColourAssignment {
  /** Per point: '#rrggbb'. */
  colours: string[];
  /** Per point: its category (the field's value, or MISSING). */
  categories: string[];
  /** What the legend lists: every category (natural order), or the largest MAX_LEGEND when hashed. */
  legend: LegendItem[];
  /** Number of distinct categories. */
  total: number;
  /** More than MAX_CATEGORIES: colours are hashed into the palette and may repeat. */
  hashed: boolean;
}

/**
 * Colours points by a label field. Up to MAX_CATEGORIES categories each get their own colour, in
 * natural order (country_2 before country_10). Beyond that, each category's colour is a hash of its
 * name into the palette (stable, but shared by several categories) and the legend lists the largest.
 * Points without the field are grey.
 */
export function assignColours(labels: readonly PointLabel[], field: ColourField, palette: readonly string[]): ColourAssignment {
  const categories = labels.map((l) => fieldValue(l, field));
  const counts = new Map<string, number>();
  for (const c of categories) counts.set(c, (counts.get(c) ?? 0) + 1);
  const names = [...counts.keys()].sort(naturalCompare);
  const pal = extendedPalette(palette.length ? palette : ['#0072B2']);
  const hashed = names.length > MAX_CATEGORIES;
  const colourOf = new Map<string, string>();
  let k = 0;
  for (const name of names) {
    if (name === MISSING) colourOf.set(name, MISSING_COLOUR);
    else colourOf.set(name, hashed ? pal[hashString(name) % pal.length] : pal[k++ % pal.length]);
  }
  let shown = names;
  if (hashed) shown = [...names].sort((a, b) => (counts.get(b) as number) - (counts.get(a) as number) || naturalCompare(a, b)).slice(0, MAX_LEGEND);
  return {
    colours: categories.map((c) => colourOf.get(c) as string),
    categories,
    legend: shown.map((name) => ({ label: name, colour: colourOf.get(name) as string, count: counts.get(name) as number })),
    total: names.length,
    hashed,
  };
}

/** Colours with every category but `focus` faded toward the background (focus null: unchanged). */
export function focusColours(a: ColourAssignment, focus: string | null, background: string): string[] {
  if (focus === null || !a.categories.includes(focus)) return a.colours;
  const faded = new Map<string, string>();
  return a.colours.map((c, i) => {
    if (a.categories[i] === focus) return c;
    let f = faded.get(c);
    if (f === undefined) faded.set(c, (f = mixColour(c, background, 0.85)));
    return f;
  });
}

/** Legend entries for exported figures: the legend, plus a line saying how many are left out. */
export function exportLegend(a: ColourAssignment, field: ColourField): LegendEntry[] {
  const out: LegendEntry[] = a.legend.map((e) => ({ label: `${categoryLabel(e.label, field)} (${e.count})`, colour: e.colour }));
  if (a.hashed) out.push({ label: `+${a.total - a.legend.length} more ${field}s (colours hashed, shared)`, colour: 'none' });
  return out;
}

// ─── Placement ──────────────────────────────────────────────────────────────────────────────────────

export interface Normalised {
  n: number;
  /** [n × 3] in the unit frame; non-finite points are at 0 and marked in `visible`. */
  positions: Float32Array;
  /** [n × 3] origins in the same frame, or null. */
  origins: Float32Array | null;
  /** 1 where the point (and its origin, if any) has finite coordinates. */
  visible: Uint8Array;
  /** Raw coordinates of the frame's centre, and raw units per frame unit: raw = centre + pos / scale. */
  centre: [number, number, number];
  scale: number;
}

/**
 * Centres points (and origins, jointly) on their bounding box and scales uniformly so the longest
 * side spans [−1, 1]. A degenerate cloud (one point, or all equal) is centred with scale 1.
 */
export function normalisePoints(points: readonly (readonly number[])[], origins?: readonly (readonly number[])[] | null): Normalised {
  const n = points.length;
  const o = origins && origins.length === n ? origins : null;
  const visible = new Uint8Array(n);
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  const finite3 = (p: readonly number[] | undefined): boolean => !!p && p.length >= 3 && Number.isFinite(p[0]) && Number.isFinite(p[1]) && Number.isFinite(p[2]);
  const grow = (p: readonly number[]): void => {
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a], p[a]);
      hi[a] = Math.max(hi[a], p[a]);
    }
  };
  for (let i = 0; i < n; i++) {
    if (!finite3(points[i]) || (o && !finite3(o[i]))) continue;
    visible[i] = 1;
    grow(points[i]);
    if (o) grow(o[i]);
  }
  const any = lo[0] <= hi[0];
  const centre: [number, number, number] = any ? [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2] : [0, 0, 0];
  const extent = any ? Math.max(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]) : 0;
  const scale = extent > 0 ? 2 / extent : 1;
  const put = (dst: Float32Array, src: readonly (readonly number[])[]): void => {
    for (let i = 0; i < n; i++) if (visible[i]) for (let a = 0; a < 3; a++) dst[i * 3 + a] = (src[i][a] - centre[a]) * scale;
  };
  const positions = new Float32Array(n * 3);
  put(positions, points);
  let originsOut: Float32Array | null = null;
  if (o) put((originsOut = new Float32Array(n * 3)), o);
  return { n, positions, origins: originsOut, visible, centre, scale };
}

/** Sphere radius (frame units) at size 1: smaller for larger clouds so they do not merge. */
export function baseRadius(n: number): number {
  return Math.min(0.05, Math.max(0.01, 0.2 / Math.cbrt(Math.max(1, n))));
}

// ─── CSV ────────────────────────────────────────────────────────────────────────────────────────────

/** The projection analysis's CSV table (src/shared/analyses/projection.ts), as `oocr analyze projection --format csv` writes it. */
export { projectionCsv } from '../../../../shared/analyses/projection';

// ─── SVG of the current camera view ─────────────────────────────────────────────────────────────────

/** The camera as the SVG export needs it (three.js: projectionMatrix × matrixWorldInverse). */
export interface CameraView {
  /** Column-major 4×4 (three.js Matrix4.elements) taking frame coordinates to clip space. */
  viewProjection: ArrayLike<number>;
  /** projectionMatrix.elements[5] = 1 / tan(fov / 2): turns a world radius into a screen one. */
  focalY: number;
  /** Size of the view in CSS pixels. */
  width: number;
  height: number;
}

export interface ScreenPoint {
  x: number;
  y: number;
  /** NDC depth: −1 near … 1 far. */
  depth: number;
  /** Clip w (distance along the view axis); ≤ 0 is behind the camera. */
  w: number;
}

/** Projects a frame point to pixels (origin top-left, y down). */
export function projectToScreen(v: CameraView, x: number, y: number, z: number): ScreenPoint {
  const e = v.viewProjection;
  const cx = e[0] * x + e[4] * y + e[8] * z + e[12];
  const cy = e[1] * x + e[5] * y + e[9] * z + e[13];
  const cz = e[2] * x + e[6] * y + e[10] * z + e[14];
  const w = e[3] * x + e[7] * y + e[11] * z + e[15];
  return { x: ((cx / w + 1) / 2) * v.width, y: ((1 - cy / w) / 2) * v.height, depth: cz / w, w };
}

/** Screen radius (px) of a sphere of radius r at clip distance w. */
export function screenRadius(v: CameraView, r: number, w: number): number {
  return (r * v.focalY * v.height) / (2 * w);
}

/** The 12 edges of the frame cube, and the three axes (from its −,−,− corner along +x, +y, +z). */
export function frameLines(): { edges: [number[], number[]][]; axes: [number[], number[]][] } {
  const F = FRAME;
  const corners: number[][] = [];
  for (const x of [-F, F]) for (const y of [-F, F]) for (const z of [-F, F]) corners.push([x, y, z]);
  const edges: [number[], number[]][] = [];
  for (let i = 0; i < 8; i++)
    for (let j = i + 1; j < 8; j++) {
      const diff = corners[i].filter((c, a) => c !== corners[j][a]).length;
      if (diff === 1) edges.push([corners[i], corners[j]]);
    }
  const o = [-F, -F, -F];
  const axes: [number[], number[]][] = [
    [o, [F, -F, -F]],
    [o, [-F, F, -F]],
    [o, [-F, -F, F]],
  ];
  return { edges, axes };
}

/** Where an axis label goes: a little past the axis's end. */
export function axisLabelAnchor(axis: 0 | 1 | 2): [number, number, number] {
  const p: [number, number, number] = [-FRAME, -FRAME, -FRAME];
  p[axis] = FRAME * 1.12;
  return p;
}

/** Nearest visible point to (x, y) within `maxPx` pixels on screen, nearer the camera on ties; or -1. */
/**
 * The point whose drawn disc contains (x, y), the front-most where discs overlap, or -1. Points are
 * drawn as sphere impostors of exactly this screen radius, so this is the exact hit test.
 */
export function pickDisc(v: CameraView, positions: Float32Array, visible: Uint8Array, radius: number, x: number, y: number): number {
  let best = -1;
  let bestDepth = Infinity;
  for (let i = 0; i < visible.length; i++) {
    if (!visible[i]) continue;
    const s = projectToScreen(v, positions[i * 3], positions[i * 3 + 1], positions[i * 3 + 2]);
    if (s.w <= 0 || s.depth >= bestDepth) continue;
    const r = screenRadius(v, radius, s.w);
    if ((s.x - x) ** 2 + (s.y - y) ** 2 <= r * r) {
      best = i;
      bestDepth = s.depth;
    }
  }
  return best;
}

export function nearestOnScreen(v: CameraView, positions: Float32Array, visible: Uint8Array, x: number, y: number, maxPx: number): number {
  let best = -1;
  let bestD = maxPx * maxPx;
  let bestDepth = Infinity;
  for (let i = 0; i < visible.length; i++) {
    if (!visible[i]) continue;
    const s = projectToScreen(v, positions[i * 3], positions[i * 3 + 1], positions[i * 3 + 2]);
    if (s.w <= 0) continue;
    const d = (s.x - x) ** 2 + (s.y - y) ** 2;
    if (d < bestD - 1e-9 || (Math.abs(d - bestD) <= 1e-9 && s.depth < bestDepth)) {
      best = i;
      bestD = d;
      bestDepth = s.depth;
    }
  }
  return best;
}

// ─── Export framing ─────────────────────────────────────────────────────────────────────────────────

type Vec3 = [number, number, number];
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm3 = (a: Vec3): Vec3 => {
  const l = Math.hypot(a[0], a[1], a[2]) || 1;
  return [a[0] / l, a[1] / l, a[2] / l];
};
const addScaled = (a: Vec3, b: Vec3, k: number): Vec3 => [a[0] + b[0] * k, a[1] + b[1] * k, a[2] + b[2] * k];

/**
 * What the export frames: the frame's corners, the axis-label anchors (when shown), every visible
 * point and origin. With `labelPads` (px, per axis label), also the room each point needs around it:
 * half the label's size at its anchor, nothing elsewhere.
 */
export function sceneExtentPoints(data: Normalised | null, withAxes: boolean): Vec3[] {
  const F = FRAME;
  const pts: Vec3[] = [];
  for (const x of [-F, F]) for (const y of [-F, F]) for (const z of [-F, F]) pts.push([x, y, z]);
  if (withAxes) for (const a of [0, 1, 2] as const) pts.push(axisLabelAnchor(a));
  if (data)
    for (let i = 0; i < data.n; i++) {
      if (!data.visible[i]) continue;
      pts.push([data.positions[i * 3], data.positions[i * 3 + 1], data.positions[i * 3 + 2]]);
      if (data.origins) pts.push([data.origins[i * 3], data.origins[i * 3 + 1], data.origins[i * 3 + 2]]);
    }
  return pts;
}

export interface ExportCamera {
  position: Vec3;
  target: Vec3;
  up: Vec3;
}

/**
 * A camera looking along `direction` (from the target toward the eye, as the on-screen view does)
 * that frames every point of `pts` in a width × height view (vertical field of view `fovDeg`),
 * `insetPx` from each edge, point i with `pads[i]` more room around it (px: half a label's width and
 * height, for the points that carry text): first from the points' bounding sphere, then refined on
 * their projected bounds so the scene fills the view and is centred in it.
 */
export function fitExportCamera(pts: readonly Vec3[], direction: Vec3, up: Vec3, fovDeg: number, width: number, height: number, insetPx: number, pads: readonly { x: number; y: number }[] = []): ExportCamera {
  const dir = norm3(direction);
  const lo: Vec3 = [Infinity, Infinity, Infinity];
  const hi: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (const p of pts)
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a], p[a]);
      hi[a] = Math.max(hi[a], p[a]);
    }
  let target: Vec3 = [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2];
  const radius = Math.max(1e-6, ...pts.map((p) => Math.hypot(...sub(p, target))));
  const aspect = width / height;
  const tanV = Math.tan((fovDeg * Math.PI) / 360);
  const tanH = tanV * aspect;
  const availX = Math.max(0.2, 1 - (2 * insetPx) / width);
  const availY = Math.max(0.2, 1 - (2 * insetPx) / height);
  let dist = radius / Math.sin(Math.atan(Math.min(tanV * availY, tanH * availX)));
  // Screen axes of a camera looking along −dir.
  const upRef = Math.abs(dot(norm3(up), dir)) > 0.999 ? ([0, 0, 1] as Vec3) : norm3(up);
  const right = norm3(cross(upRef, dir));
  const upS = cross(dir, right);
  for (let iter = 0; iter < 6; iter++) {
    const eye = addScaled(target, dir, dist);
    let x0 = Infinity;
    let x1 = -Infinity;
    let y0 = Infinity;
    let y1 = -Infinity;
    pts.forEach((p, i) => {
      const d = sub(p, eye);
      const z = -dot(d, dir);
      if (z <= 1e-6) return;
      const nx = dot(d, right) / z / tanH;
      const ny = dot(d, upS) / z / tanV;
      const px = ((pads[i]?.x ?? 0) * 2) / width;
      const py = ((pads[i]?.y ?? 0) * 2) / height;
      x0 = Math.min(x0, nx - px);
      x1 = Math.max(x1, nx + px);
      y0 = Math.min(y0, ny - py);
      y1 = Math.max(y1, ny + py);
    });
    if (!(x1 > x0) || !(y1 > y0)) break;
    // Centre the projected bounds, then scale the distance so they fill the available part.
    target = addScaled(addScaled(target, right, ((x0 + x1) / 2) * tanH * dist), upS, ((y0 + y1) / 2) * tanV * dist);
    const fill = Math.max((x1 - x0) / (2 * availX), (y1 - y0) / (2 * availY));
    dist *= fill;
  }
  return { position: addScaled(target, dir, dist), target, up: upS };
}

const f1 = (v: number): string => (Math.round(v * 10) / 10).toString();

export interface SvgSceneOptions {
  colours: readonly string[];
  /** Sphere radius in frame units. */
  radius: number;
  axisLabels: readonly string[] | null;
  showArrows: boolean;
  /** Index of the pinned point (ringed and labelled), or null. */
  pinned: number | null;
  labels: readonly PointLabel[];
  /**
   * The scene rendered by WebGL from the same camera (a PNG data URL): drawn in place of the vector
   * frame, points and arrows, under the same text (axis labels, pin label). The PNG export's body.
   */
  raster?: string;
}

/**
 * The scene as SVG from the current camera: frame edges, axes, then points (circles, sized by
 * perspective) and arrows origin → point, all drawn far to near so nearer marks cover farther ones.
 */
export function projectionSvgBody(data: Normalised, v: CameraView, o: SvgSceneOptions, theme: FigureTheme): string {
  const parts: string[] = [`<defs><clipPath id="projection-clip"><rect width="${f1(v.width)}" height="${f1(v.height)}"/></clipPath></defs>`, `<g clip-path="url(#projection-clip)">`];
  if (o.raster) {
    parts.push(`<image href="${o.raster}" x="0" y="0" width="${f1(v.width)}" height="${f1(v.height)}" preserveAspectRatio="none"/>`);
    parts.push(sceneText(data, v, o, theme, false));
    parts.push('</g>');
    return parts.join('');
  }
  const line = (a: readonly number[], b: readonly number[], stroke: string, width: number): string | null => {
    const p = projectToScreen(v, a[0], a[1], a[2]);
    const q = projectToScreen(v, b[0], b[1], b[2]);
    if (p.w <= 0 || q.w <= 0) return null;
    return `<line x1="${f1(p.x)}" y1="${f1(p.y)}" x2="${f1(q.x)}" y2="${f1(q.y)}" stroke="${stroke}" stroke-width="${width}"/>`;
  };
  const { edges, axes } = frameLines();
  for (const [a, b] of edges) parts.push(line(a, b, theme.grid, 1) ?? '');
  if (o.axisLabels) for (const [a, b] of axes) parts.push(line(a, b, theme.muted, theme.strokeWidth) ?? '');

  type Item = { depth: number; svg: string };
  const items: Item[] = [];
  const P = data.positions;
  for (let i = 0; i < data.n; i++) {
    if (!data.visible[i]) continue;
    const s = projectToScreen(v, P[i * 3], P[i * 3 + 1], P[i * 3 + 2]);
    if (s.w <= 0) continue;
    const r = Math.max(0.5, screenRadius(v, o.radius, s.w));
    const colour = o.colours[i];
    items.push({ depth: s.depth, svg: `<circle cx="${f1(s.x)}" cy="${f1(s.y)}" r="${f1(r)}" fill="${colour}" stroke="${theme.background}" stroke-width="0.5"/>` });
    if (o.showArrows && data.origins) {
      const O = data.origins;
      const t = projectToScreen(v, O[i * 3], O[i * 3 + 1], O[i * 3 + 2]);
      if (t.w <= 0) continue;
      const dx = s.x - t.x;
      const dy = s.y - t.y;
      const len = Math.hypot(dx, dy);
      if (len <= r + 1) continue;
      const ux = dx / len;
      const uy = dy / len;
      // Shafts about a third of the point's diameter (at least a hairline and a half), heads wider.
      const shaft = Math.max(1.5, Math.min(4, r * 0.6));
      const head = Math.min(len - r, Math.max(shaft * 3, 1.4 * r));
      const tipX = s.x - ux * r;
      const tipY = s.y - uy * r;
      const bx = tipX - ux * head;
      const by = tipY - uy * head;
      const hw = Math.max(head * 0.4, shaft * 1.5);
      const arrow =
        `<line x1="${f1(t.x)}" y1="${f1(t.y)}" x2="${f1(bx)}" y2="${f1(by)}" stroke="${colour}" stroke-opacity="0.8" stroke-width="${f1(shaft)}" stroke-linecap="round"/>` +
        `<polygon points="${f1(tipX)},${f1(tipY)} ${f1(bx - uy * hw)},${f1(by + ux * hw)} ${f1(bx + uy * hw)},${f1(by - ux * hw)}" fill="${colour}"/>`;
      // At its midpoint's depth, but never in front of its own point.
      items.push({ depth: Math.max((s.depth + t.depth) / 2, s.depth + 1e-9), svg: arrow });
    }
  }
  items.sort((a, b) => b.depth - a.depth);
  for (const it of items) parts.push(it.svg);

  parts.push(sceneText(data, v, o, theme, true));
  parts.push('</g>');
  return parts.join('');
}

/** The scene's text over the points: axis labels, and the pinned point's label (and its ring, for the vector scene). */
function sceneText(data: Normalised, v: CameraView, o: SvgSceneOptions, theme: FigureTheme, ring: boolean): string {
  const parts: string[] = [];
  const P = data.positions;
  if (o.axisLabels)
    o.axisLabels.forEach((text, a) => {
      const [x, y, z] = axisLabelAnchor(a as 0 | 1 | 2);
      const s = projectToScreen(v, x, y, z);
      if (s.w > 0) parts.push(`<text x="${f1(s.x)}" y="${f1(s.y)}" text-anchor="middle" dominant-baseline="middle" fill="${theme.muted}">${escapeXml(text)}</text>`);
    });
  if (o.pinned !== null && o.pinned < data.n && data.visible[o.pinned]) {
    const i = o.pinned;
    const s = projectToScreen(v, P[i * 3], P[i * 3 + 1], P[i * 3 + 2]);
    if (s.w > 0) {
      const r = Math.max(0.5, screenRadius(v, o.radius, s.w));
      if (ring) parts.push(`<circle cx="${f1(s.x)}" cy="${f1(s.y)}" r="${f1(r + 3)}" fill="none" stroke="${theme.foreground}" stroke-width="1.5"/>`);
      const label = o.labels[i] ? pinText(o.labels[i]) : '';
      // Right of the point, or left of it when the label would run past the view's right edge.
      const w = textWidth(label, theme.fontSize, 600);
      const right = s.x + r + 6 + w <= v.width - 2;
      parts.push(`<text x="${f1(right ? s.x + r + 6 : s.x - r - 6)}" y="${f1(s.y - r - 4)}" fill="${theme.foreground}" font-weight="600"${right ? '' : ' text-anchor="end"'}>${escapeXml(label)}</text>`);
    }
  }
  return parts.join('');
}

/** A standalone SVG document of the current view, with title and legend. */
export function projectionSvg(data: Normalised, v: CameraView, o: SvgSceneOptions, theme: FigureTheme, meta: { title: string; legend: readonly LegendEntry[] }): string {
  return standaloneSvg(projectionSvgBody(data, v, o, theme), v.width, v.height, theme, meta);
}
