// The page of bench/projection-bench.ts: orbits N points with the Projection view's scene (sphere
// impostors, no MSAA) and with the reference it replaced (an InstancedMesh of Lambert spheres, MSAA),
// timing frames drawn back to back with the pixels read back, so the renderer has really finished.
import { AmbientLight, Color, DirectionalLight, InstancedMesh, Matrix4, MeshLambertMaterial, PerspectiveCamera, Scene, SphereGeometry, Vector3, WebGLRenderer } from 'three';
import { SCREEN_THEME } from '../../src/renderer/src/figure/theme';
import { createScatterScene } from '../../src/renderer/src/views/projection/components/scatterScene';
import type { Normalised } from '../../src/renderer/src/views/projection/projectionData';

const PALETTE = ['#0072B2', '#7A33D6', '#009E73', '#CC79A7', '#000000', '#D55E00'];

function cloud(n: number): { positions: Float32Array; colours: string[] } {
  let s = 12345;
  const rand = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
  const positions = new Float32Array(n * 3);
  for (let i = 0; i < n * 3; i++) positions[i] = rand() * 0.9;
  return { positions, colours: Array.from({ length: n }, (_, i) => PALETTE[i % PALETTE.length]) };
}

function finish(gl: WebGLRenderingContext | WebGL2RenderingContext): void {
  const px = new Uint8Array(4);
  gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
}

function timeFrames(draw: (i: number) => void, gl: WebGLRenderingContext | WebGL2RenderingContext, seconds: number): number {
  for (let i = 0; i < 3; i++) draw(i);
  finish(gl);
  const t0 = performance.now();
  let frames = 0;
  while (performance.now() - t0 < seconds * 1000 || frames < 3) {
    draw(frames);
    finish(gl);
    frames += 1;
  }
  return frames / ((performance.now() - t0) / 1000);
}

function productFps(n: number, seconds: number): number {
  const host = document.getElementById('host') as HTMLElement;
  host.replaceChildren();
  const scene = createScatterScene(host, SCREEN_THEME);
  const { positions, colours } = cloud(n);
  const data: Normalised = { n, positions, origins: null, visible: new Uint8Array(n).fill(1), centre: [0, 0, 0], scale: 1 };
  scene.setData(data, []);
  scene.setColours(colours);
  scene.setRadius(0.02);
  const canvas = host.querySelector('canvas') as HTMLCanvasElement;
  const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGL2RenderingContext;
  try {
    return timeFrames(() => scene.orbitStep(0.02), gl, seconds);
  } finally {
    scene.dispose();
  }
}

/** The scene as it was before impostors: sphere meshes (detail by count, as it was) under MSAA. */
function referenceFps(n: number, seconds: number): number {
  const host = document.getElementById('host') as HTMLElement;
  host.replaceChildren();
  const renderer = new WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  renderer.setSize(1000, 700, false);
  host.appendChild(renderer.domElement);
  const scene = new Scene();
  const camera = new PerspectiveCamera(35, 1000 / 700, 0.01, 100);
  scene.add(camera, new AmbientLight(0xffffff, 1.6));
  const sun = new DirectionalLight(0xffffff, 1.3);
  sun.position.set(0.5, 1, 1);
  camera.add(sun);
  const geo = n <= 1024 ? new SphereGeometry(1, 16, 12) : n <= 4096 ? new SphereGeometry(1, 10, 8) : new SphereGeometry(1, 8, 6);
  const mat = new MeshLambertMaterial({ color: 0xffffff });
  const mesh = new InstancedMesh(geo, mat, n);
  const { positions, colours } = cloud(n);
  const m = new Matrix4();
  const c = new Color();
  for (let i = 0; i < n; i++) {
    m.makeScale(0.02, 0.02, 0.02).setPosition(positions[i * 3], positions[i * 3 + 1], positions[i * 3 + 2]);
    mesh.setMatrixAt(i, m);
    mesh.setColorAt(i, c.set(colours[i]));
  }
  mesh.frustumCulled = false;
  scene.add(mesh);
  renderer.setClearColor('#ffffff', 1);
  const dir = new Vector3(0.42, 0.32, 1).normalize().multiplyScalar(5.6);
  const up = new Vector3(0, 1, 0);
  const gl = renderer.getContext();
  try {
    return timeFrames(() => {
      dir.applyAxisAngle(up, 0.02);
      camera.position.copy(dir);
      camera.lookAt(0, 0, 0);
      renderer.render(scene, camera);
    }, gl, seconds);
  } finally {
    geo.dispose();
    mat.dispose();
    mesh.dispose();
    renderer.dispose();
    renderer.forceContextLoss();
  }
}

(window as unknown as { bench: (mode: string, n: number, seconds: number) => number }).bench = (mode, n, seconds) => (mode === 'reference' ? referenceFps(n, seconds) : productFps(n, seconds));
(window as unknown as { ready: boolean }).ready = true;
