import {
  AmbientLight,
  BackSide,
  BufferAttribute,
  BufferGeometry,
  Color,
  ConeGeometry,
  CylinderGeometry,
  DirectionalLight,
  DynamicDrawUsage,
  InstancedBufferAttribute,
  InstancedMesh,
  LineBasicMaterial,
  LineSegments,
  Matrix4,
  Mesh,
  MeshBasicMaterial,
  MeshLambertMaterial,
  PerspectiveCamera,
  Quaternion,
  Scene,
  SphereGeometry,
  Vector3,
  WebGLRenderer,
} from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import type { PointLabel } from '../../../../../shared/analysis';
import type { FigureTheme } from '../../../figure/theme';
import { createPointImpostors } from './pointImpostors';
import { axisLabelAnchor, fitExportCamera, frameLines, mixColour, nearestOnScreen, pickDisc, pinText, projectToScreen, sceneExtentPoints, scenePads, screenRadius, tooltipRows, type CameraView, type Normalised } from '../projectionData';

/**
 * The 3D scatter in plain three.js, outside React: one WebGLRenderer (no MSAA: it cost a third of the
 * frame under software rendering, and exports render at 2–4× resolution instead), the points as sphere
 * impostors (pointImpostors.ts: one GL point each, preallocated, grown by doubling), arrows as InstancedMeshes of cylinders
 * (shafts with a real thickness: WebGL lines are one pixel wide whatever the resolution) and cones,
 * and a frame. Setters only record what changed; the next animation frame
 * writes it into the instance buffers and renders. Nothing renders without a reason (orbit, hover,
 * a prop change, a resize). The tooltip, pin label and axis labels are DOM nodes moved directly.
 */

export interface ScatterScene {
  setData(data: Normalised, labels: readonly PointLabel[]): void;
  setColours(colours: readonly string[]): void;
  setRadius(radius: number): void;
  setShowArrows(on: boolean): void;
  setAxisLabels(labels: readonly string[] | null): void;
  setPinned(index: number | null): void;
  setTheme(theme: FigureTheme): void;
  /** Called on a click (not a drag) with the point under the pointer, or null on empty space. */
  setOnPin(fn: (index: number | null) => void): void;
  resetView(): void;
  /** Turns the view about the vertical axis by `radians` and draws it now (turntables, the frame-rate benchmark). */
  orbitStep(radians: number): void;
  cameraView(): CameraView;
  /** Size of the view on screen (CSS px). */
  size(): { width: number; height: number };
  /**
   * The export's camera: the current view direction, moved so the whole scene (frame, axis labels
   * with `labelPads` of room, every point and arrow) fills a width × height view, `insetPx` from its edges.
   */
  exportView(width: number, height: number, insetPx: number, labelPads: readonly { x: number; y: number }[]): CameraView;
  /** The scene drawn from the export camera at `pixelRatio` pixels per unit (no hover halo), as a PNG data URL, with that camera's view. */
  renderExport(width: number, height: number, insetPx: number, labelPads: readonly { x: number; y: number }[], pixelRatio: number): { view: CameraView; image: string };
  dispose(): void;
}

// Scratch objects (module scope: no allocation per frame or per point).
const M = new Matrix4();
const Q = new Quaternion();
const V = new Vector3();
const S = new Vector3();
const DIR = new Vector3();
const T = new Vector3();
const K = new Vector3();
const UP = new Vector3(0, 1, 0);
const C = new Color();

const FOV = 35;
/** Radius of the sphere the default view fits (the data fill ±1; the frame ±1.1). */
const FIT_RADIUS = 1.7;
const DEFAULT_DIRECTION = new Vector3(0.42, 0.32, 1).normalize();
const PICK_PX = 6;
const CLICK_PX = 5;

function capacityFor(n: number): number {
  let c = 1024;
  while (c < n) c *= 2;
  return c;
}

