import { BufferAttribute, BufferGeometry, DynamicDrawUsage, Points, ShaderMaterial, Vector2, Vector3, type WebGLRenderer } from 'three';

/**
 * Points drawn as sphere impostors: one GL point per datum, shaded in the fragment shader as a lit
 * sphere of world radius `radius` (its screen size follows perspective exactly like a sphere's centre
 * disc, see projectionData.pickDisc). A mesh per point cost ~100 triangles each and made 10,000 points
 * orbit at ~1 fps under software rendering; this draws one quad's worth of fragments per point.
 * Shading matches the meshes it replaces: Lambert under the scene's ambient (1.6) and a light riding
 * with the camera (1.3, from (0.5, 1, 1) in view space).
 */

const VERTEX = /* glsl */ `
attribute vec3 color;
attribute float shown;
uniform float radius;
uniform float viewportHeight;
varying vec3 vColor;
void main() {
  vColor = color;
  vec4 mv = modelViewMatrix * vec4(position, 1.0);
  gl_Position = projectionMatrix * mv;
  // Diameter in device pixels of a sphere of this radius at clip w (perspective: w = -mv.z).
  gl_PointSize = shown * radius * projectionMatrix[1][1] * viewportHeight / gl_Position.w;
}
`;

const FRAGMENT = /* glsl */ `
uniform vec3 lightDir;
varying vec3 vColor;
const float PI = 3.141592653589793;
void main() {
  vec2 p = gl_PointCoord * 2.0 - 1.0;
  float r2 = dot(p, p);
  if (r2 > 1.0) discard;
  vec3 n = vec3(p.x, -p.y, sqrt(1.0 - r2));
  // Lambert (three's physically based units: irradiance × albedo / π), as MeshLambertMaterial would.
  vec3 lit = vColor * (1.6 + 1.3 * max(dot(n, lightDir), 0.0)) / PI;
  gl_FragColor = vec4(lit, 1.0);
  #include <colorspace_fragment>
}
`;

export interface PointImpostors {
  object: Points;
  /** Grows the buffers (doubling) to hold n points; returns the typed arrays to fill. */
  ensure(n: number): { positions: Float32Array; colours: Float32Array; shown: Float32Array };
  /** Marks the filled buffers for upload and sets how many points draw. */
  commit(n: number): void;
  setRadius(r: number): void;
  /** Call before each render: the point size depends on the drawing buffer's height. */
  beforeRender(renderer: WebGLRenderer): void;
  dispose(): void;
}

const SIZE = new Vector2();

export function createPointImpostors(): PointImpostors {
  const material = new ShaderMaterial({
    vertexShader: VERTEX,
    fragmentShader: FRAGMENT,
    uniforms: {
      radius: { value: 0.04 },
      viewportHeight: { value: 1 },
      lightDir: { value: new Vector3(0.5, 1, 1).normalize() },
    },
  });
  const geometry = new BufferGeometry();
  const object = new Points(geometry, material);
  object.frustumCulled = false;
  let capacity = 0;
  let positions = new Float32Array(0);
  let colours = new Float32Array(0);
  let shown = new Float32Array(0);
  const attach = (): void => {
    for (const [name, array, size] of [
      ['position', positions, 3],
      ['color', colours, 3],
      ['shown', shown, 1],
    ] as const) {
      geometry.setAttribute(name, new BufferAttribute(array, size).setUsage(DynamicDrawUsage));
    }
  };
  return {
    object,
    ensure(n) {
      if (n > capacity || capacity === 0) {
        let c = Math.max(capacity, 1024);
        while (c < n) c *= 2;
        capacity = c;
        positions = new Float32Array(c * 3);
        colours = new Float32Array(c * 3);
        shown = new Float32Array(c);
        // New arrays need new attributes (WebGL buffers cannot grow in place).
        geometry.dispose();
        attach();
      }
      return { positions, colours, shown };
    },
    commit(n) {
      for (const name of ['position', 'color', 'shown']) (geometry.getAttribute(name) as BufferAttribute).needsUpdate = true;
      geometry.setDrawRange(0, n);
    },
    setRadius(r) {
      material.uniforms.radius.value = r;
    },
    beforeRender(renderer) {
      material.uniforms.viewportHeight.value = renderer.getDrawingBufferSize(SIZE).y;
    },
    dispose() {
      geometry.dispose();
      material.dispose();
    },
  };
}