export function createScatterScene(host: HTMLElement, initialTheme: FigureTheme): ScatterScene {
  let theme = initialTheme;
  const renderer = new WebGLRenderer({ antialias: false, preserveDrawingBuffer: true });
  const canvas = renderer.domElement;
  canvas.className = 'projection__gl';
  host.appendChild(canvas);
  const screenRatio = (): number => Math.min(window.devicePixelRatio || 1, 2);
  renderer.setPixelRatio(screenRatio());

  const el = (cls: string): HTMLDivElement => {
    const d = document.createElement('div');
    d.className = cls;
    d.style.display = 'none';
    host.appendChild(d);
    return d;
  };
  const tooltip = el('tooltip projection__tooltip');
  tooltip.dataset.testid = 'projection-tooltip';
  const pinTip = el('projection__pin');
  const axisDivs = [0, 1, 2].map(() => el('projection__axis-label'));

  const scene = new Scene();
  const camera = new PerspectiveCamera(FOV, 1, 0.01, 100);
  scene.add(camera);
  const ambient = new AmbientLight(0xffffff, 1.6);
  const sun = new DirectionalLight(0xffffff, 1.3);
  sun.position.set(0.5, 1, 1);
  camera.add(sun);
  scene.add(ambient);
  const controls = new OrbitControls(camera, canvas);
  controls.zoomToCursor = true;
  controls.minDistance = 0.3;
  controls.maxDistance = 40;

  // Shared geometries and materials, disposed once at the end.
  const haloGeo = new SphereGeometry(1, 16, 12);
  const coneGeo = new ConeGeometry(1, 1, 12);
  const shaftGeo = new CylinderGeometry(1, 1, 1, 8, 1, true);
  const coneMat = new MeshLambertMaterial({ color: 0xffffff });
  const shaftMat = new MeshLambertMaterial({ color: 0xffffff });
  const hoverMat = new MeshBasicMaterial({ side: BackSide });
  const pinMat = new MeshBasicMaterial({ side: BackSide });
  const edgeMat = new LineBasicMaterial();
  const axisMat = new LineBasicMaterial();

  const frame = frameLines();
  const linesGeo = (pairs: [number[], number[]][]): BufferGeometry => {
    const g = new BufferGeometry();
    g.setAttribute('position', new BufferAttribute(new Float32Array(pairs.flatMap(([a, b]) => [...a, ...b])), 3));
    return g;
  };
  const edgeGeo = linesGeo(frame.edges);
  const axisGeo = linesGeo(frame.axes);
  const edges = new LineSegments(edgeGeo, edgeMat);
  const axes = new LineSegments(axisGeo, axisMat);
  scene.add(edges, axes);

  const hoverHalo = new Mesh(haloGeo, hoverMat);
  const pinHalo = new Mesh(haloGeo, pinMat);
  hoverHalo.visible = pinHalo.visible = false;
  scene.add(hoverHalo, pinHalo);

  const points = createPointImpostors();
  scene.add(points.object);
  // Preallocated arrow instance buffers; replaced only when the data outgrow them.
  let capacity = 0;
  let cones!: InstancedMesh;
  let shafts!: InstancedMesh;
  const allocate = (n: number): void => {
    if (capacity >= n && capacity) return;
    if (capacity) {
      scene.remove(cones, shafts);
      cones.dispose();
      shafts.dispose();
    }
    capacity = capacityFor(n);
    cones = new InstancedMesh(coneGeo, coneMat, capacity);
    shafts = new InstancedMesh(shaftGeo, shaftMat, capacity);
    for (const m of [cones, shafts]) {
      m.instanceMatrix.setUsage(DynamicDrawUsage);
      m.instanceColor = new InstancedBufferAttribute(new Float32Array(capacity * 3), 3).setUsage(DynamicDrawUsage);
      m.frustumCulled = false;
      m.count = 0;
    }
    scene.add(cones, shafts);
  };
  allocate(0);

  // What the next frame draws.
  let data: Normalised | null = null;
  let labels: readonly PointLabel[] = [];
  let colours: readonly string[] = [];
  let radius = 0.04;
  let showArrows = true;
  let axisText: readonly string[] | null = null;
  let pinned: number | null = null;
  let hovered = -1;
  let onPin: (i: number | null) => void = () => {};
  let dirtyInstances = false;
  let dirtyHover = false;
  let pointer: { x: number; y: number } | null = null;
  let dragging = false;
  let down: { x: number; y: number } | null = null;
  let frameId = 0;
  let needsRender = false;
  let width = 1;
  let height = 1;

  /** Schedules one frame; `render` false: only hover work, which renders itself if the halo moved. */
  const requestFrame = (render = true): void => {
    needsRender ||= render;
    if (!frameId) frameId = requestAnimationFrame(onFrame);
  };
  const onControlsChange = (): void => requestFrame();

  const applyTheme = (): void => {
    renderer.setClearColor(theme.background, 1);
    edgeMat.color.set(theme.grid);
    axisMat.color.set(theme.muted);
    hoverMat.color.set(theme.muted);
    pinMat.color.set(theme.foreground);
    for (const d of axisDivs) d.style.color = theme.muted;
  };
  applyTheme();

  /** Writes positions, sizes, colours and arrows into the instance buffers. */
  const writeInstances = (): void => {
    const n = data?.n ?? 0;
    allocate(n);
    const buf = points.ensure(n);
    points.setRadius(radius);
    const withArrows = showArrows && !!data?.origins;
    cones.count = withArrows ? n : 0;
    shafts.count = withArrows ? n : 0;
    for (let i = 0; i < n && data; i++) {
      const P = data.positions;
      const shown = data.visible[i] === 1;
      V.set(P[i * 3], P[i * 3 + 1], P[i * 3 + 2]);
      buf.positions[i * 3] = V.x;
      buf.positions[i * 3 + 1] = V.y;
      buf.positions[i * 3 + 2] = V.z;
      C.set(colours[i] ?? '#999999');
      buf.colours[i * 3] = C.r;
      buf.colours[i * 3 + 1] = C.g;
      buf.colours[i * 3 + 2] = C.b;
      buf.shown[i] = shown ? 1 : 0;
      if (!withArrows || !data.origins) continue;
      const O = data.origins;
      S.set(O[i * 3], O[i * 3 + 1], O[i * 3 + 2]);
      DIR.subVectors(V, S);
      const len = DIR.length();
      const head = radius * 1.6;
      const hasHead = shown && len > radius + head;
      DIR.divideScalar(len || 1);
      // The cone sits just outside the sphere, pointing at it; the line runs from the origin to the cone.
      if (hasHead) {
        Q.setFromUnitVectors(UP, DIR);
        T.copy(V).addScaledVector(DIR, -(radius + head / 2));
        M.compose(T, Q, K.set(radius * 0.55, head, radius * 0.55));
      } else M.makeScale(0, 0, 0);
      cones.setMatrixAt(i, M);
      cones.setColorAt(i, C.set(colours[i] ?? '#999999'));
      // The shaft: a cylinder from the origin to the cone's base, about a third of the point's width.
      const end = shown ? Math.max(0, len - radius - (hasHead ? head : 0)) : 0;
      if (end > 0) {
        Q.setFromUnitVectors(UP, DIR);
        T.copy(S).addScaledVector(DIR, end / 2);
        M.compose(T, Q, K.set(radius * 0.3, end, radius * 0.3));
      } else M.makeScale(0, 0, 0);
      shafts.setMatrixAt(i, M);
      shafts.setColorAt(i, C.set(mixColour(colours[i] ?? '#999999', theme.background, 0.25)));
    }
    points.commit(n);
    for (const m of [cones, shafts]) {
      m.instanceMatrix.needsUpdate = true;
      if (m.instanceColor) m.instanceColor.needsUpdate = true;
    }
    placeHalo(pinHalo, pinned, 1.5);
    placeHalo(hoverHalo, hovered, 1.35);
  };

  const placeHalo = (halo: Mesh, i: number | null, k: number): void => {
    const ok = data !== null && i !== null && i >= 0 && i < data.n && data.visible[i] === 1;
    halo.visible = ok;
    if (!ok || !data || i === null) return;
    halo.position.set(data.positions[i * 3], data.positions[i * 3 + 1], data.positions[i * 3 + 2]);
    halo.scale.setScalar(radius * k);
  };

  const viewOf = (w: number, h: number): CameraView => {
    camera.updateMatrixWorld();
    const vp = new Matrix4().multiplyMatrices(camera.projectionMatrix, camera.matrixWorldInverse);
    return { viewProjection: Array.from(vp.elements), focalY: camera.projectionMatrix.elements[5], width: w, height: h };
  };
  const cameraView = (): CameraView => viewOf(width, height);

  /**
   * Runs `fn` with the camera moved to the export's framing for a w × h view (the light rides with
   * it), then puts the camera back as it was.
   */
  const withExportCamera = <R>(w: number, h: number, insetPx: number, labelPads: readonly { x: number; y: number }[], fn: () => R): R => {
    const saved = { position: camera.position.clone(), quaternion: camera.quaternion.clone(), up: camera.up.clone(), aspect: camera.aspect, zoom: camera.zoom };
    const dir = new Vector3().subVectors(camera.position, controls.target);
    const screenUp = new Vector3(0, 1, 0).applyQuaternion(camera.quaternion);
    const fit = fitExportCamera(sceneExtentPoints(data, !!axisText), [dir.x, dir.y, dir.z], [screenUp.x, screenUp.y, screenUp.z], FOV, w, h, insetPx, axisText ? scenePads(labelPads) : []);
    camera.aspect = w / h;
    camera.zoom = 1;
    camera.position.set(...fit.position);
    camera.up.set(...fit.up);
    camera.lookAt(...fit.target);
    camera.updateProjectionMatrix();
    camera.updateMatrixWorld();
    try {
      return fn();
    } finally {
      camera.position.copy(saved.position);
      camera.quaternion.copy(saved.quaternion);
      camera.up.copy(saved.up);
      camera.aspect = saved.aspect;
      camera.zoom = saved.zoom;
      camera.updateProjectionMatrix();
      camera.updateMatrixWorld();
    }
  };

  /** The point under (x, y): the front-most disc drawn there, else the nearest within a few pixels. */
  const pick = (x: number, y: number): number => {
    if (!data || !data.n) return -1;
    const v = cameraView();
    const hit = pickDisc(v, data.positions, data.visible, radius, x, y);
    return hit >= 0 ? hit : nearestOnScreen(v, data.positions, data.visible, x, y, PICK_PX);
  };

  const fillTip = (div: HTMLDivElement, l: PointLabel): void => {
    div.replaceChildren(
      ...tooltipRows(l).map(([k, v]) => {
        const row = document.createElement('div');
        const key = document.createElement('span');
        key.className = 'projection__tip-key';
        key.textContent = `${k} `;
        const val = document.createElement('b');
        val.textContent = v;
        row.append(key, val);
        return row;
      }),
    );
  };

  const placeTip = (div: HTMLDivElement, x: number, y: number): void => {
    div.style.left = `${x}px`;
    div.style.top = `${y}px`;
    const fx = x > width - 200 ? 'calc(-100% - 12px)' : '12px';
    const fy = y > height - 120 ? 'calc(-100% - 12px)' : '12px';
    div.style.transform = `translate(${fx}, ${fy})`;
  };

  const applyHover = (): void => {
    const i = pointer && !dragging ? pick(pointer.x, pointer.y) : -1;
    if (i !== hovered) {
      hovered = i;
      placeHalo(hoverHalo, hovered, 1.35);
      needsRender = true;
      canvas.style.cursor = i >= 0 ? 'pointer' : '';
      if (i >= 0 && labels[i]) fillTip(tooltip, labels[i]);
    }
    tooltip.style.display = i >= 0 && labels[i] ? '' : 'none';
    if (i >= 0 && pointer) placeTip(tooltip, pointer.x, pointer.y);
  };

  /** Moves the DOM overlays (axis labels, pin label) to where their 3D anchors are now. */
  const placeOverlays = (): void => {
    const v = cameraView();
    axisDivs.forEach((d, a) => {
      const text = axisText?.[a];
      if (!text) {
        d.style.display = 'none';
        return;
      }
      const s = projectToScreen(v, ...axisLabelAnchor(a as 0 | 1 | 2));
      d.textContent = text;
      d.style.display = s.w > 0 ? '' : 'none';
      d.style.left = `${s.x}px`;
      d.style.top = `${s.y}px`;
    });
    const i = pinned;
    if (data && i !== null && i < data.n && data.visible[i] && labels[i]) {
      const s = projectToScreen(v, data.positions[i * 3], data.positions[i * 3 + 1], data.positions[i * 3 + 2]);
      const r = screenRadius(v, radius, s.w);
      pinTip.textContent = pinText(labels[i]);
      pinTip.style.display = s.w > 0 ? '' : 'none';
      pinTip.style.left = `${s.x + r + 4}px`;
      pinTip.style.top = `${s.y - r - 4}px`;
    } else pinTip.style.display = 'none';
  };

  const draw = (): void => {
    points.beforeRender(renderer);
    renderer.render(scene, camera);
  };
  const renderNow = (): void => {
    draw();
    placeOverlays();
  };

  function onFrame(): void {
    frameId = 0;
    if (dirtyInstances) {
      dirtyInstances = false;
      writeInstances();
    }
    if (dirtyHover) {
      dirtyHover = false;
      applyHover();
    }
    if (needsRender) {
      needsRender = false;
      renderNow();
    }
  }

  const fitCamera = (): void => {
    const vHalf = (FOV * Math.PI) / 360;
    const hHalf = Math.atan(Math.tan(vHalf) * camera.aspect);
    const dist = FIT_RADIUS / Math.sin(Math.min(vHalf, hHalf));
    controls.target.set(0, 0, 0);
    camera.position.copy(DEFAULT_DIRECTION).multiplyScalar(dist);
    camera.zoom = 1;
    camera.updateProjectionMatrix();
    camera.lookAt(0, 0, 0);
    controls.update();
  };

  const resize = (): void => {
    // The canvas fills the host's padding box; its CSS size may be fractional.
    const box = canvas.getBoundingClientRect();
    const w = Math.max(1, box.width || host.clientWidth);
    const h = Math.max(1, box.height || host.clientHeight);
    if (w === width && h === height) return;
    const first = width === 1 && height === 1;
    width = w;
    height = h;
    renderer.setSize(w, h, false);
    camera.aspect = w / h;
    camera.updateProjectionMatrix();
    if (first) fitCamera();
    requestFrame();
  };
  const observer = new ResizeObserver(resize);
  observer.observe(host);
  resize();
  fitCamera();

  // Pointer: hover is picked in the next frame (at most one pick per frame); a click pins.
  const local = (e: PointerEvent): { x: number; y: number } => {
    const box = canvas.getBoundingClientRect();
    return { x: e.clientX - box.left, y: e.clientY - box.top };
  };
  const onMove = (e: PointerEvent): void => {
    pointer = local(e);
    dragging = e.buttons !== 0;
    dirtyHover = true;
    requestFrame(false);
  };
  const onLeave = (): void => {
    pointer = null;
    dirtyHover = true;
    requestFrame(false);
  };
  const onDown = (e: PointerEvent): void => {
    down = local(e);
  };
  const onUp = (e: PointerEvent): void => {
    const p = local(e);
    dragging = false;
    if (down && Math.hypot(p.x - down.x, p.y - down.y) < CLICK_PX && e.button === 0) {
      const i = pick(p.x, p.y);
      onPin(i >= 0 ? i : null);
    }
    down = null;
    pointer = p;
    dirtyHover = true;
    requestFrame(false);
  };
  canvas.addEventListener('pointermove', onMove);
  canvas.addEventListener('pointerleave', onLeave);
  canvas.addEventListener('pointerdown', onDown);
  canvas.addEventListener('pointerup', onUp);
  controls.addEventListener('change', onControlsChange);

  return {
    setData(d, l) {
      data = d;
      labels = l;
      hovered = -1;
      tooltip.style.display = 'none';
      dirtyInstances = true;
      requestFrame();
    },
    setColours(c) {
      colours = c;
      dirtyInstances = true;
      requestFrame();
    },
    setRadius(r) {
      radius = r;
      dirtyInstances = true;
      requestFrame();
    },
    setShowArrows(on) {
      showArrows = on;
      dirtyInstances = true;
      requestFrame();
    },
    setAxisLabels(a) {
      axisText = a;
      axes.visible = !!a;
      requestFrame();
    },
    setPinned(i) {
      pinned = i;
      placeHalo(pinHalo, pinned, 1.5);
      requestFrame();
    },
    setTheme(t) {
      theme = t;
      applyTheme();
      dirtyInstances = true;
      requestFrame();
    },
    setOnPin(fn) {
      onPin = fn;
    },
    resetView() {
      fitCamera();
      requestFrame();
    },
    orbitStep(radians) {
      if (dirtyInstances) {
        dirtyInstances = false;
        writeInstances();
      }
      T.subVectors(camera.position, controls.target).applyAxisAngle(UP, radians);
      camera.position.copy(controls.target).add(T);
      camera.lookAt(controls.target);
      controls.update();
      renderNow();
    },
    cameraView,
    size: () => ({ width, height }),
    exportView: (w, h, insetPx, labelPads) => withExportCamera(w, h, insetPx, labelPads, () => viewOf(w, h)),
    renderExport(w, h, insetPx, labelPads, pixelRatio) {
      if (dirtyInstances) {
        dirtyInstances = false;
        writeInstances();
      }
      const hoverWas = hoverHalo.visible;
      hoverHalo.visible = false;
      try {
        return withExportCamera(w, h, insetPx, labelPads, () => {
          renderer.setPixelRatio(pixelRatio);
          renderer.setSize(w, h, false);
          draw();
          return { view: viewOf(w, h), image: canvas.toDataURL('image/png') };
        });
      } finally {
        hoverHalo.visible = hoverWas;
        renderer.setPixelRatio(screenRatio());
        renderer.setSize(width, height, false);
        renderNow();
      }
    },
    dispose() {
      if (frameId) cancelAnimationFrame(frameId);
      observer.disconnect();
      canvas.removeEventListener('pointermove', onMove);
      canvas.removeEventListener('pointerleave', onLeave);
      canvas.removeEventListener('pointerdown', onDown);
      canvas.removeEventListener('pointerup', onUp);
      controls.removeEventListener('change', onControlsChange);
      controls.dispose();
      points.dispose();
      cones.dispose();
      shafts.dispose();
      for (const g of [haloGeo, coneGeo, shaftGeo, edgeGeo, axisGeo]) g.dispose();
      for (const m of [coneMat, shaftMat, hoverMat, pinMat, edgeMat, axisMat]) m.dispose();
      renderer.dispose();
      renderer.forceContextLoss();
      for (const d of [canvas, tooltip, pinTip, ...axisDivs]) d.remove();
    },
  };
}
